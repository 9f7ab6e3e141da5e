//===- Layout.h - Physical arrangements of packed codes (MLIR-free) -*- C++ -*-===//
//
// A layout says where each code of a scheme's "codes" part lives in memory.
// The canonical layout (Format.h: row-major bit streams) is what the
// reference, the CPU path and the SIMT kernels read. The tensor-core kernels
// read `Layout::MmaTile`: the codes a warp needs for one mma.sync m16n8k16 A
// operand sit in each lane's registers after one 16-byte load, already in
// fragment order, so that two codes that form one f16x2 / bf16x2 register
// come out of a word with one shift and one mask.
//
// The arrangement is data (the tables and sizes below), read by the offline
// packer here and by the kernel generator (qmlir-lower-dequant); the part's
// shape and byte size are the canonical ones, only the order of the words
// changes.
//
// MmaTile, for B-bit codes (B = 4 or 8) of an [N, K] matrix, N % 16 == 0,
// K % 64 == 0:
//   - the matrix is cut into tiles of 16 rows by 64 columns; tile (t, c)
//     (rows 16t.., columns 64c..) is 2 * B * 32 bytes at word offset
//     (t * K / 64 + c) * 16 * B: row tiles are outermost, so one thread
//     block's tiles are contiguous along K;
//   - lane l (0..31) of the warp owns B words of the tile at word offset
//     l * B: sub-tile j (columns 64c + 16j ..) is words [j * B/4, (j+1) * B/4);
//   - within the words of a sub-tile, code slot s (the s-th B-bit field of
//     the B/4 words, little-endian) holds fragment element e = slotElement(s):
//     register q = e / 2 (rows g + 8 (q % 2), columns 2t + 8 (q / 2)), half
//     h = e % 2 (column + h), where g = l / 4 and t = l % 4 as in the PTX
//     ISA's m16n8k16 A fragment;
//   - K is permuted within spans of 64, 32 or 16 columns (the largest that
//     divides the group size) so that a lane's activations are contiguous:
//     a lane's words are span / 4 contiguous columns of each span, and one
//     16-byte load fetches a lane's B fragments (mmaElementPosition).
//
// MmaTileLinear is the same arrangement with K in its own order (a span of
// 8: the columns of a lane's register are 2t, 2t + 1 and 2t + 8, 2t + 9 of
// its sub-tile). It is what wgmma wants: the tensor cores read activations
// from shared memory as 16-byte rows of 8 consecutive columns, so they are
// copied in 16-byte pieces; lanes that load B fragments themselves take 4
// bytes per register instead of 16 bytes per four.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_LAYOUT_H
#define QMLIR_CORE_LAYOUT_H

#include "qmlir/Core/Format.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qmlir::core {

enum class Layout { Canonical, MmaTile, MmaTileLinear };

/// "canonical", "mma_tile" or "mma_tile_linear" (the IR's and the
/// manifest's spelling).
const char *toString(Layout layout);
std::optional<Layout> parseLayout(std::string_view name);

/// Whether `layout` is one of the tensor-core arrangements (MmaTile,
/// MmaTileLinear), which share their geometry and codes' slots.
bool isMmaTile(Layout layout);

/// Geometry of the MmaTile layouts.
struct MmaTileGeometry {
  static constexpr int64_t kTileRows = 16;
  static constexpr int64_t kTileCols = 64;
  static constexpr int64_t kSubTileCols = 16;
  static constexpr int64_t kLanes = 32;
  /// Codes of one lane in one 16-column sub-tile (the A fragment's 8 halves).
  static constexpr int64_t kCodesPerLaneSubTile = 8;
};

/// Empty if `scheme` stored as [n, k] can use `layout`, otherwise why not.
std::string layoutSupport(Layout layout, const Scheme &scheme, int64_t n,
                          int64_t k);

/// MmaTile: the fragment element (0..7) that code slot `slot` of a lane's
/// sub-tile words holds, for `bits`-bit codes (4 or 8).
int mmaSlotElement(unsigned bits, int slot);

/// The largest of 64, 32 and 16 that divides the group size (64 for
/// per-channel and per-tensor scales): the sub-tiles of such a span share
/// their scales, and MmaTile permutes K within spans of this size.
int64_t mmaPermutationSpan(const Scheme &scheme);

/// The span of K's permutation in mma layout `layout`: mmaPermutationSpan
/// for MmaTile, 8 (no permutation) for MmaTileLinear.
int64_t mmaKSpan(Layout layout, const Scheme &scheme);

/// The logical (row, column) within a 16 x 64 tile of fragment element
/// `element` of lane `lane` in sub-tile `subTile`, with K permuted in spans
/// of `span` columns (mmaKSpan) as described above.
std::array<int64_t, 2> mmaElementPosition(int lane, int subTile, int element,
                                          int64_t span);

/// Rearranges canonical codes (Scheme::parts' "codes", n rows of
/// codeWordsPerRow(k) words) into `layout`. Requires layoutSupport to be
/// empty; the result has the same number of words.
std::vector<uint32_t> arrangeCodes(Layout layout, const Scheme &scheme,
                                   int64_t n, int64_t k,
                                   const std::vector<uint32_t> &canonical);

/// The inverse of arrangeCodes: codes in `layout` back to canonical.
std::vector<uint32_t> canonicalCodes(Layout layout, const Scheme &scheme,
                                     int64_t n, int64_t k,
                                     const std::vector<uint32_t> &arranged);

} // namespace qmlir::core

#endif // QMLIR_CORE_LAYOUT_H
