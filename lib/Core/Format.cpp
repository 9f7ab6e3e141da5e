//===- Format.cpp - Low-bit weight formats (MLIR-free) --------------------===//
//
// Schemes and their textual form, packed-code storage and the 16-bit float
// conversions. Standard library only.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <bit>
#include <cassert>
#include <charconv>

using namespace qmlir::core;

//===----------------------------------------------------------------------===//
// Scheme
//===----------------------------------------------------------------------===//

int32_t Scheme::minCode() const {
  return isSigned() ? -(int32_t(1) << (bits - 1)) : 0;
}

int32_t Scheme::maxCode() const {
  return isSigned() ? (int32_t(1) << (bits - 1)) - 1
                    : (int32_t(1) << bits) - 1;
}

std::string Scheme::validate() const {
  if (kind != ElementKind::SignedInt && kind != ElementKind::UnsignedInt)
    return "invalid element kind " + std::to_string(static_cast<int>(kind));
  if (bits < kMinIntBits || bits > kMaxIntBits)
    return "bit-width must be between " + std::to_string(kMinIntBits) +
           " and " + std::to_string(kMaxIntBits) + ", got " +
           std::to_string(bits);
  if (groupSize < 0)
    return "group size must be positive (or per-channel), got " +
           std::to_string(groupSize);
  if (scaleType != ScaleType::F16 && scaleType != ScaleType::BF16 &&
      scaleType != ScaleType::F32)
    return "invalid scale type " +
           std::to_string(static_cast<int>(scaleType));
  if (zero != ZeroKind::None && zero != ZeroKind::Int &&
      zero != ZeroKind::Float)
    return "invalid zero kind " + std::to_string(static_cast<int>(zero));
  return {};
}

std::string Scheme::validateShape(int64_t n, int64_t k) const {
  if (std::string error = validate(); !error.empty())
    return error;
  if (n <= 0)
    return "N must be positive, got " + std::to_string(n);
  if (k <= 0)
    return "K must be positive, got " + std::to_string(k);
  if (!isPerChannel() && k % groupSize != 0)
    return "K = " + std::to_string(k) +
           " is not divisible by the group size " + std::to_string(groupSize);
  return {};
}

std::string Scheme::str() const {
  std::string result = "#qmlir.scheme<";
  result += isSigned() ? 'i' : 'u';
  result += std::to_string(bits);
  result += ", group = ";
  result += isPerChannel() ? std::string("channel") : std::to_string(groupSize);
  result += ", scale = ";
  result += toString(scaleType);
  if (zero != ZeroKind::None) {
    result += ", zero = ";
    result += toString(zero);
  }
  result += '>';
  return result;
}

namespace {

/// Recursive-descent parser for the textual scheme form. Tokens are the
/// punctuation characters `<`, `>`, `,`, `=` and words (maximal runs of any
/// other non-space characters); whitespace between tokens is ignored.
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

    // Element type: iB or uB.
    at = skipSpace();
    std::string_view element = word();
    if (element.empty() || (element[0] != 'i' && element[0] != 'u'))
      return fail(at, "expected element type 'iB' or 'uB' but found " +
                          describe(at));
    scheme.kind = element[0] == 'i' ? ElementKind::SignedInt
                                    : ElementKind::UnsignedInt;
    if (element.size() != 2 || element[1] < char('0' + kMinIntBits) ||
        element[1] > char('0' + kMaxIntBits))
      return fail(at, "expected bit-width between " +
                          std::to_string(kMinIntBits) + " and " +
                          std::to_string(kMaxIntBits) + " in '" +
                          std::string(element) + "'");
    scheme.bits = unsigned(element[1] - '0');

    // group = <positive int> | channel
    if (!expect(',', "after the element type") || !keyword("group"))
      return std::nullopt;
    at = skipSpace();
    std::string_view group = word();
    if (group == "channel") {
      scheme.groupSize = kPerChannel;
    } else {
      int64_t value = 0;
      auto [end, ec] =
          std::from_chars(group.data(), group.data() + group.size(), value);
      if (group.empty() || end != group.data() + group.size())
        return fail(at, "expected a positive integer or 'channel' for group "
                        "but found " +
                            describe(at));
      if (ec == std::errc::result_out_of_range)
        return fail(at, "group size '" + std::string(group) + "' is too large");
      if (value <= 0)
        return fail(at, "group size must be positive, got " +
                            std::string(group));
      scheme.groupSize = value;
    }

    // scale = f16 | bf16 | f32
    if (!expect(',', "after the group size") || !keyword("scale"))
      return std::nullopt;
    at = skipSpace();
    std::string_view scale = word();
    if (scale == "f16")
      scheme.scaleType = ScaleType::F16;
    else if (scale == "bf16")
      scheme.scaleType = ScaleType::BF16;
    else if (scale == "f32")
      scheme.scaleType = ScaleType::F32;
    else if (scale.empty())
      return fail(at, "expected scale type but found " + describe(at));
    else
      return fail(at, "unknown scale type '" + std::string(scale) +
                          "' (expected f16, bf16 or f32)");

    // Optional: , zero = none | int | float
    at = skipSpace();
    if (peek() == ',') {
      ++pos;
      if (!keyword("zero"))
        return std::nullopt;
      at = skipSpace();
      std::string_view zero = word();
      if (zero == "none")
        scheme.zero = ZeroKind::None;
      else if (zero == "int")
        scheme.zero = ZeroKind::Int;
      else if (zero == "float")
        scheme.zero = ZeroKind::Float;
      else if (zero.empty())
        return fail(at, "expected zero kind but found " + describe(at));
      else
        return fail(at, "unknown zero kind '" + std::string(zero) +
                            "' (expected none, int or float)");
    }

    if (!expect('>', "to close the scheme"))
      return std::nullopt;
    at = skipSpace();
    if (at != text.size())
      return fail(at, "unexpected trailing text '" +
                          std::string(text.substr(at)) + "'");
    return scheme;
  }

  static bool isPunctuation(char c) {
    return c == '<' || c == '>' || c == ',' || c == '=';
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

  /// Parses `name =`.
  bool keyword(std::string_view name) {
    size_t at = skipSpace();
    if (word() != name) {
      fail(at, "expected '" + std::string(name) + "' but found " +
                   describe(at));
      return false;
    }
    return expect('=', ("after '" + std::string(name) + "'").c_str());
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
  return type == ScaleType::F32 ? 4 : 2;
}

unsigned qmlir::core::byteSize(FloatType type) {
  return type == FloatType::F32 ? 4 : 2;
}

//===----------------------------------------------------------------------===//
// Packed codes
//===----------------------------------------------------------------------===//

uint32_t qmlir::core::extractCode(const uint32_t *row, int64_t index,
                                  unsigned bits) {
  assert(bits >= 1 && bits <= 32 && index >= 0);
  uint64_t bit = uint64_t(index) * bits;
  uint64_t word = bit / 32;
  unsigned offset = unsigned(bit % 32);
  uint64_t value = row[word] >> offset;
  // Only touch the next word when the code straddles it: it may not exist.
  if (offset + bits > 32)
    value |= uint64_t(row[word + 1]) << (32 - offset);
  return uint32_t(value & ((uint64_t(1) << bits) - 1));
}

void qmlir::core::insertCode(uint32_t *row, int64_t index, unsigned bits,
                             uint32_t code) {
  assert(bits >= 1 && bits <= 32 && index >= 0);
  uint64_t mask = (uint64_t(1) << bits) - 1;
  uint64_t value = code & mask;
  uint64_t bit = uint64_t(index) * bits;
  uint64_t word = bit / 32;
  unsigned offset = unsigned(bit % 32);
  row[word] = uint32_t((row[word] & ~(mask << offset)) | (value << offset));
  if (offset + bits > 32) {
    unsigned shift = 32 - offset;
    row[word + 1] = uint32_t((row[word + 1] & ~(mask >> shift)) |
                             (value >> shift));
  }
}

int32_t qmlir::core::codeValue(uint32_t code, const Scheme &scheme) {
  uint32_t raw = code & ((uint32_t(1) << scheme.bits) - 1);
  if (scheme.isSigned() && (raw >> (scheme.bits - 1)) != 0)
    return int32_t(raw) - (int32_t(1) << scheme.bits);
  return int32_t(raw);
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

namespace {
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

float qmlir::core::roundTo(ScaleType type, float value) {
  switch (type) {
  case ScaleType::F16:
    return roundTo(FloatType::F16, value);
  case ScaleType::BF16:
    return roundTo(FloatType::BF16, value);
  case ScaleType::F32:
    return value;
  }
  return value;
}
