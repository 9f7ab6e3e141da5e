//===- MmaKernel.cpp - What the mma bodies share --------------------------===//
//
// Decoding codes into A fragments, the mma of a chunk with its group
// scales, and the epilogue's store; the bodies are in MmaKernelSplitK.cpp
// (small M) and MmaKernelStaged.cpp / MmaKernelWgmma.cpp (large M).
//
//===----------------------------------------------------------------------===//

#include "MmaEmitter.h"

#include "qmlir/Codegen/Epilogue.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

MmaEmitter::MmaEmitter(OpBuilder &b, Location loc, ScheduleAttr schedule,
                       Type elementType, int64_t k,
                       const MmaKernelOperands &operands)
    : b(b), loc(loc), schedule(schedule), elementType(elementType), k(k),
      isBf16(elementType.isBF16()), ops(operands) {
  xSpan = core::mmaKSpan(ops.layout, ops.weights.front().scheme);
}

Value MmaEmitter::idx(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}
Value MmaEmitter::i32(int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}
Value MmaEmitter::add(Value x, Value y) {
  return arith::AddIOp::create(b, loc, x, y);
}
Value MmaEmitter::mul(Value x, Value y) {
  return arith::MulIOp::create(b, loc, x, y);
}
VectorType MmaEmitter::pairType() {
  return VectorType::get({2}, elementType);
}
Value MmaEmitter::splat(Value scalar) {
  return vector::BroadcastOp::create(b, loc, pairType(), scalar);
}
Value MmaEmitter::rowTileOf(int64_t i) {
  return add(rowTile0, idx(rowTileStride * i));
}
Value MmaEmitter::f32Zero() {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(0.0f));
}

Value MmaEmitter::toElement(Value value) {
  Type type = value.getType();
  if (type == elementType)
    return value;
  if (!type.isF32())
    value = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, elementType, value);
}

Value MmaEmitter::toF32(Value value) {
  return value.getType().isF32()
             ? value
             : arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

void MmaEmitter::prepare(gpu::GPUFuncOp kernel) {
  b.setInsertionPointToStart(&kernel.getBody().front());
  for (MmaKernelOperands::Weight &w : ops.weights)
    w.codes = memref::CollapseShapeOp::create(
        b, loc, w.codes, SmallVector<ReassociationIndices>{{0, 1}});
  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  g = arith::DivUIOp::create(b, loc, lane, idx(4));
  t = arith::RemUIOp::create(b, loc, lane, idx(4));
  m = memref::DimOp::create(b, loc, ops.x, 0);
}

std::pair<Value, Value> MmaEmitter::blockCoordinates(int64_t groupRows) {
  // One row block: launch order is already right.
  if (schedule.getMMax() <= schedule.getRowsPerBlock())
    return {gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
            gpu::BlockIdOp::create(b, loc, gpu::Dimension::y)};
  Value columnBlocks = gpu::GridDimOp::create(b, loc, gpu::Dimension::x);
  Value rowBlocks = gpu::GridDimOp::create(b, loc, gpu::Dimension::y);
  Value linear =
      add(mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y), columnBlocks),
          gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  if (groupRows == 0)
    return {arith::DivUIOp::create(b, loc, linear, rowBlocks),
            arith::RemUIOp::create(b, loc, linear, rowBlocks)};
  // Group q holds row blocks q groupRows.. (fewer in the last group) of
  // every column block.
  Value perGroup = mul(columnBlocks, idx(groupRows));
  Value group = arith::DivUIOp::create(b, loc, linear, perGroup);
  Value firstRow = mul(group, idx(groupRows));
  Value rowsHere = arith::MinUIOp::create(
      b, loc, idx(groupRows),
      arith::SubIOp::create(b, loc, rowBlocks, firstRow));
  Value within = arith::RemUIOp::create(b, loc, linear, perGroup);
  return {arith::DivUIOp::create(b, loc, within, rowsHere),
          add(firstRow, arith::RemUIOp::create(b, loc, within, rowsHere))};
}

/// Calls `visit(p, i, j, half, row, group)` for every scale (and zero point)
/// the warp's tiles need for `chunk`, in the order fetchScales returns them.
template <typename Visit>
static void forEachScale(const MmaKernelOperands &ops, ScheduleAttr schedule,
                         Visit visit) {
  for (auto [p, w] : llvm::enumerate(ops.weights)) {
    // Sub-tiles of one permutation span share a scale group (core/Layout.h).
    const int64_t span = core::mmaPermutationSpan(w.scheme);
    const int64_t subTilesPerSpan = span / Geometry::kSubTileCols;
    for (int64_t i = 0; i < schedule.getTileN(); ++i)
      for (int64_t j = 0; j < 4; j += subTilesPerSpan)
        for (int64_t half = 0; half < 2; ++half)
          visit(p, w, i, j, half, (j / subTilesPerSpan) * span);
  }
}

Value MmaEmitter::groupOf(const core::Scheme &scheme, Value chunk,
                          int64_t column) {
  if (scheme.isPerTensor())
    return idx(0);
  return arith::DivUIOp::create(
      b, loc, add(mul(chunk, idx(Geometry::kTileCols)), idx(column)),
      idx(scheme.groupSizeFor(k)));
}

SmallVector<Value> MmaEmitter::fetchScales(Value chunk) {
  SmallVector<Value> raw;
  forEachScale(ops, schedule, [&](size_t, const MmaKernelOperands::Weight &w,
                                     int64_t i, int64_t, int64_t half,
                                     int64_t column) {
    Value group = groupOf(w.scheme, chunk, column);
    Value r = w.scheme.isPerTensor()
                  ? idx(0)
                  : add(add(mul(rowTileOf(i), idx(Geometry::kTileRows)),
                            g),
                        idx(8 * half));
    if (!w.scheme.isPerChannel() && !w.scheme.isPerTensor())
      raw.push_back(
          memref::LoadOp::create(b, loc, w.scales, ValueRange{r, group}));
    if (w.scheme.zero == core::ZeroKind::Int) {
      Value bit = mul(group, idx(w.scheme.bits));
      raw.push_back(memref::LoadOp::create(
          b, loc, w.zeros,
          ValueRange{r, arith::DivUIOp::create(b, loc, bit, idx(32))}));
    }
  });
  return raw;
}

void MmaEmitter::deriveScales(ChunkLoads &loads, ArrayRef<Value> raw,
                              Value chunk) {
  loads.scales.assign(ops.weights.size(), {});
  loads.offsets.assign(ops.weights.size(), {});
  loads.highOffsets.assign(ops.weights.size(), {});
  for (size_t p = 0; p < ops.weights.size(); ++p) {
    loads.scales[p].resize(schedule.getTileN());
    loads.offsets[p].resize(schedule.getTileN());
    loads.highOffsets[p].resize(schedule.getTileN());
  }
  size_t next = 0;
  forEachScale(ops, schedule, [&](size_t p, const MmaKernelOperands::Weight &w,
                                     int64_t i, int64_t j, int64_t half,
                                     int64_t column) {
    const unsigned bits = w.scheme.bits;
    if (!w.scheme.isPerChannel() && !w.scheme.isPerTensor())
      loads.scales[p][i][j][half] = toF32(raw[next++]);
    // Codes come out as magic + (q XOR sign bit); the offset subtracts
    // magic + (z XOR sign bit), or magic + 2^(B-1) for signed codes
    // without zeros, so that the difference is q - z exactly.
    const int64_t sign = w.scheme.isSigned() ? (1 << (bits - 1)) : 0;
    Value zero = i32(sign);
    if (w.scheme.zero == core::ZeroKind::Int) {
      Value bit = arith::MulIOp::create(
          b, loc,
          arith::IndexCastOp::create(b, loc, b.getI32Type(),
                                     groupOf(w.scheme, chunk, column)),
          i32(bits));
      zero = arith::AndIOp::create(
          b, loc,
          arith::ShRUIOp::create(b, loc, raw[next++],
                                 arith::AndIOp::create(b, loc, bit, i32(31))),
          i32((1 << bits) - 1));
      zero = arith::XOrIOp::create(b, loc, zero, i32(sign));
    }
    const int64_t magic = isBf16 && bits == 8 ? 0 : (isBf16 ? 128 : 1024);
    Value offset = arith::UIToFPOp::create(
        b, loc, b.getF32Type(),
        arith::AddIOp::create(b, loc, zero, i32(magic)));
    loads.offsets[p][i][j][half] = isBf16 && bits == 8
                                       ? offset // subtracted in f32
                                       : splat(toElement(offset));
    if (decodesHighInPlace(bits)) {
      Value highOffset = arith::UIToFPOp::create(
          b, loc, b.getF32Type(),
          arith::AddIOp::create(b, loc, zero, i32(magic / 16)));
      loads.highOffsets[p][i][j][half] =
          splat(toElement(arith::NegFOp::create(b, loc, highOffset)));
    }
    // Sub-tiles up to the next span start share these.
    const int64_t subTiles =
        core::mmaPermutationSpan(w.scheme) / Geometry::kSubTileCols;
    for (int64_t shared = j + 1; shared < j + subTiles && shared < 4; ++shared) {
      loads.scales[p][i][shared][half] = loads.scales[p][i][j][half];
      loads.offsets[p][i][shared][half] = loads.offsets[p][i][j][half];
      loads.highOffsets[p][i][shared][half] =
          loads.highOffsets[p][i][j][half];
    }
  });
}

int64_t MmaEmitter::wordColumn(int64_t word) const {
  const int64_t wordsPerSpan = xSpan / 8;
  return (word / wordsPerSpan) * xSpan + 2 * (word % wordsPerSpan);
}

void MmaEmitter::copy(Value src, ValueRange srcIndices, Value dst,
                         Value dstIndex, int64_t elements, Value srcElements,
                         bool keepInL1) {
  // Only 16-byte copies may bypass L1.
  const bool sixteenBytes =
      elements * cast<MemRefType>(src.getType()).getElementTypeBitWidth() ==
      128;
  nvgpu::DeviceAsyncCopyOp::create(
      b, loc, nvgpu::DeviceAsyncTokenType::get(b.getContext()), dst,
      ValueRange{dstIndex}, src, srcIndices, b.getIndexAttr(elements),
      srcElements,
      sixteenBytes && !keepInL1 ? b.getUnitAttr() : UnitAttr());
}

void MmaEmitter::appendWords(Value values, SmallVectorImpl<Value> &words) {
  auto type = cast<VectorType>(values.getType());
  const int64_t count = type.getNumElements() / 2;
  Value asWords = vector::BitCastOp::create(
      b, loc, VectorType::get({count}, b.getI32Type()), values);
  for (int64_t w = 0; w < count; ++w)
    words.push_back(LLVM::BitcastOp::create(
        b, loc, pairType(), vector::ExtractOp::create(b, loc, asWords, w)));
}

Value MmaEmitter::fragment(const ChunkLoads &loads, size_t p, int64_t i,
                           int64_t j, int64_t q) {
  const core::Scheme &scheme = ops.weights[p].scheme;
  const unsigned bits = scheme.bits;
  // The word and shift that hold register q (core::mmaSlotElement). With
  // f16, 4-bit registers 1 and 3 are read in place from bits 4..7 of their
  // bytes, as 16 times the code: one shift serves two registers, and the
  // 1/16 goes into the subtraction as an fma (exact: the result is a small
  // integer). bf16's 7 mantissa bits cannot hold the code there.
  int64_t wordIndex = bits == 4 ? j : 2 * j + q / 2;
  const bool high = decodesHighInPlace(bits) && q % 2 == 1;
  int64_t shift = bits == 4 ? 4 * (q - (high ? 1 : 0)) : 8 * (q % 2);
  Value word = vector::ExtractOp::create(
      b, loc, loads.codes[p][i][wordIndex / 4], wordIndex % 4);
  const uint32_t mask =
      bits == 4 ? (high ? 0x00F000F0u : 0x000F000Fu) : 0x00FF00FFu;
  Value pair = arith::AndIOp::create(
      b, loc, shift ? arith::ShRUIOp::create(b, loc, word, i32(shift)) : word,
      i32(int32_t(mask)));
  if (scheme.isSigned()) {
    uint32_t sign = (1u << (bits - 1)) << (high ? 4 : 0);
    pair = arith::XOrIOp::create(b, loc, pair, i32(int32_t(sign | sign << 16)));
  }
  const int64_t half = q % 2;
  Value offset = loads.offsets[p][i][j][half];
  if (isBf16 && bits == 8) {
    // 8-bit codes do not fit bf16's 7 mantissa bits: convert in f32, where
    // q - z is exact, and round the (exact, |q - z| < 256) difference once.
    Value lo = arith::AndIOp::create(b, loc, pair, i32(0xFFFF));
    Value hi = arith::ShRUIOp::create(b, loc, pair, i32(16));
    auto exact = [&](Value code) {
      Value f = arith::UIToFPOp::create(b, loc, b.getF32Type(), code);
      return arith::TruncFOp::create(b, loc, elementType,
                                     arith::SubFOp::create(b, loc, f, offset));
    };
    return vector::FromElementsOp::create(b, loc, pairType(),
                                          ValueRange{exact(lo), exact(hi)});
  }
  const uint32_t exponent = isBf16 ? 0x43004300u : 0x64006400u;
  pair = arith::OrIOp::create(b, loc, pair, i32(int32_t(exponent)));
  Value values = LLVM::BitcastOp::create(b, loc, pairType(), pair);
  if (high) {
    Value sixteenth = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(pairType(),
                               b.getFloatAttr(elementType, 0.0625)));
    return LLVM::FMAOp::create(b, loc, values, sixteenth,
                               loads.highOffsets[p][i][j][half]);
  }
  return arith::SubFOp::create(b, loc, values, offset);
}

bool MmaEmitter::groupStartsAt(const core::Scheme &scheme, int64_t j) const {
  if (scheme.isPerChannel() || scheme.isPerTensor())
    return j == 0;
  return j % (core::mmaPermutationSpan(scheme) / Geometry::kSubTileCols) == 0;
}

void MmaEmitter::compute(const ChunkLoads &loads, SmallVectorImpl<Value> &accs) {
  auto f32 = b.getF32Type();
  Type resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, f32));
  auto asOperand = [&](Value pair) -> Value {
    return isBf16 ? Value(LLVM::BitcastOp::create(b, loc, b.getI32Type(), pair))
                  : pair;
  };
  std::optional<std::array<NVVM::MMATypes, 2>> ptxTypes;
  if (isBf16)
    ptxTypes = {NVVM::MMATypes::bf16, NVVM::MMATypes::bf16};
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  Value zeroF = f32Zero();
  for (size_t p = 0; p < ops.weights.size(); ++p) {
    const core::Scheme &scheme = ops.weights[p].scheme;
    // Per-channel scales are applied in the epilogue: the mma accumulates
    // straight into the sums. Otherwise each run of sub-tiles sharing a
    // group accumulates into a fresh partial sum that is scaled into them.
    const bool scaleAtEnd = scheme.isPerChannel() || scheme.isPerTensor();
    for (int64_t i = 0; i < tileN; ++i) {
      SmallVector<Value> partial;
      int64_t groupStart = 0;
      auto flush = [&]() {
        if (scaleAtEnd || partial.empty())
          return;
        for (int64_t mt = 0; mt < tileM; ++mt)
          for (int64_t r = 0; r < 4; ++r) {
            size_t index = ((p * tileN + i) * tileM + mt) * 4 + r;
            // c0, c1 belong to output column g, c2, c3 to g + 8.
            Value scale = loads.scales[p][i][groupStart][r / 2];
            // llvm.intr.fma, not math.fma: the latter becomes a libdevice
            // call that needs the toolkit's bitcode to be inlined.
            accs[index] = LLVM::FMAOp::create(b, loc, partial[mt * 4 + r],
                                              scale, accs[index]);
          }
        partial.clear();
      };
      for (int64_t j = 0; j < 4; ++j) {
        if (groupStartsAt(scheme, j)) {
          flush();
          groupStart = j;
        }
        if (!scaleAtEnd && partial.empty())
          partial.assign(tileM * 4, zeroF);
        SmallVector<Value, 4> a;
        for (int64_t q = 0; q < 4; ++q)
          a.push_back(asOperand(fragment(loads, p, i, j, q)));
        for (int64_t mt = 0; mt < tileM; ++mt) {
          size_t base = ((p * tileN + i) * tileM + mt) * 4;
          SmallVector<Value, 2> bRegs = {asOperand(loads.x[j][mt][0]),
                                         asOperand(loads.x[j][mt][1])};
          SmallVector<Value, 4> c;
          for (int64_t r = 0; r < 4; ++r)
            c.push_back(scaleAtEnd ? accs[base + r] : partial[mt * 4 + r]);
          auto mma = NVVM::MmaOp::create(
              b, loc, resultType, a, bRegs, c, ArrayRef<int64_t>{16, 8, 16},
              std::nullopt, std::nullopt, ptxTypes,
              std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                             NVVM::MMALayout::col});
          for (int64_t r = 0; r < 4; ++r) {
            Value sum = LLVM::ExtractValueOp::create(b, loc, mma, r);
            (scaleAtEnd ? accs[base + r] : partial[mt * 4 + r]) = sum;
          }
        }
      }
      flush();
    }
  }
}

void MmaEmitter::forEachThreadIndex(int64_t count,
                                    function_ref<void(Value)> body) {
  const int64_t threads = copyThreads ? copyThreads : schedule.getThreads();
  for (int64_t first = 0; first < count; first += threads) {
    Value index = add(copyThreads ? copyTid : tid, idx(first));
    OpBuilder::InsertionGuard guard(b);
    if (first + threads > count) {
      auto inside = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index,
                                idx(count)),
          /*withElseRegion=*/false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
    body(index);
  }
}

void MmaEmitter::storeOutput(ArrayRef<Value> rawSums, Value row, Value col) {
  SmallVector<Value, 2> sums;
  for (auto [p, raw] : llvm::enumerate(rawSums)) {
    Value sum = raw;
    const core::Scheme &scheme = ops.weights[p].scheme;
    if (scheme.isPerChannel() || scheme.isPerTensor()) {
      Value zeroIndex = idx(0);
      Value scale = toF32(memref::LoadOp::create(
          b, loc, ops.weights[p].scales,
          ValueRange{scheme.isPerTensor() ? zeroIndex : col, zeroIndex}));
      sum = arith::MulFOp::create(b, loc, sum, scale);
    }
    sums.push_back(sum);
  }
  Value result =
      sums.size() == 2 ? emitSwiglu(b, loc, sums[0], sums[1]) : sums[0];
  Value zero = idx(0);
  result = emitAddAll(
      b, loc, result,
      {ops.bias ? memref::LoadOp::create(b, loc, ops.bias, ValueRange{zero, col})
                      .getResult()
                : Value(),
       ops.residual
           ? memref::LoadOp::create(b, loc, ops.residual, ValueRange{row, col})
                 .getResult()
           : Value()});
  memref::StoreOp::create(b, loc,
                          arith::TruncFOp::create(b, loc, elementType, result),
                          ops.out, ValueRange{row, col});
}

void qmlir::codegen::emitMmaKernel(OpBuilder &b, Location loc,
                                   gpu::GPUFuncOp kernel, ScheduleAttr schedule,
                                   Type elementType, int64_t k,
                                   const MmaKernelOperands &operands) {
  if (schedule.isStaged())
    emitStagedKernel(b, loc, kernel, schedule, elementType, k, operands);
  else
    emitSplitKKernel(b, loc, kernel, schedule, elementType, k, operands);
}
