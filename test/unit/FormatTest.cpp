//===- FormatTest.cpp - Tests of the MLIR-free format library -------------===//
//
// Schemes, their textual form, validation and storage parts, packed codes
// and 16-bit floats, checked against hand-written bit patterns and
// independent formulas. Small floats and scale types: FloatFormatTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "CoreTestSupport.h"
#include "qmlir/Core/Format.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

using namespace qmlir::core;
using namespace qmlir::core::test_support;

namespace {

bool isHalfNaN(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff); }
bool isBf16NaN(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f); }

/// Value of a half bit pattern computed from its definition, in double.
double halfFromDefinition(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0x1f)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  if (exponent == 0)
    return sign * std::ldexp(double(mantissa), -24);
  return sign * std::ldexp(1.0 + mantissa / 1024.0, exponent - 15);
}

//===----------------------------------------------------------------------===//
// f16
//===----------------------------------------------------------------------===//

TEST(HalfTest, KnownPatterns) {
  EXPECT_EQ(floatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(floatToHalf(-1.0f), 0xBC00);
  EXPECT_EQ(floatToHalf(0.0f), 0x0000);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(2.0f), 0x4000);
  EXPECT_EQ(floatToHalf(0.5f), 0x3800);
  EXPECT_EQ(floatToHalf(-2.5f), 0xC100);
  EXPECT_EQ(floatToHalf(65504.0f), 0x7BFF);
  EXPECT_EQ(floatToHalf(0x1p-14f), 0x0400);   // smallest normal
  EXPECT_EQ(floatToHalf(0x1p-24f), 0x0001);   // smallest subnormal
  EXPECT_EQ(floatToHalf(0x3FFp-24f), 0x03FF); // largest subnormal
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(floatToHalf(-std::numeric_limits<float>::infinity()), 0xFC00);

  EXPECT_EQ(halfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(halfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(halfToFloat(0x0001), 0x1p-24f);
  EXPECT_EQ(halfToFloat(0x0200), 0x1p-15f);
  EXPECT_EQ(halfToFloat(0x3555), 0x1.554p-2f);
  EXPECT_EQ(halfToFloat(0xC000), -2.0f);
  EXPECT_TRUE(std::signbit(halfToFloat(0x8000)));
  EXPECT_EQ(halfToFloat(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(halfToFloat(0xFC00), -std::numeric_limits<float>::infinity());
}

TEST(HalfTest, OverflowAndUnderflow) {
  EXPECT_EQ(floatToHalf(65519.996f), 0x7BFF); // just below the midpoint
  EXPECT_EQ(floatToHalf(65520.0f), 0x7C00);   // midpoint to inf: ties to even
  EXPECT_EQ(floatToHalf(-65520.0f), 0xFC00);
  EXPECT_EQ(floatToHalf(1e10f), 0x7C00);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::max()), 0x7C00);
  EXPECT_EQ(floatToHalf(0x1p-25f), 0x0000);        // half of 2^-24: even
  EXPECT_EQ(floatToHalf(0x1.000002p-25f), 0x0001); // just above half
  EXPECT_EQ(floatToHalf(-0x1p-26f), 0x8000);       // keeps the sign
  EXPECT_EQ(floatToHalf(0x1.8p-24f), 0x0002);      // 1.5 ulp: to even 2
  EXPECT_EQ(floatToHalf(0x1p-149f), 0x0000);       // f32 subnormal
  EXPECT_EQ(floatToHalf(0x7FFp-25f), 0x0400);      // rounds up into the normals
}

TEST(HalfTest, TiesToEven) {
  // 1 + 2^-11 is halfway between 1.0 (0x3C00, even) and 1 + 2^-10.
  EXPECT_EQ(floatToHalf(1.0f + 0x1p-11f), 0x3C00);
  // 1 + 3 * 2^-11 is halfway between 0x3C01 (odd) and 0x3C02 (even).
  EXPECT_EQ(floatToHalf(1.0f + 3 * 0x1p-11f), 0x3C02);
  EXPECT_EQ(floatToHalf(1.0f + 0x1p-11f + 0x1p-23f), 0x3C01);
  EXPECT_EQ(floatToHalf(2048.0f + 1.0f), 0x6800); // 2049 -> 2048
  EXPECT_EQ(floatToHalf(2048.0f + 3.0f), 0x6802); // 2051 -> 2052
  // 0x3FF.8p-24 is halfway between the largest subnormal (odd) and 2^-14.
  EXPECT_EQ(floatToHalf(0x3FF.8p-24f), 0x0400);
  EXPECT_EQ(floatToHalf(0x3FE.8p-24f), 0x03FE);
}

TEST(HalfTest, NaNStaysNaN) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(isHalfNaN(floatToHalf(nan)));
  EXPECT_TRUE(isHalfNaN(floatToHalf(-nan)));
  // A signalling NaN whose payload lives only in the low bits must not
  // become infinity.
  EXPECT_TRUE(isHalfNaN(floatToHalf(std::bit_cast<float>(0x7F800001u))));
  EXPECT_TRUE(std::isnan(halfToFloat(0x7C01)));
  EXPECT_TRUE(std::isnan(halfToFloat(0xFE00)));
}

TEST(HalfTest, DecodeMatchesDefinitionForAllPatterns) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    double expected = halfFromDefinition(uint16_t(h));
    float actual = halfToFloat(uint16_t(h));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(actual)) << std::hex << h;
      continue;
    }
    ASSERT_EQ(double(actual), expected) << std::hex << h;
    ASSERT_EQ(std::signbit(actual), bool(h & 0x8000)) << std::hex << h;
  }
}

TEST(HalfTest, ExhaustiveRoundTrip) {
  int checked = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if (isHalfNaN(uint16_t(h))) {
      EXPECT_TRUE(isHalfNaN(floatToHalf(halfToFloat(uint16_t(h)))));
      continue;
    }
    ASSERT_EQ(floatToHalf(halfToFloat(uint16_t(h))), h) << std::hex << h;
    ++checked;
  }
  EXPECT_EQ(checked, 65536 - 2 * 1023);
}

// Every midpoint between consecutive halfs rounds to the even one, and the
// floats just either side of it round to the nearer one.
TEST(HalfTest, ExhaustiveMidpoints) {
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t h = 0; h < 0x7C00; ++h) {
      uint16_t a = uint16_t(sign | h), b = uint16_t(sign | (h + 1));
      // Exact, except that the midpoint above 65504 is 65520, not inf / 2.
      float mid = h == 0x7BFF ? std::copysign(65520.0f, halfToFloat(a))
                              : (halfToFloat(a) + halfToFloat(b)) / 2;
      uint16_t even = (h & 1) ? b : a;
      ASSERT_EQ(floatToHalf(mid), even) << std::hex << h;
      float towardA = std::nextafter(mid, halfToFloat(a));
      float towardB = std::nextafter(mid, halfToFloat(b));
      ASSERT_EQ(floatToHalf(towardA), a) << std::hex << h;
      ASSERT_EQ(floatToHalf(towardB), b) << std::hex << h;
    }
  }
}

//===----------------------------------------------------------------------===//
// bf16
//===----------------------------------------------------------------------===//

TEST(Bf16Test, KnownPatterns) {
  EXPECT_EQ(floatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(floatToBf16(-1.0f), 0xBF80);
  EXPECT_EQ(floatToBf16(0.0f), 0x0000);
  EXPECT_EQ(floatToBf16(-0.0f), 0x8000);
  EXPECT_EQ(floatToBf16(3.0f), 0x4040);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(floatToBf16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_EQ(floatToBf16(0x1p-133f), 0x0001); // smallest bf16 subnormal
  EXPECT_EQ(bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(bf16ToFloat(0x4049), 3.140625f);
  EXPECT_EQ(bf16ToFloat(0x0001), 0x1p-133f);
  EXPECT_EQ(bf16ToFloat(0xFF80), -std::numeric_limits<float>::infinity());
}

TEST(Bf16Test, TiesToEven) {
  // 1 + 2^-8 is halfway between 1.0 (0x3F80, even) and 0x3F81.
  EXPECT_EQ(floatToBf16(1.0f + 0x1p-8f), 0x3F80);
  // 1 + 3 * 2^-8 is halfway between 0x3F81 (odd) and 0x3F82 (even).
  EXPECT_EQ(floatToBf16(1.0f + 3 * 0x1p-8f), 0x3F82);
  EXPECT_EQ(floatToBf16(1.0f + 0x1p-8f + 0x1p-23f), 0x3F81);
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x3F817FFFu)), 0x3F81);
  // The largest finite bf16 plus half an ulp goes to infinity.
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x7F7F8000u)), 0x7F80);
  EXPECT_EQ(floatToBf16(std::bit_cast<float>(0x7F7F7FFFu)), 0x7F7F);
}

TEST(Bf16Test, NaNStaysNaN) {
  float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(isBf16NaN(floatToBf16(nan)));
  EXPECT_TRUE(isBf16NaN(floatToBf16(std::bit_cast<float>(0x7F800001u))));
  EXPECT_TRUE(isBf16NaN(floatToBf16(std::bit_cast<float>(0xFFFFFFFFu))));
  EXPECT_TRUE(std::isnan(bf16ToFloat(0x7FC0)));
}

TEST(Bf16Test, ExhaustiveRoundTripAndMidpoints) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    if (isBf16NaN(uint16_t(b)))
      continue;
    ASSERT_EQ(floatToBf16(bf16ToFloat(uint16_t(b))), b) << std::hex << b;
  }
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t b = 0; b < 0x7F80; ++b) {
      uint16_t lo = uint16_t(sign | b), hi = uint16_t(sign | (b + 1));
      float mid = (bf16ToFloat(lo) + bf16ToFloat(hi)) / 2; // exact
      if (std::isinf(mid))
        mid = std::bit_cast<float>(std::bit_cast<uint32_t>(bf16ToFloat(lo)) +
                                   0x8000u);
      ASSERT_EQ(floatToBf16(mid), (b & 1) ? hi : lo) << std::hex << b;
      ASSERT_EQ(floatToBf16(std::nextafter(mid, bf16ToFloat(lo))), lo)
          << std::hex << b;
      ASSERT_EQ(floatToBf16(std::nextafter(mid, bf16ToFloat(hi))), hi)
          << std::hex << b;
    }
  }
}

TEST(RoundToTest, Types) {
  float x = 1.0f + 0x1p-12f;
  EXPECT_EQ(roundTo(FloatType::F32, x), x);
  EXPECT_EQ(roundTo(ScaleType::F32, x), x);
  EXPECT_EQ(roundTo(FloatType::F16, x), 1.0f);
  EXPECT_EQ(roundTo(ScaleType::F16, 0.1f), 0.0999755859375f);
  EXPECT_EQ(roundTo(FloatType::BF16, 0.1f), 0.10009765625f);
  EXPECT_EQ(roundTo(ScaleType::BF16, 1e20f), bf16ToFloat(floatToBf16(1e20f)));
  EXPECT_EQ(roundTo(FloatType::F16, 1e20f),
            std::numeric_limits<float>::infinity());
}

//===----------------------------------------------------------------------===//
// Packed codes
//===----------------------------------------------------------------------===//

TEST(PackingTest, PackedWords) {
  EXPECT_EQ(packedWords(8, 4), 1);
  EXPECT_EQ(packedWords(9, 4), 2);
  EXPECT_EQ(packedWords(11, 3), 2); // 33 bits
  EXPECT_EQ(packedWords(128, 3), 12);
  EXPECT_EQ(packedWords(1, 8), 1);
  EXPECT_EQ(packedWords(0, 8), 0);
}

TEST(PackingTest, FourBitNibblesInOrder) {
  uint32_t word = 0;
  for (uint32_t i = 0; i < 8; ++i)
    insertCode(&word, i, 4, i);
  EXPECT_EQ(word, 0x76543210u);
  for (uint32_t i = 0; i < 8; ++i)
    EXPECT_EQ(extractCode(&word, i, 4), i);
}

TEST(PackingTest, TwoAndEightBitPatterns) {
  uint32_t word = 0;
  for (uint32_t i = 0; i < 4; ++i)
    insertCode(&word, i, 8, 0x11 * (i + 1));
  EXPECT_EQ(word, 0x44332211u);
  word = 0;
  for (uint32_t i = 0; i < 16; ++i)
    insertCode(&word, i, 2, i % 4);
  EXPECT_EQ(word, 0xE4E4E4E4u); // 0b11100100 repeated
}

TEST(PackingTest, CodesStraddlingWords) {
  // 3-bit code 10 occupies stream bits 30..32.
  uint32_t words[2] = {0, 0};
  insertCode(words, 10, 3, 0b101);
  EXPECT_EQ(words[0], 0x40000000u); // low two bits 0b01 at bits 30-31
  EXPECT_EQ(words[1], 0x00000001u); // high bit at bit 0
  EXPECT_EQ(extractCode(words, 10, 3), 0b101u);
  EXPECT_EQ(extractCode(words, 9, 3), 0u);
  EXPECT_EQ(extractCode(words, 11, 3), 0u);

  // 5-bit code 6 occupies stream bits 30..34.
  uint32_t five[2] = {0, 0};
  insertCode(five, 6, 5, 0b10111);
  EXPECT_EQ(five[0], 0xC0000000u);
  EXPECT_EQ(five[1], 0x00000005u);

  // 7-bit code 4 occupies stream bits 28..34.
  uint32_t seven[2] = {0, 0};
  insertCode(seven, 4, 7, 0x7F);
  EXPECT_EQ(seven[0], 0xF0000000u);
  EXPECT_EQ(seven[1], 0x00000007u);

  // 6-bit code 5 occupies stream bits 30..35; the rest stays untouched.
  uint32_t six[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
  insertCode(six, 5, 6, 0);
  EXPECT_EQ(six[0], 0x3FFFFFFFu);
  EXPECT_EQ(six[1], 0xFFFFFFF0u);
}

TEST(PackingTest, InsertUsesOnlyLowBits) {
  uint32_t word = 0;
  insertCode(&word, 1, 3, 0xFFFFFFFFu);
  EXPECT_EQ(word, 0b111000u);
  insertCode(&word, 0, 3, uint32_t(-3)); // two's complement 0b101
  EXPECT_EQ(word, 0b111101u);
}

TEST(PackingTest, RandomRoundTrip) {
  std::mt19937 rng(42);
  for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits) {
    for (int64_t count : {1, 7, 33, 100, 128}) {
      SCOPED_TRACE("bits=" + std::to_string(bits) +
                   " count=" + std::to_string(count));
      std::vector<uint32_t> codes(count);
      for (uint32_t &code : codes)
        code = rng() & ((1u << bits) - 1);

      // Into zeroed storage: codes read back and the padding stays zero.
      std::vector<uint32_t> row(packedWords(count, bits), 0);
      for (int64_t i = 0; i < count; ++i)
        insertCode(row.data(), i, bits, codes[i]);
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(extractCode(row.data(), i, bits), codes[i]) << i;
      unsigned usedBits = unsigned((count * bits) % 32);
      if (usedBits != 0) {
        EXPECT_EQ(row.back() >> usedBits, 0u);
      }

      // Over garbage, in reverse order: insertion fully overwrites its code
      // and leaves its neighbours alone.
      std::vector<uint32_t> dirty(row.size());
      for (uint32_t &word : dirty)
        word = rng();
      for (int64_t i = count - 1; i >= 0; --i)
        insertCode(dirty.data(), i, bits, codes[i]);
      for (int64_t i = 0; i < count; ++i)
        ASSERT_EQ(extractCode(dirty.data(), i, bits), codes[i]) << i;

      // Independent check of the bit order: stream bit i of code j.
      for (int64_t j = 0; j < count; ++j)
        for (unsigned b = 0; b < bits; ++b) {
          int64_t bit = j * bits + b;
          uint32_t streamBit = (row[bit / 32] >> (bit % 32)) & 1;
          ASSERT_EQ(streamBit, (codes[j] >> b) & 1) << j << ":" << b;
        }
    }
  }
}

TEST(PackingTest, ArbitraryBitOffsets) {
  // Fields at any offset and of any width up to 32, as mixed widths need.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    unsigned bits = 1 + rng() % 32;
    int64_t offset = rng() % 200;
    uint32_t value = rng();
    uint32_t mask = bits == 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
    std::vector<uint32_t> row(8), original(8);
    for (uint32_t &word : row)
      word = rng();
    original = row;
    insertBits(row.data(), offset, bits, value);
    ASSERT_EQ(extractBits(row.data(), offset, bits), value & mask);
    // Every other stream bit is untouched; the field's bits are the value's.
    for (int64_t bit = 0; bit < 256; ++bit) {
      uint32_t now = (row[bit / 32] >> (bit % 32)) & 1;
      uint32_t before = (original[bit / 32] >> (bit % 32)) & 1;
      if (bit >= offset && bit < offset + bits) {
        ASSERT_EQ(now, (value >> (bit - offset)) & 1) << bit;
      } else {
        ASSERT_EQ(now, before) << bit;
      }
    }
  }
  // A field ending exactly at a word's end does not touch the next word,
  // which need not exist.
  uint32_t word = 0;
  insertBits(&word, 29, 3, 0b101);
  EXPECT_EQ(word, 0xA0000000u);
  EXPECT_EQ(extractBits(&word, 29, 3), 0b101u);
  insertBits(&word, 0, 32, 0x12345678u);
  EXPECT_EQ(extractBits(&word, 0, 32), 0x12345678u);
}

TEST(PackingTest, CodeValueSignExtension) {
  EXPECT_EQ(codeValue(0x7, 4, true), 7);
  EXPECT_EQ(codeValue(0x8, 4, true), -8);
  EXPECT_EQ(codeValue(0xF, 4, true), -1);
  EXPECT_EQ(codeValue(0x0, 4, true), 0);
  EXPECT_EQ(codeValue(0xF, 4, false), 15);
  EXPECT_EQ(codeValue(0x8, 4, false), 8);
  EXPECT_EQ(codeValue(2, 2, true), -2);
  EXPECT_EQ(codeValue(3, 2, true), -1);
  EXPECT_EQ(codeValue(1, 2, true), 1);
  EXPECT_EQ(codeValue(0x80, 8, true), -128);
  EXPECT_EQ(codeValue(0x7F, 8, true), 127);
  EXPECT_EQ(codeValue(0b100, 3, true), -4);
  EXPECT_EQ(codeValue(0xFFFFFFFCu, 3, true), -4); // high bits ignored
  // One bit: signed codes are -1 and 0, unsigned 0 and 1.
  EXPECT_EQ(codeValue(1, 1, true), -1);
  EXPECT_EQ(codeValue(0, 1, true), 0);
  EXPECT_EQ(codeValue(1, 1, false), 1);
  Scheme s4;
  s4.bits = 4;
  EXPECT_EQ(codeValue(0x9, s4), -7);
  s4.kind = ElementKind::UnsignedInt;
  EXPECT_EQ(codeValue(0x9, s4), 9);
  for (bool isSigned : {true, false})
    for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits) {
      Scheme s;
      s.kind = isSigned ? ElementKind::SignedInt : ElementKind::UnsignedInt;
      for (int32_t v = s.minCode(bits); v <= s.maxCode(bits); ++v)
        EXPECT_EQ(codeValue(uint32_t(v) & ((1u << bits) - 1), bits, isSigned),
                  v);
    }
}

TEST(PackingTest, TritsInBase3) {
  // Trit j of a word is digit j of its value in base 3, stored as t + 1.
  uint32_t words[2] = {0, 0};
  insertTrit(words, 0, 1);  // digit 2
  insertTrit(words, 1, 0);  // digit 1: 3
  insertTrit(words, 2, -1); // digit 0
  insertTrit(words, 19, 1); // 2 * 3^19
  EXPECT_EQ(words[0], 2u + 3u + 2u * 1162261467u);
  EXPECT_EQ(words[1], 0u);
  insertTrit(words, 20, 0); // word 1, digit 0
  EXPECT_EQ(words[1], 1u);
  EXPECT_EQ(extractTrit(words, 0), 1);
  EXPECT_EQ(extractTrit(words, 1), 0);
  EXPECT_EQ(extractTrit(words, 2), -1);
  EXPECT_EQ(extractTrit(words, 3), -1); // zero digits are -1
  EXPECT_EQ(extractTrit(words, 19), 1);
  EXPECT_EQ(extractTrit(words, 20), 0);
  // The largest word, all trits 1, still fits: 3^20 - 1.
  uint32_t full = 0;
  for (int j = 0; j < kTritsPerWord; ++j)
    insertTrit(&full, j, 1);
  EXPECT_EQ(full, 3486784400u);

  std::mt19937 rng(11);
  for (int64_t count : {1, 19, 20, 21, 64, 100}) {
    std::vector<int32_t> trits(count);
    for (int32_t &t : trits)
      t = int32_t(rng() % 3) - 1;
    std::vector<uint32_t> row((count + kTritsPerWord - 1) / kTritsPerWord, 0);
    for (int64_t i = 0; i < count; ++i)
      insertTrit(row.data(), i, trits[i]);
    // Overwriting in reverse order changes nothing else.
    for (int64_t i = count - 1; i >= 0; --i)
      insertTrit(row.data(), i, trits[i]);
    for (int64_t i = 0; i < count; ++i)
      ASSERT_EQ(extractTrit(row.data(), i), trits[i]) << i;
    // Independent check: the words' base-3 digits.
    for (int64_t i = 0; i < count; ++i) {
      uint64_t word = row[i / kTritsPerWord];
      for (int64_t j = 0; j < i % kTritsPerWord; ++j)
        word /= 3;
      ASSERT_EQ(int32_t(word % 3) - 1, trits[i]);
    }
    // Unused digits of the last word stay zero.
    uint64_t last = row.back();
    int64_t used = count - (int64_t(row.size()) - 1) * kTritsPerWord;
    for (int64_t j = 0; j < used; ++j)
      last /= 3;
    EXPECT_EQ(last, 0u);
  }
}

//===----------------------------------------------------------------------===//
// Schemes
//===----------------------------------------------------------------------===//

Scheme parseOrDie(const std::string &text) {
  std::string error;
  std::optional<Scheme> scheme = Scheme::parse(text, &error);
  EXPECT_TRUE(scheme) << text << ": " << error;
  return scheme.value_or(Scheme());
}

TEST(SchemeTest, CodeRanges) {
  Scheme s = intScheme(true, 2, 128);
  EXPECT_EQ(s.minCode(), -2);
  EXPECT_EQ(s.maxCode(), 1);
  EXPECT_EQ(s.minCode(1), -1);
  EXPECT_EQ(s.maxCode(1), 0);
  EXPECT_EQ(s.minCode(8), -128);
  EXPECT_EQ(s.maxCode(8), 127);
  s = intScheme(false, 2, 128);
  EXPECT_EQ(s.minCode(), 0);
  EXPECT_EQ(s.maxCode(), 3);
  EXPECT_EQ(s.maxCode(1), 1);
  EXPECT_EQ(s.maxCode(8), 255);
  s = intScheme(true, 4, 128);
  EXPECT_EQ(s.minCode(), -8);
  EXPECT_EQ(s.maxCode(), 7);
}

TEST(SchemeTest, Groups) {
  Scheme s;
  s.groupSize = 128;
  EXPECT_EQ(s.groupSizeFor(384), 128);
  EXPECT_EQ(s.groupsPerRow(384), 3);
  s.groupSize = kPerChannel;
  EXPECT_TRUE(s.isPerChannel());
  EXPECT_FALSE(s.isPerTensor());
  EXPECT_EQ(s.groupSizeFor(384), 384);
  EXPECT_EQ(s.groupsPerRow(384), 1);
  s.groupSize = kPerTensor;
  EXPECT_TRUE(s.isPerTensor());
  EXPECT_FALSE(s.isPerChannel());
  EXPECT_EQ(s.groupSizeFor(384), 384);
  EXPECT_EQ(s.groupsPerRow(384), 1);
  s.mixedBits = {4, 2, 3};
  s.bits = 4;
  EXPECT_TRUE(s.isMixed());
  EXPECT_EQ(s.bitsOfGroup(1), 2u);
  EXPECT_EQ(s.bitsOfGroup(2), 3u);
  s.mixedBits.clear();
  EXPECT_EQ(s.bitsOfGroup(1), 4u);
}

TEST(SchemeTest, FormatPredicates) {
  Scheme s = parseOrDie("#qmlir.scheme<lut4, group = tensor>");
  EXPECT_FALSE(s.hasScales());
  EXPECT_FALSE(s.isInteger());
  EXPECT_EQ(s.kind, ElementKind::Codebook);
  EXPECT_EQ(s.bits, 4u);
  for (const char *text :
       {"#qmlir.scheme<i4, group = 128, scale = f16>",
        "#qmlir.scheme<f8e5m2, group = 32, scale = f16>",
        "#qmlir.scheme<nf4, group = 64, scale = bf16>",
        "#qmlir.scheme<bcq3, group = 128, scale = f16>",
        "#qmlir.scheme<ternary, group = tensor, scale = f32>"})
    EXPECT_TRUE(parseOrDie(text).hasScales()) << text;
}

TEST(SchemeTest, ParsedFields) {
  Scheme s = parseOrDie("#qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, "
                        "scale = f16, zero = int>");
  EXPECT_EQ(s.kind, ElementKind::UnsignedInt);
  EXPECT_EQ(s.mixedBits, (std::vector<unsigned>{4, 2, 3, 4}));
  EXPECT_EQ(s.bits, 4u);
  EXPECT_EQ(s.groupSize, 128);
  EXPECT_EQ(s.zero, ZeroKind::Int);

  s = parseOrDie("#qmlir.scheme<i*, bits = [1, 2], group = 64, scale = bf16, "
                 "zero = float>");
  EXPECT_EQ(s.kind, ElementKind::SignedInt);
  EXPECT_EQ(s.bits, 2u);

  struct Case {
    const char *name;
    FloatFormat format;
    unsigned bits;
  };
  for (Case c : {Case{"f4e2m1", FloatFormat::E2M1, 4},
                 Case{"f6e2m3", FloatFormat::E2M3, 6},
                 Case{"f6e3m2", FloatFormat::E3M2, 6},
                 Case{"f8e4m3", FloatFormat::E4M3, 8},
                 Case{"f8e5m2", FloatFormat::E5M2, 8}}) {
    s = parseOrDie(std::string("#qmlir.scheme<") + c.name +
                   ", group = 32, scale = e8m0>");
    EXPECT_EQ(s.kind, ElementKind::Float);
    EXPECT_EQ(s.floatFormat, c.format);
    EXPECT_EQ(s.bits, c.bits);
    EXPECT_EQ(s.scaleType, ScaleType::E8M0);
    EXPECT_STREQ(toString(c.format), c.name);
  }
  s = parseOrDie("#qmlir.scheme<nf4, group = 64, scale = f8e4m3>");
  EXPECT_EQ(s.kind, ElementKind::NormalFloat);
  EXPECT_EQ(s.bits, 4u);
  EXPECT_EQ(s.scaleType, ScaleType::F8E4M3);
  s = parseOrDie("#qmlir.scheme<ternary, group = tensor, scale = f16>");
  EXPECT_EQ(s.kind, ElementKind::Ternary);
  EXPECT_EQ(s.bits, 2u);
  EXPECT_EQ(s.groupSize, kPerTensor);
  s = parseOrDie("#qmlir.scheme<bcq3, group = 128, scale = f16, zero = float>");
  EXPECT_EQ(s.kind, ElementKind::BinaryCoded);
  EXPECT_EQ(s.bits, 3u);
  EXPECT_EQ(s.zero, ZeroKind::Float);
  s = parseOrDie("#qmlir.scheme<lut3, group = channel, scale = bf16, "
                 "codebook = group>");
  EXPECT_EQ(s.kind, ElementKind::Codebook);
  EXPECT_EQ(s.bits, 3u);
  EXPECT_EQ(s.scaleType, ScaleType::BF16);
  EXPECT_EQ(s.codebook, CodebookScope::Group);
  s = parseOrDie("#qmlir.scheme<lut4, group = tensor>");
  EXPECT_EQ(s.scaleType, ScaleType::F16); // the default codebook type
  EXPECT_EQ(s.codebook, CodebookScope::Tensor);
  s = parseOrDie("#qmlir.scheme<u4, group = 128, scale = f16, zero = int, "
                 "act_order>");
  EXPECT_TRUE(s.actOrder);
}

TEST(SchemeTest, HeaderExamplesAreFixedPoints) {
  // The examples of Format.h print back exactly as written.
  for (const char *text :
       {"#qmlir.scheme<i4, group = 128, scale = f16, zero = int>",
        "#qmlir.scheme<u8, group = channel, scale = f32>",
        "#qmlir.scheme<f4e2m1, group = 32, scale = e8m0>",
        "#qmlir.scheme<lut4, group = channel, codebook = group>",
        "#qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = f16, "
        "zero = int>",
        "#qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>",
        "#qmlir.scheme<bcq3, group = 128, scale = bf16, zero = float>",
        "#qmlir.scheme<ternary, group = tensor, scale = f16>",
        "#qmlir.scheme<lut8, group = tensor, scale = f32>",
        "#qmlir.scheme<nf4, group = 64, scale = f8e4m3>"}) {
    Scheme scheme = parseOrDie(text);
    EXPECT_EQ(scheme.str(), text);
    EXPECT_EQ(scheme.validate(), "");
  }
}

TEST(SchemeTest, Aliases) {
  Scheme mx = parseOrDie("#qmlir.scheme<mxfp4>");
  EXPECT_EQ(mx, parseOrDie("#qmlir.scheme<f4e2m1, group = 32, scale = e8m0>"));
  EXPECT_EQ(mx.str(), "#qmlir.scheme<f4e2m1, group = 32, scale = e8m0>");
  Scheme nv = parseOrDie("  #qmlir.scheme < nvfp4 >  ");
  EXPECT_EQ(nv,
            parseOrDie("#qmlir.scheme<f4e2m1, group = 16, scale = f8e4m3>"));
  EXPECT_EQ(nv.str(), "#qmlir.scheme<f4e2m1, group = 16, scale = f8e4m3>");
  EXPECT_EQ(nv.kind, ElementKind::Float);
  EXPECT_EQ(nv.floatFormat, FloatFormat::E2M1);
  EXPECT_EQ(nv.bits, 4u);
}

TEST(SchemeTest, StrExamples) {
  Scheme s = intScheme(true, 4, 128, ScaleType::F16, ZeroKind::Int);
  EXPECT_EQ(s.str(), "#qmlir.scheme<i4, group = 128, scale = f16, zero = int>");
  Scheme u = intScheme(false, 8, kPerChannel, ScaleType::F32);
  EXPECT_EQ(u.str(), "#qmlir.scheme<u8, group = channel, scale = f32>");
  Scheme t = intScheme(false, 1, kPerTensor, ScaleType::BF16, ZeroKind::Float);
  EXPECT_EQ(t.str(),
            "#qmlir.scheme<u1, group = tensor, scale = bf16, zero = float>");
  Scheme mixed = intScheme(true, 8, 64, ScaleType::F16, ZeroKind::Int);
  mixed.mixedBits = {8, 1};
  EXPECT_EQ(mixed.str(), "#qmlir.scheme<i*, bits = [8, 1], group = 64, scale "
                         "= f16, zero = int>");
  Scheme lut;
  lut.kind = ElementKind::Codebook;
  lut.bits = 2;
  lut.groupSize = 32;
  lut.codebook = CodebookScope::Group;
  lut.scaleType = ScaleType::F32;
  EXPECT_EQ(lut.str(), "#qmlir.scheme<lut2, group = 32, scale = f32, "
                       "codebook = group>");
  lut.scaleType = ScaleType::F16;
  EXPECT_EQ(lut.str(), "#qmlir.scheme<lut2, group = 32, codebook = group>");
}

/// An independent statement of which field combinations are valid.
struct FormatCase {
  std::string text; // as the scheme text spells it
  Scheme scheme;    // its fields, with group, scale, ... still default
};

std::vector<FormatCase> allFormats() {
  std::vector<FormatCase> formats;
  for (bool isSigned : {true, false})
    for (unsigned bits : {1u, 2u, 3u, 4u, 5u, 8u})
      formats.push_back({(isSigned ? "i" : "u") + std::to_string(bits),
                         intScheme(isSigned, bits, 128)});
  for (bool isSigned : {true, false})
    for (std::vector<unsigned> list :
         {std::vector<unsigned>{4, 2, 3, 4}, std::vector<unsigned>{1, 8},
          std::vector<unsigned>{5}}) {
      Scheme s =
          intScheme(isSigned, *std::max_element(list.begin(), list.end()), 128);
      s.mixedBits = list;
      formats.push_back({isSigned ? "i*" : "u*", s});
    }
  for (FloatFormat f : {FloatFormat::E2M1, FloatFormat::E2M3, FloatFormat::E3M2,
                        FloatFormat::E4M3, FloatFormat::E5M2}) {
    Scheme s;
    s.kind = ElementKind::Float;
    s.floatFormat = f;
    s.bits = floatBits(f);
    formats.push_back({toString(f), s});
  }
  Scheme nf4;
  nf4.kind = ElementKind::NormalFloat;
  nf4.bits = 4;
  formats.push_back({"nf4", nf4});
  for (unsigned bits : {1u, 4u, 8u}) {
    Scheme lut;
    lut.kind = ElementKind::Codebook;
    lut.bits = bits;
    formats.push_back({"lut" + std::to_string(bits), lut});
    Scheme bcq;
    bcq.kind = ElementKind::BinaryCoded;
    bcq.bits = bits;
    formats.push_back({"bcq" + std::to_string(bits), bcq});
  }
  Scheme ternary;
  ternary.kind = ElementKind::Ternary;
  ternary.bits = 2;
  formats.push_back({"ternary", ternary});
  return formats;
}

bool expectedValid(const Scheme &s) {
  const bool integer =
      s.kind == ElementKind::SignedInt || s.kind == ElementKind::UnsignedInt;
  const bool mxScale =
      s.scaleType == ScaleType::E8M0 || s.scaleType == ScaleType::F8E4M3;
  if (mxScale && s.kind != ElementKind::Float &&
      s.kind != ElementKind::NormalFloat)
    return false;
  if (s.zero == ZeroKind::Int && !integer)
    return false;
  if (s.zero == ZeroKind::Float && !integer &&
      s.kind != ElementKind::BinaryCoded)
    return false;
  if (s.kind == ElementKind::SignedInt && s.zero == ZeroKind::None) {
    if (s.bits == 1 && s.mixedBits.empty())
      return false;
    for (unsigned b : s.mixedBits)
      if (b == 1)
        return false;
  }
  if (!s.mixedBits.empty() && s.groupSize <= 0)
    return false;
  if (s.actOrder && (!integer || s.groupSize <= 0 || !s.mixedBits.empty()))
    return false;
  if (s.codebook == CodebookScope::Group &&
      (s.kind != ElementKind::Codebook || s.groupSize == kPerTensor))
    return false;
  if (s.kind == ElementKind::Codebook && s.codebook == CodebookScope::Tensor &&
      s.groupSize != kPerTensor)
    return false;
  return true;
}

TEST(SchemeTest, StrParseRoundTripAllCombinations) {
  int valid = 0, invalid = 0;
  for (const FormatCase &format : allFormats())
    for (int64_t group : {int64_t(1), int64_t(32), int64_t(128), int64_t(4096),
                          kPerChannel, kPerTensor})
      for (ScaleType scale : {ScaleType::F16, ScaleType::BF16, ScaleType::F32,
                              ScaleType::E8M0, ScaleType::F8E4M3})
        for (ZeroKind zero : {ZeroKind::None, ZeroKind::Int, ZeroKind::Float})
          for (CodebookScope codebook :
               {CodebookScope::Tensor, CodebookScope::Group})
            for (bool actOrder : {false, true}) {
              Scheme scheme = format.scheme;
              scheme.groupSize = group;
              scheme.scaleType = scale;
              scheme.zero = zero;
              scheme.codebook = codebook;
              scheme.actOrder = actOrder;

              std::string bitsField;
              if (!scheme.mixedBits.empty()) {
                bitsField = ", bits = [";
                for (size_t i = 0; i < scheme.mixedBits.size(); ++i)
                  bitsField +=
                      (i ? ", " : "") + std::to_string(scheme.mixedBits[i]);
                bitsField += "]";
              }
              const bool lut = scheme.kind == ElementKind::Codebook;
              std::string expected =
                  "#qmlir.scheme<" + format.text + bitsField + ", group = " +
                  (group == kPerChannel  ? std::string("channel")
                   : group == kPerTensor ? std::string("tensor")
                                         : std::to_string(group)) +
                  (lut && scale == ScaleType::F16
                       ? std::string()
                       : std::string(", scale = ") +
                             (scale == ScaleType::F16    ? "f16"
                              : scale == ScaleType::BF16 ? "bf16"
                              : scale == ScaleType::F32  ? "f32"
                              : scale == ScaleType::E8M0 ? "e8m0"
                                                         : "f8e4m3")) +
                  (zero == ZeroKind::None  ? ""
                   : zero == ZeroKind::Int ? ", zero = int"
                                           : ", zero = float") +
                  (codebook == CodebookScope::Group ? ", codebook = group"
                                                    : "") +
                  (actOrder ? ", act_order" : "") + ">";
              ASSERT_EQ(scheme.str(), expected);

              std::string validation = scheme.validate();
              ASSERT_EQ(validation.empty(), expectedValid(scheme))
                  << expected << ": " << validation;
              std::string error;
              std::optional<Scheme> parsed = Scheme::parse(expected, &error);
              if (validation.empty()) {
                ASSERT_TRUE(parsed) << expected << ": " << error;
                EXPECT_EQ(*parsed, scheme) << expected;
                EXPECT_EQ(parsed->str(), expected);
                EXPECT_EQ(error, "");
                ++valid;
              } else {
                // The text is well formed: parsing reports the validation
                // error at the element format (offset 14).
                ASSERT_FALSE(parsed) << expected;
                EXPECT_EQ(error, validation + " (at offset 14)") << expected;
                ++invalid;
              }
              // Explicit defaults parse to the same scheme.
              if (validation.empty() && zero == ZeroKind::None) {
                std::string text = expected.substr(0, expected.size() - 1);
                size_t cut = text.find(", codebook");
                if (cut == std::string::npos)
                  cut = text.find(", act_order");
                std::string withNone = cut == std::string::npos
                                           ? text + ", zero = none>"
                                           : text.substr(0, cut) +
                                                 ", zero = none" +
                                                 text.substr(cut) + ">";
                std::optional<Scheme> none = Scheme::parse(withNone, &error);
                ASSERT_TRUE(none) << withNone << ": " << error;
                EXPECT_EQ(*none, scheme) << withNone;
              }
            }
  EXPECT_GT(valid, 300);
  EXPECT_GT(invalid, valid);
}

TEST(SchemeTest, ParseWhitespace) {
  Scheme expected = intScheme(true, 4, 128, ScaleType::F16, ZeroKind::Int);
  for (const char *text :
       {"#qmlir.scheme<i4,group=128,scale=f16,zero=int>",
        "  #qmlir.scheme <  i4 ,group =128,\tscale= f16 ,\n zero = int >  ",
        "#qmlir.scheme<\ni4,\n  group = 128,\n  scale = f16,\n  zero = "
        "int\n>"}) {
    std::string error;
    std::optional<Scheme> parsed = Scheme::parse(text, &error);
    ASSERT_TRUE(parsed) << text << ": " << error;
    EXPECT_EQ(*parsed, expected) << text;
  }
  Scheme mixed = parseOrDie(
      "#qmlir.scheme<u*,bits=[ 4,2 ,3, 4 ],group=128,scale=f16,zero=int>");
  EXPECT_EQ(mixed.mixedBits, (std::vector<unsigned>{4, 2, 3, 4}));
  Scheme lut =
      parseOrDie("#qmlir.scheme<lut4,group=channel,scale=f16,codebook=group>");
  EXPECT_EQ(lut.str(), "#qmlir.scheme<lut4, group = channel, codebook = "
                       "group>");
  Scheme tensorBook =
      parseOrDie("#qmlir.scheme<lut4, group = tensor, codebook = tensor>");
  EXPECT_EQ(tensorBook.str(), "#qmlir.scheme<lut4, group = tensor>");
  std::optional<Scheme> none =
      Scheme::parse("#qmlir.scheme<u3, group = 32, scale = bf16, zero = none>");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->zero, ZeroKind::None);
  EXPECT_EQ(none->str(), "#qmlir.scheme<u3, group = 32, scale = bf16>");
  // The error pointer is optional.
  EXPECT_FALSE(Scheme::parse("garbage"));
}

//===----------------------------------------------------------------------===//
// Validation messages
//===----------------------------------------------------------------------===//

struct ValidateCase {
  std::string what;
  std::function<void(Scheme &)> edit; // applied to a valid i4 group-128 scheme
  std::string message;
};

void PrintTo(const ValidateCase &c, std::ostream *os) { *os << c.what; }

class SchemeValidateTest : public testing::TestWithParam<ValidateCase> {};

TEST_P(SchemeValidateTest, NamesTheField) {
  Scheme scheme = intScheme(true, 4, 128);
  ASSERT_EQ(scheme.validate(), "");
  GetParam().edit(scheme);
  EXPECT_EQ(scheme.validate(), GetParam().message);
  // validateShape reports the same, whatever the shape.
  EXPECT_EQ(scheme.validateShape(4, 512), GetParam().message);
}

void toFloat(Scheme &s, FloatFormat f) {
  s.kind = ElementKind::Float;
  s.floatFormat = f;
  s.bits = floatBits(f);
}

INSTANTIATE_TEST_SUITE_P(
    Format, SchemeValidateTest,
    testing::Values(
        ValidateCase{"kind",
                     [](Scheme &s) { s.kind = static_cast<ElementKind>(9); },
                     "invalid element kind 9"},
        ValidateCase{"bits9", [](Scheme &s) { s.bits = 9; },
                     "bit-width must be between 1 and 8, got 9"},
        ValidateCase{"bits0", [](Scheme &s) { s.bits = 0; },
                     "bit-width must be between 1 and 8, got 0"},
        ValidateCase{"mixedEntry",
                     [](Scheme &s) {
                       s.mixedBits = {4, 9};
                       s.bits = 9;
                     },
                     "bits = [...] entry 1 must be between 1 and 8, got 9"},
        ValidateCase{"mixedZeroEntry",
                     [](Scheme &s) {
                       s.mixedBits = {0, 4};
                     },
                     "bits = [...] entry 0 must be between 1 and 8, got 0"},
        ValidateCase{"mixedWidest",
                     [](Scheme &s) {
                       s.mixedBits = {2, 3};
                       s.bits = 4;
                     },
                     "bit-width of i* must be the widest entry of bits = [2, "
                     "3] (3), got 4"},
        ValidateCase{"mixedNotInt",
                     [](Scheme &s) {
                       toFloat(s, FloatFormat::E2M1);
                       s.mixedBits = {4};
                     },
                     "bits = [...] is only for i* and u*, not f4e2m1"},
        ValidateCase{"floatFormat",
                     [](Scheme &s) {
                       s.kind = ElementKind::Float;
                       s.floatFormat = static_cast<FloatFormat>(8);
                     },
                     "invalid float format 8"},
        ValidateCase{"floatBits",
                     [](Scheme &s) {
                       toFloat(s, FloatFormat::E4M3);
                       s.bits = 4;
                     },
                     "bit-width of f8e4m3 must be 8, got 4"},
        ValidateCase{"nf4Bits",
                     [](Scheme &s) {
                       s.kind = ElementKind::NormalFloat;
                       s.bits = 3;
                     },
                     "bit-width of nf4 must be 4, got 3"},
        ValidateCase{"ternaryBits",
                     [](Scheme &s) { s.kind = ElementKind::Ternary; },
                     "bit-width of ternary must be 2, got 4"},
        ValidateCase{"lutBits",
                     [](Scheme &s) {
                       s.kind = ElementKind::Codebook;
                       s.groupSize = kPerTensor;
                       s.bits = 9;
                     },
                     "lut bit-width must be between 1 and 8, got 9"},
        ValidateCase{"bcqPlanes",
                     [](Scheme &s) {
                       s.kind = ElementKind::BinaryCoded;
                       s.bits = 0;
                     },
                     "bcq planes must be between 1 and 8, got 0"},
        ValidateCase{"group", [](Scheme &s) { s.groupSize = -4; },
                     "group size must be positive, channel or tensor, got -4"},
        ValidateCase{"mixedChannel",
                     [](Scheme &s) {
                       s.mixedBits = {4};
                       s.groupSize = kPerChannel;
                     },
                     "mixed bit-widths (bits = [4]) need a positive group "
                     "size"},
        ValidateCase{"mixedTensor",
                     [](Scheme &s) {
                       s.mixedBits = {4, 2};
                       s.groupSize = kPerTensor;
                     },
                     "mixed bit-widths (bits = [4, 2]) need a positive group "
                     "size"},
        ValidateCase{"scaleType",
                     [](Scheme &s) { s.scaleType = static_cast<ScaleType>(7); },
                     "invalid scale type 7"},
        ValidateCase{"e8m0Int",
                     [](Scheme &s) { s.scaleType = ScaleType::E8M0; },
                     "scale = e8m0 is only for small-float and nf4 formats, "
                     "not i4"},
        ValidateCase{"f8e4m3Bcq",
                     [](Scheme &s) {
                       s.kind = ElementKind::BinaryCoded;
                       s.scaleType = ScaleType::F8E4M3;
                     },
                     "scale = f8e4m3 is only for small-float and nf4 formats, "
                     "not bcq4"},
        ValidateCase{"e8m0Lut",
                     [](Scheme &s) {
                       s.kind = ElementKind::Codebook;
                       s.groupSize = kPerTensor;
                       s.scaleType = ScaleType::E8M0;
                     },
                     "scale = e8m0 is only for small-float and nf4 formats, "
                     "not lut4"},
        ValidateCase{"e8m0Ternary",
                     [](Scheme &s) {
                       s.kind = ElementKind::Ternary;
                       s.bits = 2;
                       s.scaleType = ScaleType::E8M0;
                     },
                     "scale = e8m0 is only for small-float and nf4 formats, "
                     "not ternary"},
        ValidateCase{"zeroKind",
                     [](Scheme &s) { s.zero = static_cast<ZeroKind>(5); },
                     "invalid zero kind 5"},
        ValidateCase{"floatZero",
                     [](Scheme &s) {
                       toFloat(s, FloatFormat::E2M1);
                       s.zero = ZeroKind::Int;
                     },
                     "zero = int is not supported by f4e2m1 (zero points are "
                     "for integer and bcq formats)"},
        ValidateCase{"nf4Zero",
                     [](Scheme &s) {
                       s.kind = ElementKind::NormalFloat;
                       s.zero = ZeroKind::Float;
                     },
                     "zero = float is not supported by nf4 (zero points are "
                     "for integer and bcq formats)"},
        ValidateCase{"ternaryZero",
                     [](Scheme &s) {
                       s.kind = ElementKind::Ternary;
                       s.bits = 2;
                       s.zero = ZeroKind::Float;
                     },
                     "zero = float is not supported by ternary (zero points "
                     "are for integer and bcq formats)"},
        ValidateCase{"lutZero",
                     [](Scheme &s) {
                       s.kind = ElementKind::Codebook;
                       s.groupSize = kPerTensor;
                       s.zero = ZeroKind::Int;
                     },
                     "zero = int is not supported by lut4 (zero points are "
                     "for integer and bcq formats)"},
        ValidateCase{"bcqIntZero",
                     [](Scheme &s) {
                       s.kind = ElementKind::BinaryCoded;
                       s.bits = 3;
                       s.zero = ZeroKind::Int;
                     },
                     "zero = int is not supported by bcq3 (bcq takes zero = "
                     "none or float)"},
        ValidateCase{"i1", [](Scheme &s) { s.bits = 1; },
                     "zero = none: signed 1-bit codes (-1, 0) need zero "
                     "points"},
        ValidateCase{"mixedI1",
                     [](Scheme &s) {
                       s.mixedBits = {4, 1, 4, 4};
                     },
                     "zero = none: signed 1-bit codes (-1, 0) need zero "
                     "points"},
        ValidateCase{
            "codebookScope",
            [](Scheme &s) { s.codebook = static_cast<CodebookScope>(3); },
            "invalid codebook scope 3"},
        ValidateCase{"codebookNotLut",
                     [](Scheme &s) { s.codebook = CodebookScope::Group; },
                     "codebook = group is only for lut formats, not i4"},
        ValidateCase{"codebookGroupTensor",
                     [](Scheme &s) {
                       s.kind = ElementKind::Codebook;
                       s.codebook = CodebookScope::Group;
                       s.groupSize = kPerTensor;
                     },
                     "codebook = group needs a positive group size or "
                     "channel, got group = tensor"},
        ValidateCase{"codebookTensorGroup",
                     [](Scheme &s) {
                       s.kind = ElementKind::Codebook;
                       s.codebook = CodebookScope::Tensor;
                     },
                     "codebook = tensor needs group = tensor (use codebook = "
                     "group for one codebook per row and group)"},
        ValidateCase{"actOrderFloat",
                     [](Scheme &s) {
                       toFloat(s, FloatFormat::E4M3);
                       s.actOrder = true;
                     },
                     "act_order is only for integer formats, not f8e4m3"},
        ValidateCase{"actOrderChannel",
                     [](Scheme &s) {
                       s.actOrder = true;
                       s.groupSize = kPerChannel;
                     },
                     "act_order needs a positive group size"},
        ValidateCase{"actOrderTensor",
                     [](Scheme &s) {
                       s.actOrder = true;
                       s.groupSize = kPerTensor;
                     },
                     "act_order needs a positive group size"},
        ValidateCase{"actOrderMixed",
                     [](Scheme &s) {
                       s.actOrder = true;
                       s.mixedBits = {4, 3};
                     },
                     "act_order is not supported with mixed bit-widths"}),
    [](const testing::TestParamInfo<ValidateCase> &info) {
      return info.param.what;
    });

TEST(SchemeTest, ValidateAcceptsTheSupportedCombinations) {
  for (const char *text :
       {"#qmlir.scheme<i1, group = 32, scale = f16, zero = int>",
        "#qmlir.scheme<i1, group = tensor, scale = f16, zero = float>",
        "#qmlir.scheme<u1, group = channel, scale = bf16>",
        "#qmlir.scheme<i8, group = tensor, scale = f32>",
        "#qmlir.scheme<u4, group = tensor, scale = f16, zero = int>",
        "#qmlir.scheme<i*, bits = [2, 8], group = 64, scale = f16>",
        "#qmlir.scheme<f8e5m2, group = tensor, scale = f32>",
        "#qmlir.scheme<f6e2m3, group = channel, scale = f8e4m3>",
        "#qmlir.scheme<nf4, group = tensor, scale = e8m0>",
        "#qmlir.scheme<ternary, group = 128, scale = bf16>",
        "#qmlir.scheme<bcq8, group = tensor, scale = f16, zero = float>",
        "#qmlir.scheme<lut1, group = 16, codebook = group>",
        "#qmlir.scheme<i3, group = 64, scale = f16, act_order>"})
    EXPECT_EQ(parseOrDie(text).validate(), "") << text;
}

TEST(SchemeTest, ValidateShape) {
  Scheme s = intScheme(true, 4, 128);
  EXPECT_EQ(s.validateShape(96, 384), "");
  EXPECT_EQ(s.validateShape(1, 128), "");
  std::string error = s.validateShape(96, 100);
  EXPECT_EQ(error, "K = 100 is not divisible by the group size 128");
  EXPECT_EQ(s.validateShape(0, 128), "N must be positive, got 0");
  EXPECT_EQ(s.validateShape(4, 0), "K must be positive, got 0");
  EXPECT_EQ(s.validateShape(4, -128), "K must be positive, got -128");
  s.groupSize = kPerChannel;
  EXPECT_EQ(s.validateShape(3, 7), "");
  s.groupSize = kPerTensor;
  EXPECT_EQ(s.validateShape(3, 7), "");
  s.bits = 12;
  EXPECT_NE(s.validateShape(3, 7).find("bit-width"), std::string::npos);

  Scheme mixed = parseOrDie("#qmlir.scheme<u*, bits = [4, 2, 3], group = 128, "
                            "scale = f16, zero = int>");
  EXPECT_EQ(mixed.validateShape(8, 384), "");
  EXPECT_EQ(mixed.validateShape(8, 512),
            "bits lists 3 groups but K = 512 with group 128 has 4");
  EXPECT_EQ(mixed.validateShape(8, 256),
            "bits lists 3 groups but K = 256 with group 128 has 2");
  EXPECT_EQ(mixed.validateShape(8, 300),
            "K = 300 is not divisible by the group size 128");

  Scheme mx = parseOrDie("#qmlir.scheme<mxfp4>");
  EXPECT_EQ(mx.validateShape(2, 64), "");
  EXPECT_EQ(mx.validateShape(2, 48),
            "K = 48 is not divisible by the group size 32");
  // Formats without groups take any K.
  EXPECT_EQ(
      parseOrDie("#qmlir.scheme<lut3, group = tensor>").validateShape(5, 37),
      "");
  EXPECT_EQ(parseOrDie("#qmlir.scheme<ternary, group = channel, scale = f16>")
                .validateShape(5, 41),
            "");
}

//===----------------------------------------------------------------------===//
// Parse errors
//===----------------------------------------------------------------------===//

struct ParseErrorCase {
  const char *text;
  const char *message;
};

void PrintTo(const ParseErrorCase &c, std::ostream *os) {
  *os << '"' << c.text << '"';
}

class SchemeParseErrorTest : public testing::TestWithParam<ParseErrorCase> {};

TEST_P(SchemeParseErrorTest, RejectsWithMessage) {
  std::string error;
  std::optional<Scheme> parsed = Scheme::parse(GetParam().text, &error);
  EXPECT_FALSE(parsed) << GetParam().text;
  EXPECT_NE(error.find(GetParam().message), std::string::npos)
      << "text: " << GetParam().text << "\nerror: " << error;
  EXPECT_NE(error.find("offset"), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Format, SchemeParseErrorTest,
    testing::Values(
        ParseErrorCase{"#qmlir.scheme<i9, group = 128, scale = f16>",
                       "expected bit-width between 1 and 8 in 'i9'"},
        ParseErrorCase{"#qmlir.scheme<u0, group = 128, scale = f16>",
                       "expected bit-width between 1 and 8 in 'u0'"},
        ParseErrorCase{"#qmlir.scheme<i, group = 128, scale = f16>",
                       "expected bit-width between 1 and 8 in 'i'"},
        ParseErrorCase{"#qmlir.scheme<i16, group = 128, scale = f16>",
                       "expected bit-width between 1 and 8 in 'i16'"},
        ParseErrorCase{"#qmlir.scheme<lut9, group = tensor>",
                       "expected bit-width between 1 and 8 in 'lut9'"},
        ParseErrorCase{"#qmlir.scheme<lut, group = tensor>",
                       "expected bit-width between 1 and 8 in 'lut'"},
        ParseErrorCase{"#qmlir.scheme<bcq0, group = 128, scale = f16>",
                       "expected bit-width between 1 and 8 in 'bcq0'"},
        ParseErrorCase{"#qmlir.scheme<f4, group = 128, scale = f16>",
                       "expected an element format (iB, uB, i*, u*, f4e2m1, "
                       "f6e2m3, f6e3m2, f8e4m3, f8e5m2, nf4, lutB, bcqB, "
                       "ternary, mxfp4 or nvfp4) but found 'f4'"},
        ParseErrorCase{"#qmlir.scheme<nf8, group = 128, scale = f16>",
                       "expected an element format"},
        ParseErrorCase{"#qmlir.scheme<, group = 128, scale = f16>",
                       "expected an element format (iB, uB, i*, u*, f4e2m1, "
                       "f6e2m3, f6e3m2, f8e4m3, f8e5m2, nf4, lutB, bcqB, "
                       "ternary, mxfp4 or nvfp4) but found ','"},
        ParseErrorCase{"#qmlir.scheme<I4, group = 128, scale = F16>",
                       "but found 'I4'"},
        ParseErrorCase{"#qmlir.scheme<mxfp4, group = 32>",
                       "expected '>' after 'mxfp4' (an alias for f4e2m1, "
                       "group = 32, scale = e8m0) but found ','"},
        ParseErrorCase{"#qmlir.scheme<nvfp4, scale = f16>",
                       "expected '>' after 'nvfp4' (an alias for f4e2m1, "
                       "group = 16, scale = f8e4m3) but found ','"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 0, scale = f16>",
                       "group size must be positive, got 0"},
        ParseErrorCase{"#qmlir.scheme<i4, group = -32, scale = f16>",
                       "group size must be positive, got -32"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 12x, scale = f16>",
                       "expected a positive integer, 'channel' or 'tensor' "
                       "for group but found '12x'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = , scale = f16>",
                       "for group but found ','"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 99999999999999999999, "
                       "scale = f16>",
                       "group size '99999999999999999999' is too large"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f8>",
                       "unknown scale type 'f8' (expected f16, bf16, f32, "
                       "e8m0 or f8e4m3)"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = >",
                       "expected scale type but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128>",
                       "expected 'scale' (i4 needs scale = f16, bf16, f32, "
                       "e8m0 or f8e4m3) but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, zero = int>",
                       "expected 'scale' (i4 needs scale"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero = "
                       "half>",
                       "unknown zero kind 'half' (expected none, int or "
                       "float)"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero = >",
                       "expected zero kind but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero>",
                       "expected '=' after 'zero' but found '>'"},
        ParseErrorCase{"#qmlir.scheme<lut4, group = 32, codebook = row>",
                       "unknown codebook scope 'row' (expected tensor or "
                       "group)"},
        ParseErrorCase{"#qmlir.scheme<lut4, group = 32, codebook = >",
                       "expected codebook scope but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16> x",
                       "unexpected trailing text 'x'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16>>",
                       "unexpected trailing text '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16",
                       "expected '>' to close the scheme but found end of "
                       "input"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero = "
                       "int, zero = int>",
                       "expected 'codebook' or 'act_order' but found 'zero' "
                       "(fields go in the order group, scale, zero, codebook, "
                       "act_order, each at most once)"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, zero = int, scale = "
                       "f16>",
                       "expected 'codebook' or 'act_order' but found 'scale'"},
        ParseErrorCase{"#qmlir.scheme<u4, group = 128, scale = f16, "
                       "act_order, zero = int>",
                       "expected '>' but found 'zero' (fields go in the "
                       "order"},
        ParseErrorCase{"#qmlir.scheme<i4, scale = f16, group = 128>",
                       "expected 'group' but found 'scale'"},
        ParseErrorCase{"#qmlir.scheme<i4 group = 128, scale = f16>",
                       "expected ',' after the element format but found "
                       "'group'"},
        ParseErrorCase{"#qmlir.scheme<i4, group 128, scale = f16>",
                       "expected '=' after 'group' but found '128'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, size = f16>",
                       "expected 'scale', 'zero', 'codebook' or 'act_order' "
                       "but found 'size'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, bias = "
                       "int>",
                       "expected 'zero', 'codebook' or 'act_order' but found "
                       "'bias'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, "
                       "act_order = true>",
                       "expected '>' to close the scheme but found '='"},
        ParseErrorCase{"#qmlir.scheme<i*, group = 128, scale = f16>",
                       "expected 'bits' (i* needs bits = [...]) but found "
                       "'group'"},
        ParseErrorCase{"#qmlir.scheme<i4, bits = [4], group = 128, scale = "
                       "f16>",
                       "bits = [...] is only for i* and u*, not 'i4'"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [], group = 128, scale = "
                       "f16>",
                       "expected a bit-width but found ']'"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [4 2], group = 128, scale = "
                       "f16>",
                       "expected ',' or ']' in the bits list but found '2'"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = 4, group = 128, scale = "
                       "f16>",
                       "expected '[' to open the bits list but found '4'"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [4, 9], group = 128, scale "
                       "= f16>",
                       "bits = [...] entry 1 must be between 1 and 8, got 9"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [4, -1], group = 128, scale "
                       "= f16>",
                       "bits = [...] entry 1 must be between 1 and 8, got -1"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [4, x], group = 128, scale "
                       "= f16>",
                       "expected a bit-width but found 'x'"},
        ParseErrorCase{"#qmlir.schema<i4, group = 128, scale = f16>",
                       "expected '#qmlir.scheme<' but found '#qmlir.schema'"},
        ParseErrorCase{"i4, group = 128, scale = f16",
                       "expected '#qmlir.scheme<' but found 'i4'"},
        ParseErrorCase{"#qmlir.scheme i4, group = 128, scale = f16>",
                       "expected '<' after '#qmlir.scheme' but found 'i4'"},
        ParseErrorCase{"", "expected '#qmlir.scheme<' but found end of input"},
        // Well formed, but not valid schemes: validate's message.
        ParseErrorCase{"#qmlir.scheme<i1, group = 32, scale = f16>",
                       "zero = none: signed 1-bit codes (-1, 0) need zero "
                       "points (at offset 14)"},
        ParseErrorCase{"#qmlir.scheme<f4e2m1, group = 32, scale = f16, zero "
                       "= float>",
                       "zero = float is not supported by f4e2m1"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 32, scale = e8m0>",
                       "scale = e8m0 is only for small-float and nf4 formats"},
        ParseErrorCase{"#qmlir.scheme<lut4, group = 32>",
                       "codebook = tensor needs group = tensor"},
        ParseErrorCase{"#qmlir.scheme<f8e4m3, group = 32, scale = f16, "
                       "act_order>",
                       "act_order is only for integer formats, not f8e4m3"},
        ParseErrorCase{"#qmlir.scheme<u*, bits = [4, 2], group = channel, "
                       "scale = f16>",
                       "mixed bit-widths (bits = [4, 2]) need a positive "
                       "group size"}));

TEST(SchemeTest, ParseErrorNamesPosition) {
  std::string error;
  EXPECT_FALSE(
      Scheme::parse("#qmlir.scheme<i4, group = 128, scale = f8>", &error));
  // "f8" starts at offset 39.
  EXPECT_NE(error.find("offset 39"), std::string::npos) << error;
  EXPECT_FALSE(
      Scheme::parse("#qmlir.scheme<u*, bits = [4, 2, 11], group = 128, "
                    "scale = f16>",
                    &error));
  // "11" starts at offset 32.
  EXPECT_NE(error.find("offset 32"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Storage parts
//===----------------------------------------------------------------------===//

std::string describe(const std::vector<Part> &parts) {
  std::string result;
  for (const Part &p : parts)
    result += p.name + ":" + p.element + "[" + std::to_string(p.rows) + "x" +
              std::to_string(p.cols) + "] ";
  return result;
}

void expectParts(const char *scheme, int64_t n, int64_t k,
                 const std::string &expected) {
  EXPECT_EQ(describe(parseOrDie(scheme).parts(n, k)), expected) << scheme;
}

TEST(PartsTest, HandChecked) {
  // Integers: codes, scales, zeros.
  expectParts("#qmlir.scheme<i4, group = 128, scale = f16, zero = int>", 96,
              384, "codes:i32[96x48] scales:f16[96x3] zeros:i32[96x1] ");
  expectParts("#qmlir.scheme<u3, group = 32, scale = bf16, zero = float>", 5,
              384, "codes:i32[5x36] scales:bf16[5x12] zeros:bf16[5x12] ");
  expectParts("#qmlir.scheme<u8, group = channel, scale = f32>", 7, 100,
              "codes:i32[7x25] scales:f32[7x1] ");
  expectParts("#qmlir.scheme<i1, group = tensor, scale = f16, zero = int>", 7,
              100, "codes:i32[7x4] scales:f16[1x1] zeros:i32[1x1] ");
  expectParts("#qmlir.scheme<u4, group = tensor, scale = f32, zero = float>", 7,
              64, "codes:i32[7x8] scales:f32[1x1] zeros:f32[1x1] ");
  // 3-bit zero points, 40 groups: 120 bits in 4 words.
  expectParts("#qmlir.scheme<u3, group = 32, scale = f16, zero = int>", 2, 1280,
              "codes:i32[2x120] scales:f16[2x40] zeros:i32[2x4] ");
  // Mixed widths: 128 * (4 + 2 + 3 + 4) bits = 52 words of codes, zero
  // points 4 + 2 + 3 + 4 = 13 bits.
  expectParts("#qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = "
              "f16, zero = int>",
              11, 512, "codes:i32[11x52] scales:f16[11x4] zeros:i32[11x1] ");
  expectParts("#qmlir.scheme<i*, bits = [8, 8, 8, 8, 8], group = 1, scale = "
              "f16, zero = float>",
              1, 5, "codes:i32[1x2] scales:f16[1x5] zeros:f16[1x5] ");
  // MX and NV formats: one byte per scale.
  expectParts("#qmlir.scheme<mxfp4>", 96, 384,
              "codes:i32[96x48] scales:f8E8M0FNU[96x12] ");
  expectParts("#qmlir.scheme<nvfp4>", 96, 384,
              "codes:i32[96x48] scales:f8E4M3FN[96x24] ");
  expectParts("#qmlir.scheme<f6e3m2, group = 64, scale = f16>", 3, 128,
              "codes:i32[3x24] scales:f16[3x2] ");
  expectParts("#qmlir.scheme<f8e5m2, group = tensor, scale = f32>", 3, 128,
              "codes:i32[3x32] scales:f32[1x1] ");
  expectParts("#qmlir.scheme<nf4, group = 64, scale = e8m0>", 3, 128,
              "codes:i32[3x16] scales:f8E8M0FNU[3x2] ");
  // Codebooks: no scales.
  expectParts("#qmlir.scheme<lut4, group = tensor>", 96, 384,
              "codes:i32[96x48] codebook:f16[1x16] ");
  expectParts("#qmlir.scheme<lut4, group = 128, codebook = group>", 96, 384,
              "codes:i32[96x48] codebook:f16[96x48] ");
  expectParts("#qmlir.scheme<lut3, group = channel, scale = f32, codebook = "
              "group>",
              4, 100, "codes:i32[4x10] codebook:f32[4x8] ");
  // bcq: planes of ceil(K / 32) words, one scale per plane and group.
  expectParts("#qmlir.scheme<bcq3, group = 128, scale = f16>", 96, 384,
              "codes:i32[96x36] scales:f16[96x9] ");
  expectParts("#qmlir.scheme<bcq2, group = 128, scale = bf16, zero = float>",
              96, 384, "codes:i32[96x24] scales:bf16[96x6] zeros:bf16[96x3] ");
  expectParts("#qmlir.scheme<bcq3, group = tensor, scale = f16, zero = "
              "float>",
              5, 40, "codes:i32[5x6] scales:f16[1x3] zeros:f16[1x1] ");
  // Ternary: 20 trits per word.
  expectParts("#qmlir.scheme<ternary, group = 128, scale = f16>", 96, 384,
              "codes:i32[96x20] scales:f16[96x3] ");
  expectParts("#qmlir.scheme<ternary, group = tensor, scale = f32>", 2, 41,
              "codes:i32[2x3] scales:f32[1x1] ");
  // Act-order: g_idx last.
  expectParts("#qmlir.scheme<u4, group = 128, scale = f16, zero = int, "
              "act_order>",
              96, 384,
              "codes:i32[96x48] scales:f16[96x3] zeros:i32[96x1] "
              "g_idx:i32[1x384] ");
}

TEST(PartsTest, WordsAndOffsets) {
  Scheme i3 = parseOrDie("#qmlir.scheme<i3, group = 32, scale = f16>");
  EXPECT_EQ(i3.codeWordsPerRow(100), 10);
  EXPECT_EQ(i3.codeBitOffset(11, 96), 33);
  EXPECT_EQ(i3.zeroWordsPerRow(96), 1); // 3 groups of 3 bits
  Scheme mixed = parseOrDie("#qmlir.scheme<u*, bits = [4, 2, 3], group = 4, "
                            "scale = f16, zero = int>");
  EXPECT_EQ(mixed.codeWordsPerRow(12), 2); // 16 + 8 + 12 = 36 bits
  EXPECT_EQ(mixed.zeroWordsPerRow(12), 1);
  const int64_t expected[12] = {0, 4, 8, 12, 16, 18, 20, 22, 24, 27, 30, 33};
  for (int64_t c = 0; c < 12; ++c)
    EXPECT_EQ(mixed.codeBitOffset(c, 12), expected[c]) << c;
  Scheme bcq = parseOrDie("#qmlir.scheme<bcq3, group = 32, scale = f16>");
  EXPECT_EQ(bcq.codeWordsPerRow(64), 6);
  EXPECT_EQ(bcq.codeWordsPerRow(65), 9);
  EXPECT_EQ(bcq.zeroWordsPerRow(64), 0);
  Scheme ternary = parseOrDie("#qmlir.scheme<ternary, group = 20, scale = "
                              "f16>");
  EXPECT_EQ(ternary.codeWordsPerRow(20), 1);
  EXPECT_EQ(ternary.codeWordsPerRow(21), 2);
  EXPECT_EQ(ternary.codeWordsPerRow(400), 20);
  Scheme f6 = parseOrDie("#qmlir.scheme<f6e2m3, group = 16, scale = f16>");
  EXPECT_EQ(f6.codeWordsPerRow(16), 3);
  EXPECT_EQ(f6.codeBitOffset(6, 16), 36);
}

//===----------------------------------------------------------------------===//
// Names and sizes
//===----------------------------------------------------------------------===//

TEST(NamesTest, ToStringAndParse) {
  EXPECT_STREQ(toString(ScaleType::F16), "f16");
  EXPECT_STREQ(toString(ScaleType::BF16), "bf16");
  EXPECT_STREQ(toString(ScaleType::F32), "f32");
  EXPECT_STREQ(toString(ScaleType::E8M0), "e8m0");
  EXPECT_STREQ(toString(ScaleType::F8E4M3), "f8e4m3");
  EXPECT_STREQ(toString(ZeroKind::None), "none");
  EXPECT_STREQ(toString(ZeroKind::Int), "int");
  EXPECT_STREQ(toString(ZeroKind::Float), "float");
  EXPECT_STREQ(toString(FloatFormat::E2M1), "f4e2m1");
  EXPECT_STREQ(toString(FloatFormat::E2M3), "f6e2m3");
  EXPECT_STREQ(toString(FloatFormat::E3M2), "f6e3m2");
  EXPECT_STREQ(toString(FloatFormat::E4M3), "f8e4m3");
  EXPECT_STREQ(toString(FloatFormat::E5M2), "f8e5m2");
  for (FloatType type : {FloatType::F16, FloatType::BF16, FloatType::F32}) {
    std::optional<FloatType> parsed = parseFloatType(toString(type));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_STREQ(toString(FloatType::BF16), "bf16");
  EXPECT_FALSE(parseFloatType("f64"));
  EXPECT_FALSE(parseFloatType("F16"));
  EXPECT_FALSE(parseFloatType(""));
}

TEST(NamesTest, ByteSizesAndMlirNames) {
  EXPECT_EQ(byteSize(ScaleType::F16), 2u);
  EXPECT_EQ(byteSize(ScaleType::BF16), 2u);
  EXPECT_EQ(byteSize(ScaleType::F32), 4u);
  EXPECT_EQ(byteSize(ScaleType::E8M0), 1u);
  EXPECT_EQ(byteSize(ScaleType::F8E4M3), 1u);
  EXPECT_EQ(byteSize(FloatType::F16), 2u);
  EXPECT_EQ(byteSize(FloatType::BF16), 2u);
  EXPECT_EQ(byteSize(FloatType::F32), 4u);
  EXPECT_STREQ(mlirTypeName(ScaleType::F16), "f16");
  EXPECT_STREQ(mlirTypeName(ScaleType::BF16), "bf16");
  EXPECT_STREQ(mlirTypeName(ScaleType::F32), "f32");
  EXPECT_STREQ(mlirTypeName(ScaleType::E8M0), "f8E8M0FNU");
  EXPECT_STREQ(mlirTypeName(ScaleType::F8E4M3), "f8E4M3FN");
  EXPECT_EQ(floatBits(FloatFormat::E2M1), 4u);
  EXPECT_EQ(floatBits(FloatFormat::E2M3), 6u);
  EXPECT_EQ(floatBits(FloatFormat::E3M2), 6u);
  EXPECT_EQ(floatBits(FloatFormat::E4M3), 8u);
  EXPECT_EQ(floatBits(FloatFormat::E5M2), 8u);
}

} // namespace
