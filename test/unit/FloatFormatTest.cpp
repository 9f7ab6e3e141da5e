//===- FloatFormatTest.cpp - Tests of small floats, nf4 and scales --------===//
//
// The OCP small floats (FP4 E2M1, FP6 E2M3 / E3M2, FP8 E4M3FN / E5M2), the
// NormalFloat-4 table and the scale storage types, checked exhaustively
// against independent formulas (ldexp) and hand tables.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using namespace qmlir::core;

namespace {

struct Layout {
  FloatFormat format;
  int exponentBits, mantissaBits, bias;
  double maxValue;
};

const Layout kLayouts[] = {
    {FloatFormat::E2M1, 2, 1, 1, 6.0},      {FloatFormat::E2M3, 2, 3, 1, 7.5},
    {FloatFormat::E3M2, 3, 2, 3, 28.0},     {FloatFormat::E4M3, 4, 3, 7, 448.0},
    {FloatFormat::E5M2, 5, 2, 15, 57344.0},
};

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// The value of a code from the OCP definitions, in double.
double definition(const Layout &l, uint32_t code) {
  const int m = l.mantissaBits, e = l.exponentBits;
  const double sign = (code >> (e + m)) & 1 ? -1.0 : 1.0;
  const int exponent = int(code >> m) & ((1 << e) - 1);
  const int mantissa = int(code) & ((1 << m) - 1);
  if (l.format == FloatFormat::E4M3 && exponent == 15 && mantissa == 7)
    return kNaN;
  if (l.format == FloatFormat::E5M2 && exponent == 31)
    return mantissa ? kNaN : sign * kInf;
  if (exponent == 0)
    return sign * std::ldexp(double(mantissa), 1 - l.bias - m);
  return sign *
         std::ldexp(1.0 + std::ldexp(double(mantissa), -m), exponent - l.bias);
}

std::string name(const Layout &l) { return toString(l.format); }

uint32_t codeCount(const Layout &l) {
  return 1u << (1 + l.exponentBits + l.mantissaBits);
}

uint32_t signBit(const Layout &l) {
  return 1u << (l.exponentBits + l.mantissaBits);
}

TEST(SmallFloatTest, DecodeMatchesDefinitionForEveryCode) {
  for (const Layout &l : kLayouts) {
    SCOPED_TRACE(name(l));
    EXPECT_EQ(floatBits(l.format),
              unsigned(1 + l.exponentBits + l.mantissaBits));
    EXPECT_EQ(maxFinite(l.format), float(l.maxValue));
    int nans = 0, infs = 0;
    double largest = 0;
    for (uint32_t code = 0; code < codeCount(l); ++code) {
      double expected = definition(l, code);
      float actual = decodeFloat(l.format, code);
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(actual)) << code;
        ++nans;
        continue;
      }
      ASSERT_EQ(double(actual), expected) << code;
      ASSERT_EQ(std::signbit(actual), bool(code & signBit(l))) << code;
      if (std::isinf(expected))
        ++infs;
      else
        largest = std::max(largest, std::fabs(expected));
      // Bits above the code are ignored.
      ASSERT_EQ(decodeFloat(l.format, code | (0xFFFFFF00u << 4) << 4), actual);
    }
    EXPECT_EQ(largest, l.maxValue);
    EXPECT_EQ(nans, l.format == FloatFormat::E4M3   ? 2
                    : l.format == FloatFormat::E5M2 ? 6
                                                    : 0);
    EXPECT_EQ(infs, l.format == FloatFormat::E5M2 ? 2 : 0);
  }
}

TEST(SmallFloatTest, HandTables) {
  const float e2m1[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (uint32_t code = 0; code < 8; ++code) {
    EXPECT_EQ(decodeFloat(FloatFormat::E2M1, code), e2m1[code]);
    EXPECT_EQ(decodeFloat(FloatFormat::E2M1, code | 8), -e2m1[code]);
  }
  // Smallest subnormals and largest values.
  EXPECT_EQ(decodeFloat(FloatFormat::E2M3, 1), 0.125f);
  EXPECT_EQ(decodeFloat(FloatFormat::E2M3, 0x1F), 7.5f);
  EXPECT_EQ(decodeFloat(FloatFormat::E2M3, 0x08), 1.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E3M2, 1), 0.0625f);
  EXPECT_EQ(decodeFloat(FloatFormat::E3M2, 0x1F), 28.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E3M2, 0x0C), 1.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 1), 0x1p-9f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 0x07), 0x7p-9f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 0x08), 0x1p-6f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 0x38), 1.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 0x7E), 448.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E4M3, 0xFE), -448.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E5M2, 1), 0x1p-16f);
  EXPECT_EQ(decodeFloat(FloatFormat::E5M2, 0x3C), 1.0f);
  EXPECT_EQ(decodeFloat(FloatFormat::E5M2, 0x7B), 57344.0f);
}

TEST(SmallFloatTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // E4M3FN: S.1111.111 is NaN, no infinities, saturation at 448.
  EXPECT_TRUE(std::isnan(decodeFloat(FloatFormat::E4M3, 0x7F)));
  EXPECT_TRUE(std::isnan(decodeFloat(FloatFormat::E4M3, 0xFF)));
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, nan), 0x7Fu);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, -nan), 0xFFu);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, inf), 0x7Eu);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, -inf), 0xFEu);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, 464.0f), 0x7Eu); // not NaN
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, 1e30f), 0x7Eu);
  // E5M2: IEEE-like infinities and NaNs; encoding saturates.
  EXPECT_EQ(decodeFloat(FloatFormat::E5M2, 0x7C), inf);
  EXPECT_EQ(decodeFloat(FloatFormat::E5M2, 0xFC), -inf);
  for (uint32_t code : {0x7Du, 0x7Eu, 0x7Fu, 0xFDu, 0xFEu, 0xFFu})
    EXPECT_TRUE(std::isnan(decodeFloat(FloatFormat::E5M2, code))) << code;
  EXPECT_TRUE(std::isnan(
      decodeFloat(FloatFormat::E5M2, encodeFloat(FloatFormat::E5M2, nan))));
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, inf), 0x7Bu);
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, -inf), 0xFBu);
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, 61440.0f), 0x7Bu); // would be inf
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, 1e38f), 0x7Bu);
  // E2M1: no infinities or NaN; saturation at 6; NaN encodes as 0.
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 6.0f), 0x7u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 7.0f), 0x7u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 100.0f), 0x7u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, -1e30f), 0xFu);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, inf), 0x7u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, -inf), 0xFu);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, nan), 0u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M3, nan), 0u);
  EXPECT_EQ(encodeFloat(FloatFormat::E3M2, nan), 0u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M3, 8.0f), 0x1Fu);
  EXPECT_EQ(encodeFloat(FloatFormat::E3M2, -30.0f), 0x3Fu);
  // Ties to even in E2M1: 5 between 4 (code 6) and 6 (code 7), 0.25 between
  // 0 and 0.5, 0.75 between 0.5 (code 1) and 1 (code 2), 2.5 and 3.5.
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 5.0f), 6u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 0.25f), 0u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 0.75f), 2u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 2.5f), 4u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 3.5f), 6u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 1.25f), 2u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 1.26f), 3u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, -5.5f), 0xFu);
  // Signed zeros and values far below the smallest subnormal.
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, -0.0f), 0x80u);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, 0x1p-10f), 0u); // half of 2^-9
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, -0x1p-10f), 0x80u);
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, 0x1.000002p-10f), 1u);
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, 0x1p-149f), 0u);
  EXPECT_EQ(encodeFloat(FloatFormat::E5M2, std::numeric_limits<float>::min()),
            0u);
  // Rounding up out of the subnormals into the normals.
  EXPECT_EQ(encodeFloat(FloatFormat::E4M3, 0x7.8p-9f), 0x08u);
  EXPECT_EQ(encodeFloat(FloatFormat::E2M1, 0.75f), 2u);
}

TEST(SmallFloatTest, EncodeDecodeRoundTrip) {
  for (const Layout &l : kLayouts) {
    SCOPED_TRACE(name(l));
    for (uint32_t code = 0; code < codeCount(l); ++code) {
      float value = decodeFloat(l.format, code);
      if (std::isnan(value) || std::isinf(value))
        continue;
      ASSERT_EQ(encodeFloat(l.format, value), code) << value;
    }
  }
}

/// Positive finite values of a format, ascending, with their codes.
std::vector<std::pair<double, uint32_t>> positives(const Layout &l) {
  std::vector<std::pair<double, uint32_t>> result;
  for (uint32_t code = 0; code < signBit(l); ++code) {
    double value = definition(l, code);
    if (std::isfinite(value))
      result.push_back({value, code});
  }
  std::sort(result.begin(), result.end());
  return result;
}

TEST(SmallFloatTest, MidpointsRoundToEven) {
  for (const Layout &l : kLayouts) {
    SCOPED_TRACE(name(l));
    std::vector<std::pair<double, uint32_t>> values = positives(l);
    for (double sign : {1.0, -1.0}) {
      const uint32_t signCode = sign < 0 ? signBit(l) : 0;
      for (size_t i = 0; i + 1 < values.size(); ++i) {
        auto [a, codeA] = values[i];
        auto [b, codeB] = values[i + 1];
        ASSERT_EQ(codeB, codeA + 1);           // codes are ordered like values
        float mid = float(sign * (a + b) / 2); // exact
        uint32_t even = (codeA & 1) ? codeB : codeA;
        ASSERT_EQ(encodeFloat(l.format, mid), signCode | even) << mid;
        float towardA = std::nextafter(mid, float(sign * a));
        float towardB = std::nextafter(mid, float(sign * b));
        ASSERT_EQ(encodeFloat(l.format, towardA), signCode | codeA) << mid;
        ASSERT_EQ(encodeFloat(l.format, towardB), signCode | codeB) << mid;
      }
      // Everything above the largest value saturates to it.
      const auto [top, topCode] = values.back();
      const double step = top - values[values.size() - 2].first;
      for (double above : {top + step / 2, top + step, top * 4, 1e37})
        ASSERT_EQ(encodeFloat(l.format, float(sign * above)),
                  signCode | topCode)
            << above;
    }
  }
}

TEST(SmallFloatTest, EncodeIsNearestByBruteForce) {
  std::mt19937 rng(5);
  for (const Layout &l : kLayouts) {
    SCOPED_TRACE(name(l));
    std::vector<std::pair<double, uint32_t>> values = positives(l);
    for (int trial = 0; trial < 20000; ++trial) {
      // Magnitudes across the whole range and beyond, both signs.
      double magnitude = std::ldexp(double(rng()) / 4294967296.0,
                                    int(rng() % 48) - 24 - l.bias) *
                         (1 + l.maxValue / 8);
      float value = float(trial % 2 ? -magnitude : magnitude);
      const double target = std::fabs(double(value));
      // Nearest, ties to the even code; saturation above the largest value.
      uint32_t best = values.back().second;
      if (target < values.back().first) {
        double bestDistance = kInf;
        for (auto [v, code] : values) {
          double d = std::fabs(v - target);
          if (d < bestDistance || (d == bestDistance && (code & 1) == 0)) {
            bestDistance = d;
            best = code;
          }
        }
      }
      uint32_t expected = (value < 0 ? signBit(l) : 0) | best;
      ASSERT_EQ(encodeFloat(l.format, value), expected) << value;
    }
  }
}

TEST(NormalFloatTest, Table) {
  const float *nf4 = normalFloat4Table();
  const float expected[16] = {-1.0f,
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
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(nf4[i], expected[i]) << i;
  for (int i = 1; i < 16; ++i)
    EXPECT_LT(nf4[i - 1], nf4[i]);
  EXPECT_EQ(nf4[7], 0.0f);
  EXPECT_FALSE(std::signbit(nf4[7]));
  EXPECT_EQ(normalFloat4Table(), nf4); // one table
}

//===----------------------------------------------------------------------===//
// Scale types
//===----------------------------------------------------------------------===//

TEST(ScaleTypeTest, E8M0) {
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 127), 1.0f);
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 128), 2.0f);
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 120), 0x1p-7f);
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 1), 0x1p-126f);
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 0), 0x1p-127f); // an f32 subnormal
  EXPECT_EQ(scaleValue(ScaleType::E8M0, 254), 0x1p127f);
  EXPECT_TRUE(std::isnan(scaleValue(ScaleType::E8M0, 255)));
  for (uint32_t e = 0; e < 255; ++e) {
    float value = scaleValue(ScaleType::E8M0, e);
    ASSERT_EQ(double(value), std::ldexp(1.0, int(e) - 127)) << e;
    ASSERT_EQ(scaleBits(ScaleType::E8M0, value), e);
    ASSERT_EQ(roundTo(ScaleType::E8M0, value), value);
  }
  // Other values: the power of two at or above them.
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 1.5f), 128u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 0.75f), 127u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, std::nextafter(1.0f, 2.0f)), 128u);
  EXPECT_EQ(roundTo(ScaleType::E8M0, 0.3f), 0.5f);
  EXPECT_EQ(roundTo(ScaleType::E8M0, 5.0f / 6.0f), 1.0f);
  // Zero and what E8M0 cannot reach: 2^-127 at the bottom, 2^127 at the top.
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 0.0f), 0u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, -3.0f), 0u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 0x1p-149f), 0u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 0x1.8p-127f), 1u);
  EXPECT_EQ(roundTo(ScaleType::E8M0, 0.0f), 0x1p-127f);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, 3e38f), 254u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, std::numeric_limits<float>::infinity()),
            254u);
  EXPECT_EQ(scaleBits(ScaleType::E8M0, std::numeric_limits<float>::quiet_NaN()),
            255u);
  EXPECT_TRUE(std::isnan(
      roundTo(ScaleType::E8M0, std::numeric_limits<float>::quiet_NaN())));
  std::mt19937 rng(3);
  for (int trial = 0; trial < 10000; ++trial) {
    float value =
        std::ldexp(float(rng() % 1000000 + 1) / 1e6f, int(rng() % 200) - 100);
    float rounded = roundTo(ScaleType::E8M0, value);
    ASSERT_GE(rounded, value);
    ASSERT_LT(rounded, 2 * value);
    int exponent;
    ASSERT_EQ(std::frexp(rounded, &exponent), 0.5f); // a power of two
  }
}

TEST(ScaleTypeTest, F8E4M3) {
  for (uint32_t bits = 0; bits < 256; ++bits) {
    float value = scaleValue(ScaleType::F8E4M3, bits);
    float expected = decodeFloat(FloatFormat::E4M3, bits);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(value));
      continue;
    }
    ASSERT_EQ(value, expected);
    ASSERT_EQ(scaleBits(ScaleType::F8E4M3, value), bits);
  }
  EXPECT_EQ(roundTo(ScaleType::F8E4M3, 0.3f), 0.3125f);
  EXPECT_EQ(roundTo(ScaleType::F8E4M3, 1000.0f), 448.0f);
  EXPECT_EQ(roundTo(ScaleType::F8E4M3, 0x1p-11f), 0.0f);
  EXPECT_EQ(
      roundTo(ScaleType::F8E4M3, 0.1f),
      decodeFloat(FloatFormat::E4M3, encodeFloat(FloatFormat::E4M3, 0.1f)));
}

TEST(ScaleTypeTest, SixteenAndThirtyTwoBits) {
  std::mt19937 rng(9);
  for (int trial = 0; trial < 1000; ++trial) {
    uint16_t bits = uint16_t(rng());
    if (!std::isnan(halfToFloat(bits))) {
      EXPECT_EQ(scaleValue(ScaleType::F16, bits), halfToFloat(bits));
      EXPECT_EQ(scaleBits(ScaleType::F16, halfToFloat(bits)), bits);
    }
    if (!std::isnan(bf16ToFloat(bits))) {
      EXPECT_EQ(scaleValue(ScaleType::BF16, bits), bf16ToFloat(bits));
      EXPECT_EQ(scaleBits(ScaleType::BF16, bf16ToFloat(bits)), bits);
    }
    uint32_t word = rng();
    float f = std::bit_cast<float>(word);
    if (!std::isnan(f)) {
      EXPECT_EQ(scaleBits(ScaleType::F32, f), word);
      EXPECT_EQ(std::bit_cast<uint32_t>(scaleValue(ScaleType::F32, word)),
                word);
    }
  }
  EXPECT_EQ(roundTo(ScaleType::F16, 0.1f), 0.0999755859375f);
  EXPECT_EQ(roundTo(ScaleType::BF16, 0.1f), 0.10009765625f);
  EXPECT_EQ(roundTo(ScaleType::F32, 0.1f), 0.1f);
}

} // namespace
