//===- FormatTest.cpp - Tests of the MLIR-free format library -------------===//
//
// Schemes and their textual form, packed codes and 16-bit floats, checked
// against hand-written bit patterns and independent formulas.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <ostream>
#include <random>
#include <vector>

using namespace qmlir::core;

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
  EXPECT_EQ(floatToHalf(0x1p-14f), 0x0400); // smallest normal
  EXPECT_EQ(floatToHalf(0x1p-24f), 0x0001); // smallest subnormal
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
  EXPECT_EQ(floatToHalf(0x1p-25f), 0x0000);            // half of 2^-24: even
  EXPECT_EQ(floatToHalf(0x1.000002p-25f), 0x0001);     // just above half
  EXPECT_EQ(floatToHalf(-0x1p-26f), 0x8000);           // keeps the sign
  EXPECT_EQ(floatToHalf(0x1.8p-24f), 0x0002);          // 1.5 ulp: to even 2
  EXPECT_EQ(floatToHalf(0x1p-149f), 0x0000);           // f32 subnormal
  EXPECT_EQ(floatToHalf(0x7FFp-25f), 0x0400); // rounds up into the normals
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

TEST(PackingTest, CodeValueSignExtension) {
  Scheme s4{ElementKind::SignedInt, 4};
  EXPECT_EQ(codeValue(0x7, s4), 7);
  EXPECT_EQ(codeValue(0x8, s4), -8);
  EXPECT_EQ(codeValue(0xF, s4), -1);
  EXPECT_EQ(codeValue(0x0, s4), 0);
  Scheme u4{ElementKind::UnsignedInt, 4};
  EXPECT_EQ(codeValue(0xF, u4), 15);
  EXPECT_EQ(codeValue(0x8, u4), 8);
  Scheme s2{ElementKind::SignedInt, 2};
  EXPECT_EQ(codeValue(2, s2), -2);
  EXPECT_EQ(codeValue(3, s2), -1);
  EXPECT_EQ(codeValue(1, s2), 1);
  Scheme s8{ElementKind::SignedInt, 8};
  EXPECT_EQ(codeValue(0x80, s8), -128);
  EXPECT_EQ(codeValue(0x7F, s8), 127);
  Scheme s3{ElementKind::SignedInt, 3};
  EXPECT_EQ(codeValue(0b100, s3), -4);
  EXPECT_EQ(codeValue(0xFFFFFFFCu, s3), -4); // high bits ignored
  for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits) {
    Scheme s{ElementKind::SignedInt, bits};
    for (int32_t v = s.minCode(); v <= s.maxCode(); ++v)
      EXPECT_EQ(codeValue(uint32_t(v) & ((1u << bits) - 1), s), v);
  }
}

//===----------------------------------------------------------------------===//
// Schemes
//===----------------------------------------------------------------------===//

TEST(SchemeTest, CodeRanges) {
  Scheme s{ElementKind::SignedInt, 2};
  EXPECT_EQ(s.minCode(), -2);
  EXPECT_EQ(s.maxCode(), 1);
  s = {ElementKind::UnsignedInt, 2};
  EXPECT_EQ(s.minCode(), 0);
  EXPECT_EQ(s.maxCode(), 3);
  s = {ElementKind::SignedInt, 8};
  EXPECT_EQ(s.minCode(), -128);
  EXPECT_EQ(s.maxCode(), 127);
  s = {ElementKind::UnsignedInt, 8};
  EXPECT_EQ(s.minCode(), 0);
  EXPECT_EQ(s.maxCode(), 255);
  s = {ElementKind::SignedInt, 4};
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
  EXPECT_EQ(s.groupSizeFor(384), 384);
  EXPECT_EQ(s.groupsPerRow(384), 1);
}

TEST(SchemeTest, Validate) {
  EXPECT_EQ(Scheme().validate(), "");
  Scheme s;
  s.bits = 9;
  std::string error = s.validate();
  EXPECT_NE(error.find("bit-width"), std::string::npos) << error;
  EXPECT_NE(error.find("got 9"), std::string::npos) << error;
  s.bits = 1;
  EXPECT_NE(s.validate().find("bit-width"), std::string::npos);
  s = Scheme();
  s.groupSize = -4;
  EXPECT_NE(s.validate().find("group size"), std::string::npos);
  EXPECT_NE(s.validate().find("-4"), std::string::npos);
  s = Scheme();
  s.scaleType = static_cast<ScaleType>(7);
  EXPECT_NE(s.validate().find("scale type"), std::string::npos);
  s = Scheme();
  s.zero = static_cast<ZeroKind>(7);
  EXPECT_NE(s.validate().find("zero kind"), std::string::npos);
  s = Scheme();
  s.kind = static_cast<ElementKind>(7);
  EXPECT_NE(s.validate().find("element kind"), std::string::npos);
  s = Scheme();
  s.groupSize = kPerChannel;
  EXPECT_EQ(s.validate(), "");
}

TEST(SchemeTest, ValidateShape) {
  Scheme s; // group 128
  EXPECT_EQ(s.validateShape(96, 384), "");
  EXPECT_EQ(s.validateShape(1, 128), "");
  std::string error = s.validateShape(96, 100);
  EXPECT_NE(error.find("K = 100"), std::string::npos) << error;
  EXPECT_NE(error.find("128"), std::string::npos) << error;
  EXPECT_NE(s.validateShape(96, 64).find("divisible"), std::string::npos);
  EXPECT_NE(s.validateShape(0, 128).find("N must be positive"),
            std::string::npos);
  EXPECT_NE(s.validateShape(4, 0).find("K must be positive"),
            std::string::npos);
  EXPECT_NE(s.validateShape(4, -128).find("K must be positive"),
            std::string::npos);
  s.groupSize = kPerChannel;
  EXPECT_EQ(s.validateShape(3, 7), "");
  s.bits = 12;
  EXPECT_NE(s.validateShape(3, 7).find("bit-width"), std::string::npos);
}

TEST(SchemeTest, StrExamples) {
  Scheme s{ElementKind::SignedInt, 4, 128, ScaleType::F16, ZeroKind::Int};
  EXPECT_EQ(s.str(), "#qmlir.scheme<i4, group = 128, scale = f16, zero = int>");
  Scheme u{ElementKind::UnsignedInt, 8, kPerChannel, ScaleType::F32,
           ZeroKind::None};
  EXPECT_EQ(u.str(), "#qmlir.scheme<u8, group = channel, scale = f32>");
}

TEST(SchemeTest, StrParseRoundTripAllCombinations) {
  int count = 0;
  for (ElementKind kind : {ElementKind::SignedInt, ElementKind::UnsignedInt})
    for (unsigned bits = kMinIntBits; bits <= kMaxIntBits; ++bits)
      for (int64_t group : {int64_t(1), int64_t(32), int64_t(64), int64_t(128),
                            int64_t(4096), kPerChannel})
        for (ScaleType scale : {ScaleType::F16, ScaleType::BF16, ScaleType::F32})
          for (ZeroKind zero : {ZeroKind::None, ZeroKind::Int, ZeroKind::Float}) {
            Scheme scheme{kind, bits, group, scale, zero};
            std::string expected =
                std::string("#qmlir.scheme<") +
                (kind == ElementKind::SignedInt ? "i" : "u") +
                std::to_string(bits) + ", group = " +
                (group == kPerChannel ? std::string("channel")
                                      : std::to_string(group)) +
                ", scale = " +
                (scale == ScaleType::F16    ? "f16"
                 : scale == ScaleType::BF16 ? "bf16"
                                            : "f32") +
                (zero == ZeroKind::None  ? ""
                 : zero == ZeroKind::Int ? ", zero = int"
                                         : ", zero = float") +
                ">";
            ASSERT_EQ(scheme.str(), expected);
            std::string error;
            std::optional<Scheme> parsed = Scheme::parse(expected, &error);
            ASSERT_TRUE(parsed) << expected << ": " << error;
            EXPECT_EQ(*parsed, scheme) << expected;
            EXPECT_EQ(error, "");
            EXPECT_EQ(scheme.validate(), "");
            ++count;
          }
  EXPECT_EQ(count, 2 * 7 * 6 * 3 * 3);
}

TEST(SchemeTest, ParseWhitespaceAndExplicitNone) {
  Scheme expected{ElementKind::SignedInt, 4, 128, ScaleType::F16,
                  ZeroKind::Int};
  for (const char *text :
       {"#qmlir.scheme<i4,group=128,scale=f16,zero=int>",
        "  #qmlir.scheme <  i4 ,group =128,\tscale= f16 ,\n zero = int >  ",
        "#qmlir.scheme<\ni4,\n  group = 128,\n  scale = f16,\n  zero = int\n>"}) {
    std::string error;
    std::optional<Scheme> parsed = Scheme::parse(text, &error);
    ASSERT_TRUE(parsed) << text << ": " << error;
    EXPECT_EQ(*parsed, expected) << text;
  }
  std::optional<Scheme> none =
      Scheme::parse("#qmlir.scheme<u3, group = 32, scale = bf16, zero = none>");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->zero, ZeroKind::None);
  EXPECT_EQ(none->str(), "#qmlir.scheme<u3, group = 32, scale = bf16>");
  // The error pointer is optional.
  EXPECT_FALSE(Scheme::parse("garbage"));
}

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
                       "expected bit-width between 2 and 8 in 'i9'"},
        ParseErrorCase{"#qmlir.scheme<u1, group = 128, scale = f16>",
                       "expected bit-width between 2 and 8 in 'u1'"},
        ParseErrorCase{"#qmlir.scheme<i, group = 128, scale = f16>",
                       "expected bit-width between 2 and 8 in 'i'"},
        ParseErrorCase{"#qmlir.scheme<i16, group = 128, scale = f16>",
                       "expected bit-width between 2 and 8 in 'i16'"},
        ParseErrorCase{"#qmlir.scheme<f4, group = 128, scale = f16>",
                       "expected element type 'iB' or 'uB' but found 'f4'"},
        ParseErrorCase{"#qmlir.scheme<, group = 128, scale = f16>",
                       "expected element type 'iB' or 'uB' but found ','"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 0, scale = f16>",
                       "group size must be positive, got 0"},
        ParseErrorCase{"#qmlir.scheme<i4, group = -32, scale = f16>",
                       "group size must be positive, got -32"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 12x, scale = f16>",
                       "expected a positive integer or 'channel' for group "
                       "but found '12x'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = , scale = f16>",
                       "for group but found ','"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 99999999999999999999, "
                       "scale = f16>",
                       "group size '99999999999999999999' is too large"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f8>",
                       "unknown scale type 'f8'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = >",
                       "expected scale type but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero = "
                       "half>",
                       "unknown zero kind 'half'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero>",
                       "expected '=' after 'zero' but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16> x",
                       "unexpected trailing text 'x'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16>>",
                       "unexpected trailing text '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16",
                       "expected '>' to close the scheme but found end of "
                       "input"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, zero = "
                       "int, zero = int>",
                       "expected '>' to close the scheme but found ','"},
        ParseErrorCase{"#qmlir.scheme<i4, scale = f16, group = 128>",
                       "expected 'group' but found 'scale'"},
        ParseErrorCase{"#qmlir.scheme<i4 group = 128, scale = f16>",
                       "expected ',' after the element type but found "
                       "'group'"},
        ParseErrorCase{"#qmlir.scheme<i4, group 128, scale = f16>",
                       "expected '=' after 'group' but found '128'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128>",
                       "expected ',' after the group size but found '>'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, size = f16>",
                       "expected 'scale' but found 'size'"},
        ParseErrorCase{"#qmlir.scheme<i4, group = 128, scale = f16, bias = "
                       "int>",
                       "expected 'zero' but found 'bias'"},
        ParseErrorCase{"#qmlir.schema<i4, group = 128, scale = f16>",
                       "expected '#qmlir.scheme<' but found '#qmlir.schema'"},
        ParseErrorCase{"i4, group = 128, scale = f16",
                       "expected '#qmlir.scheme<' but found 'i4'"},
        ParseErrorCase{"#qmlir.scheme i4, group = 128, scale = f16>",
                       "expected '<' after '#qmlir.scheme' but found 'i4'"},
        ParseErrorCase{"", "expected '#qmlir.scheme<' but found end of input"},
        ParseErrorCase{"#qmlir.scheme<I4, group = 128, scale = F16>",
                       "expected element type 'iB' or 'uB' but found 'I4'"}));

TEST(SchemeTest, ParseErrorNamesPosition) {
  std::string error;
  EXPECT_FALSE(Scheme::parse("#qmlir.scheme<i4, group = 128, scale = f8>",
                             &error));
  // "f8" starts at offset 39.
  EXPECT_NE(error.find("offset 39"), std::string::npos) << error;
}

//===----------------------------------------------------------------------===//
// Names and sizes
//===----------------------------------------------------------------------===//

TEST(NamesTest, ToStringAndParse) {
  EXPECT_STREQ(toString(ScaleType::F16), "f16");
  EXPECT_STREQ(toString(ScaleType::BF16), "bf16");
  EXPECT_STREQ(toString(ScaleType::F32), "f32");
  EXPECT_STREQ(toString(ZeroKind::None), "none");
  EXPECT_STREQ(toString(ZeroKind::Int), "int");
  EXPECT_STREQ(toString(ZeroKind::Float), "float");
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

TEST(NamesTest, ByteSizes) {
  EXPECT_EQ(byteSize(ScaleType::F16), 2u);
  EXPECT_EQ(byteSize(ScaleType::BF16), 2u);
  EXPECT_EQ(byteSize(ScaleType::F32), 4u);
  EXPECT_EQ(byteSize(FloatType::F16), 2u);
  EXPECT_EQ(byteSize(FloatType::BF16), 2u);
  EXPECT_EQ(byteSize(FloatType::F32), 4u);
}

} // namespace
