//===- Decode.cpp - Decoding of packed weights, emitted as IR -------------===//

#include "qmlir/Codegen/Decode.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace qmlir::codegen {

Value QuantizedMemrefs::part(StringRef name) const {
  std::optional<unsigned> index = type.getPartIndex(name);
  return index ? parts[*index] : Value();
}

namespace {

Value constI32(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}

Value constIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value constF32(OpBuilder &b, Location loc, float value) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(), APFloat(value));
}

Value toIndex(OpBuilder &b, Location loc, Value i32) {
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i32);
}

Value bitsToF32(OpBuilder &b, Location loc, Value bits) {
  return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
}

/// A table lookup `values[index]` (index an i32 in range) as a balanced tree
/// of selects on the index's bits: plain arith, so it lowers the same way on
/// every target.
Value emitSelectTree(OpBuilder &b, Location loc, ArrayRef<Value> values,
                     Value index, unsigned bit = 0) {
  if (values.size() == 1)
    return values.front();
  SmallVector<Value> pairs;
  Value isOdd = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ne,
      arith::AndIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, index, constI32(b, loc, bit)),
          constI32(b, loc, 1)),
      constI32(b, loc, 0));
  for (size_t i = 0; i < values.size(); i += 2)
    pairs.push_back(i + 1 < values.size()
                        ? arith::SelectOp::create(b, loc, isOdd, values[i + 1],
                                                  values[i])
                              .getResult()
                        : values[i]);
  return emitSelectTree(b, loc, pairs, index, bit + 1);
}

/// Loads a scale-typed element at (row, col) and returns its value as f32.
Value loadScaleAsF32(OpBuilder &b, Location loc, Value memref, Value row,
                     Value col) {
  Value value = memref::LoadOp::create(b, loc, memref, ValueRange{row, col});
  Type type = value.getType();
  if (type.isF32())
    return value;
  if (type.isF16() || type.isBF16())
    return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
  Value byte = arith::ExtUIOp::create(
      b, loc, b.getI32Type(),
      arith::BitcastOp::create(b, loc, b.getI8Type(), value));
  if (isa<Float8E4M3FNType>(type))
    return emitDecodeSmallFloat(b, loc, byte, FloatFormat::E4M3);
  // E8M0: 2^(e - 127); e = 0 is the f32 subnormal 2^-127, e = 255 is NaN.
  Value normal = arith::ShLIOp::create(b, loc, byte, constI32(b, loc, 23));
  Value bits = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, byte,
                            constI32(b, loc, 0)),
      constI32(b, loc, 0x00400000), normal);
  bits = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, byte,
                            constI32(b, loc, 255)),
      constI32(b, loc, 0x7fc00000), bits);
  return bitsToF32(b, loc, bits);
}

struct FloatLayout {
  unsigned exponentBits, mantissaBits;
  int bias;
};

FloatLayout layoutOf(FloatFormat format) {
  switch (format) {
  case FloatFormat::E2M1:
    return {2, 1, 1};
  case FloatFormat::E2M3:
    return {2, 3, 1};
  case FloatFormat::E3M2:
    return {3, 2, 3};
  case FloatFormat::E4M3:
    return {4, 3, 7};
  case FloatFormat::E5M2:
    return {5, 2, 15};
  }
  llvm_unreachable("unknown float format");
}

/// Sign-extends a `width`-bit code (i32, width an i32 value).
Value signExtend(OpBuilder &b, Location loc, Value code, Value width) {
  Value unused = arith::SubIOp::create(b, loc, constI32(b, loc, 32), width);
  return arith::ShRSIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, code, unused), unused);
}

/// Group of column `col`: g_idx[0, col] with act-order, else col / G.
Value emitGroup(OpBuilder &b, Location loc, const QuantizedMemrefs &weights,
                Value col) {
  SchemeAttr scheme = weights.type.getScheme();
  if (scheme.getActOrder()) {
    Value g = memref::LoadOp::create(
        b, loc, weights.part("g_idx"),
        ValueRange{constIndex(b, loc, 0), col});
    return toIndex(b, loc, g);
  }
  return arith::DivUIOp::create(
      b, loc, col,
      constIndex(b, loc, scheme.getGroupSizeFor(weights.type.getCols())));
}

/// Bits of group `g`'s codes (i32) and the stream bit where group g starts,
/// for mixed widths; tables are compile-time constants.
std::pair<Value, Value> emitMixedGroup(OpBuilder &b, Location loc,
                                       SchemeAttr scheme, int64_t groupSize,
                                       Value g) {
  SmallVector<Value> widths, starts;
  int64_t start = 0;
  for (unsigned width : scheme.getMixedBits()) {
    widths.push_back(constI32(b, loc, width));
    starts.push_back(constI32(b, loc, start));
    start += groupSize * width;
  }
  Value gI32 = arith::IndexCastUIOp::create(b, loc, b.getI32Type(), g);
  return {emitSelectTree(b, loc, widths, gI32),
          emitSelectTree(b, loc, starts, gI32)};
}

/// Integer formats: (q - z) * s, (float(q) - z) * s or float(q) * s.
Value emitIntegerWeight(OpBuilder &b, Location loc,
                        const QuantizedMemrefs &weights, Value row, Value col,
                        Value g, Value scaleRow, Value scaleCol) {
  QTensorType type = weights.type;
  SchemeAttr scheme = type.getScheme();
  core::Scheme coreScheme = scheme.toCore();
  int64_t k = type.getCols();
  int64_t groupSize = scheme.getGroupSizeFor(k);
  Value width, codeOffset, zeroOffset;
  if (scheme.isMixed()) {
    auto [groupWidth, groupStart] = emitMixedGroup(b, loc, scheme, groupSize, g);
    width = groupWidth;
    Value inGroup = arith::SubIOp::create(
        b, loc, col,
        arith::MulIOp::create(b, loc, g, constIndex(b, loc, groupSize)));
    codeOffset = arith::AddIOp::create(
        b, loc, toIndex(b, loc, groupStart),
        arith::MulIOp::create(b, loc, inGroup, toIndex(b, loc, width)));
    // Zero points: group g's at the sum of the widths before it.
    SmallVector<Value> zeroStarts;
    int64_t start = 0;
    for (unsigned w : scheme.getMixedBits()) {
      zeroStarts.push_back(constI32(b, loc, start));
      start += w;
    }
    zeroOffset = toIndex(
        b, loc,
        emitSelectTree(b, loc, zeroStarts,
                       arith::IndexCastUIOp::create(b, loc, b.getI32Type(), g)));
  } else {
    width = constI32(b, loc, scheme.getBits());
    codeOffset =
        arith::MulIOp::create(b, loc, col, constIndex(b, loc, scheme.getBits()));
    zeroOffset = scheme.isPerTensor()
                     ? constIndex(b, loc, 0)
                     : arith::MulIOp::create(b, loc, g,
                                             constIndex(b, loc, scheme.getBits()))
                           .getResult();
  }
  unsigned maxWidth = coreScheme.bits;
  Value q = emitExtractBits(b, loc, weights.part("codes"), row, codeOffset,
                            width, maxWidth, coreScheme.codeWordsPerRow(k));
  if (scheme.isSigned())
    q = signExtend(b, loc, q, width);
  Value scale = loadScaleAsF32(b, loc, weights.part("scales"), scaleRow, scaleCol);
  Type f32 = b.getF32Type();
  Value unscaled;
  switch (scheme.getZero()) {
  case ZeroKind::None:
    unscaled = arith::SIToFPOp::create(b, loc, f32, q);
    break;
  case ZeroKind::Int: {
    Value zero = emitExtractBits(b, loc, weights.part("zeros"), scaleRow,
                                 zeroOffset, width, maxWidth,
                                 coreScheme.zeroWordsPerRow(k));
    if (scheme.isSigned())
      zero = signExtend(b, loc, zero, width);
    unscaled = arith::SIToFPOp::create(b, loc, f32,
                                       arith::SubIOp::create(b, loc, q, zero));
    break;
  }
  case ZeroKind::Float:
    unscaled = arith::SubFOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, f32, q),
        loadScaleAsF32(b, loc, weights.part("zeros"), scaleRow, scaleCol));
    break;
  }
  return arith::MulFOp::create(b, loc, unscaled, scale);
}

/// bcqB: acc += bit ? a_i : -a_i over the planes, then + z.
Value emitBinaryCodedWeight(OpBuilder &b, Location loc,
                            const QuantizedMemrefs &weights, Value row,
                            Value col, Value g, Value scaleRow) {
  QTensorType type = weights.type;
  SchemeAttr scheme = type.getScheme();
  unsigned planes = scheme.getBits();
  int64_t wordsPerPlane = (type.getCols() + 31) / 32;
  Value word = arith::ShRUIOp::create(b, loc, col, constIndex(b, loc, 5));
  Value shift = arith::IndexCastUIOp::create(
      b, loc, b.getI32Type(),
      arith::AndIOp::create(b, loc, col, constIndex(b, loc, 31)));
  Value alphaBase =
      scheme.isPerTensor()
          ? constIndex(b, loc, 0)
          : arith::MulIOp::create(b, loc, g, constIndex(b, loc, planes))
                .getResult();
  Value acc = constF32(b, loc, 0.0f);
  for (unsigned i = 0; i < planes; ++i) {
    Value bits = memref::LoadOp::create(
        b, loc, weights.part("codes"),
        ValueRange{row, arith::AddIOp::create(
                            b, loc, word, constIndex(b, loc, i * wordsPerPlane))});
    Value isPlus = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne,
        arith::AndIOp::create(b, loc, arith::ShRUIOp::create(b, loc, bits, shift),
                              constI32(b, loc, 1)),
        constI32(b, loc, 0));
    Value alpha = loadScaleAsF32(
        b, loc, weights.part("scales"), scaleRow,
        arith::AddIOp::create(b, loc, alphaBase, constIndex(b, loc, i)));
    Value term = arith::SelectOp::create(b, loc, isPlus, alpha,
                                         arith::NegFOp::create(b, loc, alpha));
    acc = arith::AddFOp::create(b, loc, acc, term);
  }
  if (scheme.getZero() == ZeroKind::Float)
    acc = arith::AddFOp::create(
        b, loc, acc,
        loadScaleAsF32(b, loc, weights.part("zeros"), scaleRow,
                       scheme.isPerTensor() ? constIndex(b, loc, 0) : g));
  return acc;
}

/// Ternary: digit (col % 20) of the word's value in base 3, minus 1.
Value emitTrit(OpBuilder &b, Location loc, Value codes, Value row, Value col) {
  Value word = memref::LoadOp::create(
      b, loc, codes,
      ValueRange{row, arith::DivUIOp::create(
                          b, loc, col, constIndex(b, loc, core::kTritsPerWord))});
  SmallVector<Value> powers;
  int64_t power = 1;
  for (int64_t j = 0; j < core::kTritsPerWord; ++j, power *= 3)
    powers.push_back(constI32(b, loc, power));
  Value digitIndex = arith::IndexCastUIOp::create(
      b, loc, b.getI32Type(),
      arith::RemUIOp::create(b, loc, col, constIndex(b, loc, core::kTritsPerWord)));
  Value divisor = emitSelectTree(b, loc, powers, digitIndex);
  Value digit = arith::RemUIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, word, divisor), constI32(b, loc, 3));
  return arith::SubIOp::create(b, loc, digit, constI32(b, loc, 1));
}

} // namespace

Value emitExtractBits(OpBuilder &b, Location loc, Value words, Value row,
                      Value bitOffset, Value width, unsigned maxWidth,
                      int64_t wordsPerRow) {
  Value word = arith::ShRUIOp::create(b, loc, bitOffset, constIndex(b, loc, 5));
  Value shift = arith::IndexCastUIOp::create(
      b, loc, b.getI32Type(),
      arith::AndIOp::create(b, loc, bitOffset, constIndex(b, loc, 31)));
  Value low = memref::LoadOp::create(b, loc, words, ValueRange{row, word});
  Value field = arith::ShRUIOp::create(b, loc, low, shift);
  // Fields of 1, 2, 4 or 8 bits at multiples of their width never straddle;
  // anything else may take its high bits from the next word.
  bool fixedPowerOfTwo = false;
  if (auto constant = width.getDefiningOp<arith::ConstantIntOp>())
    fixedPowerOfTwo = llvm::isPowerOf2_32(constant.value());
  if (!fixedPowerOfTwo && maxWidth > 1) {
    // The next word's index is clamped so that the load stays in bounds, and
    // the shift amount is masked so it is never 32 (poison); select discards
    // the value when it is not needed.
    Value next = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, word, constIndex(b, loc, 1)),
        constIndex(b, loc, wordsPerRow - 1));
    Value high = memref::LoadOp::create(b, loc, words, ValueRange{row, next});
    Value highShift = arith::AndIOp::create(
        b, loc, arith::SubIOp::create(b, loc, constI32(b, loc, 32), shift),
        constI32(b, loc, 31));
    Value straddles = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ugt,
        arith::AddIOp::create(b, loc, shift, width), constI32(b, loc, 32));
    field = arith::OrIOp::create(
        b, loc, field,
        arith::SelectOp::create(b, loc, straddles,
                                arith::ShLIOp::create(b, loc, high, highShift),
                                constI32(b, loc, 0)));
  }
  Value mask = arith::SubIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, constI32(b, loc, 1), width),
      constI32(b, loc, 1));
  return arith::AndIOp::create(b, loc, field, mask);
}

void emitInsertCode(OpBuilder &b, Location loc, Value words, Value row,
                    Value index, Value code, unsigned bits,
                    int64_t wordsPerRow) {
  Value bitOffset = arith::MulIOp::create(b, loc, index, constIndex(b, loc, bits));
  Value word = arith::ShRUIOp::create(b, loc, bitOffset, constIndex(b, loc, 5));
  Value shift = arith::IndexCastUIOp::create(
      b, loc, b.getI32Type(),
      arith::AndIOp::create(b, loc, bitOffset, constIndex(b, loc, 31)));
  Value masked = arith::AndIOp::create(
      b, loc, code, constI32(b, loc, (int64_t{1} << bits) - 1));
  Value low = memref::LoadOp::create(b, loc, words, ValueRange{row, word});
  memref::StoreOp::create(
      b, loc,
      arith::OrIOp::create(b, loc, low,
                           arith::ShLIOp::create(b, loc, masked, shift)),
      words, ValueRange{row, word});
  if (32 % bits == 0)
    return;
  // Bits that spill into the next word. When the code does not straddle, the
  // shifted value is 0 and the OR below stores the word unchanged; the index
  // is clamped so the access stays in bounds for the last code of a row.
  Value next = arith::MinUIOp::create(
      b, loc, arith::AddIOp::create(b, loc, word, constIndex(b, loc, 1)),
      constIndex(b, loc, wordsPerRow - 1));
  Value straddles = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ugt,
      arith::AddIOp::create(b, loc, shift, constI32(b, loc, bits)),
      constI32(b, loc, 32));
  Value lowShift = arith::AndIOp::create(
      b, loc, arith::SubIOp::create(b, loc, constI32(b, loc, 32), shift),
      constI32(b, loc, 31));
  Value spill = arith::SelectOp::create(
      b, loc, straddles, arith::ShRUIOp::create(b, loc, masked, lowShift),
      constI32(b, loc, 0));
  Value high = memref::LoadOp::create(b, loc, words, ValueRange{row, next});
  memref::StoreOp::create(b, loc, arith::OrIOp::create(b, loc, high, spill),
                          words, ValueRange{row, next});
}

Value emitDecodeSmallFloat(OpBuilder &b, Location loc, Value code,
                           FloatFormat format) {
  FloatLayout layout = layoutOf(format);
  unsigned e = layout.exponentBits, m = layout.mantissaBits;
  Value sign = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, code, constI32(b, loc, e + m)),
      constI32(b, loc, 1));
  Value exponent = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, code, constI32(b, loc, m)),
      constI32(b, loc, (1 << e) - 1));
  Value mantissa = arith::AndIOp::create(b, loc, code, constI32(b, loc, (1 << m) - 1));
  Value signBit = arith::ShLIOp::create(b, loc, sign, constI32(b, loc, 31));
  // Normal numbers: rebias the exponent and widen the mantissa.
  Value normalBits = arith::OrIOp::create(
      b, loc, signBit,
      arith::OrIOp::create(
          b, loc,
          arith::ShLIOp::create(
              b, loc,
              arith::AddIOp::create(b, loc, exponent,
                                    constI32(b, loc, 127 - layout.bias)),
              constI32(b, loc, 23)),
          arith::ShLIOp::create(b, loc, mantissa, constI32(b, loc, 23 - m))));
  // Subnormals: mantissa * 2^(1 - bias - m), exact in f32.
  Value magnitude = arith::MulFOp::create(
      b, loc, arith::SIToFPOp::create(b, loc, b.getF32Type(), mantissa),
      constF32(b, loc, std::ldexp(1.0f, 1 - layout.bias - int(m))));
  Value subnormal = arith::SelectOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, sign,
                            constI32(b, loc, 0)),
      arith::NegFOp::create(b, loc, magnitude), magnitude);
  Value isSubnormal = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            exponent, constI32(b, loc, 0));
  Value value = arith::SelectOp::create(b, loc, isSubnormal, subnormal,
                                        bitsToF32(b, loc, normalBits));
  Value nan = constF32(b, loc, std::numeric_limits<float>::quiet_NaN());
  if (format == FloatFormat::E4M3) {
    Value isNan = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, loc, code, constI32(b, loc, 0x7f)),
        constI32(b, loc, 0x7f));
    value = arith::SelectOp::create(b, loc, isNan, nan, value);
  } else if (format == FloatFormat::E5M2) {
    Value isSpecial = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                            exponent, constI32(b, loc, 31));
    Value isInf = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        mantissa, constI32(b, loc, 0));
    Value inf = bitsToF32(
        b, loc, arith::OrIOp::create(b, loc, signBit, constI32(b, loc, 0x7f800000)));
    value = arith::SelectOp::create(
        b, loc, isSpecial, arith::SelectOp::create(b, loc, isInf, inf, nan),
        value);
  }
  return value;
}

Value emitDequantizedWeight(OpBuilder &b, Location loc,
                            const QuantizedMemrefs &weights, Value row,
                            Value col) {
  QTensorType type = weights.type;
  SchemeAttr scheme = type.getScheme();
  Value g = emitGroup(b, loc, weights, col);
  // Per-tensor schemes keep one scale (and zero) at [0, 0].
  Value scaleRow = scheme.isPerTensor() ? constIndex(b, loc, 0) : row;
  Value scaleCol = scheme.isPerTensor() ? constIndex(b, loc, 0) : g;

  if (scheme.isInteger())
    return emitIntegerWeight(b, loc, weights, row, col, g, scaleRow, scaleCol);
  if (scheme.getKind() == ElementKind::BinaryCoded)
    return emitBinaryCodedWeight(b, loc, weights, row, col, g, scaleRow);

  Value codes = weights.part("codes");
  int64_t wordsPerRow = scheme.toCore().codeWordsPerRow(type.getCols());
  if (scheme.getKind() == ElementKind::Codebook) {
    unsigned bits = scheme.getBits();
    Value index = toIndex(
        b, loc,
        emitExtractBits(
            b, loc, codes, row,
            arith::MulIOp::create(b, loc, col, constIndex(b, loc, bits)),
            constI32(b, loc, bits), bits, wordsPerRow));
    Value codebook = weights.part("codebook");
    if (scheme.getCodebook() == CodebookScope::Tensor)
      return loadScaleAsF32(b, loc, codebook, constIndex(b, loc, 0), index);
    Value entry = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, g, constIndex(b, loc, 1 << bits)),
        index);
    return loadScaleAsF32(b, loc, codebook, row, entry);
  }

  Value scale = loadScaleAsF32(b, loc, weights.part("scales"), scaleRow, scaleCol);
  Value unscaled;
  switch (scheme.getKind()) {
  case ElementKind::Float:
  case ElementKind::NormalFloat: {
    unsigned bits = scheme.getBits();
    Value code = emitExtractBits(
        b, loc, codes, row,
        arith::MulIOp::create(b, loc, col, constIndex(b, loc, bits)),
        constI32(b, loc, bits), bits, wordsPerRow);
    if (scheme.getKind() == ElementKind::Float) {
      unscaled = emitDecodeSmallFloat(b, loc, code, scheme.getFloatFormat());
    } else {
      const float *table = core::normalFloat4Table();
      SmallVector<Value> values;
      for (int i = 0; i < 16; ++i)
        values.push_back(constF32(b, loc, table[i]));
      unscaled = emitSelectTree(b, loc, values, code);
    }
    break;
  }
  case ElementKind::Ternary:
    unscaled = arith::SIToFPOp::create(b, loc, b.getF32Type(),
                                       emitTrit(b, loc, codes, row, col));
    break;
  default:
    llvm_unreachable("handled above");
  }
  return arith::MulFOp::create(b, loc, unscaled, scale);
}

} // namespace qmlir::codegen
