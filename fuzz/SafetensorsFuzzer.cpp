//===- SafetensorsFuzzer.cpp - libFuzzer target for the safetensors reader ===//
//
// Feeds arbitrary bytes to SafetensorsFile::parse. It must never crash or
// trip a sanitizer, and every failure must be an llvm::Error with a message.
// What it accepts must hold what its documentation promises (the tensors
// cover the data section in order, each of elements * dtype size bytes),
// the element readers must not fail on a tensor of their dtype, and a file
// the writer can write back must read back to the same tensors.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Checkpoint/Safetensors.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace qmlir::checkpoint;

namespace {
void require(bool condition) {
  if (!condition)
    abort(); // reported by libFuzzer as a crash, with the input saved
}

/// Consumes an expected value, requiring success iff `mustSucceed`.
template <typename T> void consume(llvm::Expected<T> value, bool mustSucceed) {
  if (value)
    return;
  std::string message = llvm::toString(value.takeError());
  require(!mustSucceed);
  require(!message.empty());
}

bool isInteger(DType type) {
  switch (type) {
  case DType::I8: case DType::I16: case DType::I32: case DType::I64:
  case DType::U8: case DType::U16: case DType::U32: case DType::U64:
    return true;
  default:
    return false;
  }
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  auto parsed = SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "fuzz.safetensors"),
      "fuzz.safetensors");
  if (!parsed) {
    std::string message = llvm::toString(parsed.takeError());
    require(message.find("fuzz.safetensors") != std::string::npos);
    return 0;
  }
  const SafetensorsFile &file = *parsed;
  std::vector<TensorData> copies;
  uint64_t next = 0;
  for (const TensorInfo &tensor : file.tensors()) {
    require(tensor.begin == next && tensor.begin <= tensor.end);
    next = tensor.end;
    require(file.find(tensor.name) == &tensor);
    require(uint64_t(tensor.numElements()) * dtypeSize(tensor.dtype) ==
            tensor.end - tensor.begin);
    llvm::ArrayRef<uint8_t> payload = file.bytes(tensor);
    require(payload.size() == tensor.end - tensor.begin);
    // Read every byte so that ASan sees an out-of-bounds view.
    volatile uint8_t sink = 0;
    for (uint8_t byte : payload)
      sink = sink ^ byte;
    (void)sink;
    bool floating = tensor.dtype == DType::F16 || tensor.dtype == DType::BF16 ||
                    tensor.dtype == DType::F32;
    consume(readFloats(file, tensor), floating);
    consume(readIntegers(file, tensor), isInteger(tensor.dtype));
    consume(readWords(file, tensor),
            tensor.dtype == DType::I32 || tensor.dtype == DType::U32);
    copies.push_back({tensor.name, tensor.dtype, tensor.shape,
                      std::vector<uint8_t>(payload.begin(), payload.end())});
  }

  // Round trip through the writer, where it accepts the tensors.
  auto written = serializeSafetensors(copies, file.metadata());
  if (!written) {
    llvm::consumeError(written.takeError());
    return 0;
  }
  auto again = SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(*written, "again"), "again");
  require(bool(again));
  require(again->tensors().size() == copies.size());
  require(again->metadata() == file.metadata());
  for (const TensorData &copy : copies) {
    const TensorInfo *tensor = again->find(copy.name);
    require(tensor && tensor->dtype == copy.dtype && tensor->shape == copy.shape);
    llvm::ArrayRef<uint8_t> payload = again->bytes(*tensor);
    require(std::vector<uint8_t>(payload.begin(), payload.end()) == copy.bytes);
  }
  return 0;
}
