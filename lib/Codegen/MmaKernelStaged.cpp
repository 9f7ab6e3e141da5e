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
// copied as they are: each lane reads its own 16 bytes back. The wgmma
// body's activations are laid out differently (MmaKernelWgmma.cpp).
//
//===----------------------------------------------------------------------===//

#include "StagedEmitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

/// One weight's codes per stage: the block's 16 x 64 tiles.
int64_t codeStageBytes(ScheduleAttr schedule, const core::Scheme &scheme) {
  return schedule.getColumnsPerBlock() / Geometry::kTileRows *
         Geometry::kLanes * scheme.bits * 4;
}

} // namespace

int64_t StagedEmitter::activationStageBytes(ScheduleAttr schedule) {
  const int64_t rows = schedule.getRowsPerBlock();
  if (schedule.isWgmma())
    return rows / 8 * kCoreMatrixStrideRows;
  return rows * Geometry::kTileCols * 2;
}

void StagedEmitter::copyActivationRows(Value chunkColumn, Value valid,
                                       Value slot) {
  Value lastRow = arith::SubIOp::create(b, loc, m, idx(1));
  // 8 pieces of 8 values per row.
  forEachThreadIndex(rows * 8, [&](Value piece) {
    Value r = arith::DivUIOp::create(b, loc, piece, idx(8));
    Value q = arith::RemUIOp::create(b, loc, piece, idx(8));
    Value row = add(mBlock, r);
    Value present = arith::AndIOp::create(
        b, loc, valid,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m));
    Value swizzled = arith::XOrIOp::create(
        b, loc, q, arith::RemUIOp::create(b, loc, r, idx(8)));
    Value dst = add(add(mul(slot, idx(rows * Geometry::kTileCols)),
                        mul(r, idx(Geometry::kTileCols))),
                    mul(swizzled, idx(8)));
    copy(ops.x,
         {arith::MinUIOp::create(b, loc, row, lastRow),
          add(chunkColumn, mul(q, idx(8)))},
         xShared, dst, 8,
         arith::SelectOp::create(b, loc, present, idx(8), idx(0)));
  });
}

Value StagedEmitter::issueCopies(Value chunk, Value valid, Value slot,
                                 bool clampRows) {
  Value source = arith::MinUIOp::create(b, loc, chunk, idx(chunks - 1));
  Value chunkColumn = mul(source, idx(Geometry::kTileCols));
  if (schedule.isWgmma())
    copyActivationsForWgmma(chunkColumn, slot, clampRows);
  else
    copyActivationRows(chunkColumn, valid, slot);
  // Codes: each tile's 32 x bits words are contiguous for a chunk.
  for (auto [p, w] : llvm::enumerate(ops.weights)) {
    const int64_t tileWords = Geometry::kLanes * w.scheme.bits;
    forEachThreadIndex(tiles * tileWords / 4, [&](Value piece) {
      Value tile = arith::DivUIOp::create(b, loc, piece, idx(tileWords / 4));
      Value q = arith::RemUIOp::create(b, loc, piece, idx(tileWords / 4));
      Value src = add(mul(add(mul(add(blockTile0, tile), idx(chunks)), source),
                          idx(tileWords)),
                      mul(q, idx(4)));
      Value dst =
          add(add(mul(slot, idx(tiles * tileWords)), mul(tile, idx(tileWords))),
              mul(q, idx(4)));
      // The wgmma body needs no zeros: chunks past K are never read.
      copy(w.codes, {src}, codesShared[p], dst, 4,
           schedule.isWgmma()
               ? Value()
               : arith::SelectOp::create(b, loc, valid, idx(4), idx(0)));
    });
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), ValueRange{});
}

void StagedEmitter::readCodes(ChunkLoads &loads, Value slot) {
  for (auto [p, w] : llvm::enumerate(ops.weights)) {
    const int64_t tileWords = Geometry::kLanes * w.scheme.bits;
    auto &codes = loads.codes.emplace_back();
    for (int64_t i = 0; i < schedule.getTileN(); ++i) {
      Value tile = arith::SubIOp::create(b, loc, rowTileOf(i), blockTile0);
      Value base =
          add(add(mul(slot, idx(tiles * tileWords)), mul(tile, idx(tileWords))),
              mul(lane, idx(w.scheme.bits)));
      auto &vectors = codes.emplace_back();
      for (unsigned v = 0; v < w.scheme.bits / 4; ++v)
        vectors.push_back(vector::LoadOp::create(
            b, loc, VectorType::get({4}, b.getI32Type()), codesShared[p],
            ValueRange{add(base, idx(4 * v))}, /*nontemporal=*/false,
            llvm::MaybeAlign(16)));
    }
  }
}

void StagedEmitter::readActivations(ChunkLoads &loads, Value slot) {
  // Up to four of a lane's words are contiguous (a 16-byte piece).
  const int64_t wordsPerLoad = std::min<int64_t>(4, xSpan / 8);
  auto vectorType = VectorType::get({2 * wordsPerLoad}, elementType);
  Value laneColumn = mul(t, idx(xSpan / 4));
  loads.x.resize(4);
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt) {
    // Block-local row; it is g modulo 8, which is what its pieces are
    // swizzled by.
    Value r =
        add(mul(warpM, idx(8 * schedule.getTileM())), add(idx(8 * mt), g));
    Value rowBase = add(mul(slot, idx(rows * Geometry::kTileCols)),
                        mul(r, idx(Geometry::kTileCols)));
    SmallVector<Value, 8> words;
    for (int64_t word = 0; word < 8; word += wordsPerLoad) {
      Value column = add(laneColumn, idx(wordColumn(word)));
      Value piece = arith::DivUIOp::create(b, loc, column, idx(8));
      Value within = arith::RemUIOp::create(b, loc, column, idx(8));
      Value index = add(
          add(rowBase, mul(arith::XOrIOp::create(b, loc, piece, g), idx(8))),
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

void StagedEmitter::advance(Value chunk) {
  const int64_t stages = schedule.getStages();
  // Chunk `chunk` has landed (at most stages - 2 younger groups are in
  // flight); the barrier also means every warp is done with the buffer the
  // next copies overwrite.
  nvgpu::DeviceAsyncWaitOp::create(b, loc, group,
                                   b.getI32IntegerAttr(stages - 2));
  // cp.async writes through the generic proxy; wgmma reads through the
  // async one.
  if (schedule.isWgmma())
    inlinePtx("fence.proxy.async.shared::cta;");
  gpu::BarrierOp::create(b, loc);
  Value next = add(chunk, idx(stages - 1));
  issueCopies(next,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, next,
                                    idx(chunks)),
              arith::RemUIOp::create(b, loc, next, idx(stages)));
}

void StagedEmitter::emit(gpu::GPUFuncOp kernel) {
  prepare(kernel);
  Block &entry = kernel.getBody().front();
  const int64_t stages = schedule.getStages();
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const bool useWgmma = schedule.isWgmma();
  chunks = k / Geometry::kTileCols;
  tiles = schedule.getColumnsPerBlock() / Geometry::kTileRows;
  rows = schedule.getRowsPerBlock();
  warpN = arith::RemUIOp::create(b, loc, warp, idx(schedule.getWarpsN()));
  warpM = arith::DivUIOp::create(b, loc, warp, idx(schedule.getWarpsN()));
  // Groups of 8 row blocks (512 rows with wgmma): the blocks resident at
  // once then share both their weights and activations through L2 (H100,
  // M = 256..4096: 1.02-1.08x on 28672 x 4096 and 8192 x 28672, 0.98-1.13x
  // on ten other layers; with --linear-k 1.01-1.06x on the large layers,
  // 0.93-0.96x on 4096 x 14336). All row blocks together was up to 1.05x
  // slower at M = 4096, where that many activation rows leave L2.
  auto [columnBlock, rowBlock] = blockCoordinates(/*groupRows=*/8);
  blockTile0 = mul(columnBlock, idx(tiles));
  if (useWgmma) {
    // Warp w of a warpgroup holds rows 16 w of each of its 64-row wgmmas.
    Value warpgroup = arith::DivUIOp::create(b, loc, warpN, idx(4));
    rowTile0 =
        add(blockTile0, add(mul(warpgroup, idx(4 * tileN)),
                            arith::RemUIOp::create(b, loc, warpN, idx(4))));
    rowTileStride = 4;
  } else {
    rowTile0 = add(blockTile0, mul(warpN, idx(tileN)));
  }
  mBlock = mul(rowBlock, idx(rows));
  mBase = add(mBlock, mul(warpM, idx(8 * tileM)));

  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
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
  xShared = view(stages * activationStageBytes(schedule) / 2, elementType, 2);
  for (const MmaKernelOperands::Weight &w : ops.weights)
    codesShared.push_back(view(
        stages * tiles * Geometry::kLanes * w.scheme.bits, b.getI32Type(), 4));
  // The producers' mbarriers: each stage's "full" then "empty" ones.
  if (schedule.isWarpSpecialized())
    barrierBase = memref::ExtractAlignedPointerAsIndexOp::create(
        b, loc, view(2 * stages, b.getI64Type(), 8));
  if (useWgmma)
    prepareWgmma();

  if (schedule.isWarpSpecialized()) {
    emitWarpSpecialized();
  } else {
    // The first stages - 1 chunks (zeros past K). The waits count groups
    // (numGroups); the token they name only has to exist.
    for (int64_t s = 0; s + 1 < stages; ++s)
      group = issueCopies(idx(s),
                          arith::ConstantIntOp::create(b, loc, b.getI1Type(),
                                                       s < chunks ? 1 : 0),
                          idx(s));
    SmallVector<Value> accs =
        mainLoop([&](Value chunk) { advance(chunk); }, [](Value) {});
    // Only zero-fill groups can still be in flight; let them land.
    nvgpu::DeviceAsyncWaitOp::create(b, loc, group, b.getI32IntegerAttr(0));
    storeSums(accs);
  }
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

SmallVector<Value>
StagedEmitter::mainLoop(function_ref<void(Value)> beforeChunk,
                        function_ref<void(Value)> afterChunk) {
  const int64_t stages = schedule.getStages();
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const bool useWgmma = schedule.isWgmma();
  Value zeroF = f32Zero();
  SmallVector<Value> accs(ops.weights.size() * tileN * tileM * 4, zeroF);
  const size_t accCount = accs.size();
  const int64_t perIteration = useWgmma ? wgmmaChunksPerIteration() : 1;
  // The scales and zero points come from global memory an iteration ahead
  // (as loop-carried values) so that their latency hides behind the mma.
  SmallVector<Value> carried = accs;
  llvm::append_range(carried, fetchScales(idx(0)));
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(chunks), idx(perIteration), carried,
      [&](OpBuilder &, Location, Value first, ValueRange iterArgs) {
        SmallVector<Value> current(iterArgs.take_front(accCount));
        SmallVector<Value> nextScales = fetchScales(arith::MinUIOp::create(
            b, loc, add(first, idx(perIteration)), idx(chunks - perIteration)));
        ChunkLoads scales;
        deriveScales(scales, SmallVector<Value>(iterArgs.drop_front(accCount)),
                     first);
        SmallVector<Value> partial;
        for (int64_t c = 0; c < perIteration; ++c) {
          Value chunk = add(first, idx(c));
          beforeChunk(chunk);
          ChunkLoads loads = scales;
          Value slot = arith::RemUIOp::create(b, loc, chunk, idx(stages));
          readCodes(loads, slot);
          if (useWgmma) {
            computeWgmma(loads, slot, current, partial, c == 0,
                         c + 1 == perIteration);
          } else {
            readActivations(loads, slot);
            compute(loads, current);
          }
          afterChunk(slot);
        }
        llvm::append_range(current, nextScales);
        scf::YieldOp::create(b, loc, current);
      });
  return SmallVector<Value>(loop.getResults().take_front(accCount));
}

void StagedEmitter::storeSums(ArrayRef<Value> accs) {
  // Each lane owns its accumulators' outputs: c0, c1 at (output column g,
  // rows 2t, 2t + 1), c2, c3 at column g + 8 (for wgmma too, per 8 rows).
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const int64_t perProjection = tileN * tileM * 4;
  for (int64_t i = 0; i < tileN; ++i)
    for (int64_t mt = 0; mt < tileM; ++mt)
      for (int64_t r = 0; r < 4; ++r) {
        Value col = add(add(mul(rowTileOf(i), idx(16)), g), idx(8 * (r / 2)));
        Value row =
            add(add(mBase, idx(8 * mt)), add(mul(t, idx(2)), idx(r % 2)));
        OpBuilder::InsertionGuard guard(b);
        auto inRange = scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m),
            /*withElseRegion=*/false);
        b.setInsertionPointToStart(&inRange.getThenRegion().front());
        SmallVector<Value, 2> sums;
        for (size_t p = 0; p < ops.weights.size(); ++p)
          sums.push_back(accs[p * perProjection + (i * tileM + mt) * 4 + r]);
        storeOutput(sums, row, col);
      }
}

int64_t
qmlir::codegen::mmaKernelSharedMemoryBytes(ScheduleAttr schedule,
                                           ArrayRef<core::Scheme> schemes,
                                           core::Layout layout) {
  if (!schedule.isStaged())
    return splitKSharedMemoryBytes(schedule, layout, schemes);
  int64_t perStage = StagedEmitter::activationStageBytes(schedule);
  for (const core::Scheme &scheme : schemes)
    perStage += codeStageBytes(schedule, scheme);
  const int64_t barrierBytes =
      schedule.isWarpSpecialized() ? 2 * 8 * schedule.getStages() : 0;
  return schedule.getStages() * perStage + barrierBytes;
}

void qmlir::codegen::emitStagedKernel(OpBuilder &b, Location loc,
                                      gpu::GPUFuncOp kernel,
                                      ScheduleAttr schedule, Type elementType,
                                      int64_t k,
                                      const MmaKernelOperands &operands) {
  StagedEmitter(b, loc, schedule, elementType, k, operands).emit(kernel);
}
