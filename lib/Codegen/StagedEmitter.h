//===- StagedEmitter.h - The shared-memory staged mma bodies ----*- C++ -*-===//
//
// Both staged bodies (mma.sync in MmaKernelStaged.cpp, wgmma in
// MmaKernelWgmma.cpp) run the same pipeline: the block's codes and
// activations of a chunk of 64 K pass through `stages` buffers of dynamic
// shared memory filled by cp.async `stages - 1` chunks ahead, scales are
// fetched an iteration ahead, and each lane stores its own accumulators.
// They differ in how activations sit in shared memory and in who reads
// them: lanes (mma.sync B fragments) or the tensor cores (wgmma's
// shared-memory descriptor).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CODEGEN_STAGEDEMITTER_H
#define QMLIR_LIB_CODEGEN_STAGEDEMITTER_H

#include "MmaEmitter.h"

namespace qmlir::codegen {

class StagedEmitter : public MmaEmitter {
public:
  using MmaEmitter::MmaEmitter;
  void emit(mlir::gpu::GPUFuncOp kernel);

  /// wgmma's activations are 8 x 8 core matrices (8 rows of 16 bytes, K
  /// contiguous): those of one 8-row group lie 144 bytes apart along K
  /// (128 + 16 of padding, so that the 8 pieces of a row fall into
  /// different banks), the 8-row groups 8 x 144 bytes apart.
  static constexpr int64_t kCoreMatrixStrideK = 144;
  static constexpr int64_t kCoreMatrixStrideRows = 8 * kCoreMatrixStrideK;

  /// Bytes of one stage's activations.
  static int64_t activationStageBytes(ScheduleAttr schedule);

private:
  /// Starts the copies of `chunk` (clamped to the last; nothing is read and
  /// zeros are written where `valid` is false) into buffer `slot`, as one
  /// cp.async group, and returns the group's token. `clampRows` false: the
  /// block's rows are known to exist (wgmma producers only).
  mlir::Value issueCopies(mlir::Value chunk, mlir::Value valid,
                          mlir::Value slot, bool clampRows = true);
  /// Activations of row `row` (clamped), column `column` of the chunk, or
  /// zeros where `present` is false: the mma.sync body's swizzled rows.
  void copyActivationRows(mlir::Value chunkColumn, mlir::Value valid,
                          mlir::Value slot);
  /// The warp's codes in buffer `slot`.
  void readCodes(ChunkLoads &loads, mlir::Value slot);
  /// The warp's B fragments in buffer `slot` (mma.sync body).
  void readActivations(ChunkLoads &loads, mlir::Value slot);
  /// Waits for the chunk in buffer `chunk % stages`, then starts the copies
  /// of chunk + stages - 1.
  void advance(mlir::Value chunk);
  /// The loop over K: `beforeChunk(chunk)` makes the chunk's buffer ready,
  /// `afterChunk(slot)` runs once the mma no longer reads it. Returns the
  /// sums.
  llvm::SmallVector<mlir::Value>
  mainLoop(llvm::function_ref<void(mlir::Value)> beforeChunk,
           llvm::function_ref<void(mlir::Value)> afterChunk);
  /// Stores the lane's sums (per-channel scales, bias... applied).
  void storeSums(llvm::ArrayRef<mlir::Value> accs);

  // The warp-specialized wgmma body (MmaKernelWarpSpecialized.cpp).
  /// Producers fill the stages; the other warps run mainLoop and store.
  void emitWarpSpecialized();
  /// The 32-bit shared-memory address of mbarrier `index` (+ `slot`).
  mlir::Value barrierAddress(int64_t index, mlir::Value slot);

  // The wgmma body (MmaKernelWgmma.cpp).
  /// Chunks per loop iteration: group scales are applied once per
  /// iteration, so it spans a whole group where groups are multiples of 64.
  int64_t wgmmaChunksPerIteration() const;
  /// Per-lane constants of the activation copies and the descriptors.
  void prepareWgmma();
  /// Activations as wgmma core matrices, K in the weights' order; rows
  /// past M copy the last row unless `clampRows` is false.
  void copyActivationsForWgmma(mlir::Value chunkColumn, mlir::Value slot,
                               bool clampRows);
  /// The wgmmas of one chunk: into `accs` directly for per-channel scales,
  /// otherwise into `partial`, which is scaled into `accs` at the end of
  /// each group (`lastOfIteration`: this chunk ends the loop iteration;
  /// `firstOfIteration`: it starts it, so the partial sums start at zero).
  void computeWgmma(const ChunkLoads &loads, mlir::Value slot,
                    llvm::SmallVectorImpl<mlir::Value> &accs,
                    llvm::SmallVectorImpl<mlir::Value> &partial,
                    bool firstOfIteration, bool lastOfIteration);
  /// One wgmma m64nNk16 of weight p's tile i, k-step j.
  void wgmma(llvm::MutableArrayRef<mlir::Value> d,
             llvm::ArrayRef<mlir::Value> a, mlir::Value descriptor,
             bool accumulate);
  /// `wgmma.fence` (or commit + wait 0) with `values` passed through, so
  /// that nothing reads or writes them on the wrong side of it.
  void fenceValues(llvm::StringRef ptx,
                   llvm::MutableArrayRef<mlir::Value> values);
  /// Side-effecting inline PTX without results; 64-bit operands are passed
  /// as "l", the others as "r".
  void inlinePtx(llvm::StringRef ptx, mlir::ValueRange operands = {});

  int64_t chunks = 0, tiles = 0, rows = 0;
  /// barrierBase: the shared-memory address of the producers' mbarriers.
  mlir::Value xShared, group, barrierBase;
  llvm::SmallVector<mlir::Value, 2> codesShared;
  mlir::Value blockTile0, mBlock, warpN, warpM;
  // wgmma: the lane's K column and shared-memory offset (in values) of its
  // activation copies, and the descriptor of stage 0's first k-step.
  mlir::Value xLaneColumn, xLaneOffset, descriptor0;
};

} // namespace qmlir::codegen

#endif // QMLIR_LIB_CODEGEN_STAGEDEMITTER_H
