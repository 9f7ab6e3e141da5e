//===- LowerToGpuKernels.cpp - qmlir.matmul to SIMT GPU kernels -----------===//
//
// The first, simple GPU lowering: one thread per output element, weights
// decoded with the same code as the CPU path. Correctness first; the fast
// tensor-core kernels come from other passes.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Decode.h"
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

MemRefType memrefFor(Type tensorType) {
  auto tensor = cast<RankedTensorType>(tensorType);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Emits the body of a matmul kernel (see the pass description).
void buildMatmulKernelBody(OpBuilder &b, Location loc, gpu::GPUFuncOp kernel,
                           QTensorType weightsType, int64_t blockSize) {
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  Value input = entry.getArgument(0);
  codegen::QuantizedMemrefs weights;
  weights.type = weightsType;
  for (BlockArgument part : entry.getArguments().drop_front().drop_back())
    weights.parts.push_back(part);
  Value output = entry.getArguments().back();
  Type elementType = cast<MemRefType>(input.getType()).getElementType();

  Value col = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
                            arith::ConstantIndexOp::create(b, loc, blockSize)),
      gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x));
  Value row = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  Value inRange = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, col,
      arith::ConstantIndexOp::create(b, loc, weightsType.getRows()));
  auto ifOp = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  Value zeroF = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                               APFloat(0.0f));
  auto kLoop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, 0),
      arith::ConstantIndexOp::create(b, loc, weightsType.getCols()),
      arith::ConstantIndexOp::create(b, loc, 1), ValueRange{zeroF},
      [&](OpBuilder &lb, Location ll, Value k, ValueRange acc) {
        Value w = codegen::emitDequantizedWeight(lb, ll, weights, col, k);
        Value x = arith::ExtFOp::create(
            lb, ll, lb.getF32Type(),
            memref::LoadOp::create(lb, ll, input, ValueRange{row, k})
                .getResult());
        Value sum = arith::AddFOp::create(
            lb, ll, acc[0], arith::MulFOp::create(lb, ll, x, w));
        scf::YieldOp::create(lb, ll, sum);
      });
  Value result = arith::TruncFOp::create(b, loc, elementType,
                                         kLoop.getResult(0));
  memref::StoreOp::create(b, loc, result, output, ValueRange{row, col});
  b.setInsertionPointToEnd(&entry);
  gpu::ReturnOp::create(b, loc);
}

struct QmlirLowerToGpuKernelsPass
    : qmlir::impl::QmlirLowerToGpuKernelsBase<QmlirLowerToGpuKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    OpBuilder b(context);

    SmallVector<std::pair<func::FuncOp, MatmulOp>> matmuls;
    bool failedToLower = false;
    module.walk([&](MatmulOp op) {
      auto func = op->getParentOfType<func::FuncOp>();
      if (!func || !op.getWeights().getDefiningOp<PackOp>()) {
        op.emitError("cannot lower 'qmlir.matmul' to a GPU kernel: its "
                     "weights must be built by qmlir.pack in a func.func");
        failedToLower = true;
        return;
      }
      matmuls.emplace_back(func, op);
    });
    if (failedToLower)
      return signalPassFailure();

    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    b.getUnitAttr());
    b.setInsertionPointToEnd(module.getBody());
    auto target = NVVM::NVVMTargetAttr::get(context, /*optLevel=*/3,
                                            "nvptx64-nvidia-cuda", chip,
                                            features);
    auto gpuModule = gpu::GPUModuleOp::create(b, module.getLoc(),
                                              "qmlir_kernels",
                                              b.getArrayAttr({target}));

    llvm::StringMap<unsigned> perFunction;
    for (auto [func, op] : matmuls) {
      auto pack = op.getWeights().getDefiningOp<PackOp>();
      QTensorType weightsType = pack.getResult().getType();
      auto inputType = cast<RankedTensorType>(op.getInput().getType());
      Type elementType = inputType.getElementType();
      SmallVector<Type> argTypes = {MemRefType::get(
          {ShapedType::kDynamic, weightsType.getCols()}, elementType)};
      for (Value part : pack.getParts())
        argTypes.push_back(memrefFor(part.getType()));
      argTypes.push_back(MemRefType::get(
          {ShapedType::kDynamic, weightsType.getRows()}, elementType));

      std::string name = (func.getSymName() + "_matmul" +
                          Twine(perFunction[func.getSymName()]++))
                             .str();
      b.setInsertionPointToEnd(gpuModule.getBody());
      auto kernel = gpu::GPUFuncOp::create(b, op.getLoc(), name,
                                           b.getFunctionType(argTypes, {}));
      kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                      b.getUnitAttr());
      kernel.setKnownBlockSizeAttr(
          b.getDenseI32ArrayAttr({static_cast<int32_t>(blockSize), 1, 1}));
      // What qmlir-compile needs for the manifest once the kernel is a
      // binary: the launch rule and the operation the kernel computes.
      kernel->setAttr("qmlir.block_size", b.getI64IntegerAttr(blockSize));
      kernel->setAttr("qmlir.op", b.getStringAttr("matmul"));
      kernel->setAttr("qmlir.scheme", weightsType.getScheme());
      buildMatmulKernelBody(b, op.getLoc(), kernel, weightsType, blockSize);
    }

    // The runtime launches the kernels itself: host functions are dropped.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      func.erase();
  }
};

} // namespace
