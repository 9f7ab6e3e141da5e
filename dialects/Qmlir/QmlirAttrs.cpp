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
#include "llvm/ADT/StringSwitch.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qmlir;

//===----------------------------------------------------------------------===//
// Custom assembly directives
//===----------------------------------------------------------------------===//

static ParseResult parseShape(AsmParser &parser, SmallVector<int64_t> &shape) {
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

static ParseResult parseSchemeRef(AsmParser &parser, SchemeAttr &scheme) {
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

// The scheme's text is parsed by the core library: the tokens of the
// attribute body are reassembled and handed to core::Scheme::parse, so the
// IR, the runtime's manifests and the command-line tools share one grammar.
Attribute SchemeAttr::parse(AsmParser &parser, Type) {
  SMLoc loc = parser.getCurrentLocation();
  if (failed(parser.parseLess()))
    return {};
  std::string text = "#qmlir.scheme<";
  while (failed(parser.parseOptionalGreater())) {
    StringRef keyword;
    int64_t integer;
    if (succeeded(parser.parseOptionalKeyword(&keyword)))
      text += " " + keyword.str();
    else if (succeeded(parser.parseOptionalStar()))
      text += "*";
    else if (succeeded(parser.parseOptionalComma()))
      text += ",";
    else if (succeeded(parser.parseOptionalEqual()))
      text += " =";
    else if (succeeded(parser.parseOptionalLSquare()))
      text += " [";
    else if (succeeded(parser.parseOptionalRSquare()))
      text += "]";
    else if (parser.parseOptionalInteger(integer).has_value())
      text += " " + std::to_string(integer);
    else {
      parser.emitError(parser.getCurrentLocation(),
                       "unexpected token in #qmlir.scheme");
      return {};
    }
  }
  text += ">";
  std::string error;
  std::optional<core::Scheme> scheme = core::Scheme::parse(text, &error);
  if (!scheme) {
    // The offset is into the reassembled text; the diagnostic's location
    // already points at the attribute.
    StringRef message(error);
    if (size_t at = message.rfind(" (at offset "); at != StringRef::npos)
      message = message.take_front(at);
    parser.emitError(loc, "invalid #qmlir.scheme: ") << message;
    return {};
  }
  return fromCore(parser.getContext(), *scheme);
}

void SchemeAttr::print(AsmPrinter &printer) const {
  std::string text = toCore().str();
  StringRef body(text);
  body.consume_front("#qmlir.scheme");
  printer << body;
}

static std::optional<core::ScaleType> toCoreScaleType(Type type) {
  if (type.isF16())
    return core::ScaleType::F16;
  if (type.isBF16())
    return core::ScaleType::BF16;
  if (type.isF32())
    return core::ScaleType::F32;
  if (isa<Float8E8M0FNUType>(type))
    return core::ScaleType::E8M0;
  if (isa<Float8E4M3FNType>(type))
    return core::ScaleType::F8E4M3;
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
  case core::ScaleType::E8M0:
    return Float8E8M0FNUType::get(context);
  case core::ScaleType::F8E4M3:
    return Float8E4M3FNType::get(context);
  }
  llvm_unreachable("unknown scale type");
}

// The dialect's enums mirror the core's, value for value.
static_assert(static_cast<int>(ElementKind::Ternary) ==
              static_cast<int>(core::ElementKind::Ternary));
static_assert(static_cast<int>(FloatFormat::E5M2) ==
              static_cast<int>(core::FloatFormat::E5M2));
static_assert(static_cast<int>(ZeroKind::Float) ==
              static_cast<int>(core::ZeroKind::Float));
static_assert(static_cast<int>(CodebookScope::Group) ==
              static_cast<int>(core::CodebookScope::Group));

static core::Scheme makeCoreScheme(ElementKind kind, unsigned bits,
                                   FloatFormat floatFormat,
                                   ArrayRef<unsigned> mixedBits,
                                   int64_t groupSize, core::ScaleType scale,
                                   ZeroKind zero, CodebookScope codebook,
                                   bool actOrder) {
  core::Scheme scheme;
  scheme.kind = static_cast<core::ElementKind>(kind);
  scheme.bits = bits;
  scheme.floatFormat = static_cast<core::FloatFormat>(floatFormat);
  scheme.mixedBits.assign(mixedBits.begin(), mixedBits.end());
  scheme.groupSize = groupSize;
  scheme.scaleType = scale;
  scheme.zero = static_cast<core::ZeroKind>(zero);
  scheme.codebook = static_cast<core::CodebookScope>(codebook);
  scheme.actOrder = actOrder;
  return scheme;
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 ElementKind kind, unsigned bits,
                                 FloatFormat floatFormat,
                                 ArrayRef<unsigned> mixedBits,
                                 int64_t groupSize, Type scaleType,
                                 ZeroKind zero, CodebookScope codebook,
                                 bool actOrder) {
  std::optional<core::ScaleType> scale = toCoreScaleType(scaleType);
  if (!scale)
    return emitError() << "scale type must be f16, bf16, f32, f8E8M0FNU or "
                          "f8E4M3FN, got "
                       << scaleType;
  std::string problem =
      makeCoreScheme(kind, bits, floatFormat, mixedBits, groupSize, *scale,
                     zero, codebook, actOrder)
          .validate();
  if (!problem.empty())
    return emitError() << problem;
  return success();
}

core::Scheme SchemeAttr::toCore() const {
  return makeCoreScheme(getKind(), getBits(), getFloatFormat(), getMixedBits(),
                        getGroupSize(), *toCoreScaleType(getScaleType()),
                        getZero(), getCodebook(), getActOrder());
}

SchemeAttr SchemeAttr::fromCore(MLIRContext *context,
                                const core::Scheme &scheme) {
  return SchemeAttr::get(
      context, static_cast<ElementKind>(scheme.kind), scheme.bits,
      static_cast<FloatFormat>(scheme.floatFormat), scheme.mixedBits,
      scheme.groupSize, fromCoreScaleType(context, scheme.scaleType),
      static_cast<ZeroKind>(scheme.zero),
      static_cast<CodebookScope>(scheme.codebook), scheme.actOrder);
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

SmallVector<core::Part> QTensorType::getParts() const {
  std::vector<core::Part> parts =
      getScheme().toCore().parts(getRows(), getCols());
  return SmallVector<core::Part>(parts.begin(), parts.end());
}

/// The MLIR type of a part's element type name (core::Part::element).
static Type partElementType(MLIRContext *context, StringRef name) {
  Builder builder(context);
  return llvm::StringSwitch<Type>(name)
      .Case("i32", builder.getI32Type())
      .Case("f16", builder.getF16Type())
      .Case("bf16", builder.getBF16Type())
      .Case("f32", builder.getF32Type())
      .Case("f8E8M0FNU", Float8E8M0FNUType::get(context))
      .Case("f8E4M3FN", Float8E4M3FNType::get(context))
      .Default(Type());
}

SmallVector<Type> QTensorType::getPartTypes() const {
  SmallVector<Type> types;
  for (const core::Part &part : getParts())
    types.push_back(RankedTensorType::get(
        {part.rows, part.cols}, partElementType(getContext(), part.element)));
  return types;
}

std::optional<unsigned> QTensorType::getPartIndex(StringRef name) const {
  SmallVector<core::Part> parts = getParts();
  for (auto [index, part] : llvm::enumerate(parts))
    if (part.name == name)
      return index;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// ScheduleAttr
//===----------------------------------------------------------------------===//

LogicalResult ScheduleAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                   int64_t mMin, int64_t mMax, int64_t warps,
                                   int64_t tileN, int64_t tileM, int64_t unroll,
                                   int64_t warpsM, int64_t stages,
                                   StringRef mma, int64_t blocksPerSm,
                                   int64_t producerWarps) {
  if (mMin < 1 || mMax < mMin)
    return emitError() << "schedule M range [" << mMin << ", " << mMax
                       << "] must satisfy 1 <= m_min <= m_max";
  if (warps < 1 || warps > 32)
    return emitError() << "schedule warps = " << warps
                       << " must be in 1..32 (at most 1024 threads)";
  if (tileN < 1 || tileN > 8)
    return emitError() << "schedule tile_n = " << tileN << " must be in 1..8";
  if (mma != "mma_sync" && mma != "wgmma")
    return emitError() << "schedule mma = \"" << mma
                       << "\" must be \"mma_sync\" or \"wgmma\"";
  const bool wgmma = mma == "wgmma";
  // A wgmma's N (8 tile_m rows) goes up to 256.
  const int64_t maxTileM = wgmma ? 32 : 8;
  if (tileM < 1 || tileM > maxTileM)
    return emitError() << "schedule tile_m = " << tileM << " must be in 1.."
                       << maxTileM;
  if (unroll < 1 || unroll > 8)
    return emitError() << "schedule unroll = " << unroll << " must be in 1..8";
  if (stages != 0 && (stages < 2 || stages > 8))
    return emitError() << "schedule stages = " << stages
                       << " must be 0 (no shared-memory stages) or in 2..8";
  if (warpsM < 1 || warps % warpsM != 0)
    return emitError() << "schedule warps_m = " << warpsM
                       << " must divide warps = " << warps;
  if (stages == 0 && warpsM != 1)
    return emitError() << "schedule warps_m = " << warpsM
                       << " needs stages: without them the warps split K";
  if (wgmma && stages == 0)
    return emitError() << "schedule mma = \"wgmma\" needs stages (its "
                          "activations are read from shared memory)";
  if (wgmma && (warps / warpsM) % 4 != 0)
    return emitError() << "schedule mma = \"wgmma\" needs warps / warps_m = "
                       << warps / warpsM
                       << " to be a multiple of 4 (whole warpgroups along N)";
  if (stages != 0 && unroll != 1)
    return emitError() << "schedule unroll = " << unroll
                       << " must be 1 with stages (the stages keep chunks in "
                          "flight)";
  if (producerWarps != 0 && producerWarps != 4)
    return emitError() << "schedule producer_warps = " << producerWarps
                       << " must be 0 or 4 (one warpgroup)";
  if (producerWarps != 0 && !wgmma)
    return emitError() << "schedule producer_warps = " << producerWarps
                       << " needs mma = \"wgmma\" (only its stages are "
                          "filled by producers)";
  if (warps + producerWarps > 32)
    return emitError() << "schedule warps = " << warps
                       << " and producer_warps = " << producerWarps
                       << " exceed 32 warps (1024 threads)";
  // No target holds more than 2048 threads per multiprocessor.
  const int64_t threads = 32 * (warps + producerWarps);
  if (blocksPerSm < 0 || blocksPerSm * threads > 2048)
    return emitError() << "schedule blocks_per_sm = " << blocksPerSm
                       << " must be in 0.." << 2048 / threads
                       << " (no multiprocessor holds more than 2048 threads)";
  // setmaxnreg moves registers within the launch bound blocks_per_sm sets;
  // without one ptxas ignores it.
  if (producerWarps != 0 && blocksPerSm == 0)
    return emitError() << "schedule producer_warps = " << producerWarps
                       << " needs blocks_per_sm >= 1 (the registers the "
                          "producers give back are shared out within it)";
  return success();
}
