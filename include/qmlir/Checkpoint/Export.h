//===- Export.h - Quantized checkpoint writers ------------------*- C++ -*-===//
//
// Writes quantized linears as a GPTQ (v1 zero convention), AWQ (GEMM) or
// qmlir-native checkpoint directory, atomically: everything goes into a
// sibling directory first, which is then renamed into place.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CHECKPOINT_EXPORT_H
#define QMLIR_CHECKPOINT_EXPORT_H

#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Checkpoint/Safetensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>

namespace qmlir::checkpoint {

struct ExportOptions {
  CheckpointFormat format = CheckpointFormat::Native;
  /// config.json "torch_dtype".
  core::FloatType activation = core::FloatType::F16;
  /// Replace an existing directory.
  bool force = false;
};

/// The files of the checkpoint (file name -> contents), without writing.
/// GPTQ needs u2/u3/u4/u8 with integer zeros (v1 stores zero - 1, so a zero
/// of 0 is refused), f16/bf16 scales, a group or per-channel, and K and N
/// whose bits fill whole words; AWQ needs u4 with integer zeros, groups or
/// per-channel and N a multiple of 8; native takes every scheme.
llvm::Expected<std::map<std::string, std::string>>
exportFiles(llvm::ArrayRef<Linear> linears, const ExportOptions &options);

/// Writes exportFiles(...) as the directory `path`, atomically.
llvm::Error exportCheckpoint(llvm::StringRef path,
                             llvm::ArrayRef<Linear> linears,
                             const ExportOptions &options);

/// Writes `files` as the directory `path`: into a fresh sibling first, then
/// renamed into place (an existing `path` is refused unless `force`).
llvm::Error
writeDirectoryAtomically(llvm::StringRef path,
                         const std::map<std::string, std::string> &files,
                         bool force);

} // namespace qmlir::checkpoint

#endif // QMLIR_CHECKPOINT_EXPORT_H
