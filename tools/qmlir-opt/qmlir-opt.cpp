//===- qmlir-opt.cpp - mlir-opt with the qmlir dialect and passes ---------===//

#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"
#include "qmlir/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  qmlir::registerQmlirPasses();
  qmlir::registerQmlirPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR and asks the NVVM
  // target to compile them.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<qmlir::QmlirDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qmlir optimizer driver\n", registry));
}
