//===- QmlirOps.cpp - qmlir operations ------------------------------------===//

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qmlir;

/// "codes, scales, zeros" for messages.
static std::string partNames(ArrayRef<core::Part> parts) {
  std::string names;
  for (const core::Part &part : parts)
    names += (names.empty() ? "" : ", ") + part.name;
  return names;
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

LogicalResult PackOp::verify() {
  QTensorType weights = getResult().getType();
  SmallVector<core::Part> parts = weights.getParts();
  SmallVector<Type> expected = weights.getPartTypes();
  if (getParts().size() != parts.size())
    return emitOpError() << "takes " << parts.size() << " parts ("
                         << partNames(parts) << ") for the scheme "
                         << weights.getScheme() << ", got "
                         << getParts().size();
  for (auto [index, part] : llvm::enumerate(parts)) {
    Type actual = getParts()[index].getType();
    if (actual != expected[index])
      return emitOpError() << part.name << " (part " << index
                           << ") must have type " << expected[index]
                           << " for " << weights << ", got " << actual;
  }
  return success();
}

Value PackOp::getPart(StringRef name) {
  std::optional<unsigned> index = getResult().getType().getPartIndex(name);
  return index ? getParts()[*index] : Value();
}

//===----------------------------------------------------------------------===//
// UnpackOp
//===----------------------------------------------------------------------===//

LogicalResult UnpackOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, ValueRange operands,
    DictionaryAttr attributes, OpaqueProperties properties, RegionRange regions,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  if (operands.size() != 1)
    return failure();
  auto weights = dyn_cast<QTensorType>(operands[0].getType());
  if (!weights)
    return failure();
  llvm::append_range(inferredReturnTypes, weights.getPartTypes());
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// Renders a dimension for messages: `?` for dynamic sizes.
static std::string dimString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

/// The checks qmlir.matmul and qmlir.swiglu share: the input's K matches the
/// weights', the result is [M, N] of the input's element type, and the
/// residual, if any, has the result's type.
static LogicalResult verifyProjection(Operation *op, Value inputValue,
                                      Value resultValue, QTensorType weights,
                                      Value residual) {
  auto inputType = cast<RankedTensorType>(inputValue.getType());
  auto resultType = cast<RankedTensorType>(resultValue.getType());
  int64_t k = inputType.getDimSize(1);
  if (k != weights.getCols())
    return op->emitOpError()
           << "input has K = " << dimString(k)
           << " but the weights have K = " << weights.getCols();
  if (resultType.getElementType() != inputType.getElementType())
    return op->emitOpError() << "result element type "
                             << resultType.getElementType()
                             << " must match the input element type "
                             << inputType.getElementType();
  if (resultType.getDimSize(0) != inputType.getDimSize(0))
    return op->emitOpError() << "result has M = "
                             << dimString(resultType.getDimSize(0))
                             << " but the input has M = "
                             << dimString(inputType.getDimSize(0));
  if (resultType.getDimSize(1) != weights.getRows())
    return op->emitOpError()
           << "result has N = " << dimString(resultType.getDimSize(1))
           << " but the weights have N = " << weights.getRows();
  if (residual && residual.getType() != resultType)
    return op->emitOpError() << "residual type " << residual.getType()
                             << " must match the result type " << resultType;
  return success();
}

/// The weights' type, then `, <bias type>` if there is a bias and
/// `, <residual type>` if there is a residual: both epilogue types are
/// optional and follow one another, so the operands that are present tell
/// them apart. (One directive for all three keeps the printed commas tight.)
static ParseResult parseWeightsAndEpilogueTypes(
    OpAsmParser &parser, Type &weightsType,
    std::optional<OpAsmParser::UnresolvedOperand> bias,
    std::optional<OpAsmParser::UnresolvedOperand> residual, Type &biasType,
    Type &residualType) {
  QTensorType weights;
  if (parser.parseType(weights))
    return failure();
  weightsType = weights;
  if (bias && (parser.parseComma() || parser.parseType(biasType)))
    return failure();
  if (residual && (parser.parseComma() || parser.parseType(residualType)))
    return failure();
  return success();
}

static void printWeightsAndEpilogueTypes(OpAsmPrinter &printer, Operation *,
                                         QTensorType weightsType, Value bias,
                                         Value residual, Type biasType,
                                         Type residualType) {
  printer << weightsType;
  if (bias)
    printer << ", " << biasType;
  if (residual)
    printer << ", " << residualType;
}

LogicalResult MatmulOp::verify() {
  if (failed(verifyProjection(*this, getInput(), getResult(),
                              getWeights().getType(), getResidual())))
    return failure();
  if (Value bias = getBias()) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    Type elementType = getInput().getType().getElementType();
    if (biasType.getElementType() != elementType)
      return emitOpError() << "bias element type " << biasType.getElementType()
                           << " must match the input element type "
                           << elementType;
    int64_t n = getWeights().getType().getRows();
    if (biasType.getDimSize(0) != n)
      return emitOpError() << "bias has N = "
                           << dimString(biasType.getDimSize(0))
                           << " but the weights have N = " << n;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// SwigluOp
//===----------------------------------------------------------------------===//

LogicalResult SwigluOp::verify() {
  QTensorType gate = getGate().getType(), up = getUp().getType();
  if (gate.getShape() != up.getShape())
    return emitOpError() << "up weights are " << up.getRows() << "x"
                         << up.getCols() << " but the gate weights are "
                         << gate.getRows() << "x" << gate.getCols();
  return verifyProjection(*this, getInput(), getResult(), gate,
                          getResidual());
}

//===----------------------------------------------------------------------===//
// QuantizeOp and DequantizeOp
//===----------------------------------------------------------------------===//

static LogicalResult verifySameShape(Operation *op, RankedTensorType floats,
                                     QTensorType weights, StringRef what) {
  if (floats.getShape() == weights.getShape())
    return success();
  return op->emitOpError() << what << " shape " << floats
                           << " does not match the quantized shape "
                           << weights;
}

LogicalResult QuantizeOp::verify() {
  return verifySameShape(*this, cast<RankedTensorType>(getInput().getType()),
                         getResult().getType(), "input");
}

LogicalResult DequantizeOp::verify() {
  return verifySameShape(*this, cast<RankedTensorType>(getResult().getType()),
                         getInput().getType(), "result");
}

#define GET_OP_CLASSES
#include "Qmlir/QmlirOps.cpp.inc"
