//===- SchemeParser.cpp - The textual scheme form (MLIR-free) -------------===//
//
// Scheme::parse: a recursive-descent parser for #qmlir.scheme<...>, with
// error messages that name the offending token and its offset. Standard
// library only.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <charconv>

using namespace qmlir::core;
using namespace qmlir::core::detail;

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
