//===- MmaKernelSplitK.cpp - The split-K mma body (small M) ---------------===//
//
// The split-K body is for small M, where every code is read once: the warps
// of a block split K, each lane loads its own codes with 16-byte loads and
// `unroll` chunks are in flight per warp. With K in order (mma_tile_linear)
// a lane's B fragment words are 16 bytes apart, so activations go through
// the warp's shared memory and ldmatrix instead (or 4-byte loads for one
// 8-row tile). The warps add their f32 partial sums in shared memory, which
// also gives the epilogue one place to run.
//
//===----------------------------------------------------------------------===//

#include "MmaEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

/// Values of the split-K body's activation scratch: per warp, `unroll`
/// slots of tile_m x 8 rows x 64.
int64_t scratchValues(ScheduleAttr schedule) {
  return schedule.getWarps() * schedule.getUnroll() * schedule.getTileM() * 8 *
         Geometry::kTileCols;
}

/// Activations a lane loads per row and chunk with K permuted in spans of
/// `xSpan`: 16 values (a quarter of the chunk) in pieces of up to 8
/// contiguous ones.
int64_t xPieceValues(int64_t xSpan) { return std::min<int64_t>(8, xSpan / 4); }
int64_t xPieces(int64_t xSpan) { return 16 / xPieceValues(xSpan); }

class SplitKEmitter : public MmaEmitter {
public:
  using MmaEmitter::MmaEmitter;
  void emit(gpu::GPUFuncOp kernel);

private:
  /// Word index of lane `lane`'s first code word of tile i for `chunk`.
  Value codeWordIndex(const MmaKernelOperands::Weight &w, int64_t i,
                      Value chunk);
  /// Column of `piece` of the lane's activations of `chunk`.
  Value xColumn(Value chunk, int64_t piece);
  /// The lane's B fragment words of `chunk`, loaded straight into
  /// registers: 8 per m tile.
  SmallVector<Value> loadActivations(Value chunk);
  /// The codes, scales and activations of `chunk`; where activations are
  /// staged (stagesActivations), only their copies into scratch slot
  /// `slot`, which readStagedActivations reads once they have landed.
  ChunkLoads load(Value chunk, int64_t slot);
  /// Whether activations pass through the warp's scratch in shared memory:
  /// K in order (a lane's B fragment words are 16 bytes apart) and more
  /// than one m tile (one row's words, broadcast to all lanes, load well
  /// as 4-byte loads).
  bool stagesActivations() const;
  /// Loops over the warp's chunks [first, end) with the given step, `unroll`
  /// chunks per iteration.
  SmallVector<Value> loopOverChunks(Value first, Value end, int64_t unroll,
                                    ValueRange accs);
  /// `loads.x` from scratch slot `slot`: two ldmatrix.x4 per m tile.
  void readStagedActivations(ChunkLoads &loads, int64_t slot);
  /// Element offset of row `row`'s 16-byte piece `piece` of m tile `mt` in
  /// scratch slot `slot` of this warp.
  Value scratchIndex(int64_t slot, int64_t mt, Value row, Value piece);
  /// Row of M whose activations each m tile's lane loads, clamped to the
  /// last row: the mma keeps output rows apart, and those past M are never
  /// stored, so their (finite) values need no masking.
  SmallVector<Value> xRows;
  /// Staged activations: per warp, `unroll` slots of tile_m x 8 rows x 64.
  Value xScratch;
};

} // namespace

Value SplitKEmitter::codeWordIndex(const MmaKernelOperands::Weight &w,
                                   int64_t i, Value chunk) {
  const int64_t chunks = k / Geometry::kTileCols;
  Value tile = add(rowTile0, idx(i));
  return mul(
      add(mul(add(mul(tile, idx(chunks)), chunk), idx(Geometry::kLanes)), lane),
      idx(w.scheme.bits));
}

Value SplitKEmitter::xColumn(Value chunk, int64_t piece) {
  // Lane t's values are span / 4 contiguous ones of each span.
  const int64_t perSpan = xSpan / 4;
  const int64_t first = piece * xPieceValues(xSpan);
  return add(add(mul(chunk, idx(Geometry::kTileCols)), mul(t, idx(perSpan))),
             idx((first / perSpan) * xSpan + first % perSpan));
}

ChunkLoads SplitKEmitter::load(Value chunk, int64_t slot) {
  ChunkLoads loads;
  for (const MmaKernelOperands::Weight &w : ops.weights) {
    const unsigned bits = w.scheme.bits;
    auto &codes = loads.codes.emplace_back();
    for (int64_t i = 0; i < schedule.getTileN(); ++i) {
      Value base = codeWordIndex(w, i, chunk);
      auto &vectors = codes.emplace_back();
      for (unsigned v = 0; v < bits / 4; ++v)
        vectors.push_back(vector::LoadOp::create(
            b, loc, VectorType::get({4}, b.getI32Type()), w.codes,
            ValueRange{add(base, idx(4 * v))}, /*nontemporal=*/false,
            llvm::MaybeAlign(16)));
    }
  }
  deriveScales(loads, fetchScales(chunk), chunk);
  if (stagesActivations()) {
    // Lane (g, t) copies pieces t and t + 4 (K 8 t.. and 32 + 8 t..) of
    // row g. Rows past M repeat the last row: their sums are never stored.
    for (int64_t mt = 0; mt < schedule.getTileM(); ++mt)
      for (int64_t half = 0; half < 2; ++half) {
        Value piece = add(t, idx(4 * half));
        // Through L1: the blocks along N read the same activations.
        copy(ops.x,
             {xRows[mt],
              add(mul(chunk, idx(Geometry::kTileCols)), mul(piece, idx(8)))},
             xScratch, scratchIndex(slot, mt, g, piece), 8, Value(),
             /*keepInL1=*/true);
      }
    return loads;
  }
  loads.x.resize(4);
  SmallVector<Value> words = loadActivations(chunk);
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt)
    for (int64_t j = 0; j < 4; ++j)
      loads.x[j].push_back({words[8 * mt + 2 * j], words[8 * mt + 2 * j + 1]});
  return loads;
}

SmallVector<Value> SplitKEmitter::loadActivations(Value chunk) {
  // Lane t's words are contiguous within each span.
  const int64_t perLoad = xPieceValues(xSpan);
  auto vectorType = VectorType::get({perLoad}, elementType);
  SmallVector<Value> words;
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt)
    for (int64_t piece = 0; piece < xPieces(xSpan); ++piece)
      appendWords(vector::LoadOp::create(
                      b, loc, vectorType, ops.x,
                      ValueRange{xRows[mt], xColumn(chunk, piece)},
                      /*nontemporal=*/false, llvm::MaybeAlign(2 * perLoad)),
                  words);
  return words;
}

bool SplitKEmitter::stagesActivations() const {
  return xSpan == 8 && schedule.getTileM() > 1;
}

Value SplitKEmitter::scratchIndex(int64_t slot, int64_t mt, Value row,
                                  Value piece) {
  // Row r's piece p sits in 16-byte slot p ^ f(r), f(r) = 4 (r % 2) + r / 2:
  // the 8 rows of one piece fall in 8 different bank groups (an ldmatrix
  // reads a piece of each row), and so do pieces 0..3 (or 4..7) of rows
  // 2 i and 2 i + 1 (8 lanes' copies).
  Value swizzle = add(mul(arith::RemUIOp::create(b, loc, row, idx(2)), idx(4)),
                      arith::DivUIOp::create(b, loc, row, idx(2)));
  const int64_t tileValues = 8 * Geometry::kTileCols;
  Value tile = add(mul(warp, idx(schedule.getUnroll() * schedule.getTileM())),
                   idx(slot * schedule.getTileM() + mt));
  return add(mul(tile, idx(tileValues)),
             add(mul(row, idx(Geometry::kTileCols)),
                 mul(arith::XOrIOp::create(b, loc, piece, swizzle), idx(8))));
}

void SplitKEmitter::readStagedActivations(ChunkLoads &loads, int64_t slot) {
  // ldmatrix: lane l gives the address of row l % 8 of matrix l / 8.
  Value row = arith::RemUIOp::create(b, loc, lane, idx(8));
  Value matrix = arith::DivUIOp::create(b, loc, lane, idx(8));
  auto fragmentsType = VectorType::get({4, 2}, elementType);
  loads.x.assign(4, {});
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt) {
    SmallVector<Value, 8> words;
    for (int64_t quarter = 0; quarter < 2; ++quarter) {
      // Matrix i is piece 4 quarter + i: its register in lane (g, t) holds
      // row g's K 2 t, 2 t + 1 of the piece, the B fragment word of
      // sub-tile (4 quarter + i) / 2, register i % 2.
      Value fragments = nvgpu::LdMatrixOp::create(
          b, loc, fragmentsType, xScratch,
          ValueRange{
              scratchIndex(slot, mt, row, add(matrix, idx(4 * quarter)))},
          /*transpose=*/false, /*numTiles=*/4);
      for (int64_t i = 0; i < 4; ++i)
        words.push_back(vector::ExtractOp::create(b, loc, fragments, i));
    }
    for (int64_t j = 0; j < 4; ++j)
      loads.x[j].push_back({words[2 * j], words[2 * j + 1]});
  }
}

SmallVector<Value> SplitKEmitter::loopOverChunks(Value first, Value end,
                                                 int64_t unroll,
                                                 ValueRange accs) {
  const int64_t warps = schedule.getWarps();
  auto loop = scf::ForOp::create(
      b, loc, first, end, idx(warps * unroll), accs,
      [&](OpBuilder &, Location, Value chunk, ValueRange iterAccs) {
        SmallVector<Value> current(iterAccs);
        // The previous iteration's ldmatrix reads are done before its
        // slots are copied over.
        if (stagesActivations())
          NVVM::SyncWarpOp::create(b, loc, i32(-1));
        // All loads of the iteration first, so that they are in flight
        // together.
        std::vector<ChunkLoads> loads;
        for (int64_t u = 0; u < unroll; ++u)
          loads.push_back(load(add(chunk, idx(u * warps)), u));
        if (stagesActivations()) {
          // Each lane waits for its own copies; the warp for everyone's.
          Value group = nvgpu::DeviceAsyncCreateGroupOp::create(
              b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()),
              ValueRange{});
          nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                           b.getI32IntegerAttr(0));
          NVVM::SyncWarpOp::create(b, loc, i32(-1));
        }
        for (int64_t u = 0; u < unroll; ++u) {
          if (stagesActivations())
            readStagedActivations(loads[u], u);
          compute(loads[u], current);
        }
        scf::YieldOp::create(b, loc, current);
      });
  return SmallVector<Value>(loop.getResults());
}

void SplitKEmitter::emit(gpu::GPUFuncOp kernel) {
  prepare(kernel);
  Block &entry = kernel.getBody().front();
  const int64_t warps = schedule.getWarps(), unroll = schedule.getUnroll();
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const int64_t chunks = k / Geometry::kTileCols;
  // All of a column block's row blocks run together (H100, M = 64:
  // 1.01-1.07x on the five target layers, whose row blocks used to fetch
  // the weights from memory one after another; 0.97-1.08x on seven layers
  // with N <= 14336 at M = 32..128). Up to M = 128 these are at most 16;
  // where N is not a multiple of 64 the last bucket runs to M = 65535
  // (not measured there).
  auto [columnBlock, rowBlock] = blockCoordinates(/*groupRows=*/0);
  rowTile0 = mul(columnBlock, idx(tileN));
  mBase = mul(rowBlock, idx(schedule.getRowsPerBlock()));
  Value lastRow = arith::SubIOp::create(b, loc, m, idx(1));
  for (int64_t mt = 0; mt < tileM; ++mt) {
    Value row = add(mBase, add(idx(8 * mt), g));
    xRows.push_back(arith::MinUIOp::create(b, loc, row, lastRow));
  }

  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  // Staged activations and the partial sums after them share the dynamic
  // shared memory (a static buffer beside it could be placed
  // where the dynamic one grows).
  Value dynamicBytes;
  int64_t partialsOffset = 0;
  auto view = [&](int64_t size, Type type, int64_t offset) -> Value {
    return memref::ViewOp::create(
        b, loc, MemRefType::get({size}, type, AffineMap(), workgroup),
        dynamicBytes, idx(offset), ValueRange{});
  };
  if (stagesActivations())
    dynamicBytes = gpu::DynamicSharedMemoryOp::create(
        b, loc,
        MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(),
                        workgroup));
  if (stagesActivations()) {
    xScratch = view(scratchValues(schedule), elementType, 0);
    partialsOffset = 2 * scratchValues(schedule);
  }
  Value zeroF = f32Zero();
  SmallVector<Value> accs(ops.weights.size() * tileN * tileM * 4, zeroF);
  // Warp w takes chunks w, w + warps, ...; `unroll` of them per iteration
  // while a whole iteration fits, then one at a time.
  const int64_t mainEnd = chunks - (unroll - 1) * warps;
  Value tailStart = warp;
  if (unroll > 1 && mainEnd > 0) {
    Value end = idx(mainEnd);
    accs = loopOverChunks(warp, end, unroll, accs);
    // First chunk the unrolled loop left: warp + step * ceil((end - warp) /
    // step), or warp if the loop did not run.
    Value step = idx(warps * unroll);
    Value span = arith::SubIOp::create(
        b, loc, arith::MaxUIOp::create(b, loc, end, warp), warp);
    Value iterations = arith::CeilDivUIOp::create(b, loc, span, step);
    tailStart = add(warp, mul(iterations, step));
  }
  accs = loopOverChunks(tailStart, idx(chunks), 1, accs);

  // Partial sums of all warps meet in shared memory: entry e of warp w is at
  // w * perWarp + e, e = ((p * tileN + i) * tileM + mt) * 128 + r * 32 + lane.
  const int64_t perWarp = int64_t(accs.size()) * 32;
  auto partialsType = MemRefType::get({warps * perWarp}, b.getF32Type(),
                                      AffineMap(), workgroup);
  Value partials;
  if (dynamicBytes)
    partials = memref::ViewOp::create(b, loc, partialsType, dynamicBytes,
                                      idx(partialsOffset), ValueRange{});
  else
    partials = kernel.addWorkgroupAttribution(partialsType, loc);
  for (size_t a = 0; a < accs.size(); ++a) {
    int64_t e = int64_t(a / 4) * 128 + int64_t(a % 4) * 32;
    memref::StoreOp::create(
        b, loc, accs[a], partials,
        ValueRange{add(add(mul(warp, idx(perWarp)), idx(e)), lane)});
  }
  gpu::BarrierOp::create(b, loc);

  // Each thread finishes outputs tid, tid + threads, ...: sums the warps'
  // partials, applies the epilogue and stores.
  const int64_t outputs = tileN * tileM * 128;
  forEachThreadIndex(outputs, [&](Value e) {
    // e = (i * tileM + mt) * 128 + r * 32 + lane'
    Value laneOut = arith::RemUIOp::create(b, loc, e, idx(32));
    Value r = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, e, idx(32)), idx(4));
    Value tileIndex = arith::DivUIOp::create(b, loc, e, idx(128));
    Value i = arith::DivUIOp::create(b, loc, tileIndex, idx(tileM));
    Value mt = arith::RemUIOp::create(b, loc, tileIndex, idx(tileM));
    // The C fragment: c0, c1 at (row g, columns 2t, 2t + 1), c2, c3 at row
    // g + 8; rows are output columns here and columns rows of M.
    Value gOut = arith::DivUIOp::create(b, loc, laneOut, idx(4));
    Value tOut = arith::RemUIOp::create(b, loc, laneOut, idx(4));
    Value col = add(add(mul(add(rowTile0, i), idx(16)), gOut),
                    mul(arith::DivUIOp::create(b, loc, r, idx(2)), idx(8)));
    Value row =
        add(add(mBase, mul(mt, idx(8))),
            add(mul(tOut, idx(2)), arith::RemUIOp::create(b, loc, r, idx(2))));
    auto inRange = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m),
        /*withElseRegion=*/false);
    b.setInsertionPointToStart(&inRange.getThenRegion().front());
    SmallVector<Value, 2> sums;
    for (size_t p = 0; p < ops.weights.size(); ++p) {
      Value sum = zeroF;
      Value entryIndex = add(e, idx(int64_t(p) * outputs));
      for (int64_t w = 0; w < warps; ++w)
        sum = arith::AddFOp::create(
            b, loc, sum,
            memref::LoadOp::create(
                b, loc, partials,
                ValueRange{add(entryIndex, idx(w * perWarp))}));
      sums.push_back(sum);
    }
    storeOutput(sums, row, col);
  });
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

int64_t
qmlir::codegen::splitKSharedMemoryBytes(ScheduleAttr schedule,
                                        core::Layout layout,
                                        ArrayRef<core::Scheme> schemes) {
  const int64_t xSpan = core::mmaKSpan(layout, schemes.front());
  if (xSpan != 8 || schedule.getTileM() == 1)
    return 0;
  const int64_t staging = 2 * scratchValues(schedule);
  // The f32 partial sums after them: one per warp, output of its tiles
  // (16 x 8 each) and weight.
  const int64_t partials = schedule.getWarps() * int64_t(schemes.size()) *
                           schedule.getTileN() * schedule.getTileM() * 128;
  return staging + 4 * partials;
}

void qmlir::codegen::emitSplitKKernel(OpBuilder &b, Location loc,
                                      gpu::GPUFuncOp kernel,
                                      ScheduleAttr schedule, Type elementType,
                                      int64_t k,
                                      const MmaKernelOperands &operands) {
  SplitKEmitter(b, loc, schedule, elementType, k, operands).emit(kernel);
}
