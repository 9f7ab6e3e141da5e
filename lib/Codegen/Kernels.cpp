//===- Kernels.cpp - What every GPU kernel lowering shares ----------------===//

#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Dialect/Qmlir.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

MemRefType memrefFor(Type tensorType) {
  auto tensor = cast<RankedTensorType>(tensorType);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Index of `op` among the ops of its name in `func`, in walk order.
unsigned indexInFunction(Operation *op, func::FuncOp func) {
  unsigned index = 0, found = 0;
  func.walk([&](Operation *other) {
    if (other == op)
      found = index;
    if (other->getName() == op->getName())
      ++index;
  });
  return found;
}

} // namespace

std::optional<std::pair<int, int>>
qmlir::codegen::computeCapability(StringRef chip) {
  StringRef digits = chip;
  if (!digits.consume_front("sm_"))
    return std::nullopt;
  digits.consume_back("a");
  unsigned value;
  if (digits.size() < 2 || digits.getAsInteger(10, value))
    return std::nullopt;
  return std::make_pair(int(value / 10), int(value % 10));
}

bool qmlir::codegen::hasMmaSyncM16N8K16(StringRef chip) {
  std::optional<std::pair<int, int>> cc = computeCapability(chip);
  return cc && cc->first >= 8;
}

bool qmlir::codegen::hasWgmma(StringRef chip) {
  // wgmma is an arch-specific (sm_90a) feature: plain sm_90 lacks it.
  return chip == "sm_90a";
}

int64_t qmlir::codegen::maxSharedMemoryPerBlock(StringRef chip) {
  // The CUDA programming guide's table of compute capabilities.
  std::optional<std::pair<int, int>> cc = computeCapability(chip);
  if (cc && *cc == std::pair<int, int>{8, 0})
    return 163 * 1024;
  if (cc && cc->first == 9)
    return 227 * 1024;
  return 99 * 1024;
}

int64_t qmlir::codegen::maxThreadsPerMultiprocessor(StringRef chip) {
  // The same table: 2048 on sm_80, sm_87, sm_90 and sm_100.
  std::optional<std::pair<int, int>> cc = computeCapability(chip);
  if (cc && (*cc == std::pair<int, int>{8, 0} ||
             *cc == std::pair<int, int>{8, 7} || cc->first == 9 ||
             cc->first == 10))
    return 2048;
  return 1536;
}

FailureOr<ProjectionKernel> qmlir::codegen::describeProjection(Operation *op) {
  ProjectionKernel projection;
  projection.op = op;
  SmallVector<Value> weights;
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    projection.opName = "matmul";
    weights = {matmul.getWeights()};
    projection.hasBias = bool(matmul.getBias());
    projection.hasResidual = bool(matmul.getResidual());
  } else if (auto swiglu = dyn_cast<SwigluOp>(op)) {
    projection.opName = "swiglu";
    weights = {swiglu.getGate(), swiglu.getUp()};
    projection.hasResidual = bool(swiglu.getResidual());
  } else {
    return op->emitError("expected qmlir.matmul or qmlir.swiglu");
  }
  auto func = op->getParentOfType<func::FuncOp>();
  for (Value w : weights)
    if (w.getDefiningOp<PackOp>())
      projection.packs.push_back(w);
  if (!func || projection.packs.size() != weights.size())
    return op->emitError("cannot lower '")
           << op->getName()
           << "' to a GPU kernel: its weights must be built by qmlir.pack in "
              "a func.func";
  for (Value w : weights)
    projection.schemes.push_back(
        cast<QTensorType>(w.getType()).getScheme().toCore());
  auto weightsType = cast<QTensorType>(weights[0].getType());
  projection.n = weightsType.getRows();
  projection.k = weightsType.getCols();
  projection.elementType =
      cast<RankedTensorType>(op->getOperand(0).getType()).getElementType();
  projection.baseName = (func.getSymName() + "_" + projection.opName +
                         Twine(indexInFunction(op, func)))
                            .str();
  return projection;
}

gpu::GPUModuleOp qmlir::codegen::getOrCreateKernelModule(ModuleOp module,
                                                         StringRef chip,
                                                         StringRef features) {
  MLIRContext *context = module.getContext();
  for (auto existing : module.getOps<gpu::GPUModuleOp>())
    if (existing.getName() == "qmlir_kernels")
      return existing;
  OpBuilder b(context);
  module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                  b.getUnitAttr());
  b.setInsertionPointToEnd(module.getBody());
  auto target = NVVM::NVVMTargetAttr::get(context, /*optLevel=*/3,
                                          "nvptx64-nvidia-cuda", chip,
                                          features);
  return gpu::GPUModuleOp::create(b, module.getLoc(), "qmlir_kernels",
                                  b.getArrayAttr({target}));
}

gpu::GPUFuncOp qmlir::codegen::createProjectionKernel(
    OpBuilder &b, gpu::GPUModuleOp kernels, const ProjectionKernel &projection,
    StringRef name, const LaunchRule &launch, core::Layout layout) {
  OpBuilder::InsertionGuard guard(b);
  Type elementType = projection.elementType;
  const int64_t n = projection.n;
  SmallVector<Type> argTypes = {MemRefType::get(
      {ShapedType::kDynamic, projection.k}, elementType)};
  for (Value pack : projection.packs)
    for (Value part : pack.getDefiningOp<PackOp>().getParts())
      argTypes.push_back(memrefFor(part.getType()));
  // Every argument is 2-D (kernel ABI v1): the bias is [1, N].
  if (projection.hasBias)
    argTypes.push_back(MemRefType::get({1, n}, elementType));
  if (projection.hasResidual)
    argTypes.push_back(MemRefType::get({ShapedType::kDynamic, n}, elementType));
  argTypes.push_back(MemRefType::get({ShapedType::kDynamic, n}, elementType));

  b.setInsertionPointToEnd(kernels.getBody());
  auto kernel = gpu::GPUFuncOp::create(b, projection.op->getLoc(), name,
                                       b.getFunctionType(argTypes, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr(
      {static_cast<int32_t>(launch.threads), 1, 1}));
  // Bounds the registers per thread (PTX .minnctapersm).
  if (launch.minBlocksPerSm > 0)
    kernel->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    b.getI32IntegerAttr(launch.minBlocksPerSm));
  // What qmlir-compile needs for the manifest once the kernel is a binary:
  // the launch rule, the layout of the codes and what the kernel computes.
  kernel->setAttr("qmlir.block_size", b.getI64IntegerAttr(launch.threads));
  kernel->setAttr("qmlir.columns_per_block",
                  b.getI64IntegerAttr(launch.columnsPerBlock));
  kernel->setAttr("qmlir.rows_per_block",
                  b.getI64IntegerAttr(launch.rowsPerBlock));
  if (launch.sharedMemoryBytes > 0)
    kernel->setAttr("qmlir.shared_memory_bytes",
                    b.getI64IntegerAttr(launch.sharedMemoryBytes));
  kernel->setAttr("qmlir.m_range",
                  b.getDenseI64ArrayAttr({launch.mMin, launch.mMax}));
  kernel->setAttr("qmlir.weights_layout", b.getStringAttr(core::toString(layout)));
  kernel->setAttr("qmlir.op", b.getStringAttr(projection.opName));
  auto schemeOf = [&](Value pack) {
    return cast<QTensorType>(pack.getType()).getScheme();
  };
  kernel->setAttr("qmlir.scheme", schemeOf(projection.packs[0]));
  if (projection.packs.size() == 2)
    kernel->setAttr("qmlir.up_scheme", schemeOf(projection.packs[1]));
  if (projection.hasBias)
    kernel->setAttr("qmlir.bias", b.getUnitAttr());
  if (projection.hasResidual)
    kernel->setAttr("qmlir.residual", b.getUnitAttr());
  return kernel;
}
