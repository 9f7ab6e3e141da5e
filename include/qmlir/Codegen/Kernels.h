//===- Kernels.h - What every GPU kernel lowering shares --------*- C++ -*-===//
//
// The SIMT lowering (qmlir-lower-to-gpu-kernels) and the tensor-core
// lowering (qmlir-lower-dequant) put their kernels into one gpu.module,
// name them the same way and give them the same argument list (kernel ABI
// v1) and the same qmlir.* attributes, from which qmlir-compile writes the
// bundle's manifest.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CODEGEN_KERNELS_H
#define QMLIR_CODEGEN_KERNELS_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

#include <optional>
#include <string>
#include <utility>

namespace qmlir::codegen {

/// "sm_90a" -> (9, 0); std::nullopt if `chip` is not "sm_<digits>[a]".
std::optional<std::pair<int, int>> computeCapability(llvm::StringRef chip);

/// Whether `chip` runs mma.sync m16n8k16 with f16 and bf16 inputs (sm_80 on).
bool hasMmaSyncM16N8K16(llvm::StringRef chip);

/// Whether `chip` runs wgmma.mma_async (sm_90a only).
bool hasWgmma(llvm::StringRef chip);

/// The most shared memory a block of `chip` may use (opt-in dynamic shared
/// memory included); that of sm_86 for chips this does not know.
int64_t maxSharedMemoryPerBlock(llvm::StringRef chip);

/// The most threads one multiprocessor of `chip` holds; 1536 (sm_86's) for
/// chips this does not know.
int64_t maxThreadsPerMultiprocessor(llvm::StringRef chip);

/// A qmlir.matmul or qmlir.swiglu about to become kernels.
struct ProjectionKernel {
  mlir::Operation *op = nullptr;
  std::string opName;   // "matmul" or "swiglu"
  std::string baseName; // <function>_<opName><index in the function>
  llvm::SmallVector<mlir::Value, 2> packs; // the weights' qmlir.pack results
  llvm::SmallVector<core::Scheme, 2> schemes;
  mlir::Type elementType;
  int64_t n = 0, k = 0;
  bool hasBias = false, hasResidual = false;
};

/// Reads `op` (a qmlir.matmul or qmlir.swiglu); reports an error on `op` and
/// fails if its weights are not built by qmlir.pack in a func.func.
mlir::FailureOr<ProjectionKernel> describeProjection(mlir::Operation *op);

/// The module's gpu.module @qmlir_kernels, created (with an NVVM target for
/// `chip`) if absent; marks `module` as a GPU container module.
mlir::gpu::GPUModuleOp getOrCreateKernelModule(mlir::ModuleOp module,
                                               llvm::StringRef chip,
                                               llvm::StringRef features);

/// How a kernel is launched for M rows: `threads` per block; grid
/// (ceil(N / columnsPerBlock), ceil(M / rowsPerBlock), 1); valid for
/// mMin <= M <= mMax; sharedMemoryBytes of dynamic shared memory per block.
struct LaunchRule {
  int64_t threads = 0, columnsPerBlock = 0, rowsPerBlock = 1;
  int64_t mMin = 1, mMax = 1;
  int64_t sharedMemoryBytes = 0;
  /// Blocks ptxas must fit on one multiprocessor (0: no bound).
  int64_t minBlocksPerSm = 0;
};

/// An empty kernel `name` in `kernels` taking the projection's arguments (x,
/// each weight's parts, bias, residual, out; all 2-D memrefs), with the
/// qmlir.* attributes that record the launch rule, the layout and what it
/// computes.
mlir::gpu::GPUFuncOp createProjectionKernel(mlir::OpBuilder &b,
                                            mlir::gpu::GPUModuleOp kernels,
                                            const ProjectionKernel &projection,
                                            llvm::StringRef name,
                                            const LaunchRule &launch,
                                            core::Layout layout);

} // namespace qmlir::codegen

#endif // QMLIR_CODEGEN_KERNELS_H
