//===- ReorderLayout.cpp - Weights of scheduled ops in mma_tile -----------===//

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
    auto layout = LayoutAttr::get(&getContext(), Layout::MmaTile);
    WalkResult result = getOperation().walk([&](Operation *op) {
      if (!isa<MatmulOp, SwigluOp>(op) || !op->hasAttr(kSchedulesAttrName) ||
          op->hasAttr(kLayoutAttrName))
        return WalkResult::advance();
      op->setAttr(kLayoutAttrName, layout);
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
