//===- Pipelines.cpp - Named qmlir pass pipelines -------------------------===//

#include "qmlir/Pipelines/Pipelines.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/NVGPUToNVVM/NVGPUToNVVM.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void qmlir::buildCpuPipeline(OpPassManager &pm) {
  pm.addPass(createQmlirLowerToLoops());
  pm.addPass(createCanonicalizerPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.hoistDynamicAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::buildBufferDeallocationPipeline(pm);

  pm.addPass(createSCFToControlFlowPass());
  // bf16 conversions become integer ops: x86 has no native bf16 rounding and
  // the JIT cannot count on a runtime library providing it.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void qmlir::buildGpuKernelsPipeline(OpPassManager &pm,
                                    const GpuPipelineOptions &options) {
  QmlirSelectScheduleOptions schedule;
  schedule.tensorCores = options.tensorCores;
  schedule.chip = options.chip;
  schedule.linearK = options.linearK;
  pm.addPass(createQmlirSelectSchedule(schedule));
  QmlirReorderLayoutOptions layout;
  layout.linearK = options.linearK;
  pm.addPass(createQmlirReorderLayout(layout));
  QmlirLowerDequantOptions dequant;
  dequant.chip = options.chip;
  dequant.features = options.features;
  pm.addPass(createQmlirLowerDequant(dequant));
  QmlirLowerToGpuKernelsOptions kernels;
  kernels.chip = options.chip;
  kernels.features = options.features;
  kernels.blockSize = options.blockSize;
  pm.addPass(createQmlirLowerToGpuKernels(kernels));
}

void qmlir::buildGpuBinaryPipeline(OpPassManager &pm,
                                   const GpuPipelineOptions &options) {
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createCanonicalizerPass());
  device.addPass(createSCFToControlFlowPass());
  // Flat views of the codes (collapse_shape) and ceildiv need expanding
  // before the conversion to NVVM.
  device.addPass(memref::createExpandStridedMetadataPass());
  device.addPass(arith::createArithExpandOpsPass());
  // cp.async of the staged kernels (nvgpu) before the rest.
  device.addPass(createConvertNVGPUToNVVMPass());
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
}

void qmlir::buildGpuPipeline(OpPassManager &pm,
                             const GpuPipelineOptions &options) {
  buildGpuKernelsPipeline(pm, options);
  buildGpuBinaryPipeline(pm, options);
}

void qmlir::registerQmlirPipelines() {
  PassPipelineRegistration<GpuPipelineOptions>(
      "qmlir-to-cubin",
      "Compile every qmlir.matmul to a GPU kernel in a gpu.binary",
      buildGpuPipeline);
  PassPipelineRegistration<>(
      "qmlir-cpu-pipeline",
      "Lower qmlir ops on tensors to the LLVM dialect for CPU execution",
      buildCpuPipeline);
}
