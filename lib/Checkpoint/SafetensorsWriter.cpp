//===- SafetensorsWriter.cpp - Safetensors writer --------------------------===//
//
// Lays a file out as the official writer does: data ordered by descending
// element size (so every tensor is aligned to its element), then by name; the
// header padded with spaces so that the data starts on an 8-byte boundary.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Core/Format.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <set>

using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;

Expected<std::string> qmlir::checkpoint::serializeSafetensors(
    llvm::ArrayRef<TensorData> tensors,
    const std::map<std::string, std::string> &metadata) {
  std::vector<const TensorData *> order;
  std::set<std::string> names;
  for (const TensorData &tensor : tensors) {
    if (tensor.name.empty() || tensor.name == "__metadata__")
      return makeError("cannot write a tensor named '" + tensor.name + "'");
    if (!names.insert(tensor.name).second)
      return makeError("tensor '" + tensor.name + "' is given twice");
    uint64_t bytes = dtypeSize(tensor.dtype);
    for (int64_t dim : tensor.shape) {
      if (dim < 0)
        return makeError("tensor '" + tensor.name + "': negative dimension");
      bytes *= uint64_t(dim);
    }
    if (bytes != tensor.bytes.size())
      return makeError("tensor '" + tensor.name + "': " +
                       llvm::Twine(tensor.bytes.size()) +
                       " bytes given for " + llvm::Twine(bytes));
    order.push_back(&tensor);
  }
  std::sort(order.begin(), order.end(),
                   [](const TensorData *a, const TensorData *b) {
                     unsigned sa = dtypeSize(a->dtype), sb = dtypeSize(b->dtype);
                     return sa != sb ? sa > sb : a->name < b->name;
                   });
  llvm::json::Object header;
  if (!metadata.empty()) {
    llvm::json::Object meta;
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorData *tensor : order) {
    llvm::json::Array shape;
    for (int64_t dim : tensor->shape)
      shape.push_back(dim);
    header[tensor->name] = llvm::json::Object{
        {"dtype", dtypeName(tensor->dtype)},
        {"shape", std::move(shape)},
        {"data_offsets",
         llvm::json::Array{offset, offset + tensor->bytes.size()}}};
    offset += tensor->bytes.size();
  }
  std::string headerText;
  llvm::raw_string_ostream(headerText)
      << llvm::json::Value(std::move(header));
  headerText.append((8 - headerText.size() % 8) % 8, ' ');
  std::string result(8, '\0');
  llvm::support::endian::write64le(result.data(), headerText.size());
  result += headerText;
  for (const TensorData *tensor : order)
    result.append(reinterpret_cast<const char *>(tensor->bytes.data()),
                  tensor->bytes.size());
  return result;
}

Error qmlir::checkpoint::writeSafetensors(
    llvm::StringRef path, llvm::ArrayRef<TensorData> tensors,
    const std::map<std::string, std::string> &metadata) {
  Expected<std::string> contents = serializeSafetensors(tensors, metadata);
  if (!contents)
    return makeError(path + ": " + llvm::toString(contents.takeError()));
  // writeToOutput writes a temporary file next to `path` and renames it.
  return llvm::writeToOutput(path, [&](llvm::raw_ostream &os) {
    os << *contents;
    return Error::success();
  });
}

std::vector<uint8_t>
qmlir::checkpoint::detail::wordsToBytes(llvm::ArrayRef<uint32_t> words) {
  std::vector<uint8_t> bytes(words.size() * 4);
  for (size_t i = 0; i < words.size(); ++i)
    llvm::support::endian::write32le(bytes.data() + 4 * i, words[i]);
  return bytes;
}

std::vector<uint8_t>
qmlir::checkpoint::detail::floatsToBytes(llvm::ArrayRef<float> values,
                                         DType type) {
  std::vector<uint8_t> bytes(values.size() * dtypeSize(type));
  for (size_t i = 0; i < values.size(); ++i) {
    switch (type) {
    case DType::F16:
      llvm::support::endian::write16le(bytes.data() + 2 * i,
                                       core::floatToHalf(values[i]));
      break;
    case DType::BF16:
      llvm::support::endian::write16le(bytes.data() + 2 * i,
                                       core::floatToBf16(values[i]));
      break;
    case DType::F32: {
      uint32_t word;
      std::memcpy(&word, &values[i], 4);
      llvm::support::endian::write32le(bytes.data() + 4 * i, word);
      break;
    }
    default:
      llvm_unreachable("floatsToBytes: not a float dtype");
    }
  }
  return bytes;
}
