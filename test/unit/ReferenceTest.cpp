//===- ReferenceTest.cpp - Tests of the reference numerics ----------------===//
//
// Integer quantization (error bounds derived from the scheme definitions and
// hand-worked examples), the reference matmul, the numerics-contract
// checker, and the random problems with their planted faults for every
// format family. The other formats' quantizers: QuantizeTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "CoreTestSupport.h"
#include "qmlir/Core/Reference.h"
#include "qmlir/Core/Problem.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace qmlir::core;
using namespace qmlir::core::test_support;

namespace qmlir::core {
// Readable names for parameterized tests.
void PrintTo(const MatmulProblem &problem, std::ostream *os) {
  *os << problem.str();
}
} // namespace qmlir::core

namespace {

/// Unit roundoff of a scale storage type.
double unitRoundoff(ScaleType type) {
  switch (type) {
  case ScaleType::F16:
    return std::ldexp(1.0, -11);
  case ScaleType::BF16:
    return std::ldexp(1.0, -8);
  case ScaleType::F32:
    return std::ldexp(1.0, -24);
  default:
    return 1;
  }
}

/// Integer code (r, c), read straight from the storage.
int32_t codeAt(const QuantizedMatrix &q, int64_t r, int64_t c) {
  const Scheme &s = q.scheme;
  const unsigned width = s.bitsOfGroup(q.groupOf(c));
  return codeValue(extractBits(&q.codes[r * s.codeWordsPerRow(q.cols)],
                               s.codeBitOffset(c, q.cols), width),
                   width, s.isSigned());
}

/// Index of group g of row r in the scales (and float zeros).
int64_t unitOf(const QuantizedMatrix &q, int64_t r, int64_t g) {
  return q.scheme.isPerTensor() ? 0 : r * q.scheme.groupsPerRow(q.cols) + g;
}

/// Zero point of group g of row r, read straight from the storage.
double storedZero(const QuantizedMatrix &q, int64_t r, int64_t g) {
  const Scheme &s = q.scheme;
  if (s.zero == ZeroKind::Int) {
    if (s.isPerTensor())
      return codeValue(q.zeroCodes[0], s.bits, s.isSigned());
    int64_t offset = 0;
    for (int64_t h = 0; h < g; ++h)
      offset += s.bitsOfGroup(h);
    const unsigned width = s.bitsOfGroup(g);
    return codeValue(
        extractBits(&q.zeroCodes[r * s.zeroWordsPerRow(q.cols)], offset, width),
        width, s.isSigned());
  }
  if (s.zero == ZeroKind::Float)
    return q.zeroValues[unitOf(q, r, g)];
  return 0;
}

//===----------------------------------------------------------------------===//
// Hand-worked quantization examples
//===----------------------------------------------------------------------===//

TEST(QuantizeTest, SymmetricSignedByHand) {
  // amax = 3.5, s = 3.5 / 7 = 0.5: 3.5 / 0.5 = 7 is the edge, 1.75 / 0.5 =
  // 3.5 ties to 4, 0.25 / 0.5 = 0.5 ties to 0.
  std::vector<float> w = {1.75f, -3.5f, 0.25f, 0.0f, -0.75f, 3.0f, 0.5f, 1.0f};
  Scheme scheme = intScheme(true, 4, 8);
  QuantizedMatrix q = quantize(w.data(), 1, 8, scheme);
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 0.5f);
  std::vector<int32_t> expectedCodes = {4, -7, 0, 0, -2, 6, 1, 2};
  std::vector<float> expectedValues = {2.0f,  -3.5f, 0.0f, 0.0f,
                                       -1.0f, 3.0f,  0.5f, 1.0f};
  for (int64_t c = 0; c < 8; ++c) {
    EXPECT_EQ(codeAt(q, 0, c), expectedCodes[c]) << c;
    EXPECT_EQ(q.dequantized(0, c), expectedValues[c]) << c;
  }
  // -0.75 / 0.5 = -1.5 ties to -2: stored as 4-bit 0b1110 in nibble 4.
  EXPECT_EQ((q.codes[0] >> 16) & 0xF, 0xEu);
  EXPECT_TRUE(q.zeroCodes.empty());
  EXPECT_TRUE(q.zeroValues.empty());
}

TEST(QuantizeTest, UnsignedWithoutZeroByHand) {
  // s = max(hi, 0) / 15 = 0.25; negatives clamp to code 0.
  std::vector<float> w = {-1.0f, 0.5f, 1.5f, 3.75f};
  Scheme scheme = intScheme(false, 4, kPerChannel, ScaleType::BF16);
  QuantizedMatrix q = quantize(w.data(), 1, 4, scheme);
  EXPECT_EQ(q.scales[0], 0.25f);
  EXPECT_EQ(q.codes[0], 0xF620u);
  std::vector<float> deq = dequantize(q);
  EXPECT_EQ(deq, (std::vector<float>{0.0f, 0.5f, 1.5f, 3.75f}));
}

TEST(QuantizeTest, IntegerAndFloatZeroByHand) {
  // Range [-1, 2] onto [0, 15]: s = 3 / 15 = 0.2f, minCode - lo / s = 5.
  // 0.5 / s = 2.5: the integer zero rounds first (rne(2.5) + 5 = 7), the
  // float zero adds first (rne(7.5) = 8).
  std::vector<float> w = {-1.0f, 0.0f, 0.5f, 2.0f};
  Scheme scheme = intScheme(false, 4, 4, ScaleType::F32, ZeroKind::Int);
  QuantizedMatrix qi = quantize(w.data(), 1, 4, scheme);
  EXPECT_EQ(qi.scales[0], 3.0f / 15.0f);
  ASSERT_EQ(qi.zeroCodes.size(), 1u);
  EXPECT_EQ(qi.zeroCodes[0], 5u);
  EXPECT_EQ(storedZero(qi, 0, 0), 5.0);
  EXPECT_EQ(qi.codes[0], 0xF750u);
  EXPECT_EQ(qi.dequantized(0, 0), -5.0f * 0.2f);
  EXPECT_EQ(qi.dequantized(0, 1), 0.0f);
  EXPECT_EQ(qi.dequantized(0, 2), 2.0f * 0.2f);
  EXPECT_EQ(qi.dequantized(0, 3), 10.0f * 0.2f);

  scheme.zero = ZeroKind::Float;
  QuantizedMatrix qf = quantize(w.data(), 1, 4, scheme);
  ASSERT_EQ(qf.zeroValues.size(), 1u);
  EXPECT_EQ(qf.zeroValues[0], 5.0f);
  EXPECT_EQ(qf.codes[0], 0xF850u);
  EXPECT_EQ(qf.dequantized(0, 2), 3.0f * 0.2f);
  EXPECT_TRUE(qf.zeroCodes.empty());

  // Signed codes with an integer zero: [-2, 0] (hi' = 0) onto [-2, 1]:
  // s = 2 / 3 rounded to f16, z = rne(-2 - lo / s) = 1.
  std::vector<float> neg = {-2.0f, -1.0f, 0.0f, -0.5f};
  Scheme i2 = intScheme(true, 2, 4, ScaleType::F16, ZeroKind::Int);
  QuantizedMatrix qn = quantize(neg.data(), 1, 4, i2);
  float s = roundTo(ScaleType::F16, 2.0f / 3.0f);
  EXPECT_EQ(qn.scales[0], s);
  EXPECT_EQ(storedZero(qn, 0, 0), 1.0);
  EXPECT_EQ(codeAt(qn, 0, 0), -2);
  EXPECT_EQ(codeAt(qn, 0, 1), -1); // -1 / s = -1.5002 -> -2, + 1
  EXPECT_EQ(codeAt(qn, 0, 2), 1);
  EXPECT_EQ(codeAt(qn, 0, 3), 0); // -0.75 -> -1, + 1
  EXPECT_EQ(qn.dequantized(0, 2), 0.0f);
}

TEST(QuantizeTest, ScaleAndZeroBytes) {
  std::vector<float> w = {1.0f, -7.0f, 0.5f, 7.0f};
  Scheme scheme = intScheme(true, 4, 4);
  // Parts: codes (one word), scales.
  std::vector<std::vector<uint8_t>> bytes =
      quantize(w.data(), 1, 4, scheme).partBytes();
  ASSERT_EQ(bytes.size(), 2u);
  // Codes 1, -7 (0x9), 0 (0.5 ties to even), 7: nibbles 0x7091.
  EXPECT_EQ(bytes[0], (std::vector<uint8_t>{0x91, 0x70, 0x00, 0x00}));
  EXPECT_EQ(bytes[1], (std::vector<uint8_t>{0x00, 0x3C})); // s = 1.0
  scheme.scaleType = ScaleType::BF16;
  EXPECT_EQ(quantize(w.data(), 1, 4, scheme).partBytes()[1],
            (std::vector<uint8_t>{0x80, 0x3F}));
  scheme.scaleType = ScaleType::F32;
  EXPECT_EQ(quantize(w.data(), 1, 4, scheme).partBytes()[1],
            (std::vector<uint8_t>{0x00, 0x00, 0x80, 0x3F}));

  // u4, range [-7.5, 7.5]: s = 1, zf = 0 - (-7.5) = 7.5 = 0x4780 in f16.
  std::vector<float> v = {-7.5f, 7.5f, 0.0f, 1.0f};
  Scheme u4 = intScheme(false, 4, 4, ScaleType::F16, ZeroKind::Float);
  QuantizedMatrix q = quantize(v.data(), 1, 4, u4);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.zeroValues[0], 7.5f);
  bytes = q.partBytes();
  ASSERT_EQ(bytes.size(), 3u);
  EXPECT_EQ(bytes[2], (std::vector<uint8_t>{0x80, 0x47}));
  // Integer zero points: the packed words.
  u4.zero = ZeroKind::Int;
  q = quantize(v.data(), 1, 4, u4);
  ASSERT_EQ(q.zeroCodes.size(), 1u);
  bytes = q.partBytes();
  EXPECT_EQ(bytes[2], (std::vector<uint8_t>{uint8_t(q.zeroCodes[0]), 0, 0, 0}));
}

//===----------------------------------------------------------------------===//
// Quantization error bounds over all integer schemes
//===----------------------------------------------------------------------===//

using QuantizeParam = std::tuple<unsigned, bool, ZeroKind, int64_t, ScaleType>;

class QuantizeBoundsTest : public testing::TestWithParam<QuantizeParam> {
protected:
  Scheme scheme() const {
    auto [bits, isSigned, zero, group, scale] = GetParam();
    return intScheme(isSigned, bits, group, scale, zero);
  }
};

TEST_P(QuantizeBoundsTest, RoundsToNearestWithinRange) {
  const Scheme s = scheme();
  SCOPED_TRACE(s.str());
  ASSERT_EQ(s.validate(), "");
  const int64_t rows = 7, cols = 384;
  std::vector<float> w =
      randomNormal(rows * cols, s.bits * 1000 + s.isSigned());
  // Rows 5 and 6 are all positive and all negative: their ranges must still
  // be widened to include 0 when there is a zero point.
  for (int64_t c = 0; c < cols; ++c) {
    w[5 * cols + c] = std::fabs(w[5 * cols + c]) + 0.25f;
    w[6 * cols + c] = -std::fabs(w[6 * cols + c]) - 0.25f;
  }
  QuantizedMatrix q = quantize(w.data(), rows, cols, s);

  const int64_t groupSize = s.groupSizeFor(cols), groups = cols / groupSize;
  const int64_t units = s.isPerTensor() ? 1 : rows * groups;
  ASSERT_EQ(q.rows, rows);
  ASSERT_EQ(q.cols, cols);
  ASSERT_EQ(q.scheme, s);
  ASSERT_EQ(int64_t(q.codes.size()), rows * packedWords(cols, s.bits));
  ASSERT_EQ(int64_t(q.scales.size()), units);
  ASSERT_EQ(int64_t(q.zeroCodes.size()),
            s.zero != ZeroKind::Int ? 0
            : s.isPerTensor()       ? 1
                                    : rows * packedWords(groups, s.bits));
  ASSERT_EQ(int64_t(q.zeroValues.size()),
            s.zero == ZeroKind::Float ? units : 0);
  EXPECT_TRUE(q.codebook.empty());
  EXPECT_TRUE(q.groupIndex.empty());

  // Padding bits after the last code of each row are zero.
  // (GoogleTest assertions are statements with a hidden `else`: braces.)
  const int64_t codeWords = s.codeWordsPerRow(cols);
  const unsigned codeBitsUsed = unsigned(cols * s.bits % 32);
  const unsigned zeroBitsUsed =
      unsigned((s.isPerTensor() ? 1 : groups) * s.bits % 32);
  for (int64_t r = 0; r < rows; ++r) {
    if (codeBitsUsed != 0) {
      EXPECT_EQ(q.codes[(r + 1) * codeWords - 1] >> codeBitsUsed, 0u);
    }
    if (s.zero == ZeroKind::Int && zeroBitsUsed != 0 && !s.isPerTensor()) {
      EXPECT_EQ(q.zeroCodes[(r + 1) * s.zeroWordsPerRow(cols) - 1] >>
                    zeroBitsUsed,
                0u);
    }
  }
  if (s.zero == ZeroKind::Int && s.isPerTensor()) {
    EXPECT_EQ(q.zeroCodes[0] >> s.bits, 0u);
  }

  std::vector<float> deq = dequantize(q);
  const double eps = unitRoundoff(s.scaleType);
  const double codeSpan = s.maxCode() - s.minCode();
  // Beyond the representable range, clamping adds at most the effect of
  // rounding the scale and the float zero point (see Reference.h).
  const double clampSlack = 2 * (codeSpan + 1) * eps;
  int64_t inRange = 0;

  // A unit: the rows and columns sharing one scale.
  struct Unit {
    int64_t row0, row1, col0, col1, g;
  };
  std::vector<Unit> unitList;
  if (s.isPerTensor())
    unitList.push_back({0, rows, 0, cols, 0});
  else
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < groups; ++g)
        unitList.push_back({r, r + 1, g * groupSize, (g + 1) * groupSize, g});

  for (const Unit &unit : unitList) {
    const int64_t r0 = unit.row0, g = unit.g;
    const double scale = q.scales[unitOf(q, r0, g)];
    ASSERT_EQ(roundTo(s.scaleType, float(scale)), float(scale));

    // The scale and zero point from their definitions, in double: equal
    // up to the rounding to the storage type and a few f32 roundings.
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    for (int64_t r = unit.row0; r < unit.row1; ++r)
      for (int64_t c = unit.col0; c < unit.col1; ++c) {
        lo = std::min(lo, double(w[r * cols + c]));
        hi = std::max(hi, double(w[r * cols + c]));
      }
    double exactScale;
    if (s.zero == ZeroKind::None)
      exactScale =
          (s.isSigned() ? std::max(-lo, hi) : std::max(hi, 0.0)) / s.maxCode();
    else
      exactScale = (std::max(hi, 0.0) - std::min(lo, 0.0)) / codeSpan;
    const double roundings = eps + std::ldexp(1.0, -22);
    ASSERT_NEAR(scale, exactScale, exactScale * roundings)
        << "row " << r0 << " group " << g << " lo " << lo << " hi " << hi;
    if (exactScale == 0) {
      // Unsigned codes without a zero point, all values negative: the
      // best they can do is 0.
      ASSERT_TRUE(s.zero == ZeroKind::None && !s.isSigned());
      for (int64_t c = unit.col0; c < unit.col1; ++c)
        ASSERT_EQ(deq[r0 * cols + c], 0.0f);
      continue;
    }
    const double exactZero = s.minCode() - std::min(lo, 0.0) / scale;

    const double zero = storedZero(q, r0, g);
    if (s.zero == ZeroKind::Int) {
      EXPECT_GE(zero, s.minCode());
      EXPECT_LE(zero, s.maxCode());
      const double clamped =
          std::clamp(exactZero, double(s.minCode()), double(s.maxCode()));
      EXPECT_NEAR(zero, clamped, 0.5 + 1e-4);
    }
    if (s.zero == ZeroKind::Float) {
      ASSERT_EQ(roundTo(s.scaleType, float(zero)), float(zero));
      // minCode - lo / s may cancel: bound by the operands' magnitudes.
      const double operands = std::abs(s.minCode()) + std::fabs(lo / scale);
      EXPECT_NEAR(zero, exactZero, operands * roundings);
    }
    if (s.zero == ZeroKind::None) {
      EXPECT_EQ(zero, 0);
    }
    // Representable range of this unit, widened by half a step.
    const double low = (s.minCode() - zero) * scale - scale / 2;
    const double high = (s.maxCode() - zero) * scale + scale / 2;

    int64_t outOfRange = 0;
    for (int64_t r = unit.row0; r < unit.row1; ++r)
      for (int64_t c = unit.col0; c < unit.col1; ++c) {
        const int64_t index = r * cols + c;
        const int32_t code = codeAt(q, r, c);
        ASSERT_GE(code, s.minCode());
        ASSERT_LE(code, s.maxCode());
        ASSERT_EQ(deq[index], q.dequantized(r, c));
        const double value = w[index], error = std::fabs(value - deq[index]);
        if (value >= low && value <= high) {
          ++inRange;
          ASSERT_LE(error, scale / 2 * (1 + 1e-3))
              << "value " << value << " at (" << r << ", " << c << ") code "
              << code << " scale " << scale << " zero " << zero;
          continue;
        }
        // Out of range: the value was clamped to the nearest end.
        ++outOfRange;
        ASSERT_EQ(code, value < low ? s.minCode() : s.maxCode())
            << "value " << value << " at (" << r << ", " << c << ")";
        // Unsigned codes without a zero point cannot represent negatives.
        if (!(s.zero == ZeroKind::None && !s.isSigned() && value < 0)) {
          ASSERT_LE(error, scale * (0.5 + clampSlack) + scale * 1e-3)
              << "value " << value << " at (" << r << ", " << c << ")";
        }
      }
    if (!(s.zero == ZeroKind::None && !s.isSigned())) {
      EXPECT_LE(outOfRange, 2) << "row " << r0 << " group " << g;
    }
  }
  // Sanity: the check above covered nearly all (non-negative) values.
  const int64_t total = rows * cols;
  if (s.zero == ZeroKind::None && !s.isSigned())
    EXPECT_GT(inRange, total * 4 / 10);
  else
    EXPECT_GT(inRange, total * 95 / 100);
}

std::string
quantizeParamName(const testing::TestParamInfo<QuantizeParam> &info) {
  auto [bits, isSigned, zero, group, scale] = info.param;
  return std::string(isSigned ? "i" : "u") + std::to_string(bits) + "_g" +
         (group == kPerChannel  ? std::string("ch")
          : group == kPerTensor ? std::string("tensor")
                                : std::to_string(group)) +
         "_" + toString(scale) + "_zero" + toString(zero);
}

std::vector<QuantizeParam> integerSchemes() {
  std::vector<QuantizeParam> params;
  for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits)
    for (bool isSigned : {true, false})
      for (ZeroKind zero : {ZeroKind::None, ZeroKind::Int, ZeroKind::Float})
        for (int64_t group :
             {int64_t(32), int64_t(128), kPerChannel, kPerTensor})
          for (ScaleType scale :
               {ScaleType::F16, ScaleType::BF16, ScaleType::F32}) {
            // Signed 1-bit codes need zero points.
            if (bits == 1 && isSigned && zero == ZeroKind::None)
              continue;
            params.emplace_back(bits, isSigned, zero, group, scale);
          }
  return params;
}

INSTANTIATE_TEST_SUITE_P(AllSchemes, QuantizeBoundsTest,
                         testing::ValuesIn(integerSchemes()),
                         quantizeParamName);

//===----------------------------------------------------------------------===//
// Zeros
//===----------------------------------------------------------------------===//

TEST(QuantizeTest, AllZeroGroupsDequantizeToZero) {
  for (bool isSigned : {true, false})
    for (ZeroKind zero : {ZeroKind::None, ZeroKind::Int, ZeroKind::Float})
      for (ScaleType scale : {ScaleType::F16, ScaleType::BF16, ScaleType::F32})
        for (unsigned bits : {1u, 2u, 3u, 4u, 8u}) {
          if (bits == 1 && isSigned && zero == ZeroKind::None)
            continue;
          Scheme s = intScheme(isSigned, bits, 32, scale, zero);
          SCOPED_TRACE(s.str());
          const int64_t rows = 3, cols = 96;
          std::vector<float> w = randomNormal(rows * cols, bits);
          // Row 1, group 1 is all zeros (negative zeros included).
          for (int64_t c = 32; c < 64; ++c)
            w[cols + c] = (c % 2) ? 0.0f : -0.0f;
          QuantizedMatrix q = quantize(w.data(), rows, cols, s);
          EXPECT_EQ(q.scales[1 * 3 + 1], 0.0f);
          std::vector<float> deq = dequantize(q);
          for (int64_t c = 32; c < 64; ++c)
            ASSERT_EQ(deq[cols + c], 0.0f) << c;
          // The other groups are untouched by the zero group.
          EXPECT_GT(q.scales[1 * 3 + 0], 0.0f);
          EXPECT_GT(q.scales[1 * 3 + 2], 0.0f);

          // An all-zero matrix dequantizes to zeros everywhere.
          std::vector<float> zeros(rows * cols, 0.0f);
          std::vector<float> zdeq =
              dequantize(quantize(zeros.data(), rows, cols, s));
          EXPECT_EQ(zdeq, zeros);
        }
}

TEST(QuantizeTest, ZeroWeightsAreExactWithIntegerZeroPoints) {
  // With no zero point (signed) or an integer one, w = 0 gives q = z.
  for (ZeroKind zero : {ZeroKind::None, ZeroKind::Int})
    for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits) {
      if (bits == 1 && zero == ZeroKind::None)
        continue; // signed 1-bit codes need zero points
      Scheme s =
          intScheme(zero == ZeroKind::None, bits, 32, ScaleType::F16, zero);
      SCOPED_TRACE(s.str());
      std::vector<float> w = randomNormal(5 * 64, 77 + bits);
      for (size_t i = 0; i < w.size(); i += 7)
        w[i] = 0.0f;
      std::vector<float> deq = dequantize(quantize(w.data(), 5, 64, s));
      for (size_t i = 0; i < w.size(); i += 7)
        ASSERT_EQ(deq[i], 0.0f) << i;
    }
}

//===----------------------------------------------------------------------===//
// Reference matmul
//===----------------------------------------------------------------------===//

TEST(ReferenceMatmulTest, HandExample) {
  // x = [[1, 2, 3], [4, 5, 6]], w = [[1, 0, -1], [2, 1, 0]].
  std::vector<double> x = {1, 2, 3, 4, 5, 6};
  std::vector<double> w = {1, 0, -1, 2, 1, 0};
  std::vector<double> expected = {-2, 4, -2, 13};
  EXPECT_EQ(referenceMatmul(x, w, 2, 2, 3, Accumulation::F64), expected);
  EXPECT_EQ(referenceMatmul(x, w, 2, 2, 3, Accumulation::F32), expected);
}

TEST(ReferenceMatmulTest, F32AccumulationRoundsInFloat) {
  // 1 + 2^-30 - 1 is 2^-30 in double but 0 in float.
  std::vector<double> x = {1, 1, 1};
  std::vector<double> w = {1, std::ldexp(1.0, -30), -1};
  EXPECT_EQ(referenceMatmul(x, w, 1, 1, 3, Accumulation::F64)[0],
            std::ldexp(1.0, -30));
  EXPECT_EQ(referenceMatmul(x, w, 1, 1, 3, Accumulation::F32)[0], 0.0);
}

TEST(ReferenceMatmulTest, F32CloseToF64) {
  const int64_t m = 5, n = 17, k = 512;
  std::vector<float> xf = randomNormal(m * k, 1), wf = randomNormal(n * k, 2);
  std::vector<double> x(xf.begin(), xf.end()), w(wf.begin(), wf.end());
  std::vector<double> f64 = referenceMatmul(x, w, m, n, k, Accumulation::F64);
  std::vector<double> f32 = referenceMatmul(x, w, m, n, k, Accumulation::F32);
  bool anyDifferent = false;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double absSum = 0;
      for (int64_t l = 0; l < k; ++l)
        absSum += std::fabs(x[i * k + l] * w[j * k + l]);
      // Worst-case recursive summation bound.
      double bound = double(k) * std::ldexp(1.0, -24) * absSum;
      EXPECT_LE(std::fabs(f32[i * n + j] - f64[i * n + j]), bound);
      EXPECT_EQ(f32[i * n + j], double(float(f32[i * n + j])));
      anyDifferent |= f32[i * n + j] != f64[i * n + j];
    }
  EXPECT_TRUE(anyDifferent);
}

//===----------------------------------------------------------------------===//
// The numerics contract
//===----------------------------------------------------------------------===//

TEST(CheckOutputTest, Tolerances) {
  EXPECT_EQ(relativeTolerance(FloatType::F16), 2e-3);
  EXPECT_EQ(relativeTolerance(FloatType::BF16), 1e-2);
  EXPECT_EQ(relativeTolerance(FloatType::F32), 1e-5);
}

TEST(CheckOutputTest, SummaryFormat) {
  CheckResult result;
  result.passed = true;
  result.relativeError = 1.23e-4;
  result.tolerance = 2e-3;
  result.worstElementRatio = 0.41;
  result.worstRow = 3;
  result.worstCol = 17;
  EXPECT_EQ(result.summary(), "rel_err=1.23e-04 (tol 2.0e-03) worst_elem=0.41 "
                              "of bound at [3, 17] nonfinite=0 PASS");
  result.passed = false;
  result.nonFinite = 2;
  EXPECT_EQ(result.summary(), "rel_err=1.23e-04 (tol 2.0e-03) worst_elem=0.41 "
                              "of bound at [3, 17] nonfinite=2 FAIL");
}

TEST(CheckOutputTest, PerElementBoundIsOneUlp) {
  struct Case {
    FloatType type;
    int mantissaBits;
  };
  for (Case c : {Case{FloatType::F16, 10}, Case{FloatType::BF16, 7},
                 Case{FloatType::F32, 23}}) {
    SCOPED_TRACE(toString(c.type));
    std::vector<double> ref = {1.5}, abs = {0};
    double ulp = std::ldexp(1.0, -c.mantissaBits);
    CheckResult one = checkOutput({1.5 + ulp}, ref, abs, 1, 1, 1, c.type);
    EXPECT_DOUBLE_EQ(one.worstElementRatio, 1.0);
    EXPECT_TRUE(one.passed) << one.summary();
    CheckResult two = checkOutput({1.5 - 2 * ulp}, ref, abs, 1, 1, 1, c.type);
    EXPECT_DOUBLE_EQ(two.worstElementRatio, 2.0);
    EXPECT_FALSE(two.passed) << two.summary();
    // At |ref| in [4, 8) the ulp is four times larger.
    CheckResult four =
        checkOutput({-7.0 + 4 * ulp}, {-7.0}, abs, 1, 1, 1, c.type);
    EXPECT_DOUBLE_EQ(four.worstElementRatio, 1.0);
  }
  // At zero the bound is the smallest subnormal of the type.
  std::vector<double> zero = {0}, abs = {0};
  EXPECT_DOUBLE_EQ(
      checkOutput({std::ldexp(1.0, -24)}, zero, abs, 1, 1, 1, FloatType::F16)
          .worstElementRatio,
      1.0);
  EXPECT_DOUBLE_EQ(
      checkOutput({std::ldexp(1.0, -133)}, zero, abs, 1, 1, 1, FloatType::BF16)
          .worstElementRatio,
      1.0);
  EXPECT_DOUBLE_EQ(
      checkOutput({std::ldexp(1.0, -149)}, zero, abs, 1, 1, 1, FloatType::F32)
          .worstElementRatio,
      1.0);
  // Tiny references do not shrink the bound below the subnormal step.
  EXPECT_DOUBLE_EQ(checkOutput({std::ldexp(1.0, -20) + std::ldexp(1.0, -24)},
                               {std::ldexp(1.0, -20)}, abs, 1, 1, 1,
                               FloatType::F16)
                       .worstElementRatio,
                   1.0);
}

TEST(CheckOutputTest, AccumulationTermOfTheBound) {
  // bound = ulp(1.0) + 8 sqrt(64) 2^-24 * 2^20 = 2^-10 + 4.
  const double bound = std::ldexp(1.0, -10) + 4.0;
  CheckResult result = checkOutput({1.0 + bound}, {1.0}, {std::ldexp(1.0, 20)},
                                   1, 1, 64, FloatType::F16);
  EXPECT_DOUBLE_EQ(result.worstElementRatio, 1.0);
  EXPECT_FALSE(result.passed); // the relative error is far too large
}

struct CheckFixture {
  MatmulProblem problem;
  MatmulData data;
  std::vector<double> x, w;

  explicit CheckFixture(MatmulProblem p) : problem(p), data(makeMatmulData(p)) {
    for (uint16_t bits : data.activations)
      x.push_back(activationValue(bits, p.activationType));
    for (float value : dequantize(data.weights))
      w.push_back(value);
  }

  /// What a kernel produces: f32 accumulation, output rounded to `type`.
  std::vector<double> kernelOutput(FloatType type) const {
    std::vector<double> out = referenceMatmul(x, w, problem.m, problem.n,
                                              problem.k, Accumulation::F32);
    for (double &value : out)
      value = roundTo(type, float(value));
    return out;
  }

  CheckResult check(const std::vector<double> &out, FloatType type) const {
    return checkOutput(out, data.reference, data.absProducts, problem.m,
                       problem.n, problem.k, type);
  }
};


TEST(CheckOutputTest, PassesOnReferenceAndRoundedReference) {
  CheckFixture f(makeProblem(
      7, 96, 384, "#qmlir.scheme<i4, group = 128, scale = f16, zero = int>"));
  for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
    SCOPED_TRACE(toString(type));
    CheckResult exact = f.check(f.data.reference, type);
    EXPECT_TRUE(exact.passed) << exact.summary();
    EXPECT_EQ(exact.relativeError, 0);
    EXPECT_EQ(exact.worstElementRatio, 0);
    EXPECT_EQ(exact.tolerance, relativeTolerance(type));

    std::vector<double> rounded = f.data.reference;
    for (double &value : rounded)
      value = roundTo(type, float(value));
    CheckResult result = f.check(rounded, type);
    EXPECT_TRUE(result.passed) << result.summary();
    EXPECT_LE(result.worstElementRatio, 1.0);

    CheckResult kernel = f.check(f.kernelOutput(type), type);
    EXPECT_TRUE(kernel.passed) << kernel.summary();
  }
}

TEST(CheckOutputTest, FailsOnOnePerturbedElement) {
  CheckFixture f(makeProblem(
      4, 64, 256, "#qmlir.scheme<u4, group = 32, scale = f16, zero = float>"));
  const int64_t n = 64, row = 2, col = 40;
  double rms = 0;
  for (int64_t j = 0; j < n; ++j)
    rms += f.data.reference[row * n + j] * f.data.reference[row * n + j];
  rms = std::sqrt(rms / n);
  std::vector<double> out = f.kernelOutput(FloatType::F16);
  ASSERT_TRUE(f.check(out, FloatType::F16).passed);
  out[row * n + col] += 0.03 * rms;
  CheckResult result = f.check(out, FloatType::F16);
  EXPECT_FALSE(result.passed) << result.summary();
  EXPECT_GT(result.worstElementRatio, 1.0);
  EXPECT_EQ(result.worstRow, row);
  EXPECT_EQ(result.worstCol, col);
  EXPECT_EQ(result.nonFinite, 0);
  EXPECT_NE(result.summary().find("FAIL"), std::string::npos);
  EXPECT_NE(result.summary().find("at [2, 40]"), std::string::npos);
}

TEST(CheckOutputTest, FailsOnRelativeError) {
  CheckFixture f(makeProblem(
      3, 32, 128, "#qmlir.scheme<i8, group = channel, scale = f32>"));
  std::vector<double> out = f.data.reference;
  for (double &value : out)
    value *= 1.0 + 3e-3;
  CheckResult result = f.check(out, FloatType::F16);
  EXPECT_NEAR(result.relativeError, 3e-3, 1e-9);
  EXPECT_FALSE(result.passed) << result.summary();
  // The same output meets the looser bf16 contract.
  EXPECT_TRUE(f.check(out, FloatType::BF16).passed);
}

TEST(CheckOutputTest, FailsOnNonFinite) {
  CheckFixture f(
      makeProblem(2, 32, 128, "#qmlir.scheme<i4, group = 32, scale = bf16>"));
  for (double bad : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    std::vector<double> out = f.data.reference;
    out[33] = bad;
    CheckResult result = f.check(out, FloatType::F16);
    EXPECT_FALSE(result.passed) << result.summary();
    EXPECT_EQ(result.nonFinite, 1);
    EXPECT_TRUE(std::isfinite(result.relativeError));
    EXPECT_EQ(result.worstRow, 1);
    EXPECT_EQ(result.worstCol, 1);
    EXPECT_NE(result.summary().find("nonfinite=1"), std::string::npos);
  }
}

TEST(CheckOutputTest, ZeroReferenceUsesAbsoluteNorm) {
  std::vector<double> zeros(4, 0.0), abs(4, 0.0);
  CheckResult same = checkOutput(zeros, zeros, abs, 2, 2, 8, FloatType::F16);
  EXPECT_TRUE(same.passed) << same.summary();
  std::vector<double> out = {0, 0, 3e-3, 4e-3};
  CheckResult off = checkOutput(out, zeros, abs, 2, 2, 8, FloatType::F16);
  EXPECT_DOUBLE_EQ(off.relativeError, 5e-3);
  EXPECT_FALSE(off.passed);
}

TEST(CheckOutputTest, MismatchedSizesFail) {
  std::vector<double> ref(6, 1.0), abs(6, 1.0), out(5, 1.0);
  EXPECT_FALSE(checkOutput(out, ref, abs, 2, 3, 4, FloatType::F16).passed);
  EXPECT_FALSE(checkOutput(ref, ref, abs, 3, 3, 4, FloatType::F16).passed);
}

//===----------------------------------------------------------------------===//
// Problems
//===----------------------------------------------------------------------===//

TEST(ProblemTest, ValidateAndStr) {
  MatmulProblem p =
      makeProblem(7, 96, 384, "#qmlir.scheme<i4, group = 128, scale = f16>");
  EXPECT_EQ(p.validate(), "");
  EXPECT_EQ(p.str(), "M=7 N=96 K=384 #qmlir.scheme<i4, group = 128, scale = "
                     "f16> act=f16 seed=1");
  p.activationType = FloatType::BF16;
  p.seed = 42;
  EXPECT_EQ(p.str(), "M=7 N=96 K=384 #qmlir.scheme<i4, group = 128, scale = "
                     "f16> act=bf16 seed=42");

  MatmulProblem bad = p;
  bad.m = 0;
  EXPECT_NE(bad.validate().find("M must be positive"), std::string::npos);
  bad = p;
  bad.n = -1;
  EXPECT_NE(bad.validate().find("N must be positive"), std::string::npos);
  bad = p;
  bad.k = 0;
  EXPECT_NE(bad.validate().find("K must be positive"), std::string::npos);
  bad = p;
  bad.k = 100;
  EXPECT_NE(bad.validate().find("K = 100"), std::string::npos);
  bad = p;
  bad.scheme.bits = 9;
  EXPECT_NE(bad.validate().find("bit-width"), std::string::npos);
  bad = p;
  bad.activationType = FloatType::F32;
  EXPECT_NE(bad.validate().find("activation type"), std::string::npos);
}

TEST(ProblemTest, ActivationValue) {
  EXPECT_EQ(activationValue(0x3C00, FloatType::F16), 1.0);
  EXPECT_EQ(activationValue(0xBF80, FloatType::BF16), -1.0);
  EXPECT_EQ(activationValue(0x3800, FloatType::F16), 0.5);
}

TEST(ProblemTest, DataIsDeterministicPerSeed) {
  MatmulProblem p = makeProblem(
      3, 40, 256, "#qmlir.scheme<u3, group = 64, scale = bf16, zero = int>");
  MatmulData a = makeMatmulData(p), b = makeMatmulData(p);
  EXPECT_EQ(a.activations, b.activations);
  EXPECT_EQ(a.weights.codes, b.weights.codes);
  EXPECT_EQ(a.weights.scales, b.weights.scales);
  EXPECT_EQ(a.weights.zeroCodes, b.weights.zeroCodes);
  EXPECT_EQ(a.reference, b.reference);
  EXPECT_EQ(a.absProducts, b.absProducts);

  p.seed = 2;
  MatmulData c = makeMatmulData(p);
  EXPECT_NE(a.activations, c.activations);
  EXPECT_NE(a.weights.codes, c.weights.codes);
  EXPECT_NE(a.weights.scales, c.weights.scales);
  EXPECT_NE(a.reference, c.reference);
}

TEST(ProblemTest, ReferenceIsReferenceMatmulOfTheDequantizedWeights) {
  // makeMatmulData's one-pass reference is referenceMatmul's F64 result, bit
  // for bit, for every format family.
  for (const char *scheme :
       {"#qmlir.scheme<u*, bits = [4, 2, 3], group = 128, scale = f16, zero "
        "= int>",
        "#qmlir.scheme<mxfp4>", "#qmlir.scheme<lut3, group = tensor>",
        "#qmlir.scheme<bcq2, group = 64, scale = f16, zero = float>",
        "#qmlir.scheme<ternary, group = channel, scale = f16>"}) {
    MatmulProblem p = makeProblem(3, 19, 384, scheme, FloatType::BF16, 4);
    SCOPED_TRACE(p.str());
    CheckFixture f(p);
    EXPECT_EQ(f.data.reference,
              referenceMatmul(f.x, f.w, p.m, p.n, p.k, Accumulation::F64));
  }
}

TEST(ProblemTest, WeightsAreStandardNormal) {
  // Nearly exact weights (8-bit codes, f32 scales per channel): moments
  // and tails of N(0, 1), including the ziggurat's tail beyond 3.44.
  MatmulProblem p = makeProblem(
      1, 64, 4096, "#qmlir.scheme<i8, group = channel, scale = f32>",
      FloatType::F16, 17);
  CheckFixture f(p);
  double sum = 0, squares = 0, fourth = 0;
  int64_t beyond2 = 0, beyond36 = 0;
  for (double v : f.w) {
    sum += v;
    squares += v * v;
    fourth += v * v * v * v;
    beyond2 += std::fabs(v) > 2.0;
    beyond36 += std::fabs(v) > 3.6;
  }
  const double count = double(f.w.size());
  EXPECT_NEAR(sum / count, 0.0, 0.01);
  EXPECT_NEAR(squares / count, 1.0, 0.02);
  EXPECT_NEAR(fourth / count, 3.0, 0.1);
  // P(|x| > 2) = 0.0455, P(|x| > 3.6) = 3.18e-4 (83 of 262144).
  EXPECT_NEAR(beyond2 / count, 0.0455, 0.003);
  EXPECT_GT(beyond36, 45);
  EXPECT_LT(beyond36, 130);
}

TEST(ProblemTest, DataMatchesItsDefinition) {
  for (FloatType act : {FloatType::F16, FloatType::BF16}) {
    MatmulProblem p = makeProblem(
        5, 24, 512, "#qmlir.scheme<i8, group = 128, scale = f32>", act, 9);
    SCOPED_TRACE(p.str());
    CheckFixture f(p);
    const MatmulData &d = f.data;
    ASSERT_EQ(int64_t(d.activations.size()), p.m * p.k);
    ASSERT_EQ(int64_t(d.reference.size()), p.m * p.n);
    ASSERT_EQ(int64_t(d.absProducts.size()), p.m * p.n);
    EXPECT_EQ(d.weights.rows, p.n);
    EXPECT_EQ(d.weights.cols, p.k);
    EXPECT_EQ(d.weights.scheme, p.scheme);

    // Activations: in [-1, 1], spread over it, and on the activation grid.
    double lo = 1, hi = -1, mean = 0;
    for (uint16_t bits : d.activations) {
      double v = activationValue(bits, act);
      ASSERT_GE(v, -1.0);
      ASSERT_LE(v, 1.0);
      ASSERT_EQ(act == FloatType::F16 ? floatToHalf(float(v))
                                      : floatToBf16(float(v)),
                bits);
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      mean += v;
    }
    mean /= double(d.activations.size());
    EXPECT_LT(lo, -0.99);
    EXPECT_GT(hi, 0.99);
    EXPECT_NEAR(mean, 0.0, 0.05);

    // Weights: 8-bit codes of N(0, 1) samples.
    double sum = 0, squares = 0;
    for (double v : f.w) {
      sum += v;
      squares += v * v;
    }
    double wMean = sum / double(f.w.size());
    EXPECT_NEAR(wMean, 0.0, 0.05);
    EXPECT_NEAR(squares / double(f.w.size()) - wMean * wMean, 1.0, 0.1);

    // Reference and magnitudes, recomputed independently.
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t j = 0; j < p.n; ++j) {
        double dot = 0, abs = 0;
        for (int64_t l = 0; l < p.k; ++l) {
          dot += f.x[i * p.k + l] * f.w[j * p.k + l];
          abs += std::fabs(f.x[i * p.k + l] * f.w[j * p.k + l]);
        }
        EXPECT_NEAR(d.reference[i * p.n + j], dot, 1e-9 * abs);
        EXPECT_NEAR(d.absProducts[i * p.n + j], abs, 1e-9 * abs);
        EXPECT_GE(d.absProducts[i * p.n + j],
                  std::fabs(d.reference[i * p.n + j]));
      }
  }
}

//===----------------------------------------------------------------------===//
// Planted faults
//===----------------------------------------------------------------------===//

class PlantFaultTest
    : public testing::TestWithParam<std::tuple<MatmulProblem, FloatType>> {};

TEST_P(PlantFaultTest, CheckerSeesTheFault) {
  auto [problem, outputType] = GetParam();
  SCOPED_TRACE(problem.str());
  ASSERT_EQ(problem.validate(), "");
  CheckFixture f(problem);
  CheckResult clean = f.check(f.kernelOutput(outputType), outputType);
  EXPECT_TRUE(clean.passed) << clean.summary();

  // The expected location, found independently.
  int64_t col = 0;
  for (int64_t l = 1; l < problem.k; ++l)
    if (std::fabs(f.x[l]) > std::fabs(f.x[col]))
      col = l;
  const int64_t row = problem.n / 2;

  QuantizedMatrix before = f.data.weights;
  std::vector<double> reference = f.data.reference;
  std::string description = plantFault(f.data, problem);
  EXPECT_NE(description.find("(" + std::to_string(row) + ", " +
                             std::to_string(col) + ")"),
            std::string::npos)
      << description;

  // One bit of the codes flipped; nothing else and not the reference.
  const QuantizedMatrix &after = f.data.weights;
  int64_t flipped = 0;
  for (size_t i = 0; i < before.codes.size(); ++i)
    flipped += std::popcount(before.codes[i] ^ after.codes[i]);
  EXPECT_EQ(flipped, 1) << description;
  EXPECT_EQ(after.scales, before.scales);
  EXPECT_EQ(after.zeroCodes, before.zeroCodes);
  EXPECT_EQ(after.zeroValues, before.zeroValues);
  EXPECT_EQ(after.codebook, before.codebook);
  EXPECT_EQ(after.groupIndex, before.groupIndex);
  EXPECT_EQ(f.data.reference, reference);

  // The weight changed and stayed finite; others only where they share the
  // flipped bit (ternary words hold 20 weights).
  const float oldValue = before.dequantized(row, col);
  const float newValue = after.dequantized(row, col);
  EXPECT_NE(oldValue, newValue) << description;
  EXPECT_TRUE(std::isfinite(newValue)) << description;
  if (problem.scheme.kind != ElementKind::Ternary) {
    std::vector<float> a = dequantize(before), b = dequantize(after);
    for (int64_t r = 0; r < problem.n; ++r)
      for (int64_t c = 0; c < problem.k; ++c)
        if (r != row || c != col) {
          ASSERT_EQ(a[r * problem.k + c], b[r * problem.k + c])
              << r << ", " << c;
        }
  }

  // Of the bits holding the weight, the flip changes it most: no single-bit
  // flip of those bits (found independently) changes it more.
  {
    QuantizedMatrix probe = before;
    const double chosen = std::fabs(double(newValue) - double(oldValue));
    for (size_t i = 0; i < probe.codes.size(); ++i)
      for (unsigned bit = 0; bit < 32; ++bit) {
        probe.codes[i] ^= 1u << bit;
        float value = probe.dequantized(row, col);
        probe.codes[i] ^= 1u << bit;
        if (value == oldValue || !std::isfinite(value))
          continue; // a bit of another weight, or a non-finite result
        ASSERT_LE(std::fabs(double(value) - double(oldValue)), chosen)
            << "word " << i << " bit " << bit;
      }
  }

  // A kernel using the faulty weights fails the contract.
  std::vector<float> faulty = dequantize(after);
  f.w.assign(faulty.begin(), faulty.end());
  CheckResult result = f.check(f.kernelOutput(outputType), outputType);
  EXPECT_FALSE(result.passed) << result.summary() << "\n" << description;
  if (problem.scheme.kind != ElementKind::Ternary) {
    EXPECT_EQ(result.worstCol, row);
  }
}

std::vector<std::tuple<MatmulProblem, FloatType>> faultCases() {
  std::vector<std::tuple<MatmulProblem, FloatType>> cases;
  struct Shape {
    int64_t m, n, k;
  };
  const char *integers[] = {
      "#qmlir.scheme<i2, group = 128, scale = f16>",
      "#qmlir.scheme<u8, group = 128, scale = f16, zero = int>",
      "#qmlir.scheme<u8, group = channel, scale = f32>",
      "#qmlir.scheme<i2, group = 32, scale = bf16, zero = float>",
      "#qmlir.scheme<i4, group = 128, scale = f16, zero = int>",
      "#qmlir.scheme<u3, group = 64, scale = bf16, zero = int>",
      "#qmlir.scheme<i5, group = channel, scale = f16, zero = float>",
      "#qmlir.scheme<i8, group = 32, scale = bf16>",
      "#qmlir.scheme<u2, group = 128, scale = f32, zero = int>",
  };
  uint64_t seed = 0;
  for (Shape shape : {Shape{1, 96, 384}, Shape{7, 33, 128}, Shape{2, 1, 256}})
    for (const char *scheme : integers)
      for (FloatType act : {FloatType::F16, FloatType::BF16})
        cases.emplace_back(
            makeProblem(shape.m, shape.n, shape.k, scheme, act, ++seed), act);
  // Every format family at M = 1, N = 96, K = 384.
  const char *families[] = {
      "#qmlir.scheme<i1, group = 64, scale = f16, zero = int>",
      "#qmlir.scheme<u1, group = tensor, scale = f16>",
      "#qmlir.scheme<i4, group = tensor, scale = f32, zero = float>",
      "#qmlir.scheme<u*, bits = [4, 2, 3], group = 128, scale = f16, zero = "
      "int>",
      "#qmlir.scheme<i*, bits = [2, 8, 1], group = 128, scale = bf16, zero = "
      "float>",
      "#qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>",
      "#qmlir.scheme<i3, group = 32, scale = f16, act_order>",
      "#qmlir.scheme<mxfp4>",
      "#qmlir.scheme<nvfp4>",
      "#qmlir.scheme<f4e2m1, group = 32, scale = f16>",
      "#qmlir.scheme<f6e2m3, group = 64, scale = bf16>",
      "#qmlir.scheme<f6e3m2, group = channel, scale = e8m0>",
      "#qmlir.scheme<f8e4m3, group = 128, scale = f32>",
      "#qmlir.scheme<f8e5m2, group = tensor, scale = f16>",
      "#qmlir.scheme<nf4, group = 64, scale = f16>",
      "#qmlir.scheme<nf4, group = 32, scale = e8m0>",
      "#qmlir.scheme<lut4, group = tensor>",
      "#qmlir.scheme<lut3, group = channel, scale = bf16, codebook = group>",
      "#qmlir.scheme<lut1, group = 32, scale = f32, codebook = group>",
      "#qmlir.scheme<bcq1, group = 128, scale = f16>",
      "#qmlir.scheme<bcq3, group = 128, scale = f16, zero = float>",
      "#qmlir.scheme<bcq2, group = tensor, scale = bf16>",
      "#qmlir.scheme<ternary, group = 128, scale = f16>",
      "#qmlir.scheme<ternary, group = tensor, scale = bf16>",
  };
  for (const char *scheme : families)
    for (FloatType act : {FloatType::F16, FloatType::BF16})
      cases.emplace_back(makeProblem(1, 96, 384, scheme, act, ++seed), act);
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Problems, PlantFaultTest,
                         testing::ValuesIn(faultCases()));

} // namespace
