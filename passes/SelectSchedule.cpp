//===- SelectSchedule.cpp - M buckets and tiles by a fixed rule -----------===//
//
// The decision lives here and only here: qmlir-lower-dequant executes
// whatever #qmlir.schedule it finds, so a cost model can replace this rule
// (or a user can pin schedules in the IR) without touching the lowering.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include <algorithm>

namespace qmlir {
#define GEN_PASS_DEF_QMLIRSELECTSCHEDULE
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

/// Largest M of the last bucket: grid.y = ceil(M / rows) stays far below
/// CUDA's limit and the runtime's dispatch covers the same range as SIMT.
constexpr int64_t kMaxM = 65535;

SmallVector<core::Scheme, 2> schemesOf(Operation *op) {
  SmallVector<core::Scheme, 2> schemes;
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<QTensorType>(operand.getType()))
      schemes.push_back(type.getScheme().toCore());
  return schemes;
}

struct QmlirSelectSchedulePass
    : qmlir::impl::QmlirSelectScheduleBase<QmlirSelectSchedulePass> {
  using Base::Base;

  void runOnOperation() override {
    if (!tensorCores || !codegen::hasMmaSyncM16N8K16(chip))
      return;
    MLIRContext *context = &getContext();
    getOperation().walk([&](Operation *op) {
      if (!isa<MatmulOp, SwigluOp>(op) || op->hasAttr(kSchedulesAttrName))
        return;
      auto weights = cast<QTensorType>(op->getOperand(1).getType());
      const int64_t n = weights.getRows(), k = weights.getCols();
      SmallVector<core::Scheme, 2> schemes = schemesOf(op);
      for (const core::Scheme &scheme : schemes)
        if (!core::layoutSupport(core::Layout::MmaTile, scheme, n, k).empty() ||
            core::mmaPermutationSpan(scheme) !=
                core::mmaPermutationSpan(schemes.front()))
          return;
      const int64_t chunks = k / core::MmaTileGeometry::kTileCols;
      const int64_t warps = std::min<int64_t>(8, chunks);
      const bool twoTiles = n % 32 == 0;
      const int64_t projections = int64_t(schemes.size());
      // From M = 129 on (97 for large N), a staged kernel where N is a
      // multiple of its 64 columns, issuing wgmma where the chip has it;
      // qmlir-reorder-layout {linear-k} stores the weights of such ops in K
      // order.
      const bool staged = n % 64 == 0;
      const bool stagedWgmma = staged && codegen::hasWgmma(chip);
      const bool linearWeights = linearK && stagedWgmma;
      // The occupancy bounds and the M = 9..32 rules below were measured
      // for one projection of 4-bit codes, the latter in mma_tile order with
      // 8 warps (K >= 512); other ops keep the general ones.
      const bool oneFourBitProjection =
          projections == 1 && schemes.front().bits <= 4;
      const bool tunedSplitK =
          oneFourBitProjection && !linearWeights && warps == 8;
      // M = 9..16 with N >= 8192 and M = 17..32 with N >= 5120 (at least
      // 80 blocks of 64 columns): see twoTilesAtM16 and fourTilesAtM32.
      const bool twoTilesAtM16Fit = tunedSplitK && twoTiles && n / 32 >= 256;
      const bool fourTilesFit = tunedSplitK && n % 64 == 0 && n >= 5120;
      // M = 9..16 below N = 5120 with K >= 4096: see sixteenWarpsAtM16.
      const bool sixteenWarpsAtM16Fit = tunedSplitK && n < 5120 && chunks >= 64;
      SmallVector<Attribute> buckets;
      auto bucket = [&](int64_t mMin, int64_t mMax, int64_t tileM,
                        int64_t unroll) {
        // Small M is bound by the weights' bandwidth: one 16-column tile
        // per block gives the most blocks (and loads in flight). Larger M
        // shares each activation load between two tiles, within 64 f32
        // accumulators per thread.
        // With one block row (M <= 32), two tiles only while that leaves
        // 256 blocks, two per SM: with fewer, SMs idle (H200, M = 17..32,
        // N <= 6144: one tile is 1.1-1.35x faster; at M = 33..128 the block
        // rows make up for it, and one tile is up to 2x slower).
        const bool oneBlockRow = mMax <= 8 * tileM;
        int64_t tileN = twoTiles && tileM >= 4 &&
                                projections * 2 * tileM * 4 <= 64 &&
                                (!oneBlockRow || n / 32 >= 256 || linearWeights)
                            ? 2
                            : 1;
        // At M = 9..16 a warp's activation loads are 4x its code loads with
        // one tile (ncu, H200, 8192 x 28672: L1 84% busy, DRAM 44%). Two
        // tiles halve that, in half the unrolling (the same codes in
        // flight) and 2 blocks per SM (122 registers): 1.05-1.15x on four
        // layers with N >= 8192, 0.99x on 14336 x 4096; with fewer blocks up
        // to 1.1x slower.
        const bool twoTilesAtM16 = mMin == 9 && tileM == 2 && twoTilesAtM16Fit;
        // At M = 17..32 (8 activation rows per code) four tiles per warp, at
        // unroll 2 and one block of 8 warps per SM (246 registers), are
        // 1.13-1.32x faster with N >= 5120 (H200: 5120 x 5120, 6144 x 4096,
        // 8192 x 8192, 8192 x 28672, 11008 x 4096, 14336 x 4096,
        // 28672 x 4096) and up to 1.4x slower with N = 4096 (64 blocks).
        const bool fourTilesAtM32 = mMin == 17 && tileM == 4 && fourTilesFit;
        // At M = 9..16 below N = 5120 (one tile, at most 320 blocks), 16
        // warps split K at unroll 2 (64 registers: 2 blocks per SM) are
        // 1.15-1.34x faster where K >= 4096 (H100: N = 1024, 2048, 4096; K =
        // 4096, 11008, 14336), and 0.81-0.86x at N = 5120 and 6144.
        const bool sixteenWarpsAtM16 = mMin == 9 && sixteenWarpsAtM16Fit;
        if (twoTilesAtM16)
          tileN = 2;
        if (fourTilesAtM32)
          tileN = 4;
        // M <= 8 reads the weights once: spread K over more warps when N
        // gives few blocks, and keep more loads in flight per warp when N
        // gives many (measured on an H200 over the LLaMA shapes).
        int64_t blockWarps = warps;
        if ((tileM == 1 && n <= 8192 && chunks >= 16) || sixteenWarpsAtM16)
          blockWarps = 16;
        if (tileM == 1 && n >= 16384)
          unroll = 8;
        // These kernels wait on their loads: a few spilled registers buy
        // more warps per SM (H200, one 4-bit projection, mma_tile: 4 blocks
        // of 8 warps at M = 9..16 are 1.1-1.3x faster when N >= 8192, up to
        // 4% slower below, where the blocks are too few to fill them; 2
        // blocks with two tiles at M = 17..32, 1.4-1.65x). At M <= 8 the
        // bound is the occupancy the registers give anyway (64 a thread for
        // 16 warps, up to 85 for 8); ptxas schedules differently for it:
        // 0.95-1.16x per layer, geomean 1.01x on the five target layers and
        // 1.14x on six others. mma_tile_linear's split-K kernels spill far
        // more under the bounds of M = 9..32 (up to 1.5x slower); at M <= 8
        // the bound is 1.15-1.46x faster for them with N >= 8192 (without
        // it ptxas may fit 3 blocks of 16 warps: 512 blocks then run as 1.3
        // waves instead of 1.9) and 0.77-1.15x below. 8-bit codes need
        // fewer registers (2 blocks fit anyway).
        int64_t blocksPerSm = 0;
        if (oneFourBitProjection && tileM == 1 && blockWarps >= 8 &&
            (!linearWeights || n >= 8192))
          blocksPerSm = blockWarps == 16 ? 2 : 3;
        if (tunedSplitK) {
          if (tileM == 2 && n >= 8192)
            blocksPerSm = twoTilesAtM16 ? 2 : 4;
          if (tileM == 4 && tileN == 2 && oneBlockRow)
            blocksPerSm = 2;
          if (fourTilesAtM32)
            blocksPerSm = 1;
        }
        buckets.push_back(ScheduleAttr::get(
            context, mMin, mMax, blockWarps, tileN, tileM, unroll,
            /*warpsM=*/1, /*stages=*/0, "mma_sync", blocksPerSm,
            /*producerWarps=*/0));
      };
      bucket(1, 8, 1, 4);
      bucket(9, 16, 2, twoTilesAtM16Fit || sixteenWarpsAtM16Fit ? 2 : 4);
      // M = 17..32 below N = 5120: two block rows of 16 (tile_m 2, twice
      // the blocks) at unroll 2 are 1.12-1.6x faster (H200: N = 1024, 2048,
      // 4096 x 11008) and within 3% elsewhere at N = 4096.
      if (fourTilesFit)
        bucket(17, 32, 4, 2);
      else if (tunedSplitK && n < 5120)
        bucket(17, 32, 2, 2);
      else
        bucket(17, 32, 4, 4);
      // M = 33..128 (or 96, or none: see stagedFrom): 8-row tiles x 4 and
      // no unrolling (larger tiles or more chunks in flight spill registers:
      // 255 and local memory at 8 x 2 tiles, unroll 2; about 1.25x slower on
      // an H200).
      // From M = 129 (or 97, or 33) on, the staged kernel: 4 warps, 8 x 8
      // rows by two 64-column tiles (one for a swiglu, whose accumulators are
      // twice as many, or when N is not a multiple of 128), 4 cp.async
      // stages: a block of 64 rows by 128 (64) columns. On sm_90a the 4
      // warps are one warpgroup issuing wgmma m64n64k16 (0.47x cuBLAS from
      // M = 256 on an H200, the best of 6 variants; mma.sync with 4 warps
      // side by side: 0.39-0.44x); otherwise each warp issues mma.sync for
      // 16 columns of each tile.
      const int64_t stagedTileN = projections == 1 && n % 128 == 0 ? 2 : 1;
      // The split-K kernel's time steps up at M = 97 (a fourth block row of
      // 32); the wgmma kernel's is flat up to M = 128 (two of 64). With
      // N >= 8192 (>= 128 blocks) the latter is then 1.08-1.6x faster (H200,
      // one 4-bit projection, M = 112 and 128: 8192 x 8192, 8192 x 28672,
      // 11008 x 4096, 28672 x 4096); with fewer blocks it is up to 3x
      // slower, and below M = 97 slower on every layer but 28672 x 4096.
      // Where its blocks of two tiles number more than 128 (N > 16384) it
      // wins from M = 33 on (H100, split-K time / wgmma time at M = 33..96:
      // 28672 x 4096 1.15-1.49x, 28672 x 8192 1.05-1.39x, 32000 x 4096
      // 1.26-1.65x, 22016 x 4096 1.16-1.25x up to M = 64, 0.88-1.02x at 80
      // and 96); with fewer blocks (8192 x 8192, 8192 x 28672, 11008 x 4096
      // at M = 64) the split-K kernel stays 1.1-1.8x faster.
      const bool wgmmaTuned = stagedWgmma && oneFourBitProjection;
      int64_t stagedFrom = 129;
      if (wgmmaTuned && stagedTileN == 2 && n / 128 > 128)
        stagedFrom = 33;
      else if (wgmmaTuned && n >= 8192)
        stagedFrom = 97;
      if (!staged) {
        bucket(33, kMaxM, 4, 1);
      } else {
        if (stagedFrom > 33)
          bucket(33, stagedFrom - 1, 4, 1);
        const int64_t stagedWarps = 4, stagedTileM = 8;
        // On sm_90a a warpgroup of producers issues the copies while the
        // other warps only decode and issue wgmma (MmaKernelWarpSpecialized):
        // 1.03-1.2x at M = 256 with the same blocks (H100, five target
        // layers), no slower at M = 64..128.
        const bool warpSpecialized = wgmmaTuned;
        auto stagedBucket = [&](int64_t mMin, int64_t mMax, int64_t tileN) {
          buckets.push_back(ScheduleAttr::get(
              context, mMin, mMax, stagedWarps, tileN, stagedTileM,
              /*unroll=*/1, /*warpsM=*/1, /*stages=*/4,
              stagedWgmma ? "wgmma" : "mma_sync",
              /*blocksPerSm=*/warpSpecialized ? 2 : 0,
              /*producerWarps=*/warpSpecialized ? 4 : 0));
        };
        // With producers, two warpgroups of m64n128k16 wgmmas on one 64-column
        // tile each (blocks of 128 rows by 128 columns, one per SM, 232
        // registers per compute thread) are 1.24-1.46x faster than the
        // original kernel at M = 256..4096 on the five target layers (H100)
        // where they make at least 128 blocks: the decode of each code
        // serves twice the rows. With fewer blocks (4096 x 4096 and
        // 4096 x 14336 at M = 256: 64) they are 1.05-1.25x slower than the
        // smaller blocks. bigTilesFrom: the first such M, from 256 on.
        int64_t bigTilesFrom = kMaxM + 1;
        if (warpSpecialized && n % 128 == 0) {
          const int64_t columnBlocks = n / 128;
          const int64_t rowBlocksNeeded =
              (128 + columnBlocks - 1) / columnBlocks;
          bigTilesFrom = std::max<int64_t>(std::max<int64_t>(256, stagedFrom),
                                           128 * (rowBlocksNeeded - 1) + 1);
        }
        auto smallTileBuckets = [&](int64_t mMin, int64_t mMax) {
          if (mMin > mMax)
            return;
          // While blocks of two tiles would number at most 128 (about one
          // per SM), one tile per block (twice the blocks, 158 registers:
          // three per SM) is 1.08-1.5x faster (H200, wgmma: N = 1024..4096
          // at M = 256, 1024 x 4096 at 1024); with more blocks, 0.65-0.93x.
          // oneTileTo: the largest such M (0 where the rule keeps one tile
          // anyway or has no measurement).
          const int64_t blockRows = 8 * stagedTileM;
          const int64_t twoTileBlocksPerRow =
              n / (stagedWarps * core::MmaTileGeometry::kTileRows * 2);
          const int64_t oneTileTo =
              stagedWgmma && stagedTileN == 2
                  ? blockRows * (128 / twoTileBlocksPerRow)
                  : 0;
          if (oneTileTo >= mMin) {
            stagedBucket(mMin, std::min(oneTileTo, mMax), 1);
            if (oneTileTo < mMax)
              stagedBucket(oneTileTo + 1, mMax, stagedTileN);
          } else {
            stagedBucket(mMin, mMax, stagedTileN);
          }
        };
        smallTileBuckets(stagedFrom, std::min(kMaxM, bigTilesFrom - 1));
        if (bigTilesFrom <= kMaxM)
          buckets.push_back(ScheduleAttr::get(
              context, bigTilesFrom, kMaxM, /*warps=*/8, /*tileN=*/1,
              /*tileM=*/16, /*unroll=*/1, /*warpsM=*/1, /*stages=*/4, "wgmma",
              /*blocksPerSm=*/1, /*producerWarps=*/4));
      }
      op->setAttr(kSchedulesAttrName, ArrayAttr::get(context, buckets));
    });
  }
};

} // namespace
