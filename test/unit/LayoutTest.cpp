//===- LayoutTest.cpp - Packed-code layouts -------------------------------===//
//
// The mma_tile layout is checked against the PTX ISA's definition of the
// m16n8k16 A fragment, written out here independently of Layout.cpp: each
// lane loads its words as the kernel does (one 16-byte load per 4 bits of
// code width), takes register q of a sub-tile with the kernel's shift and
// mask, and must find the weights that the ISA assigns to that register
// (at K's permuted column for mma_tile, at its own column for
// mma_tile_linear).
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Layout.h"
#include "qmlir/Core/Reference.h"

#include "CoreTestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace qmlir::core;
using qmlir::core::test_support::intScheme;

namespace {

/// The ISA's A fragment of m16n8k16 (f16/bf16): element i (0..7) of lane
/// l has row groupID + 8 for i in {2, 3, 6, 7} and column
/// threadID_in_group * 2 + (i % 2) + 8 for i >= 4.
std::pair<int, int> isaFragmentPosition(int lane, int i) {
  int groupId = lane >> 2, threadInGroup = lane % 4;
  int row = (i == 2 || i == 3 || i == 6 || i == 7) ? groupId + 8 : groupId;
  int col = threadInGroup * 2 + (i & 1) + (i >= 4 ? 8 : 0);
  return {row, col};
}

/// Layout.h's permutation of K inside spans of `span` columns, from the
/// mma's k index (16 sub-tile + the fragment's column) to the stored column:
/// lane t of the B fragment reads span / 4 contiguous columns of each span.
int permutedColumn(int subTile, int fragmentColumn, int span) {
  int t = (fragmentColumn % 8) / 2, a = fragmentColumn / 8,
      h = fragmentColumn % 2;
  int perSpan = span / 16;
  return span * (subTile / perSpan) + span / 4 * t + 4 * (subTile % perSpan) +
         2 * a + h;
}

TEST(MmaTileLayoutTest, PermutationStaysInsideItsSpan) {
  for (int span : {16, 32, 64}) {
    std::vector<int> seen(64, 0);
    for (int j = 0; j < 4; ++j)
      for (int c = 0; c < 16; ++c) {
        int column = permutedColumn(j, c, span);
        ++seen[column];
        EXPECT_EQ(column / span, (16 * j + c) / span);
      }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), 64) << span;
  }
}

TEST(MmaTileLayoutTest, SpanDividesTheGroup) {
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 128)), 64);
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 0)), 64);
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 32)), 32);
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 96)), 32);
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 48)), 16);
  EXPECT_EQ(mmaPermutationSpan(intScheme(true, 4, 16)), 16);
}

struct Case {
  bool isSigned;
  unsigned bits;
  int64_t n, k, group;
  Layout layout = Layout::MmaTile;
};

class MmaTileLayoutTest : public testing::TestWithParam<Case> {};

TEST_P(MmaTileLayoutTest, KernelReadGivesTheLogicalCodes) {
  const Case c = GetParam();
  Scheme scheme = intScheme(c.isSigned, c.bits, c.group);
  const int span = c.group % 64 == 0 ? 64 : (c.group % 32 == 0 ? 32 : 16);
  ASSERT_EQ(layoutSupport(c.layout, scheme, c.n, c.k), "");
  // Random codes straight into the canonical bit streams.
  std::mt19937 rng(7);
  const int64_t rowWords = scheme.codeWordsPerRow(c.k);
  std::vector<uint32_t> canonical(c.n * rowWords);
  for (uint32_t &word : canonical)
    word = rng();
  std::vector<uint32_t> arranged =
      arrangeCodes(c.layout, scheme, c.n, c.k, canonical);
  ASSERT_EQ(arranged.size(), canonical.size());

  const uint32_t mask = c.bits == 4 ? 0x000F000Fu : 0x00FF00FFu;
  const int64_t colTiles = c.k / 64;
  const int64_t wordsPerLane = c.bits; // four 16-column sub-tiles
  int64_t checked = 0;
  for (int64_t rowTile = 0; rowTile < c.n / 16; ++rowTile)
    for (int64_t colTile = 0; colTile < colTiles; ++colTile)
      for (int lane = 0; lane < 32; ++lane) {
        const uint32_t *loaded =
            &arranged[((rowTile * colTiles + colTile) * 32 + lane) *
                      wordsPerLane];
        for (int subTile = 0; subTile < 4; ++subTile)
          for (int q = 0; q < 4; ++q) {
            // The kernel's extraction of register q.
            uint32_t word, shift;
            if (c.bits == 4) {
              word = loaded[subTile];
              shift = 4 * q;
            } else {
              word = loaded[subTile * 2 + q / 2];
              shift = 8 * (q % 2);
            }
            uint32_t pair = (word >> shift) & mask;
            uint32_t lo = pair & 0xFFFF, hi = pair >> 16;
            for (int h = 0; h < 2; ++h) {
              auto [row, col] = isaFragmentPosition(lane, 2 * q + h);
              int64_t r = rowTile * 16 + row;
              int64_t k = colTile * 64 + (c.layout == Layout::MmaTileLinear
                                              ? 16 * subTile + col
                                              : permutedColumn(subTile, col,
                                                               span));
              uint32_t expected =
                  extractCode(&canonical[r * rowWords], k, c.bits);
              ASSERT_EQ(h ? hi : lo, expected)
                  << "row " << r << " column " << k << " lane " << lane;
              ++checked;
            }
          }
      }
  EXPECT_EQ(checked, c.n * c.k);
  EXPECT_EQ(canonicalCodes(c.layout, scheme, c.n, c.k, arranged),
            canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MmaTileLayoutTest,
    testing::Values(Case{false, 4, 16, 64, 64}, Case{true, 4, 48, 320, 64},
                    Case{false, 8, 32, 128, 128}, Case{true, 8, 16, 192, 32},
                    Case{false, 4, 32, 192, 48}, Case{true, 4, 16, 128, 16},
                    Case{false, 4, 16, 192, 96},
                    Case{false, 4, 32, 128, 128, Layout::MmaTileLinear},
                    Case{true, 4, 16, 192, 16, Layout::MmaTileLinear},
                    Case{true, 8, 48, 128, 32, Layout::MmaTileLinear},
                    Case{false, 8, 16, 320, 0, Layout::MmaTileLinear}));

TEST(MmaTileLayoutTest, KSpans) {
  Scheme g32 = intScheme(false, 4, 32);
  EXPECT_EQ(mmaKSpan(Layout::MmaTile, g32), 32);
  EXPECT_EQ(mmaKSpan(Layout::MmaTileLinear, g32), 8);
  EXPECT_TRUE(isMmaTile(Layout::MmaTileLinear));
  EXPECT_FALSE(isMmaTile(Layout::Canonical));
}

TEST(LayoutTest, CanonicalIsTheIdentity) {
  Scheme scheme = intScheme(true, 3, 32);
  std::vector<uint32_t> codes = {1, 2, 3, 4, 5, 6};
  EXPECT_EQ(arrangeCodes(Layout::Canonical, scheme, 2, 32, codes), codes);
}

TEST(LayoutTest, SupportNamesWhatIsWrong) {
  Scheme u4 = intScheme(false, 4, 128, ScaleType::F16, ZeroKind::Int);
  EXPECT_EQ(layoutSupport(Layout::MmaTile, u4, 4096, 4096), "");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, u4, 4096, 11008), "");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, intScheme(false, 4, 0), 16, 64), "");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, intScheme(true, 3, 64), 16, 64),
            "the mma_tile layout holds 4- or 8-bit codes, not 3-bit");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, u4, 24, 64),
            "N = 24 is not a multiple of 16");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, u4, 16, 96),
            "K = 96 is not a multiple of 64");
  EXPECT_EQ(layoutSupport(Layout::MmaTile, intScheme(false, 4, 8), 16, 64),
            "group size 8 is not a multiple of 16");
  Scheme floatZero = intScheme(false, 4, 64, ScaleType::F16, ZeroKind::Float);
  EXPECT_EQ(layoutSupport(Layout::MmaTile, floatZero, 16, 64),
            "the mma_tile layout takes integer zero points or none");
  Scheme actOrder = u4;
  actOrder.actOrder = true;
  EXPECT_NE(layoutSupport(Layout::MmaTile, actOrder, 16, 128), "");
  Scheme nf4;
  nf4.kind = ElementKind::NormalFloat;
  EXPECT_NE(layoutSupport(Layout::MmaTile, nf4, 16, 64), "");
  EXPECT_EQ(layoutSupport(Layout::Canonical, nf4, 3, 5), "");
  EXPECT_EQ(layoutSupport(Layout::MmaTileLinear, nf4, 16, 64),
            "the mma_tile_linear layout holds fixed-width integer codes only");
}

TEST(LayoutTest, Names) {
  EXPECT_EQ(parseLayout("mma_tile"), Layout::MmaTile);
  EXPECT_EQ(parseLayout("canonical"), Layout::Canonical);
  EXPECT_EQ(parseLayout("mma"), std::nullopt);
  EXPECT_STREQ(toString(Layout::MmaTile), "mma_tile");
  EXPECT_EQ(parseLayout("mma_tile_linear"), Layout::MmaTileLinear);
  EXPECT_STREQ(toString(Layout::MmaTileLinear), "mma_tile_linear");
}

} // namespace
