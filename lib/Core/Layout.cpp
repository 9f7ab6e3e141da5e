//===- Layout.cpp - Physical arrangements of packed codes -----------------===//

#include "qmlir/Core/Layout.h"

#include <cassert>

using namespace qmlir::core;

const char *qmlir::core::toString(Layout layout) {
  switch (layout) {
  case Layout::Canonical:
    return "canonical";
  case Layout::MmaTile:
    return "mma_tile";
  case Layout::MmaTileLinear:
    return "mma_tile_linear";
  }
  return "canonical";
}

bool qmlir::core::isMmaTile(Layout layout) {
  return layout == Layout::MmaTile || layout == Layout::MmaTileLinear;
}

std::optional<Layout> qmlir::core::parseLayout(std::string_view name) {
  if (name == "canonical")
    return Layout::Canonical;
  if (name == "mma_tile")
    return Layout::MmaTile;
  if (name == "mma_tile_linear")
    return Layout::MmaTileLinear;
  return std::nullopt;
}

std::string qmlir::core::layoutSupport(Layout layout, const Scheme &scheme,
                                       int64_t n, int64_t k) {
  if (layout == Layout::Canonical)
    return "";
  using G = MmaTileGeometry;
  const std::string name = std::string("the ") + toString(layout) + " layout";
  if (!scheme.isInteger() || scheme.isMixed())
    return name + " holds fixed-width integer codes only";
  if (scheme.bits != 4 && scheme.bits != 8)
    return name + " holds 4- or 8-bit codes, not " +
           std::to_string(scheme.bits) + "-bit";
  if (scheme.actOrder)
    return name + " does not take act-order weights";
  if (scheme.zero == ZeroKind::Float)
    return name + " takes integer zero points or none";
  if (n % G::kTileRows != 0)
    return "N = " + std::to_string(n) + " is not a multiple of " +
           std::to_string(G::kTileRows);
  if (k % G::kTileCols != 0)
    return "K = " + std::to_string(k) + " is not a multiple of " +
           std::to_string(G::kTileCols);
  if (scheme.groupSize > 0 && scheme.groupSize % G::kSubTileCols != 0)
    return "group size " + std::to_string(scheme.groupSize) +
           " is not a multiple of " + std::to_string(G::kSubTileCols);
  return "";
}

int qmlir::core::mmaSlotElement(unsigned bits, int slot) {
  assert(slot >= 0 && slot < 8 && (bits == 4 || bits == 8));
  // 4 bits: one word; a shift by 4q and the mask 0x000F000F yield register q
  // (slots q and q + 4). 8 bits: two words, word w holds registers 2w and
  // 2w + 1; a shift by 8(q % 2) and the mask 0x00FF00FF yield register q.
  static constexpr int kFourBit[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  static constexpr int kEightBit[8] = {0, 2, 1, 3, 4, 6, 5, 7};
  return bits == 4 ? kFourBit[slot] : kEightBit[slot];
}

int64_t qmlir::core::mmaPermutationSpan(const Scheme &scheme) {
  if (scheme.groupSize <= 0 || scheme.groupSize % 64 == 0)
    return 64;
  return scheme.groupSize % 32 == 0 ? 32 : 16;
}

int64_t qmlir::core::mmaKSpan(Layout layout, const Scheme &scheme) {
  assert(isMmaTile(layout));
  return layout == Layout::MmaTileLinear ? 8 : mmaPermutationSpan(scheme);
}

std::array<int64_t, 2> qmlir::core::mmaElementPosition(int lane, int subTile,
                                                       int element,
                                                       int64_t span) {
  int g = lane / 4, t = lane % 4;
  int q = element / 2, h = element % 2;
  // Register q / 2 of sub-tile j is the lane's word 2 j + q / 2; a span
  // holds span / 8 of the lane's words, span / 4 contiguous columns.
  int64_t word = 2 * subTile + q / 2, wordsPerSpan = span / 8;
  return {g + 8 * (q % 2), span * (word / wordsPerSpan) + span / 4 * t +
                               2 * (word % wordsPerSpan) + h};
}

namespace {

/// Visits every code of an MmaTile matrix: `visit(canonicalRow, column,
/// arrangedWords, slot)`, where the code is slot `slot` of the arranged
/// sub-tile words.
template <typename Visit>
void forEachMmaCode(Layout layout, const Scheme &scheme, int64_t n, int64_t k,
                    Visit visit) {
  using G = MmaTileGeometry;
  const unsigned bits = scheme.bits;
  const int64_t colTiles = k / G::kTileCols;
  const int64_t wordsPerLane = bits; // 4 sub-tiles x 8 codes x bits / 32
  const int64_t wordsPerSubTile = bits / 4;
  const int64_t span = mmaKSpan(layout, scheme);
  for (int64_t rowTile = 0; rowTile < n / G::kTileRows; ++rowTile)
    for (int64_t colTile = 0; colTile < colTiles; ++colTile)
      for (int lane = 0; lane < G::kLanes; ++lane)
        for (int subTile = 0; subTile < 4; ++subTile) {
          int64_t word = ((rowTile * colTiles + colTile) * G::kLanes + lane) *
                             wordsPerLane +
                         subTile * wordsPerSubTile;
          for (int slot = 0; slot < 8; ++slot) {
            auto [row, col] = mmaElementPosition(
                lane, subTile, mmaSlotElement(bits, slot), span);
            visit(rowTile * G::kTileRows + row, colTile * G::kTileCols + col,
                  word, slot);
          }
        }
}

} // namespace

std::vector<uint32_t>
qmlir::core::arrangeCodes(Layout layout, const Scheme &scheme, int64_t n,
                          int64_t k, const std::vector<uint32_t> &canonical) {
  if (layout == Layout::Canonical)
    return canonical;
  assert(layoutSupport(layout, scheme, n, k).empty());
  const int64_t rowWords = scheme.codeWordsPerRow(k);
  std::vector<uint32_t> arranged(canonical.size(), 0);
  forEachMmaCode(layout, scheme, n, k,
                 [&](int64_t r, int64_t c, int64_t word, int slot) {
                   insertCode(&arranged[word], slot, scheme.bits,
                              extractCode(&canonical[r * rowWords], c,
                                          scheme.bits));
                 });
  return arranged;
}

std::vector<uint32_t>
qmlir::core::canonicalCodes(Layout layout, const Scheme &scheme, int64_t n,
                            int64_t k, const std::vector<uint32_t> &arranged) {
  if (layout == Layout::Canonical)
    return arranged;
  assert(layoutSupport(layout, scheme, n, k).empty());
  const int64_t rowWords = scheme.codeWordsPerRow(k);
  std::vector<uint32_t> canonical(arranged.size(), 0);
  forEachMmaCode(layout, scheme, n, k,
                 [&](int64_t r, int64_t c, int64_t word, int slot) {
                   insertCode(&canonical[r * rowWords], c, scheme.bits,
                              extractCode(&arranged[word], slot, scheme.bits));
                 });
  return canonical;
}
