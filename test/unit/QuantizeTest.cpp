//===- QuantizeTest.cpp - Tests of the non-integer quantizers -------------===//
//
// Small floats (with MX / NV scales), nf4, codebooks, binary-coded planes,
// ternary codes, mixed bit-widths, act-order and per-tensor scales: their
// dequantization against an independent reading of the storage layout,
// their parts and bytes, and quantization error bounds per format.
//
//===----------------------------------------------------------------------===//

#include "CoreTestSupport.h"
#include "qmlir/Core/Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace qmlir::core;
using namespace qmlir::core::test_support;

namespace {

Scheme parseOrDie(const std::string &text) {
  std::string error;
  std::optional<Scheme> scheme = Scheme::parse(text, &error);
  EXPECT_TRUE(scheme) << text << ": " << error;
  return scheme.value_or(Scheme());
}

bool sameBits(float a, float b) {
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

int64_t unitOf(const QuantizedMatrix &q, int64_t r, int64_t g) {
  return q.scheme.isPerTensor() ? 0 : r * q.scheme.groupsPerRow(q.cols) + g;
}

/// The dequantized weight from Format.h's layout and formulas, written
/// independently of the library's offset helpers.
float referenceValue(const QuantizedMatrix &q, int64_t r, int64_t c) {
  const Scheme &s = q.scheme;
  const int64_t groups = s.groupsPerRow(q.cols);
  const int64_t length = s.groupSizeFor(q.cols);
  auto groupOfColumn = [&](int64_t col) -> int64_t {
    return s.actOrder ? q.groupIndex[col] : col / length;
  };
  const int64_t g = groupOfColumn(c);
  const int64_t unit = unitOf(q, r, g);
  const uint32_t *row = &q.codes[r * s.codeWordsPerRow(q.cols)];
  auto bitsAt = [&](const uint32_t *words, int64_t offset, unsigned width) {
    uint32_t value = 0;
    for (unsigned b = 0; b < width; ++b)
      value |= ((words[(offset + b) / 32] >> ((offset + b) % 32)) & 1) << b;
    return value;
  };
  switch (s.kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt: {
    auto widthOf = [&](int64_t group) {
      return s.mixedBits.empty() ? s.bits : s.mixedBits[group];
    };
    int64_t offset = 0;
    for (int64_t col = 0; col < c; ++col)
      offset += widthOf(groupOfColumn(col));
    const unsigned width = widthOf(g);
    auto value = [&](uint32_t raw) {
      int32_t v = int32_t(raw);
      if (s.isSigned() && (raw >> (width - 1)))
        v -= int32_t(1) << width;
      return v;
    };
    const int32_t code = value(bitsAt(row, offset, width));
    const float scale = q.scales[unit];
    if (s.zero == ZeroKind::Int) {
      int64_t zeroOffset = 0;
      for (int64_t h = 0; h < g && !s.isPerTensor(); ++h)
        zeroOffset += widthOf(h);
      const uint32_t *zeros = s.isPerTensor()
                                  ? q.zeroCodes.data()
                                  : &q.zeroCodes[r * s.zeroWordsPerRow(q.cols)];
      return float(code - value(bitsAt(zeros, zeroOffset, width))) * scale;
    }
    if (s.zero == ZeroKind::Float) {
      float centered = float(code) - q.zeroValues[unit];
      return centered * scale;
    }
    return float(code) * scale;
  }
  case ElementKind::Float:
    return decodeFloat(s.floatFormat, bitsAt(row, c * s.bits, s.bits)) *
           q.scales[unit];
  case ElementKind::NormalFloat:
    return normalFloat4Table()[bitsAt(row, c * 4, 4)] * q.scales[unit];
  case ElementKind::Codebook: {
    const uint32_t index = bitsAt(row, c * s.bits, s.bits);
    const int64_t entries = int64_t(1) << s.bits;
    return s.codebook == CodebookScope::Tensor
               ? q.codebook[index]
               : q.codebook[(r * groups + g) * entries + index];
  }
  case ElementKind::BinaryCoded: {
    const int64_t planeWords = (q.cols + 31) / 32;
    float acc = 0.0f;
    for (unsigned i = 0; i < s.bits; ++i) {
      bool plus = (row[i * planeWords + c / 32] >> (c % 32)) & 1;
      float alpha = q.scales[unit * s.bits + i];
      acc = acc + (plus ? alpha : -alpha);
    }
    if (s.zero == ZeroKind::Float)
      acc = acc + q.zeroValues[unit];
    return acc;
  }
  case ElementKind::Ternary: {
    uint64_t word = row[c / 20];
    for (int64_t j = 0; j < c % 20; ++j)
      word /= 3;
    return float(int32_t(word % 3) - 1) * q.scales[unit];
  }
  }
  return NAN;
}

/// Bytes per element of a part's MLIR element type.
unsigned elementBytes(const std::string &element) {
  if (element == "i32" || element == "f32")
    return 4;
  if (element == "f16" || element == "bf16")
    return 2;
  if (element == "f8E8M0FNU" || element == "f8E4M3FN")
    return 1;
  ADD_FAILURE() << "unknown element " << element;
  return 0;
}

/// Schemes of every format and granularity, valid for K = 384.
const char *const kSchemes[] = {
    "#qmlir.scheme<i4, group = 128, scale = f16, zero = int>",
    "#qmlir.scheme<i1, group = 32, scale = bf16, zero = int>",
    "#qmlir.scheme<u1, group = channel, scale = f32>",
    "#qmlir.scheme<u3, group = tensor, scale = f16, zero = int>",
    "#qmlir.scheme<i5, group = tensor, scale = f32, zero = float>",
    "#qmlir.scheme<u*, bits = [4, 2, 3], group = 128, scale = f16, zero = "
    "int>",
    "#qmlir.scheme<i*, bits = [8, 1, 5, 2, 7, 3], group = 64, scale = bf16, "
    "zero = float>",
    "#qmlir.scheme<i*, bits = [3, 6, 5], group = 128, scale = f32>",
    "#qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>",
    "#qmlir.scheme<i3, group = 32, scale = bf16, zero = float, act_order>",
    "#qmlir.scheme<i6, group = 64, scale = f16, act_order>",
    "#qmlir.scheme<mxfp4>",
    "#qmlir.scheme<nvfp4>",
    "#qmlir.scheme<f4e2m1, group = channel, scale = f16>",
    "#qmlir.scheme<f6e2m3, group = 32, scale = e8m0>",
    "#qmlir.scheme<f6e3m2, group = 64, scale = bf16>",
    "#qmlir.scheme<f8e4m3, group = 128, scale = f8e4m3>",
    "#qmlir.scheme<f8e5m2, group = tensor, scale = f32>",
    "#qmlir.scheme<nf4, group = 64, scale = f16>",
    "#qmlir.scheme<nf4, group = 32, scale = e8m0>",
    "#qmlir.scheme<nf4, group = tensor, scale = f8e4m3>",
    "#qmlir.scheme<lut4, group = tensor>",
    "#qmlir.scheme<lut2, group = 128, scale = bf16, codebook = group>",
    "#qmlir.scheme<lut8, group = channel, scale = f32, codebook = group>",
    "#qmlir.scheme<bcq1, group = 128, scale = f16>",
    "#qmlir.scheme<bcq3, group = 64, scale = bf16, zero = float>",
    "#qmlir.scheme<bcq4, group = tensor, scale = f32, zero = float>",
    "#qmlir.scheme<bcq8, group = 32, scale = f16>",
    "#qmlir.scheme<ternary, group = 128, scale = f16>",
    "#qmlir.scheme<ternary, group = tensor, scale = bf16>",
};

class AllFormatsTest : public testing::TestWithParam<const char *> {};

TEST_P(AllFormatsTest, LayoutPartsAndBytes) {
  const Scheme scheme = parseOrDie(GetParam());
  const int64_t rows = 5, cols = 384;
  ASSERT_EQ(scheme.validateShape(rows, cols), "");
  std::vector<float> w = randomNormal(rows * cols, 99);
  // Row 3 is all zeros, row 4 spans large magnitudes.
  for (int64_t c = 0; c < cols; ++c) {
    w[3 * cols + c] = 0.0f;
    w[4 * cols + c] *= std::ldexp(1.0f, int(c % 13) - 6);
  }
  QuantizedMatrix q = quantize(w.data(), rows, cols, scheme);
  ASSERT_EQ(q.scheme, scheme);
  EXPECT_EQ(quantize(w.data(), rows, cols, scheme).codes, q.codes); // stable

  // Each part's member holds exactly its shape; parts absent are empty.
  std::vector<Part> parts = scheme.parts(rows, cols);
  std::vector<std::vector<uint8_t>> bytes = q.partBytes();
  ASSERT_EQ(bytes.size(), parts.size());
  size_t expectedMembers = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part &part = parts[i];
    const size_t count = size_t(part.rows * part.cols);
    SCOPED_TRACE(part.name);
    EXPECT_EQ(bytes[i].size(), count * elementBytes(part.element));
    if (part.name == "codes") {
      EXPECT_EQ(q.codes.size(), count);
    } else if (part.name == "scales") {
      EXPECT_EQ(q.scales.size(), count);
      EXPECT_EQ(part.element, mlirTypeName(scheme.scaleType));
    } else if (part.name == "zeros") {
      EXPECT_EQ(scheme.zero == ZeroKind::Int ? q.zeroCodes.size()
                                             : q.zeroValues.size(),
                count);
    } else if (part.name == "codebook") {
      EXPECT_EQ(q.codebook.size(), count);
    } else if (part.name == "g_idx") {
      EXPECT_EQ(q.groupIndex.size(), count);
    }
    expectedMembers += count;
  }
  EXPECT_EQ(q.codes.size() + q.scales.size() + q.zeroCodes.size() +
                q.zeroValues.size() + q.codebook.size() + q.groupIndex.size(),
            expectedMembers);

  // The bytes decode to the members, little-endian in the storage type.
  for (size_t i = 0; i < parts.size(); ++i) {
    const Part &part = parts[i];
    const unsigned size = elementBytes(part.element);
    for (size_t e = 0; e < size_t(part.rows * part.cols); ++e) {
      uint32_t word = 0;
      for (unsigned b = 0; b < size; ++b)
        word |= uint32_t(bytes[i][e * size + b]) << (8 * b);
      if (part.name == "codes") {
        ASSERT_EQ(word, q.codes[e]);
      } else if (part.name == "g_idx") {
        ASSERT_EQ(int32_t(word), q.groupIndex[e]);
      } else if (part.name == "zeros" && scheme.zero == ZeroKind::Int) {
        ASSERT_EQ(word, q.zeroCodes[e]);
      } else {
        const std::vector<float> &values = part.name == "scales"  ? q.scales
                                           : part.name == "zeros" ? q.zeroValues
                                                                  : q.codebook;
        ASSERT_TRUE(sameBits(scaleValue(scheme.scaleType, word), values[e]))
            << part.name << " " << e << ": " << values[e];
      }
    }
  }
  // Stored values are representable in the scale type.
  for (const std::vector<float> *values :
       {&q.scales, &q.zeroValues, &q.codebook})
    for (float value : *values)
      ASSERT_EQ(roundTo(scheme.scaleType, value), value);

  // Dequantization: the library, element by element, and the layout read
  // independently agree bit for bit.
  std::vector<float> deq = dequantize(q);
  ASSERT_EQ(int64_t(deq.size()), rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float value = deq[r * cols + c];
      ASSERT_TRUE(sameBits(value, q.dequantized(r, c))) << r << ", " << c;
      ASSERT_TRUE(sameBits(value, referenceValue(q, r, c))) << r << ", " << c;
      ASSERT_TRUE(std::isfinite(value));
    }
  // The all-zero row dequantizes to zeros (its scales are 0, or 2^-127 in
  // E8M0), unless its parameters are shared with the other rows.
  if (!scheme.isPerTensor()) {
    for (int64_t c = 0; c < cols; ++c)
      ASSERT_EQ(deq[3 * cols + c], 0.0f) << c;
  }

  // Overall accuracy: better than all zeros, for every format.
  double error = 0, norm = 0;
  for (int64_t i = 0; i < rows * cols; ++i) {
    error += (double(w[i]) - deq[i]) * (double(w[i]) - deq[i]);
    norm += double(w[i]) * w[i];
  }
  EXPECT_LT(std::sqrt(error / norm), 1.0);
}

INSTANTIATE_TEST_SUITE_P(Schemes, AllFormatsTest, testing::ValuesIn(kSchemes));

TEST(QuantizeTest, AllZeroMatrices) {
  for (const char *text : kSchemes) {
    Scheme scheme = parseOrDie(text);
    SCOPED_TRACE(text);
    std::vector<float> zeros(4 * 384, 0.0f);
    for (size_t i = 0; i < zeros.size(); i += 3)
      zeros[i] = -0.0f;
    QuantizedMatrix q = quantize(zeros.data(), 4, 384, scheme);
    for (float value : dequantize(q))
      ASSERT_EQ(value, 0.0f);
    for (float scale : q.scales)
      ASSERT_EQ(scale, scheme.scaleType == ScaleType::E8M0 ? 0x1p-127f : 0.0f);
  }
}

//===----------------------------------------------------------------------===//
// Small floats
//===----------------------------------------------------------------------===//

TEST(SmallFloatQuantizeTest, ScalesAndNearestCodes) {
  int64_t checked = 0;
  for (FloatFormat format :
       {FloatFormat::E2M1, FloatFormat::E2M3, FloatFormat::E3M2,
        FloatFormat::E4M3, FloatFormat::E5M2})
    for (ScaleType scale : {ScaleType::F16, ScaleType::BF16, ScaleType::F32,
                            ScaleType::E8M0, ScaleType::F8E4M3})
      for (const char *group : {"32", "channel", "tensor"}) {
        Scheme s = parseOrDie(std::string("#qmlir.scheme<") + toString(format) +
                              ", group = " + group +
                              ", scale = " + toString(scale) + ">");
        SCOPED_TRACE(s.str());
        const int64_t rows = 3, cols = 256;
        std::vector<float> w =
            randomNormal(rows * cols, unsigned(format) * 7 + unsigned(scale));
        // Row 2: tiny values, to exercise the subnormal scales and codes.
        for (int64_t c = 0; c < cols; ++c)
          w[2 * cols + c] *= 1e-4f;
        QuantizedMatrix q = quantize(w.data(), rows, cols, s);
        const int64_t length = s.groupSizeFor(cols);
        const float maxValue = maxFinite(format);
        const unsigned codes = 1u << s.bits;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            const int64_t g = c / length;
            const float sc = q.scales[unitOf(q, r, g)];
            // s = roundTo(scale type, max |w| / maxFinite) over the unit.
            float amax = 0;
            for (int64_t rr = s.isPerTensor() ? 0 : r;
                 rr < (s.isPerTensor() ? rows : r + 1); ++rr)
              for (int64_t cc = g * length; cc < (g + 1) * length; ++cc)
                amax = std::max(amax, std::fabs(w[rr * cols + cc]));
            ASSERT_EQ(sc, roundTo(scale, amax / maxValue));
            if (scale == ScaleType::E8M0) {
              // MX: a power of two at or above amax / maxFinite: nothing
              // saturates.
              ASSERT_LE(amax / sc, maxValue);
              ASSERT_GT(amax / sc, maxValue / 2);
            }
            const uint32_t code =
                extractCode(&q.codes[r * s.codeWordsPerRow(cols)], c, s.bits);
            if (sc == 0.0f) {
              ASSERT_EQ(code, 0u);
              continue;
            }
            // The nearest finite code to w / s, by brute force.
            const float x = w[r * cols + c] / sc;
            const double mine =
                std::fabs(double(x) - decodeFloat(format, code));
            for (uint32_t other = 0; other < codes; ++other) {
              float v = decodeFloat(format, other);
              if (std::isfinite(v)) {
                ASSERT_LE(mine, std::fabs(double(x) - v))
                    << "x " << x << " code " << code << " other " << other;
              }
            }
            // Within half a step of the format at |x| (below saturation).
            if (std::fabs(x) <= maxValue) {
              const FloatFormat f = format;
              const int mantissa = f == FloatFormat::E2M1   ? 1
                                   : f == FloatFormat::E2M3 ? 3
                                   : f == FloatFormat::E4M3 ? 3
                                                            : 2;
              const int bias = f == FloatFormat::E2M1 || f == FloatFormat::E2M3
                                   ? 1
                               : f == FloatFormat::E3M2 ? 3
                               : f == FloatFormat::E4M3 ? 7
                                                        : 15;
              const int exponent =
                  x == 0 ? 1 - bias : std::max(std::ilogb(double(x)), 1 - bias);
              const double step = std::ldexp(1.0, exponent - mantissa);
              ASSERT_LE(mine, step / 2) << x;
              const double error =
                  std::fabs(double(w[r * cols + c]) - q.dequantized(r, c));
              ASSERT_LE(error,
                        (step / 2) * sc * (1 + 1e-6) +
                            std::fabs(double(w[r * cols + c])) * 0x1p-23);
            }
            ++checked;
          }
      }
  EXPECT_GT(checked, 50000);
}

TEST(SmallFloatQuantizeTest, MxByHand) {
  // mxfp4 on 32 values with max |w| = 5: s = 2^ceil(log2(5 / 6)) = 1, codes
  // are plain E2M1 roundings; 1.25 ties to 1 (even), 5 ties to 4.
  std::vector<float> w(32, 0.0f);
  w[0] = 5.0f;
  w[1] = -1.25f;
  w[2] = 0.3f;
  w[3] = 2.9f;
  QuantizedMatrix q =
      quantize(w.data(), 1, 32, parseOrDie("#qmlir.scheme<mxfp4>"));
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.partBytes()[1], (std::vector<uint8_t>{127}));
  EXPECT_EQ(q.codes[0] & 0xFFFF, 0x51A6u); // 4 (6), -1 (0xA), 0.5 (1), 3 (5)
  EXPECT_EQ(q.dequantized(0, 0), 4.0f);
  EXPECT_EQ(q.dequantized(0, 1), -1.0f);
  EXPECT_EQ(q.dequantized(0, 2), 0.5f);
  EXPECT_EQ(q.dequantized(0, 3), 3.0f);
  // Scaled up by 2^10: the scale follows exactly.
  for (float &v : w)
    v *= 1024.0f;
  q = quantize(w.data(), 1, 32, parseOrDie("#qmlir.scheme<mxfp4>"));
  EXPECT_EQ(q.scales[0], 1024.0f);
  EXPECT_EQ(q.partBytes()[1], (std::vector<uint8_t>{137}));
  // nvfp4: s = 5 / 6 rounded to E4M3 (0.8125), w / s = 6.15 saturates to 6.
  std::vector<float> v(16, 0.0f);
  v[0] = 5.0f;
  v[1] = 1.0f;
  q = quantize(v.data(), 1, 16, parseOrDie("#qmlir.scheme<nvfp4>"));
  EXPECT_EQ(q.scales[0], 0.8125f);
  EXPECT_EQ(
      q.partBytes()[1],
      (std::vector<uint8_t>{uint8_t(encodeFloat(FloatFormat::E4M3, 0.8125f))}));
  EXPECT_EQ(q.dequantized(0, 0), 6.0f * 0.8125f);
  EXPECT_EQ(q.dequantized(0, 1), 1.0f * 0.8125f); // 1.23 -> 1
}

//===----------------------------------------------------------------------===//
// nf4
//===----------------------------------------------------------------------===//

TEST(NormalFloatQuantizeTest, NearestTableValue) {
  const float *nf4 = normalFloat4Table();
  double largestGap = 0;
  for (int i = 1; i < 16; ++i)
    largestGap = std::max(largestGap, double(nf4[i]) - nf4[i - 1]);
  for (ScaleType scale : {ScaleType::F16, ScaleType::BF16, ScaleType::F32,
                          ScaleType::E8M0, ScaleType::F8E4M3})
    for (const char *group : {"64", "channel", "tensor"}) {
      Scheme s = parseOrDie(std::string("#qmlir.scheme<nf4, group = ") + group +
                            ", scale = " + toString(scale) + ">");
      SCOPED_TRACE(s.str());
      const int64_t rows = 4, cols = 512;
      std::vector<float> w = randomNormal(rows * cols, 21 + unsigned(scale));
      QuantizedMatrix q = quantize(w.data(), rows, cols, s);
      const int64_t length = s.groupSizeFor(cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) {
          const int64_t g = c / length;
          const float sc = q.scales[unitOf(q, r, g)];
          float amax = 0;
          for (int64_t rr = s.isPerTensor() ? 0 : r;
               rr < (s.isPerTensor() ? rows : r + 1); ++rr)
            for (int64_t cc = g * length; cc < (g + 1) * length; ++cc)
              amax = std::max(amax, std::fabs(w[rr * cols + cc]));
          ASSERT_EQ(sc, roundTo(scale, amax));
          const uint32_t code =
              extractCode(&q.codes[r * s.codeWordsPerRow(cols)], c, 4);
          const float x = w[r * cols + c] / sc;
          // Nearest, and of equally near values the lower index.
          for (uint32_t j = 0; j < 16; ++j) {
            double mine = std::fabs(double(x) - nf4[code]);
            double other = std::fabs(double(x) - nf4[j]);
            ASSERT_TRUE(mine < other || (mine == other && code <= j))
                << x << " " << code << " " << j;
          }
          // Error at most half the largest gap, times s (|x| <= 1 unless
          // the scale rounded down).
          if (std::fabs(x) <= 1.0f) {
            ASSERT_LE(std::fabs(double(w[r * cols + c]) - q.dequantized(r, c)),
                      largestGap / 2 * sc * (1 + 1e-6));
          }
        }
    }
  // Hand example: s = 2; 0.5 / 2 = 0.25 -> 0.2461 (10); -2 -> -1 (0); the
  // midpoint of nf4[7] and nf4[8] ties to the lower index, 7.
  std::vector<float> w = {2.0f, 0.5f, -2.0f, 2.0f * (0.07958029955625534f / 2)};
  QuantizedMatrix q = quantize(w.data(), 1, 4,
                               parseOrDie("#qmlir.scheme<nf4, group = "
                                          "channel, scale = f32>"));
  EXPECT_EQ(q.scales[0], 2.0f);
  EXPECT_EQ(q.codes[0], 0x70AFu); // 15, 10, 0, 7
}

//===----------------------------------------------------------------------===//
// Codebooks
//===----------------------------------------------------------------------===//

TEST(CodebookQuantizeTest, NearestEntryAndGaps) {
  for (const char *text :
       {"#qmlir.scheme<lut4, group = tensor>",
        "#qmlir.scheme<lut3, group = tensor, scale = bf16>",
        "#qmlir.scheme<lut4, group = 128, codebook = group>",
        "#qmlir.scheme<lut2, group = channel, scale = f32, codebook = group>",
        "#qmlir.scheme<lut1, group = 64, scale = f32, codebook = group>",
        "#qmlir.scheme<lut8, group = channel, scale = f16, codebook = "
        "group>"}) {
    Scheme s = parseOrDie(text);
    SCOPED_TRACE(text);
    const int64_t rows = 6, cols = 512, entries = int64_t(1) << s.bits;
    std::vector<float> w = randomNormal(rows * cols, 5 + s.bits);
    QuantizedMatrix q = quantize(w.data(), rows, cols, s);
    const int64_t length = s.groupSizeFor(cols);
    const int64_t groups = cols / length;
    ASSERT_EQ(int64_t(q.codebook.size()), s.codebook == CodebookScope::Tensor
                                              ? entries
                                              : rows * groups * entries);
    EXPECT_TRUE(q.scales.empty());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float *book =
            s.codebook == CodebookScope::Tensor
                ? q.codebook.data()
                : &q.codebook[(r * groups + c / length) * entries];
        ASSERT_TRUE(std::is_sorted(book, book + entries));
        double largestGap = 0;
        for (int64_t j = 1; j < entries; ++j)
          largestGap = std::max(largestGap, double(book[j]) - book[j - 1]);
        const uint32_t code =
            extractCode(&q.codes[r * s.codeWordsPerRow(cols)], c, s.bits);
        const float x = w[r * cols + c];
        ASSERT_EQ(q.dequantized(r, c), book[code]);
        for (int64_t j = 0; j < entries; ++j) {
          double mine = std::fabs(double(x) - book[code]);
          double other = std::fabs(double(x) - book[j]);
          ASSERT_TRUE(mine < other || (mine == other && int64_t(code) <= j));
        }
        if (x >= book[0] && x <= book[entries - 1]) {
          ASSERT_LE(std::fabs(double(x) - book[code]), largestGap / 2);
        } else {
          ASSERT_EQ(book[code], x < book[0] ? book[0] : book[entries - 1]);
        }
      }
  }
}

TEST(CodebookQuantizeTest, ExactOnFewDistinctValues) {
  // A group holding at most 2^B distinct representable values, equally
  // often: the quantile start finds them and k-means keeps them.
  const float values[4] = {-1.5f, -0.25f, 0.5f, 3.0f};
  std::vector<float> w(2 * 64);
  std::mt19937 rng(3);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t c = 0; c < 64; ++c)
      w[r * 64 + c] = values[(c + r) % 4] * float(r + 1);
  std::shuffle(w.begin(), w.begin() + 64, rng);
  QuantizedMatrix q = quantize(
      w.data(), 2, 64,
      parseOrDie("#qmlir.scheme<lut2, group = channel, codebook = group>"));
  EXPECT_EQ(dequantize(q), w);
  EXPECT_EQ(std::vector<float>(q.codebook.begin(), q.codebook.begin() + 4),
            std::vector<float>(values, values + 4));
}

TEST(CodebookQuantizeTest, KMeansBeatsAUniformGrid) {
  // On normal data, B-bit k-means codebooks have lower error than B-bit
  // integers with a float zero point over the same groups.
  for (unsigned bits : {2u, 3u, 4u}) {
    const int64_t rows = 8, cols = 1024;
    std::vector<float> w = randomNormal(rows * cols, 40 + bits);
    auto meanSquaredError = [&](const std::string &text) {
      std::vector<float> deq =
          dequantize(quantize(w.data(), rows, cols, parseOrDie(text)));
      double sum = 0;
      for (size_t i = 0; i < w.size(); ++i)
        sum += (double(w[i]) - deq[i]) * (double(w[i]) - deq[i]);
      return sum / double(w.size());
    };
    const std::string b = std::to_string(bits);
    double lut = meanSquaredError("#qmlir.scheme<lut" + b +
                                  ", group = channel, scale = f32, codebook "
                                  "= group>");
    double uniform = meanSquaredError("#qmlir.scheme<u" + b +
                                      ", group = channel, scale = f32, zero = "
                                      "float>");
    EXPECT_LT(lut, uniform * 0.9) << bits;
    double tensor = meanSquaredError("#qmlir.scheme<lut" + b +
                                     ", group = tensor, scale = f32>");
    EXPECT_LT(tensor, uniform) << bits;
  }
}

//===----------------------------------------------------------------------===//
// Binary-coded quantization
//===----------------------------------------------------------------------===//

double squaredError(const std::vector<float> &w, const QuantizedMatrix &q,
                    int64_t r, int64_t c0, int64_t c1) {
  double sum = 0;
  for (int64_t c = c0; c < c1; ++c) {
    double d = double(w[r * q.cols + c]) - q.dequantized(r, c);
    sum += d * d;
  }
  return sum;
}

TEST(BcqQuantizeTest, GreedyByHand) {
  // a1 = mean |w| = 2, r = {-1, 1, 1, -1}, a2 = 1: exact.
  std::vector<float> w = {3.0f, -3.0f, 1.0f, -1.0f};
  QuantizeOptions greedy;
  greedy.bcq = BcqMethod::Greedy;
  Scheme s = parseOrDie("#qmlir.scheme<bcq2, group = channel, scale = f16>");
  QuantizedMatrix q = quantize(w.data(), 1, 4, s, greedy);
  EXPECT_EQ(q.scales, (std::vector<float>{2.0f, 1.0f}));
  // Plane 0: signs +, -, +, - (0b0101); plane 1: +, -, -, + (0b1001).
  EXPECT_EQ(q.codes, (std::vector<uint32_t>{0b0101, 0b1001}));
  EXPECT_EQ(dequantize(q), w);
  EXPECT_EQ(dequantize(quantize(w.data(), 1, 4, s)), w); // alternating too

  // A float zero: z = mean = 10, then the same on w - z.
  std::vector<float> shifted = {13.0f, 7.0f, 11.0f, 9.0f};
  Scheme z = parseOrDie("#qmlir.scheme<bcq2, group = channel, scale = f16, "
                        "zero = float>");
  q = quantize(shifted.data(), 1, 4, z, greedy);
  EXPECT_EQ(q.zeroValues, (std::vector<float>{10.0f}));
  EXPECT_EQ(dequantize(q), shifted);

  // One plane: a = roundTo(mean |w|), b = sign(w), + at 0.
  std::vector<float> v = {0.3f, -0.7f, 0.0f, 1.1f};
  q = quantize(v.data(), 1, 4,
               parseOrDie("#qmlir.scheme<bcq1, group = channel, scale = bf16>"),
               greedy);
  const float a = roundTo(ScaleType::BF16, float((0.3 + 0.7 + 0.0 + 1.1) / 4));
  EXPECT_EQ(q.scales, (std::vector<float>{a}));
  EXPECT_EQ(dequantize(q), (std::vector<float>{a, -a, a, a}));
}

TEST(BcqQuantizeTest, GreedyImprovesWithPlanesAndAlternatingNeverWorse) {
  const int64_t rows = 6, cols = 512;
  std::vector<float> w = randomNormal(rows * cols, 77);
  QuantizeOptions greedy;
  greedy.bcq = BcqMethod::Greedy;
  for (const char *zero : {"", ", zero = float"})
    for (const char *scale : {"f16", "bf16", "f32"})
      for (const char *group : {"32", "128", "channel"}) {
        std::vector<double> previous;
        double greedyTotal = 0, alternatingTotal = 0;
        for (unsigned planes = 1; planes <= 8; ++planes) {
          std::string text = "#qmlir.scheme<bcq" + std::to_string(planes) +
                             ", group = " + group + ", scale = " + scale +
                             zero + ">";
          SCOPED_TRACE(text);
          Scheme s = parseOrDie(text);
          QuantizedMatrix g = quantize(w.data(), rows, cols, s, greedy);
          QuantizedMatrix a = quantize(w.data(), rows, cols, s);
          const int64_t length = s.groupSizeFor(cols);
          std::vector<double> errors;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c0 = 0; c0 < cols; c0 += length) {
              double eg = squaredError(w, g, r, c0, c0 + length);
              double ea = squaredError(w, a, r, c0, c0 + length);
              // Per unit: alternating keeps the best solution it saw.
              ASSERT_LE(ea, eg) << "row " << r << " col " << c0;
              errors.push_back(eg);
              greedyTotal += eg;
              alternatingTotal += ea;
            }
          if (!previous.empty()) {
            // Greedy's first B planes are the same for B + 1 planes: its
            // error never grows with planes (up to f32 rounding).
            for (size_t u = 0; u < errors.size(); ++u)
              ASSERT_LE(errors[u], previous[u] * (1 + 1e-5) + 1e-12) << u;
          }
          previous = errors;
        }
        // And alternating helps overall.
        EXPECT_LT(alternatingTotal, greedyTotal * 0.97)
            << group << " " << scale << zero;
      }
}

TEST(BcqQuantizeTest, MorePlanesApproachTheWeights) {
  const int64_t rows = 4, cols = 256;
  std::vector<float> w = randomNormal(rows * cols, 8);
  double previous = HUGE_VAL;
  for (unsigned planes = 1; planes <= 8; ++planes) {
    Scheme s = parseOrDie("#qmlir.scheme<bcq" + std::to_string(planes) +
                          ", group = 64, scale = f32>");
    QuantizedMatrix q = quantize(w.data(), rows, cols, s);
    double error = 0;
    for (int64_t r = 0; r < rows; ++r)
      error += squaredError(w, q, r, 0, cols);
    EXPECT_LT(error, previous) << planes;
    previous = error;
  }
  // One plane leaves ~0.36 of the variance (1 - 2 / pi), eight ~0.0013.
  EXPECT_LT(previous, 2.5e-3 * double(rows * cols));
}

//===----------------------------------------------------------------------===//
// Ternary
//===----------------------------------------------------------------------===//

TEST(TernaryQuantizeTest, AbsMeanScaleAndRoundedTrits) {
  for (const char *text : {"#qmlir.scheme<ternary, group = 64, scale = f16>",
                           "#qmlir.scheme<ternary, group = channel, scale = "
                           "bf16>",
                           "#qmlir.scheme<ternary, group = tensor, scale = "
                           "f32>"}) {
    Scheme s = parseOrDie(text);
    SCOPED_TRACE(text);
    const int64_t rows = 3, cols = 320;
    std::vector<float> w = randomNormal(rows * cols, 12);
    QuantizedMatrix q = quantize(w.data(), rows, cols, s);
    const int64_t length = s.groupSizeFor(cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const int64_t g = c / length;
        double sum = 0;
        int64_t count = 0;
        for (int64_t rr = s.isPerTensor() ? 0 : r;
             rr < (s.isPerTensor() ? rows : r + 1); ++rr)
          for (int64_t cc = g * length; cc < (g + 1) * length; ++cc, ++count)
            sum += std::fabs(w[rr * cols + cc]);
        const float sc = q.scales[unitOf(q, r, g)];
        ASSERT_EQ(sc, roundTo(s.scaleType, float(sum / double(count))));
        const float x = w[r * cols + c] / sc;
        const int32_t t = extractTrit(&q.codes[r * s.codeWordsPerRow(cols)], c);
        ASSERT_EQ(t, int32_t(std::clamp(std::nearbyint(x), -1.0f, 1.0f)));
        ASSERT_EQ(q.dequantized(r, c), float(t) * sc);
      }
  }
}

TEST(TernaryQuantizeTest, ExactOnTernaryValues) {
  // Values in {-s, s}: mean |w| = s, so they are exact.
  const float s = 0.375f;
  std::vector<float> w(2 * 40);
  std::mt19937 rng(4);
  for (float &v : w)
    v = rng() % 2 ? s : -s;
  Scheme scheme = parseOrDie("#qmlir.scheme<ternary, group = 40, scale = "
                             "f16>");
  EXPECT_EQ(dequantize(quantize(w.data(), 2, 40, scheme)), w);
  // With zeros too (fewer than a third), the trits are still exact; the
  // scale is the absmean.
  for (size_t i = 0; i < w.size(); i += 5)
    w[i] = 0.0f;
  QuantizedMatrix q = quantize(w.data(), 2, 40, scheme);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t c = 0; c < 40; ++c) {
      float v = w[r * 40 + c];
      ASSERT_EQ(extractTrit(&q.codes[r * 2], c), v > 0 ? 1 : v < 0 ? -1 : 0);
    }
  EXPECT_EQ(q.scales[0], roundTo(ScaleType::F16, s * 0.8f));
}

//===----------------------------------------------------------------------===//
// Mixed bit-widths, act-order, per-tensor
//===----------------------------------------------------------------------===//

TEST(MixedQuantizeTest, EachGroupAsItsOwnWidth) {
  // Group g of a mixed scheme is quantized exactly like a fixed-width
  // scheme of width bits[g] on that group alone.
  for (const char *text :
       {"#qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = f16, "
        "zero = int>",
        "#qmlir.scheme<i*, bits = [1, 8, 5, 2], group = 128, scale = bf16, "
        "zero = float>",
        "#qmlir.scheme<i*, bits = [3, 4, 6, 7], group = 128, scale = f32>",
        "#qmlir.scheme<u*, bits = [1, 1, 8, 8], group = 128, scale = f16>"}) {
    Scheme s = parseOrDie(text);
    SCOPED_TRACE(text);
    const int64_t rows = 5, cols = 512, length = 128;
    std::vector<float> w = randomNormal(rows * cols, 31);
    QuantizedMatrix q = quantize(w.data(), rows, cols, s);
    // Codes: 128 * (sum of widths) bits per row.
    unsigned total = 0;
    for (unsigned b : s.mixedBits)
      total += b;
    ASSERT_EQ(int64_t(q.codes.size()), rows * ((128 * total + 31) / 32));
    for (int64_t g = 0; g < 4; ++g) {
      Scheme fixed = s;
      fixed.mixedBits.clear();
      fixed.bits = s.mixedBits[g];
      std::vector<float> part(rows * length);
      for (int64_t r = 0; r < rows; ++r)
        std::copy_n(&w[r * cols + g * length], length, &part[r * length]);
      QuantizedMatrix single = quantize(part.data(), rows, length, fixed);
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(q.scales[r * 4 + g], single.scales[r]);
        if (s.zero == ZeroKind::Float) {
          ASSERT_EQ(q.zeroValues[r * 4 + g], single.zeroValues[r]);
        }
        for (int64_t c = 0; c < length; ++c)
          ASSERT_TRUE(sameBits(q.dequantized(r, g * length + c),
                               single.dequantized(r, c)))
              << r << ", " << c;
      }
    }
  }
}

TEST(ActOrderQuantizeTest, GroupsFollowTheColumnOrder) {
  const int64_t rows = 6, cols = 256, length = 64;
  std::vector<float> w = randomNormal(rows * cols, 50);
  // Columns of increasing magnitude, so the default order is recognizable.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      w[r * cols + c] *= 0.5f + float((c * 37) % cols) / cols;
  for (const char *text :
       {"#qmlir.scheme<u4, group = 64, scale = f16, zero = int, act_order>",
        "#qmlir.scheme<i3, group = 64, scale = bf16, zero = float, act_order>",
        "#qmlir.scheme<i8, group = 64, scale = f32, act_order>"}) {
    Scheme s = parseOrDie(text);
    SCOPED_TRACE(text);
    // The default order: descending column L2 norm, ties by index.
    std::vector<double> norms(cols, 0.0);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        norms[c] += double(w[r * cols + c]) * w[r * cols + c];
    std::vector<int64_t> byNorm(cols);
    std::iota(byNorm.begin(), byNorm.end(), 0);
    std::sort(byNorm.begin(), byNorm.end(), [&](int64_t a, int64_t b) {
      return norms[a] > norms[b] || (norms[a] == norms[b] && a < b);
    });
    std::vector<int64_t> shuffled(cols);
    std::iota(shuffled.begin(), shuffled.end(), 0);
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(8));

    for (bool explicitOrder : {false, true}) {
      const std::vector<int64_t> &order = explicitOrder ? shuffled : byNorm;
      QuantizeOptions options;
      if (explicitOrder)
        options.columnOrder = order;
      QuantizedMatrix q = quantize(w.data(), rows, cols, s, options);
      ASSERT_EQ(int64_t(q.groupIndex.size()), cols);
      for (int64_t j = 0; j < cols; ++j) {
        ASSERT_EQ(q.groupIndex[order[j]], j / length) << j;
        ASSERT_EQ(q.groupOf(order[j]), j / length);
      }
      // The same as quantizing the permuted matrix without act-order.
      std::vector<float> permuted(rows * cols);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j)
          permuted[r * cols + j] = w[r * cols + order[j]];
      Scheme plain = s;
      plain.actOrder = false;
      QuantizedMatrix p = quantize(permuted.data(), rows, cols, plain);
      EXPECT_EQ(q.scales, p.scales);
      EXPECT_EQ(q.zeroCodes, p.zeroCodes);
      EXPECT_EQ(q.zeroValues, p.zeroValues);
      std::vector<float> deq = dequantize(q);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < cols; ++j)
          ASSERT_TRUE(sameBits(deq[r * cols + order[j]], p.dequantized(r, j)))
              << r << ", " << j;
      // g_idx is the last part.
      std::vector<std::vector<uint8_t>> bytes = q.partBytes();
      ASSERT_EQ(bytes.back().size(), size_t(4 * cols));
      EXPECT_EQ(bytes.back()[4 * order[70]], 1);
    }
  }
}

TEST(PerTensorQuantizeTest, OneUnitOverTheWholeMatrix) {
  // Per-tensor quantization of [n, k] equals per-channel quantization of
  // the same values as one row [1, n * k].
  for (const char *base :
       {"u4, %, scale = f16, zero = int", "i3, %, scale = bf16, zero = float",
        "u2, %, scale = f32", "i6, %, scale = f16", "f4e2m1, %, scale = e8m0",
        "f8e4m3, %, scale = f8e4m3", "f6e3m2, %, scale = f16",
        "nf4, %, scale = bf16", "ternary, %, scale = f16",
        "bcq3, %, scale = f16, zero = float", "bcq2, %, scale = f32"}) {
    std::string text = base;
    std::string tensor = "#qmlir.scheme<" +
                         text.replace(text.find('%'), 1, "group = tensor") +
                         ">";
    text = base;
    std::string channel = "#qmlir.scheme<" +
                          text.replace(text.find('%'), 1, "group = channel") +
                          ">";
    SCOPED_TRACE(tensor);
    const int64_t rows = 7, cols = 96;
    std::vector<float> w = randomNormal(rows * cols, 61);
    QuantizedMatrix t = quantize(w.data(), rows, cols, parseOrDie(tensor));
    QuantizedMatrix c = quantize(w.data(), 1, rows * cols, parseOrDie(channel));
    EXPECT_EQ(t.scales, c.scales);
    EXPECT_EQ(t.zeroValues, c.zeroValues);
    EXPECT_EQ(t.zeroCodes, c.zeroCodes);
    std::vector<float> a = dequantize(t), b = dequantize(c);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_TRUE(sameBits(a[i], b[i])) << i;
  }
  // Per-tensor lut equals a per-channel codebook of the one-row matrix.
  const int64_t rows = 7, cols = 96;
  std::vector<float> w = randomNormal(rows * cols, 62);
  QuantizedMatrix t = quantize(w.data(), rows, cols,
                               parseOrDie("#qmlir.scheme<lut3, group = "
                                          "tensor>"));
  QuantizedMatrix c = quantize(
      w.data(), 1, rows * cols,
      parseOrDie("#qmlir.scheme<lut3, group = channel, codebook = group>"));
  EXPECT_EQ(t.codebook, c.codebook);
  EXPECT_EQ(dequantize(t), dequantize(c));
}

} // namespace
