//===- Decode.h - Decoding of packed weights, emitted as IR -----*- C++ -*-===//
//
// The one place that turns stored codes, scales, zero points and codebooks
// into weight values. Emits arith and memref ops only, on memrefs of any
// memory space, so the CPU loops and the GPU kernels share it: running the
// CPU path tests the decoding the GPU runs. The bit layouts and formulas are
// those of qmlir/Core/Format.h, and the arithmetic follows
// qmlir::core::QuantizedMatrix::dequantized operation for operation.
// Small floats are decoded with integer bit operations.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CODEGEN_DECODE_H
#define QMLIR_CODEGEN_DECODE_H

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"

namespace qmlir::codegen {

/// The storage parts of one quantized [rows, cols] matrix as memrefs, in the
/// order of QTensorType::getParts.
struct QuantizedMemrefs {
  QTensorType type;
  llvm::SmallVector<mlir::Value> parts;

  /// The part called `name`, or null.
  mlir::Value part(llvm::StringRef name) const;
};

/// Emits the `width`-bit field (zero-extended i32) at stream bit `bitOffset`
/// (index) of row `row` of a packed words memref with `wordsPerRow` words per
/// row. `width` is an i32 value; `maxWidth` bounds it (for deciding whether a
/// field can straddle two words).
mlir::Value emitExtractBits(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value words, mlir::Value row,
                            mlir::Value bitOffset, mlir::Value width,
                            unsigned maxWidth, int64_t wordsPerRow);

/// Emits the inverse for fixed-width codes: ORs the low `bits` bits of the
/// i32 `code` into the packed row at code position `index`; the bits there
/// must be zero.
void emitInsertCode(mlir::OpBuilder &b, mlir::Location loc, mlir::Value words,
                    mlir::Value row, mlir::Value index, mlir::Value code,
                    unsigned bits, int64_t wordsPerRow);

/// Emits the f32 value of a small-float code (i32) of `format`.
mlir::Value emitDecodeSmallFloat(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::Value code, FloatFormat format);

/// Emits the dequantized weight at (row, col) as f32.
mlir::Value emitDequantizedWeight(mlir::OpBuilder &b, mlir::Location loc,
                                  const QuantizedMemrefs &weights,
                                  mlir::Value row, mlir::Value col);

} // namespace qmlir::codegen

#endif // QMLIR_CODEGEN_DECODE_H
