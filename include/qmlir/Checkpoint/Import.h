//===- Import.h - Quantized checkpoint importers ----------------*- C++ -*-===//
//
// Reads quantized checkpoints (GPTQ, AWQ, compressed-tensors pack-quantized
// and qmlir-native, docs/Checkpoints.md) into the canonical layout of
// qmlir/Core/Format.h: one QuantizedMatrix per linear layer, for its [N, K]
// weight (N output features).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CHECKPOINT_IMPORT_H
#define QMLIR_CHECKPOINT_IMPORT_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Reference.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qmlir::checkpoint {

/// One quantized linear layer.
struct Linear {
  /// The tensors' common prefix, e.g. "model.layers.0.mlp.up_proj".
  std::string name;
  /// [N, K] weights in the canonical layout.
  core::QuantizedMatrix weights;
  /// N floats if the layer has a bias.
  std::optional<std::vector<float>> bias;
};

enum class CheckpointFormat { Gptq, Awq, CompressedTensors, Native };
const char *toString(CheckpointFormat format);

struct ImportedCheckpoint {
  std::string path;
  CheckpointFormat format = CheckpointFormat::Native;
  /// From config.json "torch_dtype" (float16 or bfloat16; f16 without one).
  core::FloatType activation = core::FloatType::F16;
  /// In the order of their names.
  std::vector<Linear> linears;
  /// nullptr if there is no linear `name`.
  const Linear *find(llvm::StringRef name) const;
};

/// Imports a checkpoint directory (config.json and/or quantize_config.json,
/// one or several *.safetensors, a sharded model.safetensors.index.json) or
/// a single .safetensors file. Errors name the file, the tensor and the
/// field.
llvm::Expected<ImportedCheckpoint> importCheckpoint(llvm::StringRef path);

} // namespace qmlir::checkpoint

#endif // QMLIR_CHECKPOINT_IMPORT_H
