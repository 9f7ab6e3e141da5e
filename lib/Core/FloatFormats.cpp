//===- FloatFormats.cpp - Small floats, nf4, 16-bit floats, scales --------===//
//
// The OCP small-float codecs (FP4, FP6, FP8), the NormalFloat table, the
// f16 and bf16 conversions and the scale value codecs (f16, bf16, f32,
// e8m0, f8e4m3). Standard library only.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

using namespace qmlir::core;

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

uint16_t qmlir::core::activationBits(FloatType type, float value) {
  assert(type != FloatType::F32 && "activations are 16-bit");
  return type == FloatType::BF16 ? floatToBf16(value) : floatToHalf(value);
}

std::vector<uint8_t>
qmlir::core::activationBytes(FloatType type, const std::vector<float> &values) {
  std::vector<uint8_t> bytes;
  bytes.reserve(2 * values.size());
  for (float value : values) {
    uint16_t bits = activationBits(type, value);
    bytes.push_back(uint8_t(bits));
    bytes.push_back(uint8_t(bits >> 8));
  }
  return bytes;
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
