//===- Decode.h - Decoding of packed weights, emitted as IR -----*- C++ -*-===//
//
// The one place that turns packed codes, scales and zero points into weight
// values. Emits arith and memref ops only, on memrefs of any memory space,
// so the CPU loops and the GPU kernels share it: running the CPU path tests
// the decoding the GPU runs. The bit layout is the canonical one of
// qmlir/Core/Format.h.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CODEGEN_DECODE_H
#define QMLIR_CODEGEN_DECODE_H

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"

namespace qmlir::codegen {

/// The parts of one quantized [rows, cols] matrix as memrefs:
/// codes memref<rows x W x i32>, scales memref<rows x G x scale type>, zeros
/// (null if the scheme has none) memref<rows x Wz x i32> or
/// memref<rows x G x scale type>.
struct QuantizedMemrefs {
  QTensorType type;
  mlir::Value codes;
  mlir::Value scales;
  mlir::Value zeros;
};

/// Emits the raw `bits`-wide code (zero-extended i32) at position `index` of
/// row `row` of a packed words memref with `wordsPerRow` words per row.
mlir::Value emitExtractCode(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value words, mlir::Value row,
                            mlir::Value index, unsigned bits,
                            int64_t wordsPerRow);

/// Emits the inverse of emitExtractCode: ORs the low `bits` bits of the i32
/// `code` into the packed row, whose bits at that position must be zero.
void emitInsertCode(mlir::OpBuilder &b, mlir::Location loc, mlir::Value words,
                    mlir::Value row, mlir::Value index, mlir::Value code,
                    unsigned bits, int64_t wordsPerRow);

/// Emits the scheme's integer value (i32) of a raw code: sign extension for
/// signed formats.
mlir::Value emitCodeValue(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value rawCode, SchemeAttr scheme);

/// Emits the dequantized weight at (row, col) as f32, computed as the
/// reference does: float(q - z) * s, (float(q) - z) * s or float(q) * s.
mlir::Value emitDequantizedWeight(mlir::OpBuilder &b, mlir::Location loc,
                                  const QuantizedMemrefs &weights,
                                  mlir::Value row, mlir::Value col);

} // namespace qmlir::codegen

#endif // QMLIR_CODEGEN_DECODE_H
