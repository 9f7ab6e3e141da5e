//===- Epilogue.h - Fused epilogues, emitted as IR --------------*- C++ -*-===//
//
// The f32 arithmetic that follows the accumulation of a projection, shared
// by the CPU loops and the GPU kernels so that both compute it the same way:
// the additions of a bias and a residual, and SwiGLU's silu(g) * u.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CODEGEN_EPILOGUE_H
#define QMLIR_CODEGEN_EPILOGUE_H

#include "mlir/IR/Builders.h"

namespace qmlir::codegen {

/// Emits silu(g) * u = (g / (1 + exp(-g))) * u for f32 values.
mlir::Value emitSwiglu(mlir::OpBuilder &b, mlir::Location loc, mlir::Value g,
                       mlir::Value u);

/// Emits `sum` plus each of `addends` (f16, bf16 or f32 values, widened to
/// f32), in order, in f32. Null addends are skipped.
mlir::Value emitAddAll(mlir::OpBuilder &b, mlir::Location loc, mlir::Value sum,
                       llvm::ArrayRef<mlir::Value> addends);

} // namespace qmlir::codegen

#endif // QMLIR_CODEGEN_EPILOGUE_H
