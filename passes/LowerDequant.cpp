//===- LowerDequant.cpp - qmlir.matmul to tensor-core kernels -------------===//
//
// Dequantize-then-mma kernels, one per #qmlir.schedule of an op whose
// weights are in the mma_tile layout (include/qmlir/Core/Layout.h).
//
// The weight matrix is the mma's A operand (16 output columns by 16 K) and
// the activations its B operand (K by 8 rows of M), so a single decode row
// already fills a tensor-core instruction. Each lane loads its codes with
// 16-byte loads straight into registers (every code is read once, so
// staging them in shared memory would only add traffic), turns pairs of
// codes into f16x2 / bf16x2 with a shift, a mask and an OR with the
// exponent of 1024 (f16) or 128 (bf16), and subtracts that constant plus
// the zero point: q - z, exactly. The mma multiplies those small integers
// by the activations exactly, and the scale is applied to each group's f32
// partial sums (per-channel scales once, at the end), so the weights are
// never rounded to 16 bits: the result is as accurate as an f32
// dequantization. The warps of a block split K and add their f32 partial
// sums in shared memory, which also gives the epilogue one place to run.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Epilogue.h"
#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace qmlir {
#define GEN_PASS_DEF_QMLIRLOWERDEQUANT
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

using Geometry = core::MmaTileGeometry;

/// The values a kernel body reads, as block arguments.
struct Operands {
  Value x;
  struct Weight {
    core::Scheme scheme;
    Value codes; // 1-D view
    Value scales, zeros;
  };
  SmallVector<Weight, 2> weights;
  Value bias, residual, out;
};

/// What one chunk (64 columns of K) of one warp loaded.
struct ChunkLoads {
  // [projection][tile][vector]: B / 4 vectors of 4 words per lane.
  SmallVector<SmallVector<SmallVector<Value, 2>, 8>, 2> codes;
  // [projection][tile][sub-tile][row half]: the scale (f32; unused for
  // per-channel scales) and the exact offset (magic + zero point) as a
  // splat vector of the activation type.
  SmallVector<SmallVector<std::array<std::array<Value, 2>, 4>, 8>, 2> scales,
      offsets;
  // [sub-tile][m tile][register]: B fragments.
  SmallVector<SmallVector<std::array<Value, 2>, 8>, 4> x;
};

class KernelEmitter {
public:
  KernelEmitter(OpBuilder &b, Location loc, ScheduleAttr schedule,
                Type elementType, int64_t n, int64_t k)
      : b(b), loc(loc), schedule(schedule), elementType(elementType), n(n),
        k(k), isBf16(elementType.isBF16()) {}

  void emit(gpu::GPUFuncOp kernel, Operands ops, bool swiglu);

private:
  Value idx(int64_t value) { return arith::ConstantIndexOp::create(b, loc, value); }
  Value i32(int64_t value) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  VectorType pairType() { return VectorType::get({2}, elementType); }
  Value splat(Value scalar) {
    return vector::BroadcastOp::create(b, loc, pairType(), scalar);
  }
  /// A scalar of the scale part, converted to the activation type.
  Value toElement(Value value);
  Value toF32(Value value) {
    return value.getType().isF32()
               ? value
               : arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  }
  /// Whether sub-tiles j and j - 1 of a chunk may use different scales.
  bool groupStartsAt(const core::Scheme &scheme, int64_t j) const;
  ChunkLoads load(Value chunk);
  void compute(const ChunkLoads &loads, SmallVectorImpl<Value> &accs);
  /// Register q (0..3) of sub-tile j of projection p, tile i.
  Value fragment(const ChunkLoads &loads, size_t p, int64_t i, int64_t j,
                 int64_t q);
  /// Loops over the warp's chunks [first, end) with the given step, `unroll`
  /// chunks per iteration.
  SmallVector<Value> loopOverChunks(Value first, Value end, int64_t unroll,
                                    ValueRange accs);
  OpBuilder &b;
  Location loc;
  ScheduleAttr schedule;
  Type elementType;
  int64_t n, k;
  bool isBf16;
  /// K's permutation span, shared by every weight (checked by the pass).
  int64_t xSpan = 64;
  Operands ops;
  Value lane, warp, g, t, m, rowTile0, mBase;
  SmallVector<Value> xRows;  // clamped row index per m tile
  SmallVector<Value> xValid; // whether that row exists
};

Value KernelEmitter::toElement(Value value) {
  Type type = value.getType();
  if (type == elementType)
    return value;
  if (!type.isF32())
    value = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  return arith::TruncFOp::create(b, loc, elementType, value);
}

ChunkLoads KernelEmitter::load(Value chunk) {
  ChunkLoads loads;
  const int64_t chunks = k / Geometry::kTileCols;
  for (const Operands::Weight &w : ops.weights) {
    const unsigned bits = w.scheme.bits;
    auto &codes = loads.codes.emplace_back();
    auto &scales = loads.scales.emplace_back();
    auto &offsets = loads.offsets.emplace_back();
    const int64_t groupSize = w.scheme.groupSizeFor(k);
    // Sub-tiles of one permutation span share a scale group (core/Layout.h).
    const int64_t span = core::mmaPermutationSpan(w.scheme);
    const int64_t subTilesPerSpan = span / Geometry::kSubTileCols;
    for (int64_t i = 0; i < schedule.getTileN(); ++i) {
      Value tile = add(rowTile0, idx(i));
      Value base = mul(add(mul(add(mul(tile, idx(chunks)), chunk),
                               idx(Geometry::kLanes)),
                           lane),
                       idx(bits));
      auto &vectors = codes.emplace_back();
      for (unsigned v = 0; v < bits / 4; ++v)
        vectors.push_back(vector::LoadOp::create(
            b, loc, VectorType::get({4}, b.getI32Type()), w.codes,
            ValueRange{add(base, idx(4 * v))}, /*nontemporal=*/false,
            llvm::MaybeAlign(16)));
      auto &tileScales = scales.emplace_back();
      auto &tileOffsets = offsets.emplace_back();
      Value row = add(mul(tile, idx(Geometry::kTileRows)), g);
      for (int64_t j = 0; j < 4; ++j) {
        if (j % subTilesPerSpan != 0) {
          tileScales[j] = tileScales[j - 1];
          tileOffsets[j] = tileOffsets[j - 1];
          continue;
        }
        Value column = add(mul(chunk, idx(Geometry::kTileCols)),
                           idx((j / subTilesPerSpan) * span));
        Value group = w.scheme.isPerTensor()
                          ? idx(0)
                          : arith::DivUIOp::create(b, loc, column,
                                                   idx(groupSize));
        for (int64_t half = 0; half < 2; ++half) {
          Value r = w.scheme.isPerTensor() ? idx(0) : add(row, idx(8 * half));
          if (!w.scheme.isPerChannel() && !w.scheme.isPerTensor())
            tileScales[j][half] = toF32(
                memref::LoadOp::create(b, loc, w.scales, ValueRange{r, group}));
          // Codes come out as magic + (q XOR sign bit); the offset subtracts
          // magic + (z XOR sign bit), or magic + 2^(B-1) for signed codes
          // without zeros, so that the difference is q - z exactly.
          const int64_t sign = w.scheme.isSigned() ? (1 << (bits - 1)) : 0;
          Value zero = i32(sign);
          if (w.scheme.zero == core::ZeroKind::Int) {
            Value bit = arith::MulIOp::create(
                b, loc, arith::IndexCastOp::create(b, loc, b.getI32Type(), group),
                i32(bits));
            Value word = memref::LoadOp::create(
                b, loc, w.zeros,
                ValueRange{r, arith::IndexCastOp::create(
                                  b, loc, b.getIndexType(),
                                  arith::ShRUIOp::create(b, loc, bit, i32(5)))});
            zero = arith::AndIOp::create(
                b, loc,
                arith::ShRUIOp::create(
                    b, loc, word, arith::AndIOp::create(b, loc, bit, i32(31))),
                i32((1 << bits) - 1));
            zero = arith::XOrIOp::create(b, loc, zero, i32(sign));
          }
          const int64_t magic = isBf16 && bits == 8 ? 0 : (isBf16 ? 128 : 1024);
          Value offset = arith::UIToFPOp::create(
              b, loc, b.getF32Type(), arith::AddIOp::create(b, loc, zero, i32(magic)));
          tileOffsets[j][half] = isBf16 && bits == 8
                                     ? offset // subtracted in f32
                                     : splat(toElement(offset));
        }
      }
    }
  }
  // K is permuted inside spans (core/Layout.h): lane t's B fragments are
  // span / 4 contiguous activations of each span; sub-tile j's registers
  // are its words 2 j and 2 j + 1 in span order.
  loads.x.resize(4);
  const int64_t span = xSpan;
  const int64_t perLoad = std::min<int64_t>(8, span / 4);
  auto vectorType = VectorType::get({perLoad}, elementType);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(vectorType, b.getZeroAttr(elementType)));
  for (int64_t mt = 0; mt < schedule.getTileM(); ++mt) {
    SmallVector<Value, 8> words;
    for (int64_t first = 0; first < Geometry::kTileCols; first += span)
      for (int64_t part = 0; part < span / 4; part += perLoad) {
        Value column = add(add(mul(chunk, idx(Geometry::kTileCols)),
                               mul(t, idx(span / 4))),
                           idx(first + part));
        Value values = vector::LoadOp::create(
            b, loc, vectorType, ops.x, ValueRange{xRows[mt], column},
            /*nontemporal=*/false, llvm::MaybeAlign(2 * perLoad));
        values = arith::SelectOp::create(b, loc, xValid[mt], values, zeros);
        Value asWords = vector::BitCastOp::create(
            b, loc, VectorType::get({perLoad / 2}, b.getI32Type()), values);
        for (int64_t w = 0; w < perLoad / 2; ++w)
          words.push_back(LLVM::BitcastOp::create(
              b, loc, pairType(), vector::ExtractOp::create(b, loc, asWords, w)));
      }
    for (int64_t j = 0; j < 4; ++j)
      loads.x[j].push_back({words[2 * j], words[2 * j + 1]});
  }
  return loads;
}

Value KernelEmitter::fragment(const ChunkLoads &loads, size_t p, int64_t i,
                              int64_t j, int64_t q) {
  const core::Scheme &scheme = ops.weights[p].scheme;
  const unsigned bits = scheme.bits;
  // The word and shift that hold register q (core::mmaSlotElement).
  int64_t wordIndex = bits == 4 ? j : 2 * j + q / 2;
  int64_t shift = bits == 4 ? 4 * q : 8 * (q % 2);
  Value word = vector::ExtractOp::create(
      b, loc, loads.codes[p][i][wordIndex / 4], wordIndex % 4);
  const uint32_t mask = bits == 4 ? 0x000F000Fu : 0x00FF00FFu;
  Value pair = arith::AndIOp::create(
      b, loc, shift ? arith::ShRUIOp::create(b, loc, word, i32(shift)) : word,
      i32(int32_t(mask)));
  if (scheme.isSigned()) {
    uint32_t sign = 1u << (bits - 1);
    pair = arith::XOrIOp::create(b, loc, pair, i32(int32_t(sign | sign << 16)));
  }
  const int64_t half = q % 2;
  Value offset = loads.offsets[p][i][j][half];
  Value values;
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
    values = vector::FromElementsOp::create(b, loc, pairType(),
                                            ValueRange{exact(lo), exact(hi)});
  } else {
    const uint32_t exponent = isBf16 ? 0x43004300u : 0x64006400u;
    pair = arith::OrIOp::create(b, loc, pair, i32(int32_t(exponent)));
    values = LLVM::BitcastOp::create(b, loc, pairType(), pair);
    values = arith::SubFOp::create(b, loc, values, offset);
  }
  return values;
}

bool KernelEmitter::groupStartsAt(const core::Scheme &scheme, int64_t j) const {
  if (scheme.isPerChannel() || scheme.isPerTensor())
    return j == 0;
  return j % (core::mmaPermutationSpan(scheme) / Geometry::kSubTileCols) == 0;
}

void KernelEmitter::compute(const ChunkLoads &loads,
                            SmallVectorImpl<Value> &accs) {
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
  Value zeroF = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                               APFloat(0.0f));
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

SmallVector<Value> KernelEmitter::loopOverChunks(Value first, Value end,
                                                 int64_t unroll,
                                                 ValueRange accs) {
  const int64_t warps = schedule.getWarps();
  auto loop = scf::ForOp::create(
      b, loc, first, end, idx(warps * unroll), accs,
      [&](OpBuilder &, Location, Value chunk, ValueRange iterAccs) {
        SmallVector<Value> current(iterAccs);
        // All loads of the iteration first, so that they are in flight
        // together.
        std::vector<ChunkLoads> loads;
        for (int64_t u = 0; u < unroll; ++u)
          loads.push_back(load(add(chunk, idx(u * warps))));
        for (const ChunkLoads &l : loads)
          compute(l, current);
        scf::YieldOp::create(b, loc, current);
      });
  return SmallVector<Value>(loop.getResults());
}

void KernelEmitter::emit(gpu::GPUFuncOp kernel, Operands operands,
                         bool swiglu) {
  ops = operands;
  xSpan = core::mmaPermutationSpan(ops.weights.front().scheme);
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  // Codes as one flat array: the layout addresses words, not rows.
  for (Operands::Weight &w : ops.weights)
    w.codes = memref::CollapseShapeOp::create(
        b, loc, w.codes, SmallVector<ReassociationIndices>{{0, 1}});

  const int64_t warps = schedule.getWarps(), unroll = schedule.getUnroll();
  const int64_t tileN = schedule.getTileN(), tileM = schedule.getTileM();
  const int64_t chunks = k / Geometry::kTileCols;
  Value tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  g = arith::DivUIOp::create(b, loc, lane, idx(4));
  t = arith::RemUIOp::create(b, loc, lane, idx(4));
  rowTile0 = mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::x), idx(tileN));
  mBase = mul(gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
              idx(schedule.getRowsPerBlock()));
  m = memref::DimOp::create(b, loc, ops.x, 0);
  Value lastRow = arith::SubIOp::create(b, loc, m, idx(1));
  for (int64_t mt = 0; mt < tileM; ++mt) {
    Value row = add(mBase, add(idx(8 * mt), g));
    xValid.push_back(
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m));
    xRows.push_back(arith::MinUIOp::create(b, loc, row, lastRow));
  }

  Value zeroF = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                               APFloat(0.0f));
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
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  Value partials = kernel.addWorkgroupAttribution(
      MemRefType::get({warps * perWarp}, b.getF32Type(), AffineMap(), workgroup),
      loc);
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
  const int64_t threads = schedule.getThreads();
  for (int64_t first = 0; first < outputs; first += threads) {
    Value e = add(tid, idx(first));
    OpBuilder::InsertionGuard guard(b);
    if (first + threads > outputs) {
      auto inside = scf::IfOp::create(
          b, loc,
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, e, idx(outputs)),
          /*withElseRegion=*/false);
      b.setInsertionPointToStart(&inside.getThenRegion().front());
    }
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
    Value row = add(add(mBase, mul(mt, idx(8))),
                    add(mul(tOut, idx(2)), arith::RemUIOp::create(b, loc, r, idx(2))));
    auto inRange = scf::IfOp::create(
        b, loc, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, m),
        /*withElseRegion=*/false);
    b.setInsertionPointToStart(&inRange.getThenRegion().front());
    SmallVector<Value, 2> sums;
    for (size_t p = 0; p < ops.weights.size(); ++p) {
      Value sum = zeroF;
      Value entry = add(e, idx(int64_t(p) * outputs));
      for (int64_t w = 0; w < warps; ++w)
        sum = arith::AddFOp::create(
            b, loc, sum,
            memref::LoadOp::create(b, loc, partials,
                                   ValueRange{add(entry, idx(w * perWarp))}));
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
    Value result = swiglu ? codegen::emitSwiglu(b, loc, sums[0], sums[1]) : sums[0];
    Value zero = idx(0);
    result = codegen::emitAddAll(
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
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

} // namespace

namespace {

struct QmlirLowerDequantPass
    : qmlir::impl::QmlirLowerDequantBase<QmlirLowerDequantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    std::vector<codegen::ProjectionKernel> projections;
    bool failed = false;
    module.walk([&](Operation *op) {
      if (!op->hasAttr(kSchedulesAttrName))
        return;
      if (!codegen::hasMmaSyncM16N8K16(chip)) {
        op->emitError("cannot lower to tensor-core kernels for ")
            << chip << ": mma.sync m16n8k16 needs sm_80 or later";
        failed = true;
        return;
      }
      auto layout = op->getAttrOfType<LayoutAttr>(kLayoutAttrName);
      if (!layout || layout.getValue() != Layout::MmaTile) {
        op->emitError("cannot lower to tensor-core kernels: the weights must "
                      "be in #qmlir.layout<mma_tile> (run "
                      "qmlir-reorder-layout)");
        failed = true;
        return;
      }
      FailureOr<codegen::ProjectionKernel> projection =
          codegen::describeProjection(op);
      if (::mlir::failed(projection)) {
        failed = true;
        return;
      }
      // Gate and up share the activations' loads, so K's permutation.
      const core::Scheme &gate = projection->schemes.front();
      for (const core::Scheme &scheme : projection->schemes)
        if (core::mmaPermutationSpan(scheme) !=
            core::mmaPermutationSpan(gate)) {
          op->emitError("the gate's and the up's group sizes (")
              << gate.groupSize << ", " << scheme.groupSize
              << ") permute K differently in the mma_tile layout";
          failed = true;
          return;
        }
      projections.push_back(*projection);
    });
    if (failed)
      return signalPassFailure();
    if (projections.empty())
      return;

    gpu::GPUModuleOp kernels =
        codegen::getOrCreateKernelModule(module, chip, features);
    for (const codegen::ProjectionKernel &projection : projections) {
      auto schedules =
          projection.op->getAttrOfType<ArrayAttr>(kSchedulesAttrName);
      for (auto [bucket, attr] : llvm::enumerate(schedules)) {
        auto schedule = cast<ScheduleAttr>(attr);
        if (projection.n % schedule.getColumnsPerBlock() != 0) {
          projection.op->emitError("N = ")
              << projection.n << " is not a multiple of the "
              << schedule.getColumnsPerBlock() << " columns of " << schedule;
          return signalPassFailure();
        }
        std::string name =
            projection.baseName + "_b" + std::to_string(bucket);
        gpu::GPUFuncOp kernel = codegen::createProjectionKernel(
            b, kernels, projection, name,
            codegen::LaunchRule{schedule.getThreads(),
                                schedule.getColumnsPerBlock(),
                                schedule.getRowsPerBlock(),
                                schedule.getMMin(), schedule.getMMax()},
            core::Layout::MmaTile);
        Operands operands;
        ArrayRef<BlockArgument> args = kernel.getBody().front().getArguments();
        size_t next = 0;
        operands.x = args[next++];
        for (const core::Scheme &scheme : projection.schemes) {
          Operands::Weight w;
          w.scheme = scheme;
          w.codes = args[next++];
          w.scales = args[next++];
          if (scheme.zero == core::ZeroKind::Int)
            w.zeros = args[next++];
          operands.weights.push_back(w);
        }
        if (projection.hasBias)
          operands.bias = args[next++];
        if (projection.hasResidual)
          operands.residual = args[next++];
        operands.out = args[next++];
        KernelEmitter(b, projection.op->getLoc(), schedule,
                      projection.elementType, projection.n, projection.k)
            .emit(kernel, operands, projection.schemes.size() == 2);
      }
    }
  }
};

} // namespace
