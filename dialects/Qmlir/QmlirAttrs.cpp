//===- QmlirAttrs.cpp - qmlir attributes and types ------------------------===//
//
// The scheme's rules live in the MLIR-free core library (core::Scheme); the
// verifiers here translate to it so that the compiler, the runtime and the
// reference can never disagree on what a valid scheme is.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qmlir;

//===----------------------------------------------------------------------===//
// Custom assembly directives
//===----------------------------------------------------------------------===//

/// Parses an element format such as `i4` (signed) or `u8` (unsigned).
static ParseResult parseElementFormat(AsmParser &parser,
                                      ElementKind &kind, unsigned &bits) {
  SMLoc loc = parser.getCurrentLocation();
  StringRef keyword;
  if (failed(parser.parseKeyword(&keyword)))
    return failure();
  unsigned width = 0;
  if (keyword.size() < 2 || (keyword[0] != 'i' && keyword[0] != 'u') ||
      keyword.drop_front().getAsInteger(10, width))
    return parser.emitError(loc, "expected an element format such as 'i4' "
                                 "(signed) or 'u4' (unsigned), got '")
           << keyword << "'";
  kind = keyword[0] == 'i' ? ElementKind::SignedInt : ElementKind::UnsignedInt;
  bits = width;
  return success();
}

static void printElementFormat(AsmPrinter &printer, ElementKind kind,
                               unsigned bits) {
  printer << (kind == ElementKind::SignedInt ? "i" : "u") << bits;
}

/// Parses a group size: a positive integer or `channel`.
static ParseResult parseGroupSize(AsmParser &parser,
                                  int64_t &groupSize) {
  if (succeeded(parser.parseOptionalKeyword("channel"))) {
    groupSize = core::kPerChannel;
    return success();
  }
  int64_t value = 0;
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseInteger(value)))
    return failure();
  if (value <= 0)
    return parser.emitError(loc, "group size must be positive or 'channel', got ")
           << value;
  groupSize = value;
  return success();
}

static void printGroupSize(AsmPrinter &printer, int64_t groupSize) {
  if (groupSize == core::kPerChannel)
    printer << "channel";
  else
    printer << groupSize;
}

static ParseResult parseShape(AsmParser &parser,
                              SmallVector<int64_t> &shape) {
  SmallVector<int64_t> dims;
  if (failed(parser.parseDimensionList(dims, /*allowDynamic=*/false,
                                       /*withTrailingX=*/false)))
    return failure();
  shape = std::move(dims);
  return success();
}

static void printShape(AsmPrinter &printer, ArrayRef<int64_t> shape) {
  llvm::interleave(shape, printer, "x");
}

static ParseResult parseSchemeRef(AsmParser &parser,
                                  SchemeAttr &scheme) {
  SMLoc loc = parser.getCurrentLocation();
  Attribute attr;
  if (failed(parser.parseAttribute(attr)))
    return failure();
  auto schemeAttr = dyn_cast<SchemeAttr>(attr);
  if (!schemeAttr)
    return parser.emitError(loc, "expected a #qmlir.scheme attribute, got ")
           << attr;
  scheme = schemeAttr;
  return success();
}

static void printSchemeRef(AsmPrinter &printer, SchemeAttr scheme) {
  printer.printAttribute(scheme);
}

#define GET_ATTRDEF_CLASSES
#include "Qmlir/QmlirAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "Qmlir/QmlirTypes.cpp.inc"

void QmlirDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "Qmlir/QmlirAttrs.cpp.inc"
      >();
}

void QmlirDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "Qmlir/QmlirTypes.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

static std::optional<core::ScaleType> toCoreScaleType(Type type) {
  if (type.isF16())
    return core::ScaleType::F16;
  if (type.isBF16())
    return core::ScaleType::BF16;
  if (type.isF32())
    return core::ScaleType::F32;
  return std::nullopt;
}

static Type fromCoreScaleType(MLIRContext *context, core::ScaleType type) {
  Builder builder(context);
  switch (type) {
  case core::ScaleType::F16:
    return builder.getF16Type();
  case core::ScaleType::BF16:
    return builder.getBF16Type();
  case core::ScaleType::F32:
    return builder.getF32Type();
  }
  llvm_unreachable("unknown scale type");
}

static core::Scheme makeCoreScheme(ElementKind kind, unsigned bits,
                                   int64_t groupSize, core::ScaleType scale,
                                   ZeroKind zero) {
  core::Scheme scheme;
  scheme.kind = kind == ElementKind::SignedInt ? core::ElementKind::SignedInt
                                               : core::ElementKind::UnsignedInt;
  scheme.bits = bits;
  scheme.groupSize = groupSize;
  scheme.scaleType = scale;
  switch (zero) {
  case ZeroKind::None:
    scheme.zero = core::ZeroKind::None;
    break;
  case ZeroKind::Int:
    scheme.zero = core::ZeroKind::Int;
    break;
  case ZeroKind::Float:
    scheme.zero = core::ZeroKind::Float;
    break;
  }
  return scheme;
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ElementKind kind, unsigned bits,
                                 int64_t groupSize, Type scaleType,
                                 ZeroKind zero) {
  std::optional<core::ScaleType> scale = toCoreScaleType(scaleType);
  if (!scale)
    return emitError() << "scale type must be f16, bf16 or f32, got "
                       << scaleType;
  std::string problem =
      makeCoreScheme(kind, bits, groupSize, *scale, zero).validate();
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

core::Scheme SchemeAttr::toCore() const {
  return makeCoreScheme(getKind(), getBits(), getGroupSize(),
                        *toCoreScaleType(getScaleType()), getZero());
}

SchemeAttr SchemeAttr::fromCore(MLIRContext *context,
                                const core::Scheme &scheme) {
  ZeroKind zero = ZeroKind::None;
  if (scheme.zero == core::ZeroKind::Int)
    zero = ZeroKind::Int;
  else if (scheme.zero == core::ZeroKind::Float)
    zero = ZeroKind::Float;
  return SchemeAttr::get(context,
                         scheme.isSigned() ? ElementKind::SignedInt
                                           : ElementKind::UnsignedInt,
                         scheme.bits, scheme.groupSize,
                         fromCoreScaleType(context, scheme.scaleType), zero);
}

//===----------------------------------------------------------------------===//
// QTensorType
//===----------------------------------------------------------------------===//

LogicalResult QTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> shape, SchemeAttr scheme) {
  if (shape.size() != 2)
    return emitError() << "expected a 2-D [N, K] weight shape, got "
                       << shape.size() << " dimensions";
  std::string problem = scheme.toCore().validateShape(shape[0], shape[1]);
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

RankedTensorType QTensorType::getCodesType() const {
  auto i32 = IntegerType::get(getContext(), 32);
  return RankedTensorType::get(
      {getRows(), core::packedWords(getCols(), getScheme().getBits())}, i32);
}

RankedTensorType QTensorType::getScalesType() const {
  return RankedTensorType::get({getRows(), getGroupsPerRow()},
                               getScheme().getScaleType());
}

RankedTensorType QTensorType::getZerosType() const {
  switch (getScheme().getZero()) {
  case ZeroKind::None:
    return {};
  case ZeroKind::Int:
    return RankedTensorType::get(
        {getRows(),
         core::packedWords(getGroupsPerRow(), getScheme().getBits())},
        IntegerType::get(getContext(), 32));
  case ZeroKind::Float:
    return getScalesType();
  }
  llvm_unreachable("unknown zero kind");
}
