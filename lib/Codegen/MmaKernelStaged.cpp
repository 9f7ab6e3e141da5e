//===- MmaKernelStaged.cpp - The shared-memory staged mma body ------------===//
//
// For large M every activation must serve many output columns and every
// code many rows, or the kernel runs at the speed of L2. The warps of a
// block therefore tile the output (warps_m along M, warps / warps_m along
// N), and the block's activations and codes for a chunk of 64 K pass
// through `stages` buffers of dynamic shared memory, filled by cp.async
// `stages - 1` chunks ahead of the mma so that the copies of later chunks
// overlap the arithmetic of the current one.
//
// Activations are stored as rows of 64 values (128 bytes, eight 16-byte
// pieces); piece q of row r sits at q XOR (r mod 8), so that the eight rows
// g = 0..7 a warp reads at once fall into different banks. The codes of a
// 16 x 64 tile are 32 lanes x bits words in the mma_tile layout and are
// copied as they are: each lane reads its own 16 bytes back.
//
//===----------------------------------------------------------------------===//

#include "MmaEmitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

/// Activations per stage: rows of one 64-column chunk, 2 bytes each.
int64_t activationStageBytes(ScheduleAttr schedule) {
  return schedule.getRowsPerBlock() * Geometry::kTileCols * 2;
}

/// One weight's codes per stage: the block's 16 x 64 tiles.
int64_t codeStageBytes(ScheduleAttr schedule, const core::Scheme &scheme) {
  return schedule.getColumnsPerBlock() / Geometry::kTileRows *
         Geometry::kLanes * scheme.bits * 4;
}

class StagedEmitter : public MmaEmitter {
public:
  using MmaEmitter::MmaEmitter;
  void emit(gpu::GPUFuncOp kernel);

private:
  /// Starts the copies of `chunk` (clamped to the last; nothing is read and
  /// zeros are written where `valid` is false) into buffer `slot`, as one
  /// cp.async group, and returns the group's token.
  Value issueCopies(Value chunk, Value valid, Value slot);
  /// One cp.async of `elements` values (16 bytes) of `src` at `srcIndices`
  /// to `dst` at `dstIndex`, of only `srcElements` (the rest zero-filled).
  void copy(Value src, ValueRange srcIndices, Value dst, Value dstIndex,
            int64_t elements, Value srcElements);
  /// The warp's codes and B fragments of the chunk in buffer `slot`.
  void readShared(ChunkLoads &loads, Value slot);

  int64_t chunks = 0, tiles = 0, rows = 0;
  Value xShared;
  SmallVector<Value, 2> codesShared;
  Value blockTile0, mBlock, warpN, warpM;
};

} // namespace

void StagedEmitter::copy(Value src, ValueRange srcIndices, Value dst,
                         Value dstIndex, int64_t elements, Value srcElements) {
  auto op = nvgpu::DeviceAsyncCopyOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
      ValueRange{dstIndex}, src, srcIndices, b.getIndexAttr(elements),
      srcElements, /*bypassL1=*/b.getUnitAttr());
  (void)op;
}

Value StagedEmitter::issueCopies(Value chunk, Value valid, Value slot) {
  Value source = arith::MinUIOp::create(b, loc, chunk, idx(chunks - 1));
  Value lastRow = arith::SubIOp::create(b, loc, m, idx(1));
  Value none = idx(0);
  // Activations: 8 pieces of 8 values per row.
  forEachThreadIndex(rows * 8, [&](Value piece) {
    Value r = arith::DivUIOp::create(b, loc, piece, idx(8));
    Value q = arith::RemUIOp::create(b, loc, piece, idx(8));
    Value row = add(mBlock, r);
    Value present = arith::AndIOp::create(
        b, loc, valid,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m));
    Value column = add(mul(source, idx(Geometry::kTileCols)), mul(q, idx(8)));
    Value swizzled = arith::XOrIOp::create(
        b, loc, q, arith::RemUIOp::create(b, loc, r, idx(8)));
    Value dst = add(add(mul(slot, idx(rows * Geometry::kTileCols)),
                        mul(r, idx(Geometry::kTileCols))),
                    mul(swizzled, idx(8)));
    copy(ops.x, {arith::MinUIOp::create(b, loc, row, lastRow), column},
         xShared, dst, 8,
         arith::SelectOp::create(b, loc, present, idx(8), none));
  });
  // Codes: each tile's 32 x bits words are contiguous for a chunk.
  for (auto [p, w] : llvm::enumerate(ops.weights)) {
    const int64_t tileWords = Geometry::kLanes * w.scheme.bits;
    forEachThreadIndex(tiles * tileWords / 4, [&](Value piece) {
      Value tile = arith::DivUIOp::create(b, loc, piece, idx(tileWords / 4));
      Value q = arith::RemUIOp::create(b, loc, piece, idx(tileWords / 4));
      Value src = add(mul(add(mul(add(blockTile0, tile), idx(chunks)), source),
                          idx(tileWords)),
                      mul(q, idx(4)));
      Value dst = add(add(mul(slot, idx(tiles * tileWords)),
                          mul(tile, idx(tileWords))),
                      mul(q, idx(4)));
      copy(w.codes, {src}, codesShared[p], dst, 4,
           arith::SelectOp::create(b, loc, valid, idx(4), none));
    });
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
}

void StagedEmitter::readShared(ChunkLoads &loads, Value slot) {
  for (auto [p, w] : llvm::enumerate(ops.weights)) {
    const int64_t tileWords = Geometry::kLanes * w.scheme.bits;
    auto &codes = loads.codes.emplace_back();
    for (int64_t i = 0; i < schedule.getTileN(); ++i) {
      Value tile = add(mul(warpN, idx(schedule.getTileN())), idx(i));
      Value base = add(add(mul(slot, idx(tiles * tileWords)),
                           mul(tile, idx(tileWords))),
                       mul(lane, idx(w.scheme.bits)));
      auto &vectors = codes.emplace_back();
      for (unsigned v = 0; v < w.scheme.bits / 4; ++v)
        vectors.push_back(vector::LoadOp::create(
            b, loc, VectorType::get({4}, b.getI32Type()), codesShared[p],
            ValueRange{add(base, idx(4 * v))}, /*nontemporal=*/false,
            llvm::MaybeAlign(16)));
    }
  }
  // Up to four of a lane's words are contiguous (a 16-byte piece).
  const int64_t wordsPerLoad = std::min<int64_t>(4, xSpan / 8);
  auto vectorType = VectorType::get({2 * wordsPerLoad}, elementType);
  Value laneColumn = mul(t, idx(xSpan / 4));
  loads.x.resize(4);
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt) {
    // Block-local row; it is g modulo 8, which is what its pieces are
    // swizzled by.
    Value r = add(mul(warpM, idx(8 * schedule.getTileM())),
                  add(idx(8 * mt), g));
    Value rowBase = add(mul(slot, idx(rows * Geometry::kTileCols)),
                        mul(r, idx(Geometry::kTileCols)));
    SmallVector<Value, 8> words;
    for (int64_t word = 0; word < 8; word += wordsPerLoad) {
      Value column = add(laneColumn, idx(wordColumn(word)));
      Value piece = arith::DivUIOp::create(b, loc, column, idx(8));
      Value within = arith::RemUIOp::create(b, loc, column, idx(8));
      Value index = add(add(rowBase, mul(arith::XOrIOp::create(b, loc, piece, g),
                                         idx(8))),
                        within);
      appendWords(vector::LoadOp::create(b, loc, vectorType, xShared,
                                         ValueRange{index},
                                         /*nontemporal=*/false,
                                         llvm::MaybeAlign(4 * wordsPerLoad)),
                  words);
    }
    for (int64_t j = 0; j < 4; ++j)
      loads.x[j].push_back({words[2 * j], words[2 * j + 1]});
  }
}

void StagedEmitter::emit(gpu::GPUFuncOp kernel) {
  prepare(kernel);
  Block &entry = kernel.getBody().front();
  const int64_t stages = schedule.getStages();
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  chunks = k / Geometry::kTileCols;
  tiles = schedule.getColumnsPerBlock() / Geometry::kTileRows;
  rows = schedule.getRowsPerBlock();
  warpN = arith::RemUIOp::create(b, loc, warp, idx(schedule.getWarpsN()));
  warpM = arith::DivUIOp::create(b, loc, warp, idx(schedule.getWarpsN()));
  blockTile0 =
      mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x), idx(tiles));
  rowTile0 = add(blockTile0, mul(warpN, idx(tileN)));
  mBlock = mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y), idx(rows));
  mBase = add(mBlock, mul(warpM, idx(8 * tileM)));

  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  Value bytes = gpu::DynamicSharedMemoryOp::create(
      b, loc,
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(),
                      workgroup));
  int64_t offset = 0;
  auto view = [&](int64_t size, Type type, int64_t byteSize) {
    Value result = memref::ViewOp::create(
        b, loc, MemRefType::get({size}, type, AffineMap(), workgroup), bytes,
        idx(offset), ValueRange{});
    offset += size * byteSize;
    return result;
  };
  xShared = view(stages * rows * Geometry::kTileCols, elementType, 2);
  for (const MmaKernelOperands::Weight &w : ops.weights)
    codesShared.push_back(
        view(stages * tiles * Geometry::kLanes * w.scheme.bits,
             b.getI32Type(), 4));

  // The first stages - 1 chunks (zeros past K). The waits below count
  // groups (numGroups); the token they name only has to exist.
  Value group;
  for (int64_t s = 0; s + 1 < stages; ++s)
    group = issueCopies(idx(s), arith::ConstantIntOp::create(b, loc, b.getI1Type(),
                                                     s < chunks ? 1 : 0),
                idx(s));

  Value zeroF = f32Zero();
  SmallVector<Value> accs(ops.weights.size() * tileN * tileM * 4, zeroF);
  const size_t accCount = accs.size();
  // The scales and zero points come from global memory, a chunk ahead (as
  // loop-carried values) so that their latency hides behind a chunk's mma.
  SmallVector<Value> carried = accs;
  llvm::append_range(carried, fetchScales(idx(0)));
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(chunks), idx(1), carried,
      [&](OpBuilder &, Location, Value chunk, ValueRange iterArgs) {
        SmallVector<Value> current(iterArgs.take_front(accCount));
        SmallVector<Value> nextScales = fetchScales(arith::MinUIOp::create(
            b, loc, add(chunk, idx(1)), idx(chunks - 1)));
        // Chunk `chunk` has landed (at most stages - 2 younger groups are
        // in flight); the barrier also means every warp is done with the
        // buffer the next copies overwrite.
        nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                         b.getI32IntegerAttr(stages - 2));
        gpu::BarrierOp::create(b, loc);
        Value next = add(chunk, idx(stages - 1));
        issueCopies(next,
                    arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                          next, idx(chunks)),
                    arith::RemUIOp::create(b, loc, next, idx(stages)));
        ChunkLoads loads;
        deriveScales(loads, SmallVector<Value>(iterArgs.drop_front(accCount)),
                     chunk);
        readShared(loads, arith::RemUIOp::create(b, loc, chunk, idx(stages)));
        compute(loads, current);
        llvm::append_range(current, nextScales);
        scf::YieldOp::create(b, loc, current);
      });
  accs.assign(loop.getResults().begin(),
              loop.getResults().begin() + accCount);
  // Only zero-fill groups can still be in flight; let them land.
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));

  // Each lane owns its accumulators' outputs: c0, c1 at (output column g,
  // rows 2t, 2t + 1), c2, c3 at column g + 8.
  const int64_t perProjection = tileN * tileM * 4;
  for (int64_t i = 0; i < tileN; ++i)
    for (int64_t mt = 0; mt < tileM; ++mt)
      for (int64_t r = 0; r < 4; ++r) {
        Value col = add(add(mul(add(rowTile0, idx(i)), idx(16)), g),
                        idx(8 * (r / 2)));
        Value row = add(add(mBase, idx(8 * mt)), add(mul(t, idx(2)), idx(r % 2)));
        OpBuilder::InsertionGuard guard(b);
        auto inRange = scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m),
            /*withElseRegion=*/false);
        b.setInsertionPointToStart(&inRange.getThenRegion().front());
        SmallVector<Value, 2> sums;
        for (size_t p = 0; p < ops.weights.size(); ++p)
          sums.push_back(
              accs[p * perProjection + (i * tileM + mt) * 4 + r]);
        storeOutput(sums, row, col);
      }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

int64_t qmlir::codegen::mmaKernelSharedMemoryBytes(
    ScheduleAttr schedule, ArrayRef<core::Scheme> schemes) {
  if (!schedule.isStaged())
    return 0;
  int64_t perStage = activationStageBytes(schedule);
  for (const core::Scheme &scheme : schemes)
    perStage += codeStageBytes(schedule, scheme);
  return schedule.getStages() * perStage;
}

void qmlir::codegen::emitStagedKernel(OpBuilder &b, Location loc,
                                      gpu::GPUFuncOp kernel,
                                      ScheduleAttr schedule, Type elementType,
                                      int64_t n, int64_t k,
                                      const MmaKernelOperands &operands) {
  StagedEmitter(b, loc, schedule, elementType, n, k, operands).emit(kernel);
}
