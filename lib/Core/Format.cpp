//===- Format.cpp - Low-bit weight formats (MLIR-free) --------------------===//
//
// Schemes, their textual form and storage parts, packed-code storage, the
// small-float, NormalFloat and scale value codecs and the 16-bit float
// conversions. Standard library only.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

using namespace qmlir::core;

//===----------------------------------------------------------------------===//
// Scheme
//===----------------------------------------------------------------------===//

int32_t Scheme::minCode(unsigned width) const {
  return isSigned() ? -(int32_t(1) << (width - 1)) : 0;
}

int32_t Scheme::maxCode(unsigned width) const {
  return isSigned() ? (int32_t(1) << (width - 1)) - 1
                    : (int32_t(1) << width) - 1;
}

namespace {

bool isValid(ElementKind kind) {
  switch (kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt:
  case ElementKind::Float:
  case ElementKind::NormalFloat:
  case ElementKind::Codebook:
  case ElementKind::BinaryCoded:
  case ElementKind::Ternary:
    return true;
  }
  return false;
}

bool isValid(FloatFormat format) {
  switch (format) {
  case FloatFormat::E2M1:
  case FloatFormat::E2M3:
  case FloatFormat::E3M2:
  case FloatFormat::E4M3:
  case FloatFormat::E5M2:
    return true;
  }
  return false;
}

bool isValid(ScaleType type) {
  switch (type) {
  case ScaleType::F16:
  case ScaleType::BF16:
  case ScaleType::F32:
  case ScaleType::E8M0:
  case ScaleType::F8E4M3:
    return true;
  }
  return false;
}

bool isValid(ZeroKind zero) {
  return zero == ZeroKind::None || zero == ZeroKind::Int ||
         zero == ZeroKind::Float;
}

bool isValid(CodebookScope scope) {
  return scope == CodebookScope::Tensor || scope == CodebookScope::Group;
}

/// "[4, 2, 3, 4]".
std::string bitsList(const std::vector<unsigned> &bits) {
  std::string result = "[";
  for (size_t i = 0; i < bits.size(); ++i) {
    if (i)
      result += ", ";
    result += std::to_string(bits[i]);
  }
  return result + "]";
}

/// The element format as the textual form spells it ("i4", "u*", "lut3").
std::string formatName(const Scheme &scheme) {
  switch (scheme.kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt:
    return std::string(scheme.isSigned() ? "i" : "u") +
           (scheme.isMixed() ? std::string("*") : std::to_string(scheme.bits));
  case ElementKind::Float:
    return toString(scheme.floatFormat);
  case ElementKind::NormalFloat:
    return "nf4";
  case ElementKind::Codebook:
    return "lut" + std::to_string(scheme.bits);
  case ElementKind::BinaryCoded:
    return "bcq" + std::to_string(scheme.bits);
  case ElementKind::Ternary:
    return "ternary";
  }
  return "<invalid element kind>";
}

std::string rangeMessage(const std::string &what, int64_t got) {
  return what + " must be between " + std::to_string(kMinIntBits) + " and " +
         std::to_string(kMaxIntBits) + ", got " + std::to_string(got);
}

} // namespace

std::string Scheme::validate() const {
  if (!isValid(kind))
    return "invalid element kind " + std::to_string(static_cast<int>(kind));

  // The element format and its bit-width.
  if (isMixed() && !isInteger())
    return "bits = [...] is only for i* and u*, not " + formatName(*this);
  switch (kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt:
    if (isMixed()) {
      unsigned widest = 0;
      for (size_t g = 0; g < mixedBits.size(); ++g) {
        unsigned width = mixedBits[g];
        if (width < kMinIntBits || width > kMaxIntBits)
          return rangeMessage("bits = [...] entry " + std::to_string(g), width);
        widest = std::max(widest, width);
      }
      if (bits != widest)
        return "bit-width of " + formatName(*this) +
               " must be the widest entry of bits = " + bitsList(mixedBits) +
               " (" + std::to_string(widest) + "), got " + std::to_string(bits);
    } else if (bits < kMinIntBits || bits > kMaxIntBits) {
      return rangeMessage("bit-width", bits);
    }
    break;
  case ElementKind::Float:
    if (!isValid(floatFormat))
      return "invalid float format " +
             std::to_string(static_cast<int>(floatFormat));
    if (bits != floatBits(floatFormat))
      return "bit-width of " + formatName(*this) + " must be " +
             std::to_string(floatBits(floatFormat)) + ", got " +
             std::to_string(bits);
    break;
  case ElementKind::NormalFloat:
    if (bits != 4)
      return "bit-width of nf4 must be 4, got " + std::to_string(bits);
    break;
  case ElementKind::Codebook:
    if (bits < kMinIntBits || bits > kMaxIntBits)
      return rangeMessage("lut bit-width", bits);
    break;
  case ElementKind::BinaryCoded:
    if (bits < kMinIntBits || bits > kMaxIntBits)
      return rangeMessage("bcq planes", bits);
    break;
  case ElementKind::Ternary:
    if (bits != 2)
      return "bit-width of ternary must be 2, got " + std::to_string(bits);
    break;
  }

  // The group.
  if (groupSize < kPerTensor)
    return "group size must be positive, channel or tensor, got " +
           std::to_string(groupSize);
  if (isMixed() && groupSize <= 0)
    return "mixed bit-widths (bits = " + bitsList(mixedBits) +
           ") need a positive group size";

  // Scales.
  if (!isValid(scaleType))
    return "invalid scale type " + std::to_string(static_cast<int>(scaleType));
  if ((scaleType == ScaleType::E8M0 || scaleType == ScaleType::F8E4M3) &&
      kind != ElementKind::Float && kind != ElementKind::NormalFloat)
    return std::string("scale = ") + toString(scaleType) +
           " is only for small-float and nf4 formats, not " + formatName(*this);

  // Zero points.
  if (!isValid(zero))
    return "invalid zero kind " + std::to_string(static_cast<int>(zero));
  if (zero != ZeroKind::None && !isInteger()) {
    if (kind != ElementKind::BinaryCoded)
      return std::string("zero = ") + toString(zero) + " is not supported by " +
             formatName(*this) +
             " (zero points are for integer and bcq "
             "formats)";
    if (zero == ZeroKind::Int)
      return "zero = int is not supported by " + formatName(*this) +
             " (bcq takes zero = none or float)";
  }
  if (isSigned() && zero == ZeroKind::None) {
    bool oneBit = isMixed() ? std::find(mixedBits.begin(), mixedBits.end(),
                                        1u) != mixedBits.end()
                            : bits == 1;
    if (oneBit)
      return "zero = none: signed 1-bit codes (-1, 0) need zero points";
  }

  // Codebooks.
  if (!isValid(codebook))
    return "invalid codebook scope " +
           std::to_string(static_cast<int>(codebook));
  if (kind != ElementKind::Codebook && codebook != CodebookScope::Tensor)
    return "codebook = group is only for lut formats, not " + formatName(*this);
  if (kind == ElementKind::Codebook) {
    if (codebook == CodebookScope::Group && groupSize == kPerTensor)
      return "codebook = group needs a positive group size or channel, got "
             "group = tensor";
    if (codebook == CodebookScope::Tensor && groupSize != kPerTensor)
      return "codebook = tensor needs group = tensor (use codebook = group "
             "for one codebook per row and group)";
  }

  // Act-order.
  if (actOrder) {
    if (!isInteger())
      return "act_order is only for integer formats, not " + formatName(*this);
    if (groupSize <= 0)
      return "act_order needs a positive group size";
    if (isMixed())
      return "act_order is not supported with mixed bit-widths";
  }
  return {};
}

std::string Scheme::validateShape(int64_t n, int64_t k) const {
  if (std::string error = validate(); !error.empty())
    return error;
  if (n <= 0)
    return "N must be positive, got " + std::to_string(n);
  if (k <= 0)
    return "K must be positive, got " + std::to_string(k);
  if (groupSize > 0 && k % groupSize != 0)
    return "K = " + std::to_string(k) + " is not divisible by the group size " +
           std::to_string(groupSize);
  if (isMixed() && int64_t(mixedBits.size()) != groupsPerRow(k))
    return "bits lists " + std::to_string(mixedBits.size()) +
           " groups but K = " + std::to_string(k) + " with group " +
           std::to_string(groupSize) + " has " +
           std::to_string(groupsPerRow(k));
  return {};
}

int64_t Scheme::codeWordsPerRow(int64_t k) const {
  switch (kind) {
  case ElementKind::BinaryCoded:
    return int64_t(bits) * ((k + 31) / 32);
  case ElementKind::Ternary:
    return (k + kTritsPerWord - 1) / kTritsPerWord;
  default:
    break;
  }
  if (isMixed()) {
    int64_t total = 0, groupLength = groupSizeFor(k);
    for (unsigned width : mixedBits)
      total += groupLength * width;
    return (total + 31) / 32;
  }
  return packedWords(k, bits);
}

int64_t Scheme::zeroWordsPerRow(int64_t k) const {
  // Integer zero points only; other formats store none as packed words.
  if (!isInteger())
    return 0;
  if (isMixed()) {
    int64_t total = 0;
    for (unsigned width : mixedBits)
      total += width;
    return (total + 31) / 32;
  }
  return packedWords(groupsPerRow(k), bits);
}

int64_t Scheme::codeBitOffset(int64_t col, int64_t k) const {
  assert(kind != ElementKind::BinaryCoded && kind != ElementKind::Ternary &&
         "bcq and ternary codes are not a bit stream of codes");
  if (!isMixed())
    return col * int64_t(bits);
  const int64_t groupLength = groupSizeFor(k);
  const int64_t group = col / groupLength;
  int64_t offset = 0;
  for (int64_t g = 0; g < group; ++g)
    offset += groupLength * mixedBits[g];
  return offset + (col - group * groupLength) * mixedBits[group];
}

std::vector<Part> Scheme::parts(int64_t n, int64_t k) const {
  std::vector<Part> result;
  result.push_back({"codes", "i32", n, codeWordsPerRow(k)});
  const int64_t groups = groupsPerRow(k);
  const std::string element = mlirTypeName(scaleType);
  // Rows and columns of one value per group (per-tensor: one in all).
  const int64_t groupRows = isPerTensor() ? 1 : n;
  const int64_t groupCols = isPerTensor() ? 1 : groups;
  if (hasScales()) {
    int64_t planes = kind == ElementKind::BinaryCoded ? bits : 1;
    result.push_back({"scales", element, groupRows, groupCols * planes});
  }
  if (zero == ZeroKind::Int)
    result.push_back(
        {"zeros", "i32", groupRows, isPerTensor() ? 1 : zeroWordsPerRow(k)});
  else if (zero == ZeroKind::Float)
    result.push_back({"zeros", element, groupRows, groupCols});
  if (kind == ElementKind::Codebook) {
    int64_t entries = int64_t(1) << bits;
    if (codebook == CodebookScope::Tensor)
      result.push_back({"codebook", element, 1, entries});
    else
      result.push_back({"codebook", element, n, groups * entries});
  }
  if (actOrder)
    result.push_back({"g_idx", "i32", 1, k});
  return result;
}

std::string Scheme::str() const {
  std::string result = "#qmlir.scheme<" + formatName(*this);
  if (isMixed())
    result += ", bits = " + bitsList(mixedBits);
  result += ", group = ";
  if (isPerChannel())
    result += "channel";
  else if (isPerTensor())
    result += "tensor";
  else
    result += std::to_string(groupSize);
  // A codebook's `scale` is its element type, f16 unless given.
  if (kind != ElementKind::Codebook || scaleType != ScaleType::F16) {
    result += ", scale = ";
    result += toString(scaleType);
  }
  if (zero != ZeroKind::None) {
    result += ", zero = ";
    result += toString(zero);
  }
  if (codebook != CodebookScope::Tensor)
    result += ", codebook = group";
  if (actOrder)
    result += ", act_order";
  result += '>';
  return result;
}

namespace {

/// Recursive-descent parser for the textual scheme form. Tokens are the
/// punctuation characters `<`, `>`, `,`, `=`, `[`, `]` and words (maximal
/// runs of any other non-space characters); whitespace between tokens is
/// ignored. A syntactically complete scheme must also pass Scheme::validate.
class SchemeParser {
public:
  explicit SchemeParser(std::string_view input) : text(input) {}

  std::optional<Scheme> parse(std::string *error) {
    std::optional<Scheme> scheme = parseScheme();
    if (!scheme && error)
      *error = message + " (at offset " + std::to_string(errorPos) + ")";
    return scheme;
  }

private:
  std::optional<Scheme> parseScheme() {
    Scheme scheme;
    size_t at = skipSpace();
    if (std::string_view prefix = word(); prefix != "#qmlir.scheme")
      return fail(at, "expected '#qmlir.scheme<' but found " + describe(at));
    if (!expect('<', "after '#qmlir.scheme'"))
      return std::nullopt;

    const size_t formatAt = skipSpace();
    std::string_view format = word();
    if (format == "mxfp4" || format == "nvfp4") {
      scheme.kind = ElementKind::Float;
      scheme.floatFormat = FloatFormat::E2M1;
      scheme.bits = 4;
      bool mx = format == "mxfp4";
      scheme.groupSize = mx ? 32 : 16;
      scheme.scaleType = mx ? ScaleType::E8M0 : ScaleType::F8E4M3;
      std::string context = "after '" + std::string(format) +
                            "' (an alias for f4e2m1, group = " +
                            (mx ? "32, scale = e8m0)" : "16, scale = f8e4m3)");
      if (!expect('>', context.c_str()))
        return std::nullopt;
      return finish(scheme, formatAt);
    }
    if (!parseFormat(scheme, format, formatAt))
      return std::nullopt;

    // bits = [B, ...]: exactly for i* and u*.
    if (!expect(',', "after the element format"))
      return std::nullopt;
    at = skipSpace();
    std::string_view field = word();
    if (field == "bits") {
      if (!scheme.isMixed())
        return fail(at, "bits = [...] is only for i* and u*, not '" +
                            std::string(format) + "'");
      if (!expect('=', "after 'bits'") || !parseBitsList(scheme) ||
          !expect(',', "after the bits list"))
        return std::nullopt;
      at = skipSpace();
      field = word();
    } else if (scheme.isMixed()) {
      return fail(at, "expected 'bits' (" + std::string(format) +
                          " needs bits = [...]) but found " + describe(at));
    }

    // group = <positive int> | channel | tensor
    if (field != "group")
      return fail(at, "expected 'group' but found " + describe(at));
    if (!expect('=', "after 'group'") || !parseGroup(scheme))
      return std::nullopt;

    // Optional fields, in this order.
    enum Field { Scale, Zero, Codebook, ActOrder, End };
    int next = Scale;
    bool sawScale = false;
    while (true) {
      at = skipSpace();
      if (peek() != ',')
        break;
      ++pos;
      at = skipSpace();
      field = word();
      int which = field == "scale"       ? Scale
                  : field == "zero"      ? Zero
                  : field == "codebook"  ? Codebook
                  : field == "act_order" ? ActOrder
                                         : End;
      if (which == End || which < next) {
        static const char *names[] = {"'scale'", "'zero'", "'codebook'",
                                      "'act_order'"};
        std::string expected;
        for (int f = next; f < End; ++f) {
          if (!expected.empty())
            expected += f + 1 == End ? " or " : ", ";
          expected += names[f];
        }
        std::string found = describe(at);
        if (which != End)
          found += " (fields go in the order group, scale, zero, codebook, "
                   "act_order, each at most once)";
        if (expected.empty())
          return fail(at, "expected '>' but found " + found);
        return fail(at, "expected " + expected + " but found " + found);
      }
      next = which + 1;
      switch (which) {
      case Scale:
        if (!expect('=', "after 'scale'") || !parseScale(scheme))
          return std::nullopt;
        sawScale = true;
        break;
      case Zero:
        if (!expect('=', "after 'zero'") || !parseZero(scheme))
          return std::nullopt;
        break;
      case Codebook:
        if (!expect('=', "after 'codebook'") || !parseCodebook(scheme))
          return std::nullopt;
        break;
      case ActOrder:
        scheme.actOrder = true;
        break;
      }
    }
    if (!sawScale && scheme.kind != ElementKind::Codebook)
      return fail(at, "expected 'scale' (" + std::string(format) +
                          " needs scale = f16, bf16, f32, e8m0 or f8e4m3) but "
                          "found " +
                          describe(at));
    if (!expect('>', "to close the scheme"))
      return std::nullopt;
    return finish(scheme, formatAt);
  }

  /// Checks for trailing text and validates the scheme.
  std::optional<Scheme> finish(const Scheme &scheme, size_t formatAt) {
    size_t at = skipSpace();
    if (at != text.size())
      return fail(at, "unexpected trailing text '" +
                          std::string(text.substr(at)) + "'");
    if (std::string error = scheme.validate(); !error.empty())
      return fail(formatAt, error);
    return scheme;
  }

  bool parseFormat(Scheme &scheme, std::string_view format, size_t at) {
    static const struct {
      const char *name;
      FloatFormat format;
    } floats[] = {{"f4e2m1", FloatFormat::E2M1},
                  {"f6e2m3", FloatFormat::E2M3},
                  {"f6e3m2", FloatFormat::E3M2},
                  {"f8e4m3", FloatFormat::E4M3},
                  {"f8e5m2", FloatFormat::E5M2}};
    for (const auto &entry : floats)
      if (format == entry.name) {
        scheme.kind = ElementKind::Float;
        scheme.floatFormat = entry.format;
        scheme.bits = floatBits(entry.format);
        return true;
      }
    if (format == "nf4") {
      scheme.kind = ElementKind::NormalFloat;
      scheme.bits = 4;
      return true;
    }
    if (format == "ternary") {
      scheme.kind = ElementKind::Ternary;
      scheme.bits = 2;
      return true;
    }
    if (format == "i*" || format == "u*") {
      scheme.kind =
          format[0] == 'i' ? ElementKind::SignedInt : ElementKind::UnsignedInt;
      // Marks the scheme as mixed until the bits list replaces it.
      scheme.mixedBits = {0};
      return true;
    }
    std::string_view digits;
    if (format.starts_with("lut")) {
      scheme.kind = ElementKind::Codebook;
      digits = format.substr(3);
    } else if (format.starts_with("bcq")) {
      scheme.kind = ElementKind::BinaryCoded;
      digits = format.substr(3);
    } else if (!format.empty() && (format[0] == 'i' || format[0] == 'u')) {
      scheme.kind =
          format[0] == 'i' ? ElementKind::SignedInt : ElementKind::UnsignedInt;
      digits = format.substr(1);
    } else {
      fail(at, "expected an element format (iB, uB, i*, u*, f4e2m1, f6e2m3, "
               "f6e3m2, f8e4m3, f8e5m2, nf4, lutB, bcqB, ternary, mxfp4 or "
               "nvfp4) but found " +
                   describe(at));
      return false;
    }
    if (digits.size() != 1 || digits[0] < char('0' + kMinIntBits) ||
        digits[0] > char('0' + kMaxIntBits)) {
      fail(at, "expected bit-width between " + std::to_string(kMinIntBits) +
                   " and " + std::to_string(kMaxIntBits) + " in '" +
                   std::string(format) + "'");
      return false;
    }
    scheme.bits = unsigned(digits[0] - '0');
    return true;
  }

  /// Parses a non-negative decimal integer word.
  std::optional<int64_t> parseInteger(std::string_view what) {
    size_t at = skipSpace();
    std::string_view digits = word();
    int64_t value = 0;
    auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || end != digits.data() + digits.size()) {
      fail(at, "expected " + std::string(what) + " but found " + describe(at));
      return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range) {
      fail(at, "'" + std::string(digits) + "' is too large");
      return std::nullopt;
    }
    return value;
  }

  bool parseBitsList(Scheme &scheme) {
    if (!expect('[', "to open the bits list"))
      return false;
    scheme.mixedBits.clear();
    while (true) {
      const size_t widthAt = skipSpace();
      std::optional<int64_t> width = parseInteger("a bit-width");
      if (!width)
        return false;
      if (*width < kMinIntBits || *width > kMaxIntBits) {
        fail(widthAt, rangeMessage("bits = [...] entry " +
                                       std::to_string(scheme.mixedBits.size()),
                                   *width));
        return false;
      }
      scheme.mixedBits.push_back(unsigned(*width));
      size_t at = skipSpace();
      if (peek() == ']') {
        ++pos;
        break;
      }
      if (peek() != ',') {
        fail(at,
             "expected ',' or ']' in the bits list but found " + describe(at));
        return false;
      }
      ++pos;
    }
    scheme.bits =
        *std::max_element(scheme.mixedBits.begin(), scheme.mixedBits.end());
    return true;
  }

  bool parseGroup(Scheme &scheme) {
    size_t at = skipSpace();
    std::string_view group = word();
    if (group == "channel") {
      scheme.groupSize = kPerChannel;
      return true;
    }
    if (group == "tensor") {
      scheme.groupSize = kPerTensor;
      return true;
    }
    int64_t value = 0;
    auto [end, ec] =
        std::from_chars(group.data(), group.data() + group.size(), value);
    if (group.empty() || end != group.data() + group.size()) {
      fail(at, "expected a positive integer, 'channel' or 'tensor' for group "
               "but found " +
                   describe(at));
      return false;
    }
    if (ec == std::errc::result_out_of_range) {
      fail(at, "group size '" + std::string(group) + "' is too large");
      return false;
    }
    if (value <= 0) {
      fail(at, "group size must be positive, got " + std::string(group));
      return false;
    }
    scheme.groupSize = value;
    return true;
  }

  bool parseScale(Scheme &scheme) {
    size_t at = skipSpace();
    std::string_view scale = word();
    static const struct {
      const char *name;
      ScaleType type;
    } types[] = {{"f16", ScaleType::F16},
                 {"bf16", ScaleType::BF16},
                 {"f32", ScaleType::F32},
                 {"e8m0", ScaleType::E8M0},
                 {"f8e4m3", ScaleType::F8E4M3}};
    for (const auto &entry : types)
      if (scale == entry.name) {
        scheme.scaleType = entry.type;
        return true;
      }
    if (scale.empty())
      fail(at, "expected scale type but found " + describe(at));
    else
      fail(at, "unknown scale type '" + std::string(scale) +
                   "' (expected f16, bf16, f32, e8m0 or f8e4m3)");
    return false;
  }

  bool parseZero(Scheme &scheme) {
    size_t at = skipSpace();
    std::string_view zero = word();
    if (zero == "none")
      scheme.zero = ZeroKind::None;
    else if (zero == "int")
      scheme.zero = ZeroKind::Int;
    else if (zero == "float")
      scheme.zero = ZeroKind::Float;
    else if (zero.empty())
      return fail(at, "expected zero kind but found " + describe(at)), false;
    else
      return fail(at, "unknown zero kind '" + std::string(zero) +
                          "' (expected none, int or float)"),
             false;
    return true;
  }

  bool parseCodebook(Scheme &scheme) {
    size_t at = skipSpace();
    std::string_view scope = word();
    if (scope == "tensor")
      scheme.codebook = CodebookScope::Tensor;
    else if (scope == "group")
      scheme.codebook = CodebookScope::Group;
    else if (scope.empty())
      return fail(at, "expected codebook scope but found " + describe(at)),
             false;
    else
      return fail(at, "unknown codebook scope '" + std::string(scope) +
                          "' (expected tensor or group)"),
             false;
    return true;
  }

  static bool isPunctuation(char c) {
    return c == '<' || c == '>' || c == ',' || c == '=' || c == '[' || c == ']';
  }
  static bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
  }

  /// Skips whitespace and returns the new position.
  size_t skipSpace() {
    while (pos < text.size() && isSpace(text[pos]))
      ++pos;
    return pos;
  }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }

  /// Reads a word at the current position (empty if none starts there).
  std::string_view word() {
    size_t begin = pos;
    while (pos < text.size() && !isSpace(text[pos]) &&
           !isPunctuation(text[pos]))
      ++pos;
    return text.substr(begin, pos - begin);
  }

  /// Names the token at `at` for error messages.
  std::string describe(size_t at) const {
    if (at >= text.size())
      return "end of input";
    if (isPunctuation(text[at]))
      return std::string("'") + text[at] + "'";
    size_t end = at;
    while (end < text.size() && !isSpace(text[end]) &&
           !isPunctuation(text[end]))
      ++end;
    return "'" + std::string(text.substr(at, end - at)) + "'";
  }

  bool expect(char c, const char *context) {
    size_t at = skipSpace();
    if (peek() == c) {
      ++pos;
      return true;
    }
    fail(at, std::string("expected '") + c + "' " + context + " but found " +
                 describe(at));
    return false;
  }

  std::nullopt_t fail(size_t at, std::string what) {
    message = std::move(what);
    errorPos = at;
    return std::nullopt;
  }

  std::string_view text;
  size_t pos = 0;
  std::string message;
  size_t errorPos = 0;
};

} // namespace

std::optional<Scheme> Scheme::parse(std::string_view text, std::string *error) {
  return SchemeParser(text).parse(error);
}

//===----------------------------------------------------------------------===//
// Names and sizes
//===----------------------------------------------------------------------===//

const char *qmlir::core::toString(ScaleType type) {
  switch (type) {
  case ScaleType::F16:
    return "f16";
  case ScaleType::BF16:
    return "bf16";
  case ScaleType::F32:
    return "f32";
  case ScaleType::E8M0:
    return "e8m0";
  case ScaleType::F8E4M3:
    return "f8e4m3";
  }
  return "<invalid scale type>";
}

const char *qmlir::core::toString(ZeroKind zero) {
  switch (zero) {
  case ZeroKind::None:
    return "none";
  case ZeroKind::Int:
    return "int";
  case ZeroKind::Float:
    return "float";
  }
  return "<invalid zero kind>";
}

const char *qmlir::core::toString(FloatType type) {
  switch (type) {
  case FloatType::F16:
    return "f16";
  case FloatType::BF16:
    return "bf16";
  case FloatType::F32:
    return "f32";
  }
  return "<invalid float type>";
}

const char *qmlir::core::toString(FloatFormat format) {
  switch (format) {
  case FloatFormat::E2M1:
    return "f4e2m1";
  case FloatFormat::E2M3:
    return "f6e2m3";
  case FloatFormat::E3M2:
    return "f6e3m2";
  case FloatFormat::E4M3:
    return "f8e4m3";
  case FloatFormat::E5M2:
    return "f8e5m2";
  }
  return "<invalid float format>";
}

std::optional<FloatType> qmlir::core::parseFloatType(std::string_view name) {
  if (name == "f16")
    return FloatType::F16;
  if (name == "bf16")
    return FloatType::BF16;
  if (name == "f32")
    return FloatType::F32;
  return std::nullopt;
}

unsigned qmlir::core::byteSize(ScaleType type) {
  switch (type) {
  case ScaleType::F16:
  case ScaleType::BF16:
    return 2;
  case ScaleType::F32:
    return 4;
  case ScaleType::E8M0:
  case ScaleType::F8E4M3:
    return 1;
  }
  return 0;
}

unsigned qmlir::core::byteSize(FloatType type) {
  return type == FloatType::F32 ? 4 : 2;
}

const char *qmlir::core::mlirTypeName(ScaleType type) {
  switch (type) {
  case ScaleType::F16:
    return "f16";
  case ScaleType::BF16:
    return "bf16";
  case ScaleType::F32:
    return "f32";
  case ScaleType::E8M0:
    return "f8E8M0FNU";
  case ScaleType::F8E4M3:
    return "f8E4M3FN";
  }
  return "<invalid scale type>";
}

//===----------------------------------------------------------------------===//
// Packed codes
//===----------------------------------------------------------------------===//

uint32_t qmlir::core::extractBits(const uint32_t *row, int64_t bitOffset,
                                  unsigned bits) {
  assert(bits >= 1 && bits <= 32 && bitOffset >= 0);
  uint64_t word = uint64_t(bitOffset) / 32;
  unsigned offset = unsigned(uint64_t(bitOffset) % 32);
  uint64_t value = row[word] >> offset;
  // Only touch the next word when the field straddles it: it may not exist.
  if (offset + bits > 32)
    value |= uint64_t(row[word + 1]) << (32 - offset);
  return uint32_t(value & ((uint64_t(1) << bits) - 1));
}

void qmlir::core::insertBits(uint32_t *row, int64_t bitOffset, unsigned bits,
                             uint32_t value) {
  assert(bits >= 1 && bits <= 32 && bitOffset >= 0);
  uint64_t mask = (uint64_t(1) << bits) - 1;
  uint64_t field = value & mask;
  uint64_t word = uint64_t(bitOffset) / 32;
  unsigned offset = unsigned(uint64_t(bitOffset) % 32);
  row[word] = uint32_t((row[word] & ~(mask << offset)) | (field << offset));
  if (offset + bits > 32) {
    unsigned shift = 32 - offset;
    row[word + 1] =
        uint32_t((row[word + 1] & ~(mask >> shift)) | (field >> shift));
  }
}

int32_t qmlir::core::codeValue(uint32_t code, unsigned bits, bool isSigned) {
  assert(bits >= 1 && bits <= 31);
  uint32_t raw = code & ((uint32_t(1) << bits) - 1);
  if (isSigned && (raw >> (bits - 1)) != 0)
    return int32_t(raw) - (int32_t(1) << bits);
  return int32_t(raw);
}

namespace {
constexpr uint32_t kPowersOf3[kTritsPerWord] = {
    1u,        3u,        9u,         27u,        81u,
    243u,      729u,      2187u,      6561u,      19683u,
    59049u,    177147u,   531441u,    1594323u,   4782969u,
    14348907u, 43046721u, 129140163u, 387420489u, 1162261467u};
static_assert(uint64_t(kPowersOf3[kTritsPerWord - 1]) * 3 <= UINT32_MAX + 1ull);
} // namespace

int32_t qmlir::core::extractTrit(const uint32_t *row, int64_t index) {
  assert(index >= 0);
  uint32_t word = row[index / kTritsPerWord];
  return int32_t(word / kPowersOf3[index % kTritsPerWord] % 3) - 1;
}

void qmlir::core::insertTrit(uint32_t *row, int64_t index, int32_t trit) {
  assert(index >= 0 && trit >= -1 && trit <= 1);
  uint32_t &word = row[index / kTritsPerWord];
  uint32_t power = kPowersOf3[index % kTritsPerWord];
  uint32_t old = word / power % 3;
  word = word - old * power + uint32_t(trit + 1) * power;
}

//===----------------------------------------------------------------------===//
// Small floats
//===----------------------------------------------------------------------===//

namespace {

struct FloatInfo {
  unsigned exponentBits, mantissaBits;
  int bias;
  uint32_t maxMagnitude; // code of the largest finite value, without sign
  uint32_t nanCode;      // 0 where the format has no NaN
};

FloatInfo floatInfo(FloatFormat format) {
  switch (format) {
  case FloatFormat::E2M1:
    return {2, 1, 1, 0x7, 0};
  case FloatFormat::E2M3:
    return {2, 3, 1, 0x1F, 0};
  case FloatFormat::E3M2:
    return {3, 2, 3, 0x1F, 0};
  case FloatFormat::E4M3:
    return {4, 3, 7, 0x7E, 0x7F};
  case FloatFormat::E5M2:
    return {5, 2, 15, 0x7B, 0x7E};
  }
  assert(false && "invalid float format");
  return {2, 1, 1, 0x7, 0};
}

/// Shifts `value` right by `shift` (>= 1) bits, rounding to nearest even.
uint32_t shiftRightRne(uint32_t value, unsigned shift) {
  if (shift >= 32)
    return 0; // callers only shift values below 2^24: less than one half
  uint32_t kept = value >> shift;
  uint32_t rest = value & ((uint32_t(1) << shift) - 1);
  uint32_t half = uint32_t(1) << (shift - 1);
  if (rest > half || (rest == half && (kept & 1)))
    ++kept;
  return kept;
}

} // namespace

unsigned qmlir::core::floatBits(FloatFormat format) {
  FloatInfo info = floatInfo(format);
  return 1 + info.exponentBits + info.mantissaBits;
}

float qmlir::core::maxFinite(FloatFormat format) {
  return decodeFloat(format, floatInfo(format).maxMagnitude);
}

float qmlir::core::decodeFloat(FloatFormat format, uint32_t code) {
  const FloatInfo info = floatInfo(format);
  const unsigned e = info.exponentBits, m = info.mantissaBits;
  code &= (uint32_t(1) << (1 + e + m)) - 1;
  const uint32_t sign = (code >> (e + m)) << 31;
  const uint32_t magnitude = code & ((uint32_t(1) << (e + m)) - 1);
  uint32_t exponent = magnitude >> m;
  uint32_t mantissa = magnitude & ((uint32_t(1) << m) - 1);
  if (format == FloatFormat::E4M3 && magnitude == 0x7F)
    return std::bit_cast<float>(sign | 0x7FC00000u);
  if (format == FloatFormat::E5M2 && exponent == 0x1F)
    return std::bit_cast<float>(sign | 0x7F800000u |
                                (mantissa ? 0x00400000u : 0u));
  uint32_t result;
  if (exponent != 0) {
    result = sign | (uint32_t(int(exponent) - info.bias + 127) << 23) |
             (mantissa << (23 - m));
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal: normalize; every small-float subnormal is an f32 normal.
    unsigned shift = m + 1 - unsigned(std::bit_width(mantissa));
    mantissa = (mantissa << shift) & ((uint32_t(1) << m) - 1);
    result = sign | (uint32_t(1 - info.bias - int(shift) + 127) << 23) |
             (mantissa << (23 - m));
  }
  return std::bit_cast<float>(result);
}

uint32_t qmlir::core::encodeFloat(FloatFormat format, float value) {
  const FloatInfo info = floatInfo(format);
  const unsigned e = info.exponentBits, m = info.mantissaBits;
  const uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (bits >> 31) << (e + m);
  const uint32_t absBits = bits & 0x7FFFFFFFu;
  if (absBits > 0x7F800000u) // NaN
    return info.nanCode ? sign | info.nanCode : 0;

  uint32_t magnitude;
  if (absBits == 0x7F800000u) {
    magnitude = info.maxMagnitude; // saturating: no infinities
  } else if ((absBits >> 23) == 0) {
    // f32 zeros and subnormals are far below half the smallest subnormal.
    magnitude = 0;
  } else {
    const int exponent = int(absBits >> 23) - 127 + info.bias;
    const uint32_t mantissa = absBits & 0x7FFFFF;
    if (exponent >= 1) {
      // Normal: keep the top m mantissa bits, rounding to nearest even; a
      // carry correctly moves into the exponent.
      const unsigned shift = 23 - m;
      magnitude =
          (uint32_t(std::min(exponent, 255)) << m) | (mantissa >> shift);
      uint32_t rest = mantissa & ((uint32_t(1) << shift) - 1);
      uint32_t half = uint32_t(1) << (shift - 1);
      if (rest > half || (rest == half && (magnitude & 1)))
        ++magnitude;
    } else {
      // Subnormal result; a carry yields the smallest normal, correctly.
      magnitude = shiftRightRne(mantissa | 0x800000,
                                unsigned((23 - int(m)) + (1 - exponent)));
    }
    magnitude = std::min(magnitude, info.maxMagnitude);
  }
  return sign | magnitude;
}

const float *qmlir::core::normalFloat4Table() {
  static const float table[16] = {-1.0f,
                                  -0.6961928009986877f,
                                  -0.5250730514526367f,
                                  -0.39491748809814453f,
                                  -0.28444138169288635f,
                                  -0.18477343022823334f,
                                  -0.09105003625154495f,
                                  0.0f,
                                  0.07958029955625534f,
                                  0.16093020141124725f,
                                  0.24611230194568634f,
                                  0.33791524171829224f,
                                  0.44070982933044434f,
                                  0.5626170039176941f,
                                  0.7229568362236023f,
                                  1.0f};
  return table;
}

//===----------------------------------------------------------------------===//
// 16-bit floats
//
// Integer bit manipulation rather than _Float16/__bf16, so the results do not
// depend on the compiler, the target or the floating-point environment.
//===----------------------------------------------------------------------===//

float qmlir::core::halfToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t result;
  if (exponent == 0x1f) {
    // Inf or NaN; the NaN payload moves to the top of the f32 mantissa.
    result = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent != 0) {
    result = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    result = sign;
  } else {
    // Subnormal half: normalize; every half subnormal is an f32 normal.
    int shift = std::countl_zero(mantissa) - (32 - 11);
    mantissa = (mantissa << shift) & 0x3ff;
    result = sign | (uint32_t(127 - 14 - shift) << 23) | (mantissa << 13);
  }
  return std::bit_cast<float>(result);
}

uint16_t qmlir::core::floatToHalf(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  uint32_t exponent = (bits >> 23) & 0xff;
  uint32_t mantissa = bits & 0x7fffff;

  if (exponent == 0xff) {
    if (mantissa == 0)
      return sign | 0x7c00;
    // Keep the top payload bits and force a quiet NaN so it stays a NaN.
    return uint16_t(sign | 0x7e00 | (mantissa >> 13));
  }
  // f32 zeros and subnormals (< 2^-126) are far below half of the smallest
  // half subnormal (2^-25).
  if (exponent == 0)
    return sign;

  int halfExponent = int(exponent) - 127 + 15;
  if (halfExponent >= 0x1f)
    return sign | 0x7c00; // >= 2^16: rounds to infinity
  if (halfExponent <= 0) {
    // Subnormal result: the value is (1.m) * 2^(e) = m' * 2^-24 with
    // m' = (2^23 + m) >> (14 - halfExponent) before rounding. A carry into
    // bit 10 yields the smallest normal, which is the correct encoding.
    uint32_t full = mantissa | 0x800000;
    return uint16_t(sign | shiftRightRne(full, unsigned(14 - halfExponent)));
  }
  // Normal result; a mantissa carry increments the exponent and may reach
  // infinity (0x7c00), both of which are correct.
  uint32_t half = (uint32_t(halfExponent) << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return uint16_t(sign | half);
}

float qmlir::core::bf16ToFloat(uint16_t bits) {
  return std::bit_cast<float>(uint32_t(bits) << 16);
}

uint16_t qmlir::core::floatToBf16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  if ((bits & 0x7f800000) == 0x7f800000 && (bits & 0x7fffff) != 0)
    return uint16_t((bits >> 16) | 0x0040); // quiet NaN, never rounds to inf
  // Same exponent range as f32: rounding the low 16 bits away is enough, and
  // a carry correctly moves into the exponent (up to infinity).
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return uint16_t((bits + rounding) >> 16);
}

float qmlir::core::roundTo(FloatType type, float value) {
  switch (type) {
  case FloatType::F16:
    return halfToFloat(floatToHalf(value));
  case FloatType::BF16:
    return bf16ToFloat(floatToBf16(value));
  case FloatType::F32:
    return value;
  }
  return value;
}

//===----------------------------------------------------------------------===//
// Scale values
//===----------------------------------------------------------------------===//

namespace {
/// E8M0 bits of the smallest power of two at or above `value`: values at or
/// below 2^-127 (zero and negatives included) give 2^-127, values above
/// 2^127 saturate to it, NaN gives the NaN code 255.
uint32_t e8m0Bits(float value) {
  if (std::isnan(value))
    return 0xFF;
  if (!(value > 0.0f))
    return 0;
  uint32_t bits = std::bit_cast<uint32_t>(value);
  uint32_t exponent = bits >> 23, mantissa = bits & 0x7FFFFF;
  if (exponent == 0) // f32 subnormal: 2^-127 is 0x00400000
    return bits <= 0x00400000u ? 0 : 1;
  if (exponent == 0xFF) // infinity
    return 0xFE;
  return std::min<uint32_t>(exponent + (mantissa != 0 ? 1 : 0), 0xFE);
}
} // namespace

float qmlir::core::scaleValue(ScaleType type, uint32_t bits) {
  switch (type) {
  case ScaleType::F16:
    return halfToFloat(uint16_t(bits));
  case ScaleType::BF16:
    return bf16ToFloat(uint16_t(bits));
  case ScaleType::F32:
    return std::bit_cast<float>(bits);
  case ScaleType::E8M0: {
    uint32_t exponent = bits & 0xFF;
    if (exponent == 0xFF)
      return std::numeric_limits<float>::quiet_NaN();
    return std::bit_cast<float>(exponent == 0 ? 0x00400000u : exponent << 23);
  }
  case ScaleType::F8E4M3:
    return decodeFloat(FloatFormat::E4M3, bits & 0xFF);
  }
  return std::numeric_limits<float>::quiet_NaN();
}

uint32_t qmlir::core::scaleBits(ScaleType type, float value) {
  switch (type) {
  case ScaleType::F16:
    return floatToHalf(value);
  case ScaleType::BF16:
    return floatToBf16(value);
  case ScaleType::F32:
    return std::bit_cast<uint32_t>(value);
  case ScaleType::E8M0:
    return e8m0Bits(value);
  case ScaleType::F8E4M3:
    return encodeFloat(FloatFormat::E4M3, value);
  }
  return 0;
}

float qmlir::core::roundTo(ScaleType type, float value) {
  switch (type) {
  case ScaleType::F16:
    return roundTo(FloatType::F16, value);
  case ScaleType::BF16:
    return roundTo(FloatType::BF16, value);
  case ScaleType::F32:
    return value;
  case ScaleType::E8M0:
  case ScaleType::F8E4M3:
    return scaleValue(type, scaleBits(type, value));
  }
  return value;
}
