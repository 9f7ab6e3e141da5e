//===- LowerDequant.cpp - qmlir.matmul to tensor-core kernels -------------===//
//
// Dequantize-then-mma kernels, one per #qmlir.schedule of an op whose
// weights are in the mma_tile layout (include/qmlir/Core/Layout.h). The
// kernel bodies are emitted by qmlir/Codegen/MmaKernel.h; this pass checks
// that an op can have them and creates one kernel per M bucket.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Codegen/MmaKernel.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qmlir {
#define GEN_PASS_DEF_QMLIRLOWERDEQUANT
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

struct QmlirLowerDequantPass
    : qmlir::impl::QmlirLowerDequantBase<QmlirLowerDequantPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    std::vector<codegen::ProjectionKernel> projections;
    bool failed = false;
    module.walk([&](Operation *op) {
      if (!op->hasAttr(kSchedulesAttrName))
        return;
      if (!codegen::hasMmaSyncM16N8K16(chip)) {
        op->emitError("cannot lower to tensor-core kernels for ")
            << chip << ": mma.sync m16n8k16 needs sm_80 or later";
        failed = true;
        return;
      }
      auto layout = op->getAttrOfType<LayoutAttr>(kLayoutAttrName);
      if (!layout || !core::isMmaTile(
                         static_cast<core::Layout>(layout.getValue()))) {
        op->emitError("cannot lower to tensor-core kernels: the weights must "
                      "be in #qmlir.layout<mma_tile> or <mma_tile_linear> "
                      "(run qmlir-reorder-layout)");
        failed = true;
        return;
      }
      FailureOr<codegen::ProjectionKernel> projection =
          codegen::describeProjection(op);
      if (::mlir::failed(projection)) {
        failed = true;
        return;
      }
      // Gate and up share the activations' loads, so K's permutation.
      const auto coreLayout = static_cast<core::Layout>(layout.getValue());
      const core::Scheme &gate = projection->schemes.front();
      for (const core::Scheme &scheme : projection->schemes)
        if (core::mmaKSpan(coreLayout, scheme) !=
            core::mmaKSpan(coreLayout, gate)) {
          op->emitError("the gate's and the up's group sizes (")
              << gate.groupSize << ", " << scheme.groupSize
              << ") permute K differently in the mma_tile layout";
          failed = true;
          return;
        }
      projections.push_back(*projection);
    });
    if (failed)
      return signalPassFailure();
    if (projections.empty())
      return;

    gpu::GPUModuleOp kernels =
        codegen::getOrCreateKernelModule(module, chip, features);
    for (const codegen::ProjectionKernel &projection : projections) {
      auto schedules =
          projection.op->getAttrOfType<ArrayAttr>(kSchedulesAttrName);
      const auto layout = static_cast<core::Layout>(
          projection.op->getAttrOfType<LayoutAttr>(kLayoutAttrName)
              .getValue());
      for (auto [bucket, attr] : llvm::enumerate(schedules)) {
        auto schedule = cast<ScheduleAttr>(attr);
        if (projection.n % schedule.getColumnsPerBlock() != 0) {
          projection.op->emitError("N = ")
              << projection.n << " is not a multiple of the "
              << schedule.getColumnsPerBlock() << " columns of " << schedule;
          return signalPassFailure();
        }
        if (schedule.isWgmma() && !codegen::hasWgmma(chip)) {
          projection.op->emitError("")
              << schedule << " needs wgmma, which " << chip
              << " does not have (sm_90a only)";
          return signalPassFailure();
        }
        const int64_t shared =
            codegen::mmaKernelSharedMemoryBytes(schedule, projection.schemes,
                                                layout);
        const int64_t sharedLimit = codegen::maxSharedMemoryPerBlock(chip);
        if (shared > sharedLimit) {
          projection.op->emitError("")
              << schedule << " needs " << shared
              << " bytes of shared memory per block; " << chip
              << " has at most " << sharedLimit;
          return signalPassFailure();
        }
        // ptxas would ignore a bound the chip cannot meet, with a warning.
        const int64_t threadsLimit =
            codegen::maxThreadsPerMultiprocessor(chip);
        if (schedule.getBlocksPerSm() * schedule.getThreads() > threadsLimit) {
          projection.op->emitError("")
              << schedule << " asks for " << schedule.getBlocksPerSm()
              << " blocks of " << schedule.getThreads()
              << " threads per multiprocessor; " << chip << " holds at most "
              << threadsLimit << " threads";
          return signalPassFailure();
        }
        std::string name =
            projection.baseName + "_b" + std::to_string(bucket);
        gpu::GPUFuncOp kernel = codegen::createProjectionKernel(
            b, kernels, projection, name,
            codegen::LaunchRule{schedule.getThreads(),
                                schedule.getColumnsPerBlock(),
                                schedule.getRowsPerBlock(),
                                schedule.getMMin(), schedule.getMMax(),
                                shared, schedule.getBlocksPerSm()},
            layout);
        codegen::MmaKernelOperands operands;
        operands.layout = layout;
        ArrayRef<BlockArgument> args = kernel.getBody().front().getArguments();
        size_t next = 0;
        operands.x = args[next++];
        for (const core::Scheme &scheme : projection.schemes) {
          codegen::MmaKernelOperands::Weight w;
          w.scheme = scheme;
          w.codes = args[next++];
          w.scales = args[next++];
          if (scheme.zero == core::ZeroKind::Int)
            w.zeros = args[next++];
          operands.weights.push_back(w);
        }
        if (projection.hasBias)
          operands.bias = args[next++];
        if (projection.hasResidual)
          operands.residual = args[next++];
        operands.out = args[next++];
        codegen::emitMmaKernel(b, projection.op->getLoc(), kernel, schedule,
                               projection.elementType, projection.k,
                               operands);
      }
    }
  }
};

} // namespace
