//===- LowerToGpuKernels.cpp - qmlir.matmul to SIMT GPU kernels -----------===//
//
// The first, simple GPU lowering: one thread per output element, weights
// decoded and epilogues computed with the same code as the CPU path. Correctness first; the fast
// tensor-core kernels come from other passes.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Decode.h"
#include "qmlir/Codegen/Epilogue.h"
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

/// What one kernel computes: the projections' weights (one for matmul, gate
/// then up for swiglu) and the epilogue operands that are present.
struct KernelSpec {
  Operation *op;
  func::FuncOp func;
  StringRef opName; // "matmul" or "swiglu"
  SmallVector<PackOp> weights;
  Value bias, residual;
};

/// Emits the body of a kernel (see the pass description). The arguments are
/// x, each weight's parts, the bias, the residual (those present) and out.
void buildKernelBody(OpBuilder &b, Location loc, gpu::GPUFuncOp kernel,
                     const KernelSpec &spec, int64_t blockSize) {
  Block &entry = kernel.getBody().front();
  b.setInsertionPointToStart(&entry);
  ArrayRef<BlockArgument> args = entry.getArguments();
  Value input = args.front();
  size_t next = 1;
  SmallVector<codegen::QuantizedMemrefs> weights;
  for (PackOp pack : spec.weights) {
    codegen::QuantizedMemrefs w;
    w.type = pack.getResult().getType();
    for (size_t i = 0, e = pack.getParts().size(); i < e; ++i)
      w.parts.push_back(args[next++]);
    weights.push_back(w);
  }
  Value bias = spec.bias ? Value(args[next++]) : Value();
  Value residual = spec.residual ? Value(args[next++]) : Value();
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
    MLIRContext *context = &getContext();
    OpBuilder b(context);

    SmallVector<KernelSpec> specs;
    bool failedToLower = false;
    module.walk([&](Operation *op) {
      KernelSpec spec;
      spec.op = op;
      SmallVector<Value> weights;
      if (auto matmul = dyn_cast<MatmulOp>(op)) {
        spec.opName = "matmul";
        weights = {matmul.getWeights()};
        spec.bias = matmul.getBias();
        spec.residual = matmul.getResidual();
      } else if (auto swiglu = dyn_cast<SwigluOp>(op)) {
        spec.opName = "swiglu";
        weights = {swiglu.getGate(), swiglu.getUp()};
        spec.residual = swiglu.getResidual();
      } else {
        return;
      }
      spec.func = op->getParentOfType<func::FuncOp>();
      for (Value w : weights)
        if (auto pack = w.getDefiningOp<PackOp>())
          spec.weights.push_back(pack);
      if (!spec.func || spec.weights.size() != weights.size()) {
        op->emitError("cannot lower '")
            << op->getName()
            << "' to a GPU kernel: its weights must be built by qmlir.pack in "
               "a func.func";
        failedToLower = true;
        return;
      }
      specs.push_back(spec);
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
    for (KernelSpec &spec : specs) {
      QTensorType weightsType = spec.weights[0].getResult().getType();
      Type elementType =
          cast<RankedTensorType>(spec.op->getOperand(0).getType())
              .getElementType();
      int64_t n = weightsType.getRows();
      SmallVector<Type> argTypes = {MemRefType::get(
          {ShapedType::kDynamic, weightsType.getCols()}, elementType)};
      for (PackOp pack : spec.weights)
        for (Value part : pack.getParts())
          argTypes.push_back(memrefFor(part.getType()));
      // Every argument is 2-D (kernel ABI v1): the bias is [1, N].
      if (spec.bias)
        argTypes.push_back(MemRefType::get({1, n}, elementType));
      if (spec.residual)
        argTypes.push_back(
            MemRefType::get({ShapedType::kDynamic, n}, elementType));
      argTypes.push_back(
          MemRefType::get({ShapedType::kDynamic, n}, elementType));

      std::string prefix = (spec.func.getSymName() + "_" + spec.opName).str();
      std::string name = prefix + std::to_string(perFunction[prefix]++);
      b.setInsertionPointToEnd(gpuModule.getBody());
      auto kernel = gpu::GPUFuncOp::create(b, spec.op->getLoc(), name,
                                           b.getFunctionType(argTypes, {}));
      kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(),
                      b.getUnitAttr());
      kernel.setKnownBlockSizeAttr(
          b.getDenseI32ArrayAttr({static_cast<int32_t>(blockSize), 1, 1}));
      // What qmlir-compile needs for the manifest once the kernel is a
      // binary: the launch rule and the operation the kernel computes.
      kernel->setAttr("qmlir.block_size", b.getI64IntegerAttr(blockSize));
      kernel->setAttr("qmlir.op", b.getStringAttr(spec.opName));
      kernel->setAttr("qmlir.scheme", weightsType.getScheme());
      if (spec.weights.size() == 2)
        kernel->setAttr("qmlir.up_scheme",
                        spec.weights[1].getResult().getType().getScheme());
      if (spec.bias)
        kernel->setAttr("qmlir.bias", b.getUnitAttr());
      if (spec.residual)
        kernel->setAttr("qmlir.residual", b.getUnitAttr());
      buildKernelBody(b, spec.op->getLoc(), kernel, spec, blockSize);
    }

    // The runtime launches the kernels itself: host functions are dropped.
    for (auto func : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      func.erase();
  }
};

} // namespace
