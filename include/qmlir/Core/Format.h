//===- Format.h - Low-bit weight formats (MLIR-free) ------------*- C++ -*-===//
//
// The format definitions shared by the compiler, the runtime, the reference
// numerics and the tests. This header and its library depend on the C++
// standard library only: the GPU machines have no MLIR or LLVM.
//
// A scheme describes how a logical [N, K] float weight matrix is stored:
//   - an element format (today: signed or unsigned integers of 2-8 bits);
//   - a group size along K (or one group per row, "per-channel");
//   - the storage type of the per-group scales (f16, bf16, f32);
//   - the kind of zero point (none, an integer code, a float).
// New element formats (small floats, codebooks, binary-coded planes) extend
// ElementKind and the decode functions; the storage rules below stay as they
// are.
//
// Textual form, identical to the IR attribute:
//   #qmlir.scheme<i4, group = 128, scale = f16, zero = int>
//   #qmlir.scheme<u8, group = channel, scale = f32>
// "iB" is a signed (two's complement) B-bit code, "uB" an unsigned one;
// "zero = none" may be omitted.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_FORMAT_H
#define QMLIR_CORE_FORMAT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qmlir::core {

enum class ElementKind { SignedInt, UnsignedInt };
enum class ScaleType { F16, BF16, F32 };
enum class ZeroKind { None, Int, Float };
/// Floating-point types of activations and outputs.
enum class FloatType { F16, BF16, F32 };

/// Inclusive bounds on the bit-width of integer codes.
inline constexpr unsigned kMinIntBits = 2;
inline constexpr unsigned kMaxIntBits = 8;

/// Group size value meaning "one group spans the whole row (per-channel)".
inline constexpr int64_t kPerChannel = 0;

struct Scheme {
  ElementKind kind = ElementKind::SignedInt;
  unsigned bits = 4;
  int64_t groupSize = 128; // kPerChannel for per-channel scales
  ScaleType scaleType = ScaleType::F16;
  ZeroKind zero = ZeroKind::None;

  bool isSigned() const { return kind == ElementKind::SignedInt; }
  bool isPerChannel() const { return groupSize == kPerChannel; }
  /// Smallest and largest code values (after sign extension).
  int32_t minCode() const;
  int32_t maxCode() const;
  /// Effective group size for rows of length `k`.
  int64_t groupSizeFor(int64_t k) const { return isPerChannel() ? k : groupSize; }
  /// Number of scale (and zero) groups in a row of length `k`.
  int64_t groupsPerRow(int64_t k) const { return k / groupSizeFor(k); }

  /// Returns an empty string if the scheme is well formed, otherwise a message
  /// naming the offending field.
  std::string validate() const;
  /// Returns an empty string if the scheme can describe [n, k] weights.
  std::string validateShape(int64_t n, int64_t k) const;

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
std::optional<FloatType> parseFloatType(std::string_view name);
/// Size in bytes of one element of the type.
unsigned byteSize(ScaleType type);
unsigned byteSize(FloatType type);

//===----------------------------------------------------------------------===//
// Storage of packed codes.
//
// Codes of one row are a little-endian bit stream over 32-bit words: code j
// of a row occupies stream bits [j * bits, (j + 1) * bits), and stream bit i
// is bit (i % 32) of word (i / 32). A code may straddle two words (3, 5, 6 and
// 7 bits). Every row starts on a fresh word; the unused high bits of a row's
// last word are zero. Integer zero points are packed the same way, one code
// per group. This is the canonical (logical) layout; kernel-specific layouts
// are derived from it by the packer.
//===----------------------------------------------------------------------===//

/// Number of 32-bit words holding `count` codes of `bits` bits.
inline int64_t packedWords(int64_t count, unsigned bits) {
  return (count * bits + 31) / 32;
}
/// Returns code `index` (zero-extended, `bits` wide) of a packed row.
uint32_t extractCode(const uint32_t *row, int64_t index, unsigned bits);
/// Stores the low `bits` bits of `code` at `index` of a packed row; other
/// codes are left untouched.
void insertCode(uint32_t *row, int64_t index, unsigned bits, uint32_t code);
/// Interprets a raw `bits`-wide code as the scheme's integer value.
int32_t codeValue(uint32_t code, const Scheme &scheme);

//===----------------------------------------------------------------------===//
// 16-bit floats, converted with round-to-nearest-even as the hardware does.
//===----------------------------------------------------------------------===//

float halfToFloat(uint16_t bits);
uint16_t floatToHalf(float value);
float bf16ToFloat(uint16_t bits);
uint16_t floatToBf16(float value);
/// Rounds `value` to the nearest value representable in `type`.
float roundTo(FloatType type, float value);
float roundTo(ScaleType type, float value);

} // namespace qmlir::core

#endif // QMLIR_CORE_FORMAT_H
