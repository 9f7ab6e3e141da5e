//===- MmaEmitter.h - What both tensor-core kernel bodies share -*- C++ -*-===//
//
// The weight is the mma's A operand (16 output columns by 16 K) and the
// activations its B operand (K by 8 rows of M), so one decoded row already
// fills a tensor-core instruction. Codes become f16x2 / bf16x2 with a shift,
// a mask and an OR with the exponent of 1024 (f16) or 128 (bf16), minus
// that constant plus the zero point: q - z, exactly. The mma multiplies
// those small integers by the activations exactly and each group's scale is
// applied to its f32 partial sums (per-channel scales once, at the end), so
// the weights are never rounded to 16 bits: the result is as accurate as an
// f32 dequantization.
//
// Two bodies use this: MmaKernelSplitK.cpp (warps split K, codes and
// activations loaded straight into registers, activations staged per warp
// where K is in order; small M) and MmaKernelStaged.cpp (warps tile the output,
// both staged through shared memory by cp.async; large M).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CODEGEN_MMAEMITTER_H
#define QMLIR_LIB_CODEGEN_MMAEMITTER_H

#include "qmlir/Codegen/MmaKernel.h"
#include "qmlir/Core/Layout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <array>

namespace qmlir::codegen {

using Geometry = core::MmaTileGeometry;

/// What one warp holds for one chunk (64 columns of K).
struct ChunkLoads {
  // [projection][tile][vector]: bits / 4 vectors of 4 words per lane.
  llvm::SmallVector<llvm::SmallVector<llvm::SmallVector<mlir::Value, 2>, 8>, 2>
      codes;
  // [projection][tile][sub-tile][row half]: the scale (f32; unused for
  // per-channel scales) and the exact offset (magic + zero point) as a
  // splat vector of the activation type.
  // highOffsets (4-bit codes, f16 only): the negated offset of a code read
  // in place from bits 4..7 of its byte (16 times the code plus the magic),
  // after the multiplication by 1/16: -(magic / 16 + zero point).
  llvm::SmallVector<
      llvm::SmallVector<std::array<std::array<mlir::Value, 2>, 4>, 8>, 2>
      scales, offsets, highOffsets;
  // [sub-tile][m tile][register]: B fragments.
  llvm::SmallVector<llvm::SmallVector<std::array<mlir::Value, 2>, 8>, 4> x;
};

class MmaEmitter {
public:
  MmaEmitter(mlir::OpBuilder &b, mlir::Location loc, ScheduleAttr schedule,
             mlir::Type elementType, int64_t k,
             const MmaKernelOperands &operands);

protected:
  mlir::Value idx(int64_t value);
  mlir::Value i32(int64_t value);
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::VectorType pairType();
  mlir::Value splat(mlir::Value scalar);
  /// A scalar of the scale part, converted to the activation type.
  mlir::Value toElement(mlir::Value value);
  mlir::Value toF32(mlir::Value value);
  mlir::Value f32Zero();

  /// The block's column block (along N) and row block (along M). Blocks
  /// start in launch order (x fastest); consecutive blocks take the row
  /// blocks of one column block, `groupRows` at a time (all of them if 0),
  /// so that the blocks reading the same weights run together and share
  /// them through L2 instead of each fetching them from memory again.
  std::pair<mlir::Value, mlir::Value> blockCoordinates(int64_t groupRows);
  /// Views each weight's codes as one flat array (the layout addresses
  /// words, not rows) and reads the thread's lane and warp.
  void prepare(mlir::gpu::GPUFuncOp kernel);
  /// The scale group of K column chunk * 64 + column.
  mlir::Value groupOf(const core::Scheme &scheme, mlir::Value chunk,
                      int64_t column);
  /// Loads what the warp's tiles need of the scales and zero points for
  /// `chunk` (nothing for per-channel scales without zeros): the raw
  /// values, so that a loop can fetch them a chunk ahead.
  llvm::SmallVector<mlir::Value> fetchScales(mlir::Value chunk);
  /// The scales (f32) and exact offsets of `chunk` from fetchScales' values.
  void deriveScales(ChunkLoads &loads, llvm::ArrayRef<mlir::Value> raw,
                    mlir::Value chunk);
  /// Position (in K, within a chunk) of the first activation of lane t's
  /// fragment word `word` (0..7): K is permuted inside spans
  /// (core/Layout.h), so a lane's words are span / 4 contiguous
  /// activations of each span; sub-tile j's registers are words 2 j and
  /// 2 j + 1.
  int64_t wordColumn(int64_t word) const;
  /// One cp.async of `elements` values of `src` at `srcIndices` to `dst` at
  /// `dstIndex`, of only `srcElements` (the rest zero-filled; all of them
  /// if null). 16-byte copies bypass L1 unless `keepInL1`.
  void copy(mlir::Value src, mlir::ValueRange srcIndices, mlir::Value dst,
            mlir::Value dstIndex, int64_t elements, mlir::Value srcElements,
            bool keepInL1 = false);
  /// Splits a vector of activations into its f16x2 / bf16x2 words.
  void appendWords(mlir::Value values,
                   llvm::SmallVectorImpl<mlir::Value> &words);
  /// Whether registers 1 and 3 of `bits`-bit codes are read in place from
  /// bits 4..7 of their bytes (4-bit codes, f16: see fragment).
  bool decodesHighInPlace(unsigned bits) const { return bits == 4 && !isBf16; }
  /// Register q (0..3) of sub-tile j of projection p, tile i.
  mlir::Value fragment(const ChunkLoads &loads, size_t p, int64_t i, int64_t j,
                       int64_t q);
  /// Whether sub-tiles j and j - 1 of a chunk may use different scales.
  bool groupStartsAt(const core::Scheme &scheme, int64_t j) const;
  /// The mma of one chunk into `accs`, indexed
  /// ((p * tileN + i) * tileM + mt) * 4 + r.
  void compute(const ChunkLoads &loads,
               llvm::SmallVectorImpl<mlir::Value> &accs);
  /// Runs `body(index)` for index = tid, tid + threads, ... below `count`
  /// (over the copying threads only where copyThreads is set).
  void forEachThreadIndex(int64_t count,
                          llvm::function_ref<void(mlir::Value)> body);
  /// Finishes output (row, col) from each projection's f32 sum: per-channel
  /// scale, SwiGLU, bias, residual; stores it rounded to the output type.
  void storeOutput(llvm::ArrayRef<mlir::Value> sums, mlir::Value row,
                   mlir::Value col);

  mlir::OpBuilder &b;
  mlir::Location loc;
  ScheduleAttr schedule;
  mlir::Type elementType;
  int64_t k;
  bool isBf16;
  MmaKernelOperands ops;
  /// K's permutation span in the layout (mmaKSpan), shared by every weight
  /// (checked by the pass); 8 where K is in order.
  int64_t xSpan = 64;
  mlir::Value tid, lane, warp, g, t, m;
  /// Where only some threads copy (a warp-specialized kernel's producers):
  /// their count and each one's index among them.
  int64_t copyThreads = 0;
  mlir::Value copyTid;
  /// The warp's first 16-column tile, and its first row of M.
  mlir::Value rowTile0, mBase;
  /// Distance between the warp's 16-column tiles (4 when the four warps of
  /// a warpgroup share each 64-column wgmma).
  int64_t rowTileStride = 1;
  /// The warp's 16-column tile i.
  mlir::Value rowTileOf(int64_t i);
};

/// The split-K body's dynamic shared memory: where K is in order and a
/// warp has more than one m tile, each warp stages its activations there
/// (8 rows x 64 values per chunk in flight and m tile), followed by the
/// partial sums the warps add up (otherwise a static buffer).
int64_t splitKSharedMemoryBytes(ScheduleAttr schedule, core::Layout layout,
                                llvm::ArrayRef<core::Scheme> schemes);

/// The two bodies emitMmaKernel chooses between: warps split K
/// (MmaKernelSplitK.cpp), or warps tile the output through shared-memory
/// stages (MmaKernelStaged.cpp).
void emitSplitKKernel(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::gpu::GPUFuncOp kernel, ScheduleAttr schedule,
                      mlir::Type elementType, int64_t k,
                      const MmaKernelOperands &operands);
void emitStagedKernel(mlir::OpBuilder &b, mlir::Location loc,
                      mlir::gpu::GPUFuncOp kernel, ScheduleAttr schedule,
                      mlir::Type elementType, int64_t k,
                      const MmaKernelOperands &operands);

} // namespace qmlir::codegen

#endif // QMLIR_LIB_CODEGEN_MMAEMITTER_H
