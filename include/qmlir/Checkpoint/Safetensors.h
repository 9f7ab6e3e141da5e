//===- Safetensors.h - Safetensors reader and writer ------------*- C++ -*-===//
//
// The safetensors file format: an 8-byte little-endian header length, a JSON
// header (an object mapping tensor names to {"dtype", "shape",
// "data_offsets": [begin, end]}, plus an optional "__metadata__" map of
// strings), then the tensors' bytes. The reader checks everything the
// official reader checks and more (see SafetensorsFile::parse); the writer
// lays files out as the official writer does and writes them atomically.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CHECKPOINT_SAFETENSORS_H
#define QMLIR_CHECKPOINT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::checkpoint {

enum class DType {
  F16, BF16, F32, F64, I8, I16, I32, I64, U8, U16, U32, U64, Bool,
  F8E4M3, F8E5M2
};

/// The format's name of a dtype ("F16", "F8_E4M3", ...) and back.
llvm::StringRef dtypeName(DType type);
std::optional<DType> parseDType(llvm::StringRef name);
/// Bytes of one element.
unsigned dtypeSize(DType type);

/// Headers longer than this are rejected (the official reader's limit).
inline constexpr uint64_t kMaxHeaderSize = 100'000'000;

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  /// Byte offsets [begin, end) into the data section.
  uint64_t begin = 0, end = 0;
  int64_t numElements() const;
  /// "[48, 256]".
  std::string shapeString() const;
};

/// A parsed, fully validated safetensors file, kept in memory.
class SafetensorsFile {
public:
  /// Reads and validates `path`.
  static llvm::Expected<SafetensorsFile> open(llvm::StringRef path);
  /// Validates `buffer`; `path` names it in errors. Checks: at least 8
  /// bytes; header length within the file and kMaxHeaderSize; header UTF-8
  /// JSON, an object; "__metadata__" a map of strings; every tensor an
  /// object with exactly dtype (known), shape (non-negative integers whose
  /// product in bytes does not overflow) and data_offsets (two non-negative
  /// integers, begin <= end, end - begin == elements * dtype size); tensors
  /// cover the data section exactly, without overlaps, holes or trailing
  /// bytes.
  static llvm::Expected<SafetensorsFile>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer, llvm::StringRef path);

  llvm::StringRef path() const { return filePath; }
  /// Tensors in the order of their data.
  llvm::ArrayRef<TensorInfo> tensors() const { return infos; }
  /// nullptr if there is no tensor `name`.
  const TensorInfo *find(llvm::StringRef name) const;
  /// The tensor's bytes (little-endian elements, possibly unaligned).
  llvm::ArrayRef<uint8_t> bytes(const TensorInfo &tensor) const;
  const std::map<std::string, std::string> &metadata() const { return meta; }

private:
  std::string filePath;
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint64_t dataStart = 0;
  std::vector<TensorInfo> infos;
  std::map<std::string, size_t> byName;
  std::map<std::string, std::string> meta;
};

/// One tensor to write.
struct TensorData {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // little-endian, numElements * dtypeSize
};

/// The bytes of a safetensors file holding `tensors` (data ordered by
/// descending element size, then name, as the official writer does; header
/// padded with spaces to a multiple of 8 bytes). Fails on duplicate or empty
/// names, negative dims and byte counts that do not match the shape.
llvm::Expected<std::string>
serializeSafetensors(llvm::ArrayRef<TensorData> tensors,
                     const std::map<std::string, std::string> &metadata = {});
/// Writes serializeSafetensors(...) to `path` atomically (a temporary file in
/// the same directory, renamed into place).
llvm::Error
writeSafetensors(llvm::StringRef path, llvm::ArrayRef<TensorData> tensors,
                 const std::map<std::string, std::string> &metadata = {});

/// Element helpers; errors name the file, the tensor and the field.
/// The tensor's elements widened to int64 (any integer dtype).
llvm::Expected<std::vector<int64_t>>
readIntegers(const SafetensorsFile &file, const TensorInfo &tensor);
/// The tensor's elements as floats (F16, BF16, F32).
llvm::Expected<std::vector<float>> readFloats(const SafetensorsFile &file,
                                              const TensorInfo &tensor);
/// Raw 32-bit words of an I32 (or U32) tensor.
llvm::Expected<std::vector<uint32_t>> readWords(const SafetensorsFile &file,
                                                const TensorInfo &tensor);

} // namespace qmlir::checkpoint

#endif // QMLIR_CHECKPOINT_SAFETENSORS_H
