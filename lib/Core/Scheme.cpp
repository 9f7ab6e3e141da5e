//===- Scheme.cpp - Weight schemes (MLIR-free) ----------------------------===//
//
// Scheme's checks (validate, validateShape), its storage parts and their
// word counts, the bit offset of a code, its textual form (Scheme::str) and
// the names and byte sizes of the scale, zero and float types. The parser of
// the textual form is in SchemeParser.cpp. Standard library only.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cassert>

using namespace qmlir::core;
using namespace qmlir::core::detail;

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

} // namespace

std::string qmlir::core::detail::rangeMessage(const std::string &what,
                                              int64_t got) {
  return what + " must be between " + std::to_string(kMinIntBits) + " and " +
         std::to_string(kMaxIntBits) + ", got " + std::to_string(got);
}

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

unsigned qmlir::core::elementByteSize(std::string_view element) {
  if (element == "i32" || element == "f32")
    return 4;
  if (element == "f16" || element == "bf16")
    return 2;
  if (element == "f8E8M0FNU" || element == "f8E4M3FN")
    return 1;
  return 0;
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
