//===- ModelCompiler.h - Modules and whole models to bundles ----*- C++ -*-===//
//
// compileKernels takes a module of qmlir ops through the GPU pipelines to one
// cubin and the kernels' manifest records. compileModel does that for a
// model: the kernels of each distinct layer (identical layers share them;
// one per M bucket, or one SIMT kernel for all M), the
// manifest's "layers" with their dispatch by M, and weights.bin with every
// layer's weights in its kernels' argument order.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_COMPILE_MODELCOMPILER_H
#define QMLIR_TOOLS_QMLIR_COMPILE_MODELCOMPILER_H

#include "BundleWriter.h"

#include "qmlir/Checkpoint/ModelSpec.h"

#include "mlir/IR/BuiltinOps.h"

namespace qmlir::compile {

struct CompileOptions {
  std::string chip = "sm_90a";
  std::string toolkit;
  int64_t blockSize = 128;
  /// Tensor-core kernels per M bucket where the layout allows (else SIMT).
  bool tensorCores = true;
  /// mma_tile_linear for the weights of wgmma kernels (qmlir-reorder-layout).
  bool linearK = false;
  /// Prints what is being done and how long it took to stderr.
  bool progress = false;
};

struct CompiledKernels {
  std::vector<KernelRecord> kernels;
  std::string moduleName;
  std::string cubin;
};

/// Lowers and compiles every qmlir.matmul / qmlir.swiglu of `module`.
llvm::Expected<CompiledKernels> compileKernels(mlir::ModuleOp module,
                                               const CompileOptions &options);

/// Compiles `model` into the bundle directory `output` (atomically).
llvm::Error compileModel(mlir::MLIRContext &context,
                         const checkpoint::Model &model,
                         const CompileOptions &options,
                         llvm::StringRef output, bool force);

} // namespace qmlir::compile

#endif // QMLIR_TOOLS_QMLIR_COMPILE_MODELCOMPILER_H
