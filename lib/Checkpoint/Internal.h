//===- Internal.h - Helpers shared by the checkpoint library ----*- C++ -*-===//

#ifndef QMLIR_LIB_CHECKPOINT_INTERNAL_H
#define QMLIR_LIB_CHECKPOINT_INTERNAL_H

#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Checkpoint/Safetensors.h"

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace qmlir::checkpoint::detail {

inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// "FILE: tensor 'NAME': FIELD: MESSAGE" (the parts that are non-empty).
llvm::Error tensorError(llvm::StringRef file, llvm::StringRef tensor,
                        llvm::StringRef field, const llvm::Twine &message);

/// The tensors of a checkpoint, possibly spread over several files.
class TensorSet {
public:
  llvm::Error add(std::unique_ptr<SafetensorsFile> file);
  struct Entry {
    const SafetensorsFile *file = nullptr;
    const TensorInfo *info = nullptr;
  };
  /// The tensor, or a null entry.
  Entry find(llvm::StringRef name) const;
  /// The tensor, or an error naming it as missing ("needed by" `prefix`).
  llvm::Expected<Entry> require(llvm::StringRef name) const;
  /// Every tensor name, sorted.
  std::vector<std::string> names() const;
  const std::vector<std::unique_ptr<SafetensorsFile>> &files() const {
    return owned;
  }

private:
  std::vector<std::unique_ptr<SafetensorsFile>> owned;
  std::map<std::string, Entry> entries;
};

/// Quantization settings read from config.json / quantize_config.json.
struct QuantConfig {
  std::string origin; // the file it came from, for errors
  llvm::json::Object object;
};

/// Config fields (the first of `keys` present), with an error naming the
/// config and the field if one has the wrong type or a required one is
/// missing (no default).
llvm::Expected<int64_t> configInt(const QuantConfig &config,
                                  llvm::ArrayRef<llvm::StringRef> keys,
                                  std::optional<int64_t> fallback);
llvm::Expected<bool> configBool(const QuantConfig &config,
                                llvm::ArrayRef<llvm::StringRef> keys,
                                bool fallback);
/// Strings; JSON null reads as `fallback`.
llvm::Expected<std::string> configString(const QuantConfig &config,
                                         llvm::ArrayRef<llvm::StringRef> keys,
                                         llvm::StringRef fallback);
/// Error "ORIGIN: FIELD: MESSAGE".
llvm::Error configError(const QuantConfig &config, llvm::StringRef field,
                        const llvm::Twine &message);

/// Checks that `entry` has `dtype` among `allowed` and rank `rank`.
llvm::Error expectTensor(const TensorSet::Entry &entry,
                         llvm::ArrayRef<DType> allowed, size_t rank);
/// The tensors GPTQ and AWQ store per linear layer `prefix`.
struct PackedTensors {
  TensorSet::Entry qweight, qzeros, scales;
};
/// Requires "<prefix>.qweight" and ".qzeros" (I32, rank 2) and ".scales"
/// (F16 or BF16, rank 2).
llvm::Expected<PackedTensors> requirePackedTensors(const TensorSet &tensors,
                                                   const std::string &prefix);

/// Error naming `entry`'s file, tensor and `field`.
llvm::Error entryError(const TensorSet::Entry &entry, llvm::StringRef field,
                       const llvm::Twine &message);

/// Reads an optional "<prefix>.bias" of n floats.
llvm::Error readBias(const TensorSet &tensors, llvm::StringRef prefix,
                     int64_t n, std::optional<std::vector<float>> &bias);

/// Names ending in `suffix`, with the suffix removed (sorted).
std::vector<std::string> prefixesWith(const TensorSet &tensors,
                                      llvm::StringRef suffix);

/// The importers for one format; each appends to `out.linears`.
llvm::Error importGptq(const TensorSet &tensors, const QuantConfig &config,
                       ImportedCheckpoint &out);
llvm::Error importAwq(const TensorSet &tensors, const QuantConfig &config,
                      ImportedCheckpoint &out);
llvm::Error importCompressedTensors(const TensorSet &tensors,
                                    const QuantConfig &config,
                                    ImportedCheckpoint &out);
llvm::Error importNative(const TensorSet &tensors, ImportedCheckpoint &out);

/// The dtype a native checkpoint stores a part's elements in ("f16" -> F16,
/// "f8E8M0FNU" -> U8, ...).
DType nativePartDType(llvm::StringRef element);

/// Little-endian byte helpers.
std::vector<uint8_t> wordsToBytes(llvm::ArrayRef<uint32_t> words);
std::vector<uint8_t> floatsToBytes(llvm::ArrayRef<float> values, DType type);

} // namespace qmlir::checkpoint::detail

#endif // QMLIR_LIB_CHECKPOINT_INTERNAL_H
