//===- MmaKernelWgmma.cpp - The staged body's wgmma (sm_90a) part ---------===//
//
// On sm_90a a warpgroup (4 warps) issues wgmma.mma_async m64nNk16: 64 output
// columns (the weights, operand A, from registers) by N = 8 tile_m rows of M
// (the activations, operand B, which the tensor cores read from shared
// memory through a descriptor). A warp's 16 rows of A have the mma.sync
// m16n8k16 fragment layout, so the codes decode into A exactly as for
// mma.sync (MmaEmitter::fragment), and the accumulators of each 8 rows of N
// are laid out like an mma.sync's, so the epilogue is shared too. One
// instruction per 64 x N x 16 replaces 2 tile_m mma.sync per warp: issue
// slots were what bounded the mma.sync body.
//
// Activations reach shared memory by cp.async. With the mma_tile_linear
// layout K is in order, so each copy is a 16-byte piece: 8 lanes copy a
// row's 128 bytes, piece p into core matrix p. With mma_tile the weights'
// K is permuted within spans (core/Layout.h), so the activations are
// permuted the same way on their way to shared memory:
// the 4-byte pair of hardware k-step j, half h = q / 2, lane t (K = 16 j +
// 8 h + 2 t) is logical column span (j / S) + span / 4 t + 4 (j % S) + 2 h,
// S = span / 16. Each pair is one 4-byte cp.async; lane l of a warp copies
// pair l of a row, so a warp reads one row's 128 bytes.
//
// Numerics as in mma.sync: a group's f32 partial sums (a wgmma accumulator
// started at zero) are scaled into the sums once per group, after waiting
// for the wgmmas; per-channel scales are applied at the end.
//
//===----------------------------------------------------------------------===//

#include "StagedEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <numeric>
#include <string>

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

/// Whether weight `scheme`'s scales are applied once, at the end.
bool scalesAtEnd(const core::Scheme &scheme) {
  return scheme.isPerChannel() || scheme.isPerTensor();
}

/// Whether a group of `scheme` spans whole chunks, so that its partial sums
/// are scaled once per loop iteration (else once per permutation span).
bool groupSpansChunks(const core::Scheme &scheme, int64_t k) {
  return scheme.groupSizeFor(k) % Geometry::kTileCols == 0;
}

} // namespace

int64_t StagedEmitter::wgmmaChunksPerIteration() const {
  // The partial sums may be scaled at the end of every iteration as long as
  // an iteration does not straddle two groups.
  int64_t perIteration = 0;
  for (const MmaKernelOperands::Weight &w : ops.weights) {
    if (scalesAtEnd(w.scheme))
      continue;
    perIteration = std::gcd(perIteration,
                            groupSpansChunks(w.scheme, k)
                                ? w.scheme.groupSizeFor(k) / Geometry::kTileCols
                                : 1);
  }
  // Each chunk of an iteration is emitted separately: keep the body small.
  int64_t chunksPerIteration = std::clamp<int64_t>(perIteration, 1, 4);
  while (perIteration % chunksPerIteration != 0)
    --chunksPerIteration;
  return chunksPerIteration;
}

void StagedEmitter::inlinePtx(StringRef ptx, ValueRange operands) {
  std::string constraints;
  for (Value operand : operands)
    constraints += std::string(constraints.empty() ? "" : ",") +
                   (operand.getType().isInteger(64) ? "l" : "r");
  LLVM::InlineAsmOp::create(b, loc, TypeRange{}, operands, ptx, constraints,
                            /*has_side_effects=*/true,
                            /*is_align_stack=*/false,
                            LLVM::tailcallkind::TailCallKind::None,
                            LLVM::AsmDialectAttr(), ArrayAttr());
}

void StagedEmitter::fenceValues(StringRef ptx, MutableArrayRef<Value> values) {
  std::string constraints;
  SmallVector<Type> types;
  for (Value value : values) {
    types.push_back(value.getType());
    constraints += value.getType().isF32() ? "=f," : "=r,";
  }
  for (size_t i = 0; i < values.size(); ++i)
    constraints += std::to_string(i) + (i + 1 < values.size() ? "," : "");
  auto result = LLVM::InlineAsmOp::create(
      b, loc, LLVM::LLVMStructType::getLiteral(b.getContext(), types),
      ValueRange(values), ptx, constraints, /*has_side_effects=*/true,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = LLVM::ExtractValueOp::create(b, loc, result.getRes(), i);
}

void StagedEmitter::wgmma(MutableArrayRef<Value> d, ArrayRef<Value> a,
                          Value descriptor, bool accumulate) {
  const int64_t n = 2 * int64_t(d.size());
  const char *type = isBf16 ? "bf16" : "f16";
  std::string ptx = "{\n.reg .pred p;\nsetp.ne.b32 p, $" +
                    std::to_string(d.size() + 5) +
                    ", 0;\nwgmma.mma_async.sync.aligned.m64n" +
                    std::to_string(n) + "k16.f32." + type + "." + type + " {";
  std::string constraints;
  for (size_t i = 0; i < d.size(); ++i) {
    ptx += "$" + std::to_string(i) + (i + 1 < d.size() ? ", " : "}, {");
    constraints += "=f,";
  }
  for (size_t i = 0; i < 4; ++i)
    ptx += "$" + std::to_string(d.size() + i) + (i < 3 ? ", " : "}, ");
  // B is K-major (no transpose); A and B are not negated.
  ptx += "$" + std::to_string(d.size() + 4) + ", p, 1, 1, 0;\n}";
  constraints += "r,r,r,r,l,r";
  for (size_t i = 0; i < d.size(); ++i)
    constraints += "," + std::to_string(i);
  SmallVector<Value> operands(a);
  operands.push_back(descriptor);
  operands.push_back(i32(accumulate ? 1 : 0));
  llvm::append_range(operands, d);
  auto result = LLVM::InlineAsmOp::create(
      b, loc,
      LLVM::LLVMStructType::getLiteral(
          b.getContext(), SmallVector<Type>(d.size(), b.getF32Type())),
      operands, ptx, constraints, /*has_side_effects=*/true,
      /*is_align_stack=*/false, LLVM::tailcallkind::TailCallKind::None,
      LLVM::AsmDialectAttr(), ArrayAttr());
  for (size_t i = 0; i < d.size(); ++i)
    d[i] = LLVM::ExtractValueOp::create(b, loc, result.getRes(), i);
}

/// Activations one cp.async copies to shared memory: a 16-byte piece where
/// K is in order, else one 4-byte pair (see the file comment).
static int64_t valuesPerCopy(int64_t xSpan) { return xSpan == 8 ? 8 : 2; }

void StagedEmitter::prepareWgmma() {
  if (valuesPerCopy(xSpan) == 8) {
    // Lane l copies piece l % 8 of a row (K 8 (l % 8) ..) to core matrix
    // l % 8 of the row's group: k-step (l % 8) / 2, half l % 2.
    Value piece = arith::RemUIOp::create(b, loc, lane, idx(8));
    xLaneColumn = mul(piece, idx(8));
    xLaneOffset = mul(piece, idx(kCoreMatrixStrideK / 2));
  } else {
    // Lane l copies pair l of a row: hardware k-step j = l / 8, half
    // h = (l / 4) % 2, t = l % 4 (see the file comment).
    const int64_t subTilesPerSpan = xSpan / Geometry::kSubTileCols;
    Value j = arith::DivUIOp::create(b, loc, lane, idx(8));
    Value h = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, lane, idx(4)), idx(2));
    Value tt = arith::RemUIOp::create(b, loc, lane, idx(4));
    xLaneColumn =
        add(add(mul(arith::DivUIOp::create(b, loc, j, idx(subTilesPerSpan)),
                    idx(xSpan)),
                mul(tt, idx(xSpan / 4))),
            add(mul(arith::RemUIOp::create(b, loc, j, idx(subTilesPerSpan)),
                    idx(4)),
                mul(h, idx(2))));
    // Core matrix 2 j + h of the row's group, 4 t bytes into its row.
    xLaneOffset = add(mul(add(mul(j, idx(2)), h), idx(kCoreMatrixStrideK / 2)),
                      mul(tt, idx(2)));
  }

  // The shared-memory matrix descriptor (PTX ISA, wgmma): start address,
  // leading (K) and stride (8-row) byte offsets, all in 16-byte units;
  // no swizzling.
  auto i64 = b.getI64Type();
  Value base = arith::IndexCastOp::create(
      b, loc, i64,
      add(memref::ExtractAlignedPointerAsIndexOp::create(b, loc, xShared),
          mul(warpM, idx(schedule.getTileM() * kCoreMatrixStrideRows))));
  auto constant = [&](int64_t value) {
    return arith::ConstantIntOp::create(b, loc, i64, value);
  };
  descriptor0 = arith::OrIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, base, constant(4)),
      constant((kCoreMatrixStrideK >> 4) << 16 | (kCoreMatrixStrideRows >> 4)
                                                     << 32));
}

void StagedEmitter::copyActivationsForWgmma(Value chunkColumn, Value slot,
                                            bool clampRows) {
  const int64_t stageValues = activationStageBytes(schedule) / 2;
  // A row is 64 / perCopy copies, 32 or 8, and the thread count is a
  // multiple of 32, so which part of its row a thread copies is fixed.
  // The copies go through L1: the blocks along N that share an SM read the
  // same rows (bypassing it cost a third of the speed on an H200).
  const int64_t perCopy = valuesPerCopy(xSpan);
  const int64_t copiesPerRow = Geometry::kTileCols / perCopy;
  const int64_t threads = copyThreads ? copyThreads : schedule.getThreads();
  const int64_t rowsPerPass = threads / copiesPerRow;
  if (copyThreads && llvm::isPowerOf2_64(rowsPerPass)) {
    // The thread copies the same part of rows r0, r0 + rowsPerPass, ...,
    // so each copy is one instruction at a constant offset from two
    // addresses (with a power-of-two rowsPerPass the core-matrix offset of
    // row r0 + p rowsPerPass is that of r0 plus a constant). Where rows may
    // be past M, those copy the last row instead.
    Value r0 = arith::DivUIOp::create(b, loc, copyTid, idx(copiesPerRow));
    auto i64 = b.getI64Type();
    Value xBase = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, ops.x);
    Value column = add(chunkColumn, xLaneColumn);
    auto rowAddress = [&](Value row) {
      return arith::IndexCastOp::create(
          b, loc, i64, add(xBase, mul(add(mul(row, idx(k)), column), idx(2))));
    };
    Value src = rowAddress(add(mBlock, r0));
    Value lastRowSrc;
    if (clampRows)
      lastRowSrc = rowAddress(arith::SubIOp::create(b, loc, m, idx(1)));
    auto coreOffset = [&](int64_t r) {
      return (r / 8) * kCoreMatrixStrideRows + (r % 8) * 16;
    };
    Value dst = arith::IndexCastOp::create(
        b, loc, b.getI32Type(),
        add(memref::ExtractAlignedPointerAsIndexOp::create(b, loc, xShared),
            add(mul(add(mul(slot, idx(stageValues)), xLaneOffset), idx(2)),
                add(mul(arith::DivUIOp::create(b, loc, r0, idx(8)),
                        idx(kCoreMatrixStrideRows)),
                    mul(arith::RemUIOp::create(b, loc, r0, idx(8)),
                        idx(16))))));
    for (int64_t first = 0; first < rows; first += rowsPerPass) {
      OpBuilder::InsertionGuard guard(b);
      if (first + rowsPerPass > rows) {
        auto inside = scf::IfOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                  add(r0, idx(first)), idx(rows)),
            /*withElseRegion=*/false);
        b.setInsertionPointToStart(&inside.getThenRegion().front());
      }
      // r0 < rowsPerPass and `first` is a multiple of it, so row
      // r0 + first's offset is r0's plus `first`'s.
      const int64_t dstOffset = coreOffset(first);
      Value rowSrc = src;
      int64_t srcOffset = first * k * 2;
      if (clampRows) {
        rowSrc = arith::SelectOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                  add(add(mBlock, r0), idx(first)), m),
            arith::AddIOp::create(
                b, loc, src,
                arith::ConstantIntOp::create(b, loc, i64, srcOffset)),
            lastRowSrc);
        srcOffset = 0;
      }
      inlinePtx("cp.async.ca.shared.global [$0+" + std::to_string(dstOffset) +
                    "], [$1+" + std::to_string(srcOffset) + "], " +
                    std::to_string(2 * perCopy) + ";",
                {dst, rowSrc});
    }
    return;
  }
  // This path clamps every row whatever clampRows says (never wrong).
  // Rows past M repeat the last one and chunks past K the last one: their
  // sums are never stored or their buffers never read, so nothing needs
  // zeros (which would cost a select per copy).
  Value lastRow = arith::SubIOp::create(b, loc, m, idx(1));
  forEachThreadIndex(rows * copiesPerRow, [&](Value index) {
    Value r = arith::DivUIOp::create(b, loc, index, idx(copiesPerRow));
    Value row = add(mBlock, r);
    Value dst =
        add(add(mul(slot, idx(stageValues)),
                add(mul(arith::DivUIOp::create(b, loc, r, idx(8)),
                        idx(kCoreMatrixStrideRows / 2)),
                    mul(arith::RemUIOp::create(b, loc, r, idx(8)), idx(8)))),
            xLaneOffset);
    copy(ops.x,
         {arith::MinUIOp::create(b, loc, row, lastRow),
          add(chunkColumn, xLaneColumn)},
         xShared, dst, perCopy, Value(), /*keepInL1=*/true);
  });
}

void StagedEmitter::computeWgmma(const ChunkLoads &loads, Value slot,
                                 SmallVectorImpl<Value> &accs,
                                 SmallVectorImpl<Value> &partial,
                                 bool firstOfIteration, bool lastOfIteration) {
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const int64_t perTile = tileM * 4;
  const size_t weights = ops.weights.size();
  // A group's first wgmma ignores the partial sums (scale-d = 0).
  if (firstOfIteration)
    partial.assign(accs.size(), LLVM::UndefOp::create(b, loc, b.getF32Type()));
  // The wgmmas of weight p accumulate into the sums or into partial sums.
  auto target = [&](size_t p, int64_t i) -> MutableArrayRef<Value> {
    auto &values = scalesAtEnd(ops.weights[p].scheme) ? accs : partial;
    return MutableArrayRef<Value>(values).slice((p * tileN + i) * perTile,
                                                perTile);
  };
  auto allTargets = [&]() {
    SmallVector<Value> values;
    for (size_t p = 0; p < weights; ++p)
      for (int64_t i = 0; i < tileN; ++i)
        llvm::append_range(values, target(p, i));
    return values;
  };
  auto setTargets = [&](ArrayRef<Value> values) {
    size_t next = 0;
    for (size_t p = 0; p < weights; ++p)
      for (int64_t i = 0; i < tileN; ++i)
        for (Value &value : target(p, i))
          value = values[next++];
  };
  auto fenceTargets = [&](StringRef ptx) {
    SmallVector<Value> values = allTargets();
    fenceValues(ptx, values);
    setTargets(values);
  };

  // Every A register of the chunk, [p][i][j][q], decoded before the fence.
  SmallVector<Value> fenced;
  for (size_t p = 0; p < weights; ++p)
    for (int64_t i = 0; i < tileN; ++i)
      for (int64_t j = 0; j < 4; ++j)
        for (int64_t q = 0; q < 4; ++q)
          fenced.push_back(LLVM::BitcastOp::create(
              b, loc, b.getI32Type(), fragment(loads, p, i, j, q)));
  const size_t aCount = fenced.size();
  llvm::append_range(fenced, allTargets());
  fenceValues("wgmma.fence.sync.aligned;", fenced);
  ArrayRef<Value> a = ArrayRef<Value>(fenced).take_front(aCount);
  setTargets(ArrayRef<Value>(fenced).drop_front(aCount));

  auto i64 = b.getI64Type();
  Value slotDescriptor = arith::AddIOp::create(
      b, loc, descriptor0,
      arith::IndexCastOp::create(
          b, loc, i64, mul(slot, idx(activationStageBytes(schedule) >> 4))));
  for (int64_t j = 0; j < 4; ++j) {
    // k-step j reads core matrices 2 j and 2 j + 1 of each 8-row group.
    Value descriptor = arith::AddIOp::create(
        b, loc, slotDescriptor,
        arith::ConstantIntOp::create(b, loc, i64,
                                     (2 * j * kCoreMatrixStrideK) >> 4));
    for (size_t p = 0; p < weights; ++p) {
      const core::Scheme &scheme = ops.weights[p].scheme;
      const bool startsGroup =
          !scalesAtEnd(scheme) &&
          (groupSpansChunks(scheme, k) ? firstOfIteration && j == 0
                                       : groupStartsAt(scheme, j));
      for (int64_t i = 0; i < tileN; ++i)
        wgmma(target(p, i), a.slice(((p * tileN + i) * 4 + j) * 4, 4),
              descriptor, /*accumulate=*/!startsGroup);
    }
    // Which weights' partial sums end after k-step j: at the end of each
    // span where groups are not multiples of 64, else of the iteration.
    SmallVector<size_t, 2> flushed;
    for (size_t p = 0; p < weights; ++p) {
      const core::Scheme &scheme = ops.weights[p].scheme;
      if (scalesAtEnd(scheme))
        continue;
      const bool endsHere = groupSpansChunks(scheme, k)
                                ? j == 3 && lastOfIteration
                                : j == 3 || groupStartsAt(scheme, j + 1);
      if (endsHere)
        flushed.push_back(p);
    }
    if (flushed.empty() && j < 3)
      continue;
    fenceTargets("wgmma.commit_group.sync.aligned;\n"
                 "wgmma.wait_group.sync.aligned 0;");
    for (size_t p : flushed) {
      // deriveScales gives every sub-tile of a span its span's scales.
      for (int64_t i = 0; i < tileN; ++i) {
        MutableArrayRef<Value> sums = target(p, i);
        for (int64_t e = 0; e < perTile; ++e) {
          // e % 4 < 2: output column g, else g + 8 (as for mma.sync).
          Value scale = loads.scales[p][i][j][(e % 4) / 2];
          Value &acc = accs[(p * tileN + i) * perTile + e];
          acc = LLVM::FMAOp::create(b, loc, sums[e], scale, acc);
        }
      }
    }
    if (j < 3) {
      // The next wgmmas write what the flush has just read.
      fenceTargets("wgmma.fence.sync.aligned;");
    }
  }
}
