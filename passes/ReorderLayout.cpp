//===- ReorderLayout.cpp - Weights of scheduled ops in an mma_tile layout -===//

#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/IR/Verifier.h"

namespace qmlir {
#define GEN_PASS_DEF_QMLIRREORDERLAYOUT
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

struct QmlirReorderLayoutPass
    : qmlir::impl::QmlirReorderLayoutBase<QmlirReorderLayoutPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](Operation *op) {
      auto schedules = op->getAttrOfType<ArrayAttr>(kSchedulesAttrName);
      if (!isa<MatmulOp, SwigluOp>(op) || !schedules ||
          op->hasAttr(kLayoutAttrName))
        return WalkResult::advance();
      // wgmma reads activations as 16-byte rows of consecutive K, which
      // only the linear order lets them be copied as (the pass's
      // description says what it costs the split-K kernels).
      const bool linear =
          linearK && llvm::any_of(schedules, [](Attribute schedule) {
            auto attr = dyn_cast<ScheduleAttr>(schedule);
            return attr && attr.isWgmma();
          });
      op->setAttr(kLayoutAttrName,
                  LayoutAttr::get(&getContext(), linear ? Layout::MmaTileLinear
                                                       : Layout::MmaTile));
      // The dialect's verifier names what keeps the weights out of the layout.
      if (failed(mlir::verify(op)))
        return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
