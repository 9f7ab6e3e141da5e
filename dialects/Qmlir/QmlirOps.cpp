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
