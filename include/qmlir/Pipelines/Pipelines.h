//===- Pipelines.h - Named qmlir pass pipelines -----------------*- C++ -*-===//

#ifndef QMLIR_PIPELINES_PIPELINES_H
#define QMLIR_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qmlir {

/// qmlir-cpu-pipeline: qmlir ops on tensors to the LLVM dialect, ready for
/// the ExecutionEngine. Functions take and return memrefs; results become
/// trailing out-parameters, so callers own every buffer.
void buildCpuPipeline(mlir::OpPassManager &pm);

struct GpuPipelineOptions : mlir::PassPipelineOptions<GpuPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("Target GPU architecture"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features"),
                               llvm::cl::init("+ptx80")};
  Option<int64_t> blockSize{*this, "block-size",
                            llvm::cl::desc("Threads per block"),
                            llvm::cl::init(128)};
  Option<bool> tensorCores{
      *this, "tensor-cores",
      llvm::cl::desc("Give ops the mma_tile layout can hold tensor-core "
                     "kernels per M bucket (false: SIMT kernels only)"),
      llvm::cl::init(true)};
  Option<bool> linearK{
      *this, "linear-k",
      llvm::cl::desc("Weights that a wgmma kernel reads in mma_tile_linear "
                     "(faster from M = 129 on, slower below; see "
                     "qmlir-reorder-layout)"),
      llvm::cl::init(false)};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("What gpu.binary holds: bin (cubin, needs ptxas), isa "
                     "(PTX text) or llvm"),
      llvm::cl::init("bin")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit holding ptxas (default: CUDA_HOME, "
                     "CUDA_PATH or PATH)"),
      llvm::cl::init("")};
};

/// qmlir-to-cubin: every qmlir.matmul becomes a kernel of gpu.module
/// @qmlir_kernels, compiled to a gpu.binary for the given chip. It is the
/// two halves below, which tools run separately to read the kernels'
/// attributes before they become a binary.
void buildGpuPipeline(mlir::OpPassManager &pm,
                      const GpuPipelineOptions &options);
/// qmlir ops to kernels in gpu.module @qmlir_kernels (host code dropped).
void buildGpuKernelsPipeline(mlir::OpPassManager &pm,
                             const GpuPipelineOptions &options);
/// gpu.module kernels to NVVM and a gpu.binary.
void buildGpuBinaryPipeline(mlir::OpPassManager &pm,
                            const GpuPipelineOptions &options);

/// Registers the named pipelines with the pass registry (for qmlir-opt).
void registerQmlirPipelines();

} // namespace qmlir

#endif // QMLIR_PIPELINES_PIPELINES_H
