//===- LowerToGpuKernels.cpp - qmlir.matmul to SIMT GPU kernels -----------===//
//
// The first, simple GPU lowering: one thread per output element, weights
// decoded and epilogues computed with the same code as the CPU path. Correctness first; the fast
// tensor-core kernels come from other passes.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Decode.h"
#include "qmlir/Codegen/Epilogue.h"
#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace qmlir {
#define GEN_PASS_DEF_QMLIRLOWERTOGPUKERNELS
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

/// gridDim.y holds M, so M is at most CUDA's limit on it.
constexpr int64_t kMaxGridY = 65535;

/// Emits the body of a kernel (see the pass description). The arguments are
/// x, each weight's parts, the bias, the residual (those present) and out.
void buildKernelBody(OpBuilder &b, Location loc, gpu::GPUFuncOp kernel,
                     const codegen::ProjectionKernel &projection,
                     int64_t blockSize) {
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  ArrayRef<BlockArgument> args = entry.getArguments();
  Value input = args.front();
  size_t next = 1;
  SmallVector<codegen::QuantizedMemrefs> weights;
  for (Value packed : projection.packs) {
    auto pack = packed.getDefiningOp<PackOp>();
    codegen::QuantizedMemrefs w;
    w.type = pack.getResult().getType();
    for (size_t i = 0, e = pack.getParts().size(); i < e; ++i)
      w.parts.push_back(args[next++]);
    weights.push_back(w);
  }
  Value bias = projection.hasBias ? Value(args[next++]) : Value();
  Value residual = projection.hasResidual ? Value(args[next++]) : Value();
  Value output = args.back();
  Type elementType = cast<MemRefType>(input.getType()).getElementType();
  QTensorType shape = weights[0].type;

  Value col = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
                            arith::ConstantIndexOp::create(b, loc, blockSize)),
      gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  Value row = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value inRange = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, col,
      arith::ConstantIndexOp::create(b, loc, shape.getRows()));
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  Value zeroF = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                               APFloat(0.0f));
  SmallVector<Value> inits(weights.size(), zeroF);
  auto kLoop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, shape.getCols()),
      arith::ConstantIndexOp::create(b, loc, 1), inits,
      [&](OpBuilder &lb, Location ll, Value k, ValueRange accs) {
        SmallVector<Value> ws;
        for (const codegen::QuantizedMemrefs &w : weights)
          ws.push_back(codegen::emitDequantizedWeight(lb, ll, w, col, k));
        Value x = arith::ExtFOp::create(
            lb, ll, lb.getF32Type(),
            memref::LoadOp::create(lb, ll, input, ValueRange{row, k})
                .getResult());
        SmallVector<Value> sums;
        for (auto [w, acc] : llvm::zip(ws, accs))
          sums.push_back(arith::AddFOp::create(
              lb, ll, acc, arith::MulFOp::create(lb, ll, x, w)));
        scf::YieldOp::create(lb, ll, sums);
      });
  Value result = kLoop.getResult(0);
  if (weights.size() == 2)
    result = codegen::emitSwiglu(b, loc, result, kLoop.getResult(1));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  result = codegen::emitAddAll(
      b, loc, result,
      {bias ? memref::LoadOp::create(b, loc, bias, ValueRange{zero, col})
                  .getResult()
            : Value(),
       residual ? memref::LoadOp::create(b, loc, residual, ValueRange{row, col})
                      .getResult()
                : Value()});
  result = arith::TruncFOp::create(b, loc, elementType, result);
  memref::StoreOp::create(b, loc, result, output, ValueRange{row, col});
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

struct QmlirLowerToGpuKernelsPass
    : qmlir::impl::QmlirLowerToGpuKernelsBase<QmlirLowerToGpuKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());

    // Ops with schedules get tensor-core kernels (qmlir-lower-dequant).
    std::vector<codegen::ProjectionKernel> projections;
    bool failedToLower = false;
    module.walk([&](Operation *op) {
      if (!isa<MatmulOp, SwigluOp>(op) || op->hasAttr(kSchedulesAttrName))
        return;
      FailureOr<codegen::ProjectionKernel> projection =
          codegen::describeProjection(op);
      if (failed(projection)) {
        failedToLower = true;
        return;
      }
      projections.push_back(*projection);
    });
    if (failedToLower)
      return signalPassFailure();

    gpu::GPUModuleOp kernels =
        codegen::getOrCreateKernelModule(module, chip, features);
    for (const codegen::ProjectionKernel &projection : projections) {
      gpu::GPUFuncOp kernel = codegen::createProjectionKernel(
          b, kernels, projection, projection.baseName,
          codegen::LaunchRule{blockSize, blockSize, 1, 1, kMaxGridY},
          core::Layout::Canonical);
      buildKernelBody(b, projection.op->getLoc(), kernel, projection, blockSize);
    }

    // The runtime launches the kernels itself: host functions are dropped.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      func.erase();
  }
};

} // namespace
