//===- Format.h - Low-bit weight formats (MLIR-free) ------------*- C++ -*-===//
//
// The format definitions shared by the compiler, the runtime, the reference
// numerics and the tests. This header and its library depend on the C++
// standard library only: the GPU machines have no MLIR or LLVM.
//
// A scheme describes how a logical [N, K] float weight matrix is stored:
// an element format, a scale granularity along K (groups, per-channel or
// per-tensor), the storage type of the scales, the kind of zero point, and
// for some formats a codebook or GPTQ's act-order permutation. The storage
// of one matrix is a list of 2-D parts (Scheme::parts), the same list the IR
// (qmlir.pack operands), the bundle manifest (kernel arguments) and the
// runtime use.
//
// Textual form, identical to the IR attribute:
//   #qmlir.scheme<i4, group = 128, scale = f16, zero = int>
//   #qmlir.scheme<u8, group = channel, scale = f32>
//   #qmlir.scheme<f4e2m1, group = 32, scale = e8m0>        (MXFP4)
//   #qmlir.scheme<lut4, group = channel, codebook = group>
//   #qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = f16, zero = int>
//   #qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>
// Fields appear in this order; "zero = none" is the default and omitted.
// Aliases: mxfp4 = f4e2m1, group = 32, scale = e8m0;
//          nvfp4 = f4e2m1, group = 16, scale = f8e4m3.
//
// Element formats:
//   iB / uB  signed (two's complement) / unsigned integer codes, B in 1..8;
//            w = (q - z) * s. i1 needs zero points (its codes are -1, 0).
//   i* / u*  integer codes whose bit-width varies per group (bits = [...],
//            one entry per group of a row, the same for every row).
//   f4e2m1, f6e2m3, f6e3m2, f8e4m3, f8e5m2
//            OCP small floats (FP4 E2M1, FP6 E2M3/E3M2 without inf or NaN;
//            FP8 E4M3FN with NaN = S.1111.111 and no inf; FP8 E5M2 IEEE-like
//            with inf and NaN); w = decode(q) * s. No zero points.
//   nf4      4-bit NormalFloat (the 16 fixed values of QLoRA); w = nf4[q] * s.
//   lutB     B-bit indices into a codebook of 2^B values of the scale type;
//            w = codebook[q]. One codebook per tensor or per (row, group).
//   bcqB     binary-coded quantization with B planes: w = sum_i a_i * b_i
//            (+ z with zero = float), b_i in {-1, +1}, one a_i per plane and
//            group.
//   ternary  codes in {-1, 0, 1}, packed in base 3; w = t * s.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_FORMAT_H
#define QMLIR_CORE_FORMAT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qmlir::core {

enum class ElementKind {
  SignedInt,
  UnsignedInt,
  Float,       // small floats: see FloatFormat
  NormalFloat, // nf4
  Codebook,    // lutB
  BinaryCoded, // bcqB
  Ternary
};
enum class FloatFormat { E2M1, E2M3, E3M2, E4M3, E5M2 };
enum class ScaleType { F16, BF16, F32, E8M0, F8E4M3 };
enum class ZeroKind { None, Int, Float };
enum class CodebookScope { Tensor, Group };
/// Floating-point types of activations and outputs.
enum class FloatType { F16, BF16, F32 };

/// Inclusive bounds on the bit-width of integer codes (and lut, bcq).
inline constexpr unsigned kMinIntBits = 1;
inline constexpr unsigned kMaxIntBits = 8;

/// Group size values with a special meaning.
inline constexpr int64_t kPerChannel = 0; // one group per row
inline constexpr int64_t kPerTensor = -1; // one scale for the whole matrix

/// Codes of a ternary row: 20 trits per 32-bit word (3^20 < 2^32), trit j of
/// a word is digit j of the word's value in base 3, stored as t + 1.
inline constexpr int64_t kTritsPerWord = 20;

/// One 2-D part of a quantized matrix's storage, in operand order.
struct Part {
  /// "codes", "scales", "zeros", "codebook" or "g_idx".
  std::string name;
  /// "i32", "f16", "bf16", "f32", "f8E8M0FNU" or "f8E4M3FN" (MLIR's names).
  std::string element;
  int64_t rows = 0, cols = 0;
  bool operator==(const Part &other) const = default;
};

struct Scheme {
  ElementKind kind = ElementKind::SignedInt;
  /// Bits of one code: B for iB, uB, lutB; planes for bcqB; 4, 6 or 8 for
  /// small floats; 4 for nf4; 2 for ternary (the width of its logical code,
  /// not its storage, which is base 3). For i* / u*, the widest group.
  unsigned bits = 4;
  FloatFormat floatFormat = FloatFormat::E2M1; // for ElementKind::Float
  /// Per-group bit-widths for i* / u* (empty otherwise).
  std::vector<unsigned> mixedBits;
  int64_t groupSize = 128; // or kPerChannel, kPerTensor
  ScaleType scaleType = ScaleType::F16;
  ZeroKind zero = ZeroKind::None;
  CodebookScope codebook = CodebookScope::Tensor; // for ElementKind::Codebook
  /// GPTQ act-order: column k belongs to group g_idx[k] (a "g_idx" part)
  /// instead of k / groupSize. Integer formats with groups only.
  bool actOrder = false;

  bool isInteger() const {
    return kind == ElementKind::SignedInt || kind == ElementKind::UnsignedInt;
  }
  bool isSigned() const { return kind == ElementKind::SignedInt; }
  bool isMixed() const { return !mixedBits.empty(); }
  bool isPerChannel() const { return groupSize == kPerChannel; }
  bool isPerTensor() const { return groupSize == kPerTensor; }
  /// Whether the scheme has a "scales" part (all but codebooks).
  bool hasScales() const { return kind != ElementKind::Codebook; }
  /// Smallest and largest integer code of `width` bits (integer formats).
  int32_t minCode(unsigned width) const;
  int32_t maxCode(unsigned width) const;
  int32_t minCode() const { return minCode(bits); }
  int32_t maxCode() const { return maxCode(bits); }
  /// Bits of the codes of group `g` (mixedBits[g], else bits).
  unsigned bitsOfGroup(int64_t g) const {
    return isMixed() ? mixedBits[g] : bits;
  }
  /// Elements of a row sharing one scale, for rows of length `k`
  /// (per-tensor: k, with one scale for all rows).
  int64_t groupSizeFor(int64_t k) const {
    return groupSize > 0 ? groupSize : k;
  }
  /// Scale groups in a row of length `k`.
  int64_t groupsPerRow(int64_t k) const { return k / groupSizeFor(k); }

  /// Empty if the scheme is well formed, otherwise a message naming the
  /// offending field.
  std::string validate() const;
  /// Empty if the scheme can describe [n, k] weights.
  std::string validateShape(int64_t n, int64_t k) const;

  /// The storage of [n, k] weights, in operand order: codes, then (as the
  /// scheme has them) scales, zeros, codebook, g_idx.
  std::vector<Part> parts(int64_t n, int64_t k) const;
  /// 32-bit words of one row of codes (of zero points) for rows of length k.
  int64_t codeWordsPerRow(int64_t k) const;
  int64_t zeroWordsPerRow(int64_t k) const;
  /// Bit offset of code `col` within its row's bit stream (integer, float,
  /// nf4 and lut formats; mixed widths accumulate per group).
  int64_t codeBitOffset(int64_t col, int64_t k) const;

  /// The textual form, as the IR prints it.
  std::string str() const;
  /// Parses the textual form. On failure returns std::nullopt and, if `error`
  /// is non-null, a message naming the problem and its position.
  static std::optional<Scheme> parse(std::string_view text,
                                     std::string *error = nullptr);

  bool operator==(const Scheme &other) const = default;
};

const char *toString(ScaleType type);
const char *toString(ZeroKind zero);
const char *toString(FloatType type);
const char *toString(FloatFormat format); // "f4e2m1", ...
std::optional<FloatType> parseFloatType(std::string_view name);
/// Size in bytes of one element of the type.
unsigned byteSize(ScaleType type);
unsigned byteSize(FloatType type);
/// Size in bytes of a Part element ("i32", "f16", ...); 0 if unknown.
unsigned elementByteSize(std::string_view element);
/// MLIR's name of the storage element type ("f16", "f8E8M0FNU", ...).
const char *mlirTypeName(ScaleType type);

//===----------------------------------------------------------------------===//
// Packed codes.
//
// Codes of one row are a little-endian bit stream over 32-bit words: stream
// bit i is bit (i % 32) of word (i / 32); code j of a row of fixed-width codes
// occupies stream bits [j * B, (j + 1) * B); codes may straddle two words;
// every row starts on a fresh word; unused bits are zero. Mixed widths: group
// g's codes follow those of groups 0..g-1 (Scheme::codeBitOffset). Integer
// zero points are packed the same way, one code per group (of that group's
// width). bcqB: plane i of a row is words [i * W, (i + 1) * W) of the row,
// W = ceil(K / 32), bit k of a plane is column k (1 means +1, 0 means -1).
// Ternary: see kTritsPerWord. This is the canonical (logical) layout;
// kernel-specific layouts are derived from it by the packer.
//===----------------------------------------------------------------------===//

/// Number of 32-bit words holding `count` codes of `bits` bits.
inline int64_t packedWords(int64_t count, unsigned bits) {
  return (count * bits + 31) / 32;
}
/// Returns the `bits`-wide field (zero-extended) at stream bit `bitOffset`.
uint32_t extractBits(const uint32_t *row, int64_t bitOffset, unsigned bits);
/// Stores the low `bits` bits of `value` at stream bit `bitOffset`; other
/// bits are left untouched.
void insertBits(uint32_t *row, int64_t bitOffset, unsigned bits,
                uint32_t value);
/// Fixed-width shorthands: code `index` of `bits` bits.
inline uint32_t extractCode(const uint32_t *row, int64_t index,
                            unsigned bits) {
  return extractBits(row, index * bits, bits);
}
inline void insertCode(uint32_t *row, int64_t index, unsigned bits,
                       uint32_t code) {
  insertBits(row, index * bits, bits, code);
}
/// Interprets a raw integer code of `bits` bits: sign extension for signed
/// schemes.
int32_t codeValue(uint32_t code, unsigned bits, bool isSigned);
inline int32_t codeValue(uint32_t code, const Scheme &scheme) {
  return codeValue(code, scheme.bits, scheme.isSigned());
}
/// Trit `index` (-1, 0 or 1) of a ternary row, and its inverse.
int32_t extractTrit(const uint32_t *row, int64_t index);
void insertTrit(uint32_t *row, int64_t index, int32_t trit);

//===----------------------------------------------------------------------===//
// Element and scale values. Small floats are decoded with integer bit
// operations, as the GPU does.
//===----------------------------------------------------------------------===//

/// The value of a small-float code (NaN and inf where the format has them).
float decodeFloat(FloatFormat format, uint32_t code);
/// The code of the representable value nearest to `value` (ties to even),
/// saturating to the largest finite value; NaN maps to the format's NaN, or
/// to 0 where it has none.
uint32_t encodeFloat(FloatFormat format, float value);
/// Largest finite value of the format.
float maxFinite(FloatFormat format);
/// Bits of a code of the format (4, 6 or 8).
unsigned floatBits(FloatFormat format);
/// The 16 NormalFloat-4 values, ascending (nf4[7] = 0).
const float *normalFloat4Table();

/// Scale values: storage bits <-> float. E8M0 is 2^(e - 127) (e = 255 is
/// NaN); F8E4M3 as FP8 E4M3FN above.
float scaleValue(ScaleType type, uint32_t bits);
uint32_t scaleBits(ScaleType type, float value);
/// Rounds `value` to the nearest value of the type (E8M0: the next power of
/// two at or above it, so that scaled values never overflow).
float roundTo(ScaleType type, float value);

/// 16-bit floats, converted with round-to-nearest-even as the hardware does.
float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);
float bf16ToFloat(uint16_t bits);
uint16_t floatToBf16(float value);
/// Rounds `value` to the nearest value representable in `type`.
float roundTo(FloatType type, float value);
/// The bits of `value` rounded to a 16-bit activation type (F16 or BF16),
/// and a vector of such values as little-endian bytes (a bias in a bundle).
uint16_t activationBits(FloatType type, float value);
std::vector<uint8_t> activationBytes(FloatType type,
                                     const std::vector<float> &values);

} // namespace qmlir::core

#endif // QMLIR_CORE_FORMAT_H
