//===- QmlirOps.cpp - qmlir operations ------------------------------------===//

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qmlir;

/// Checks that a part of a quantized matrix has the type its scheme requires.
static LogicalResult verifyPartType(Operation *op, StringRef part, Type actual,
                                    RankedTensorType expected,
                                    QTensorType weights) {
  if (actual == expected)
    return success();
  return op->emitOpError() << part << " must have type " << expected
                           << " for " << weights << ", got " << actual;
}

//===----------------------------------------------------------------------===//
// PackOp
//===----------------------------------------------------------------------===//

LogicalResult PackOp::verify() {
  QTensorType weights = getResult().getType();
  if (failed(verifyPartType(*this, "codes", getCodes().getType(),
                            weights.getCodesType(), weights)) ||
      failed(verifyPartType(*this, "scales", getScales().getType(),
                            weights.getScalesType(), weights)))
    return failure();
  RankedTensorType zerosType = weights.getZerosType();
  if (!zerosType && getZeros())
    return emitOpError() << "has zero points but the scheme "
                         << weights.getScheme() << " has none";
  if (zerosType && !getZeros())
    return emitOpError() << "needs zero points of type " << zerosType
                         << " for the scheme " << weights.getScheme();
  if (zerosType)
    return verifyPartType(*this, "zeros", getZeros().getType(), zerosType,
                          weights);
  return success();
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
  inferredReturnTypes.push_back(weights.getCodesType());
  inferredReturnTypes.push_back(weights.getScalesType());
  if (RankedTensorType zeros = weights.getZerosType())
    inferredReturnTypes.push_back(zeros);
  return success();
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

/// Renders a dimension for messages: `?` for dynamic sizes.
static std::string dimString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

LogicalResult MatmulOp::verify() {
  auto inputType = cast<RankedTensorType>(getInput().getType());
  auto resultType = cast<RankedTensorType>(getResult().getType());
  QTensorType weights = getWeights().getType();
  int64_t k = inputType.getDimSize(1);
  if (k != weights.getCols())
    return emitOpError() << "input has K = " << dimString(k)
                         << " but the weights have K = " << weights.getCols();
  if (resultType.getElementType() != inputType.getElementType())
    return emitOpError() << "result element type "
                         << resultType.getElementType()
                         << " must match the input element type "
                         << inputType.getElementType();
  if (resultType.getDimSize(0) != inputType.getDimSize(0))
    return emitOpError() << "result has M = "
                         << dimString(resultType.getDimSize(0))
                         << " but the input has M = "
                         << dimString(inputType.getDimSize(0));
  if (resultType.getDimSize(1) != weights.getRows())
    return emitOpError() << "result has N = "
                         << dimString(resultType.getDimSize(1))
                         << " but the weights have N = " << weights.getRows();
  return success();
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
