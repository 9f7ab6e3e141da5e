//===- MmaKernel.h - Dequantize-then-mma kernel bodies ----------*- C++ -*-===//
//
// The bodies of the tensor-core kernels that qmlir-lower-dequant creates,
// one per #qmlir.schedule, for weights in the mma_tile layout
// (include/qmlir/Core/Layout.h).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CODEGEN_MMAKERNEL_H
#define QMLIR_CODEGEN_MMAKERNEL_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"
#include "qmlir/Dialect/Qmlir.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"

namespace qmlir::codegen {

/// The kernel arguments a body reads.
struct MmaKernelOperands {
  /// The weights' codes' arrangement (MmaTile or MmaTileLinear).
  core::Layout layout = core::Layout::MmaTile;
  mlir::Value x;
  struct Weight {
    core::Scheme scheme;
    mlir::Value codes, scales, zeros; // zeros only for integer zero points
  };
  llvm::SmallVector<Weight, 2> weights; // two for swiglu (gate, up)
  mlir::Value bias, residual, out;      // bias and residual may be null
};

/// Dynamic shared memory a kernel of `schedule` needs for weights of
/// `schemes` in `layout`: the staged kernels' buffers, or the split-K
/// kernel's activation scratch where K is in order (0 otherwise).
int64_t mmaKernelSharedMemoryBytes(ScheduleAttr schedule,
                                   llvm::ArrayRef<core::Scheme> schemes,
                                   core::Layout layout);

/// Fills the empty `kernel` (see createProjectionKernel) with the body that
/// `schedule` describes, for activations of `elementType` and a weight of
/// K columns. With two weights it computes silu(x G^T) * (x U^T).
void emitMmaKernel(mlir::OpBuilder &b, mlir::Location loc,
                   mlir::gpu::GPUFuncOp kernel, ScheduleAttr schedule,
                   mlir::Type elementType, int64_t k,
                   const MmaKernelOperands &operands);

} // namespace qmlir::codegen

#endif // QMLIR_CODEGEN_MMAKERNEL_H
