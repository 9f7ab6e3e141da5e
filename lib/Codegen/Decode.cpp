//===- Decode.cpp - Decoding of packed weights, emitted as IR -------------===//

#include "qmlir/Codegen/Decode.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace qmlir::codegen {

static Value constI32(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI32Type(), value);
}

static Value constIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// Word index and in-word bit shift (i32) of code `index`.
static std::pair<Value, Value> locateCode(OpBuilder &b, Location loc,
                                          Value index, unsigned bits) {
  Value bitOffset =
      arith::MulIOp::create(b, loc, index, constIndex(b, loc, bits));
  Value word = arith::ShRUIOp::create(b, loc, bitOffset, constIndex(b, loc, 5));
  Value shift = arith::IndexCastUIOp::create(
      b, loc, b.getI32Type(),
      arith::AndIOp::create(b, loc, bitOffset, constIndex(b, loc, 31)));
  return {word, shift};
}

/// True if codes of this width can straddle two 32-bit words.
static bool canStraddle(unsigned bits) { return 32 % bits != 0; }

Value emitExtractCode(OpBuilder &b, Location loc, Value words, Value row,
                      Value index, unsigned bits, int64_t wordsPerRow) {
  auto [word, shift] = locateCode(b, loc, index, bits);
  Value low = memref::LoadOp::create(b, loc, words, ValueRange{row, word});
  Value code = arith::ShRUIOp::create(b, loc, low, shift);
  if (canStraddle(bits)) {
    // The high part comes from the next word when shift + bits > 32. The
    // next word's index is clamped so that the load stays in bounds, and the
    // shift amount is masked so it is never 32 (poison); select discards the
    // value when it is not needed.
    Value next = arith::MinUIOp::create(
        b, loc, arith::AddIOp::create(b, loc, word, constIndex(b, loc, 1)),
        constIndex(b, loc, wordsPerRow - 1));
    Value high = memref::LoadOp::create(b, loc, words, ValueRange{row, next});
    Value highShift = arith::AndIOp::create(
        b, loc, arith::SubIOp::create(b, loc, constI32(b, loc, 32), shift),
        constI32(b, loc, 31));
    Value highBits = arith::ShLIOp::create(b, loc, high, highShift);
    Value straddles = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ugt,
        arith::AddIOp::create(b, loc, shift, constI32(b, loc, bits)),
        constI32(b, loc, 32));
    code = arith::OrIOp::create(
        b, loc, code,
        arith::SelectOp::create(b, loc, straddles, highBits,
                                constI32(b, loc, 0)));
  }
  return arith::AndIOp::create(b, loc, code,
                               constI32(b, loc, (int64_t{1} << bits) - 1));
}

void emitInsertCode(OpBuilder &b, Location loc, Value words, Value row,
                    Value index, Value code, unsigned bits,
                    int64_t wordsPerRow) {
  auto [word, shift] = locateCode(b, loc, index, bits);
  Value masked = arith::AndIOp::create(
      b, loc, code, constI32(b, loc, (int64_t{1} << bits) - 1));
  Value low = memref::LoadOp::create(b, loc, words, ValueRange{row, word});
  memref::StoreOp::create(
      b, loc,
      arith::OrIOp::create(b, loc, low,
                           arith::ShLIOp::create(b, loc, masked, shift)),
      words, ValueRange{row, word});
  if (!canStraddle(bits))
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

Value emitCodeValue(OpBuilder &b, Location loc, Value rawCode,
                    SchemeAttr scheme) {
  if (!scheme.isSigned())
    return rawCode;
  Value unused = constI32(b, loc, 32 - scheme.getBits());
  return arith::ShRSIOp::create(
      b, loc, arith::ShLIOp::create(b, loc, rawCode, unused), unused);
}

/// Loads a scale-typed element and widens it to f32.
static Value loadAsF32(OpBuilder &b, Location loc, Value memref, Value row,
                       Value col) {
  Value value = memref::LoadOp::create(b, loc, memref, ValueRange{row, col});
  if (value.getType().isF32())
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(), value);
}

Value emitDequantizedWeight(OpBuilder &b, Location loc,
                            const QuantizedMemrefs &weights, Value row,
                            Value col) {
  QTensorType type = weights.type;
  SchemeAttr scheme = type.getScheme();
  unsigned bits = scheme.getBits();
  int64_t cols = type.getCols();
  Value q = emitCodeValue(
      b, loc,
      emitExtractCode(b, loc, weights.codes, row, col, bits,
                      core::packedWords(cols, bits)),
      scheme);
  Value group = arith::DivUIOp::create(
      b, loc, col, constIndex(b, loc, scheme.getGroupSizeFor(cols)));
  Value scale = loadAsF32(b, loc, weights.scales, row, group);
  Type f32 = b.getF32Type();
  Value unscaled;
  switch (scheme.getZero()) {
  case ZeroKind::None:
    unscaled = arith::SIToFPOp::create(b, loc, f32, q);
    break;
  case ZeroKind::Int: {
    Value zero = emitCodeValue(
        b, loc,
        emitExtractCode(b, loc, weights.zeros, row, group, bits,
                        core::packedWords(type.getGroupsPerRow(), bits)),
        scheme);
    unscaled = arith::SIToFPOp::create(
        b, loc, f32, arith::SubIOp::create(b, loc, q, zero));
    break;
  }
  case ZeroKind::Float:
    unscaled = arith::SubFOp::create(
        b, loc, arith::SIToFPOp::create(b, loc, f32, q),
        loadAsF32(b, loc, weights.zeros, row, group));
    break;
  }
  return arith::MulFOp::create(b, loc, unscaled, scale);
}

} // namespace qmlir::codegen
