//===- Passes.h - qmlir passes ----------------------------------*- C++ -*-===//

#ifndef QMLIR_PASSES_PASSES_H
#define QMLIR_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "qmlir/Dialect/Qmlir.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Pass/Pass.h"
#include "qmlir/Core/Format.h"

namespace qmlir {

#define GEN_PASS_DECL
#include "QmlirPasses.h.inc"

/// Patterns rewriting qmlir.matmul, qmlir.quantize and qmlir.dequantize into
/// loops over memrefs (see the qmlir-lower-to-loops pass).
void populateQmlirToLoopsPatterns(mlir::RewritePatternSet &patterns);

/// Whether qmlir-lower-to-loops lowers qmlir.quantize for `scheme`: integer
/// codes of one width with per-group or per-channel scales, no act-order.
/// Other schemes are quantized offline by the reference (core::quantize).
bool isQuantizeLowered(const core::Scheme &scheme);

#define GEN_PASS_REGISTRATION
#include "QmlirPasses.h.inc"

} // namespace qmlir

#endif // QMLIR_PASSES_PASSES_H
