//===- SafetensorsReader.cpp - Validating safetensors reader --------------===//
//
// Parses and validates a whole safetensors file up front, so that every later
// access to a tensor's bytes is in bounds. Every error names the file and,
// where there is one, the tensor and its field.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Core/Format.h"

#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"

#include <algorithm>
#include <cstring>
#include <numeric>

using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

struct DTypeEntry {
  DType type;
  const char *name;
  unsigned size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::F16, "F16", 2},     {DType::BF16, "BF16", 2},
    {DType::F32, "F32", 4},     {DType::F64, "F64", 8},
    {DType::I8, "I8", 1},       {DType::I16, "I16", 2},
    {DType::I32, "I32", 4},     {DType::I64, "I64", 8},
    {DType::U8, "U8", 1},       {DType::U16, "U16", 2},
    {DType::U32, "U32", 4},     {DType::U64, "U64", 8},
    {DType::Bool, "BOOL", 1},   {DType::F8E4M3, "F8_E4M3", 1},
    {DType::F8E5M2, "F8_E5M2", 1},
};

const DTypeEntry &entryOf(DType type) {
  for (const DTypeEntry &entry : kDTypes)
    if (entry.type == type)
      return entry;
  llvm_unreachable("unknown dtype");
}

/// A JSON number as a non-negative integer; `what` names it in errors.
Expected<uint64_t> nonNegative(const llvm::json::Value &value,
                               const llvm::Twine &what) {
  if (auto unsignedValue = value.getAsUINT64())
    return *unsignedValue;
  if (auto signedValue = value.getAsInteger())
    return makeError(what + " must not be negative, got " +
                     llvm::Twine(*signedValue));
  return makeError(what + " must be an integer");
}

} // namespace

StringRef qmlir::checkpoint::dtypeName(DType type) {
  return entryOf(type).name;
}

std::optional<DType> qmlir::checkpoint::parseDType(StringRef name) {
  for (const DTypeEntry &entry : kDTypes)
    if (name == entry.name)
      return entry.type;
  return std::nullopt;
}

unsigned qmlir::checkpoint::dtypeSize(DType type) { return entryOf(type).size; }

int64_t TensorInfo::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

std::string TensorInfo::shapeString() const {
  std::string result = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    result += (i ? ", " : "") + std::to_string(shape[i]);
  return result + "]";
}

Error qmlir::checkpoint::detail::tensorError(StringRef file, StringRef tensor,
                                             StringRef field,
                                             const llvm::Twine &message) {
  std::string prefix = file.str();
  if (!tensor.empty())
    prefix += ": tensor '" + tensor.str() + "'";
  if (!field.empty())
    prefix += ": " + field.str();
  return makeError(prefix + ": " + message);
}

Expected<SafetensorsFile> SafetensorsFile::open(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  return parse(std::move(*buffer), path);
}

Expected<SafetensorsFile>
SafetensorsFile::parse(std::unique_ptr<llvm::MemoryBuffer> buffer,
                       StringRef path) {
  auto fail = [&](StringRef tensor, StringRef field, const llvm::Twine &msg) {
    return tensorError(path, tensor, field, msg);
  };
  const uint64_t fileSize = buffer->getBufferSize();
  if (fileSize < 8)
    return fail("", "", "file is " + llvm::Twine(fileSize) +
                            " bytes, shorter than the 8-byte header length");
  const uint64_t headerSize =
      llvm::support::endian::read64le(buffer->getBufferStart());
  if (headerSize > kMaxHeaderSize)
    return fail("", "", "header length " + llvm::Twine(headerSize) +
                            " is larger than the limit of " +
                            llvm::Twine(kMaxHeaderSize) + " bytes");
  if (headerSize > fileSize - 8)
    return fail("", "", "header length " + llvm::Twine(headerSize) +
                            " runs past the end of the file (" +
                            llvm::Twine(fileSize - 8) +
                            " bytes follow the length)");
  StringRef header = buffer->getBuffer().substr(8, headerSize);
  if (!llvm::json::isUTF8(header))
    return fail("", "", "header is not valid UTF-8");
  Expected<llvm::json::Value> json = llvm::json::parse(header);
  if (!json)
    return fail("", "", "header is not valid JSON: " +
                            llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return fail("", "", "header is not a JSON object");

  SafetensorsFile file;
  file.filePath = path.str();
  file.dataStart = 8 + headerSize;
  const uint64_t dataSize = fileSize - file.dataStart;

  for (const auto &[key, value] : *root) {
    StringRef name = key;
    if (name == "__metadata__") {
      const llvm::json::Object *metadata = value.getAsObject();
      if (!metadata)
        return fail("", "__metadata__", "must be an object of strings");
      for (const auto &[metaKey, metaValue] : *metadata) {
        auto text = metaValue.getAsString();
        if (!text)
          return fail("", ("__metadata__." + metaKey.str()),
                      "must be a string");
        file.meta[metaKey.str()] = text->str();
      }
      continue;
    }
    if (name.empty())
      return fail("", "", "a tensor has an empty name");
    const llvm::json::Object *object = value.getAsObject();
    if (!object)
      return fail(name, "", "entry must be an object");
    for (const auto &[field, ignored] : *object)
      if (field != "dtype" && field != "shape" && field != "data_offsets")
        return fail(name, field, "unknown field");

    TensorInfo info;
    info.name = name.str();
    // dtype
    const llvm::json::Value *dtype = object->get("dtype");
    if (!dtype)
      return fail(name, "dtype", "missing");
    auto dtypeText = dtype->getAsString();
    if (!dtypeText)
      return fail(name, "dtype", "must be a string");
    auto parsed = parseDType(*dtypeText);
    if (!parsed)
      return fail(name, "dtype", "unknown dtype '" + *dtypeText + "'");
    info.dtype = *parsed;
    // shape
    const llvm::json::Value *shape = object->get("shape");
    if (!shape)
      return fail(name, "shape", "missing");
    const llvm::json::Array *dims = shape->getAsArray();
    if (!dims)
      return fail(name, "shape", "must be an array of integers");
    uint64_t bytes = dtypeSize(info.dtype);
    for (size_t i = 0; i < dims->size(); ++i) {
      Expected<uint64_t> dim =
          nonNegative((*dims)[i], "dimension " + llvm::Twine(i));
      if (!dim)
        return fail(name, "shape", llvm::toString(dim.takeError()));
      if (*dim > uint64_t(INT64_MAX) ||
          __builtin_mul_overflow(bytes, *dim, &bytes))
        return fail(name, "shape", "size in bytes overflows 64 bits");
      info.shape.push_back(int64_t(*dim));
    }
    if (bytes > uint64_t(INT64_MAX))
      return fail(name, "shape", "size in bytes overflows 64 bits");
    // data_offsets
    const llvm::json::Value *offsets = object->get("data_offsets");
    if (!offsets)
      return fail(name, "data_offsets", "missing");
    const llvm::json::Array *pair = offsets->getAsArray();
    if (!pair || pair->size() != 2)
      return fail(name, "data_offsets", "must be an array of two integers");
    Expected<uint64_t> begin = nonNegative((*pair)[0], "begin");
    if (!begin)
      return fail(name, "data_offsets", llvm::toString(begin.takeError()));
    Expected<uint64_t> end = nonNegative((*pair)[1], "end");
    if (!end)
      return fail(name, "data_offsets", llvm::toString(end.takeError()));
    if (*begin > *end)
      return fail(name, "data_offsets",
                  "begin " + llvm::Twine(*begin) + " is after end " +
                      llvm::Twine(*end));
    if (*end > dataSize)
      return fail(name, "data_offsets",
                  "end " + llvm::Twine(*end) + " is beyond the " +
                      llvm::Twine(dataSize) + "-byte data section");
    if (*end - *begin != bytes)
      return fail(name, "data_offsets",
                  "span of " + llvm::Twine(*end - *begin) +
                      " bytes does not match shape " + info.shapeString() +
                      " of " + dtypeName(info.dtype) + " (" +
                      llvm::Twine(bytes) + " bytes)");
    info.begin = *begin;
    info.end = *end;
    file.infos.push_back(std::move(info));
  }

  // The tensors must tile the data section exactly.
  std::sort(file.infos.begin(), file.infos.end(),
            [](const TensorInfo &a, const TensorInfo &b) {
              return std::tie(a.begin, a.end, a.name) <
                     std::tie(b.begin, b.end, b.name);
            });
  uint64_t covered = 0;
  const TensorInfo *previous = nullptr;
  for (const TensorInfo &info : file.infos) {
    if (info.begin < covered)
      return fail(info.name, "data_offsets",
                  "bytes [" + llvm::Twine(info.begin) + ", " +
                      llvm::Twine(info.end) + ") overlap tensor '" +
                      previous->name + "'");
    if (info.begin > covered)
      return fail(info.name, "data_offsets",
                  "hole: bytes [" + llvm::Twine(covered) + ", " +
                      llvm::Twine(info.begin) +
                      ") before it belong to no tensor");
    covered = info.end;
    if (info.end > info.begin)
      previous = &info;
  }
  if (covered != dataSize)
    return fail("", "", llvm::Twine(dataSize - covered) +
                            " trailing bytes after the last tensor");
  for (size_t i = 0; i < file.infos.size(); ++i)
    file.byName[file.infos[i].name] = i;
  file.buffer = std::move(buffer);
  return file;
}

const TensorInfo *SafetensorsFile::find(StringRef name) const {
  auto it = byName.find(name.str());
  return it == byName.end() ? nullptr : &infos[it->second];
}

llvm::ArrayRef<uint8_t> SafetensorsFile::bytes(const TensorInfo &t) const {
  const uint8_t *base =
      reinterpret_cast<const uint8_t *>(buffer->getBufferStart()) + dataStart;
  return {base + t.begin, base + t.end};
}

//===----------------------------------------------------------------------===//
// Element helpers
//===----------------------------------------------------------------------===//

Expected<std::vector<int64_t>>
qmlir::checkpoint::readIntegers(const SafetensorsFile &file,
                                const TensorInfo &tensor) {
  using namespace llvm::support::endian;
  llvm::ArrayRef<uint8_t> bytes = file.bytes(tensor);
  std::vector<int64_t> values(tensor.numElements());
  const unsigned size = dtypeSize(tensor.dtype);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint8_t *p = bytes.data() + i * size;
    switch (tensor.dtype) {
    case DType::I8: values[i] = int8_t(*p); break;
    case DType::U8: case DType::Bool: values[i] = *p; break;
    case DType::I16: values[i] = int16_t(read16le(p)); break;
    case DType::U16: values[i] = read16le(p); break;
    case DType::I32: values[i] = int32_t(read32le(p)); break;
    case DType::U32: values[i] = read32le(p); break;
    case DType::I64: case DType::U64: values[i] = int64_t(read64le(p)); break;
    default:
      return tensorError(file.path(), tensor.name, "dtype",
                         "expected an integer dtype, got " +
                             dtypeName(tensor.dtype));
    }
  }
  return values;
}

Expected<std::vector<float>>
qmlir::checkpoint::readFloats(const SafetensorsFile &file,
                              const TensorInfo &tensor) {
  using namespace llvm::support::endian;
  llvm::ArrayRef<uint8_t> bytes = file.bytes(tensor);
  std::vector<float> values(tensor.numElements());
  for (size_t i = 0; i < values.size(); ++i) {
    switch (tensor.dtype) {
    case DType::F16:
      values[i] = core::halfToFloat(read16le(bytes.data() + 2 * i));
      break;
    case DType::BF16:
      values[i] = core::bf16ToFloat(read16le(bytes.data() + 2 * i));
      break;
    case DType::F32: {
      uint32_t word = read32le(bytes.data() + 4 * i);
      std::memcpy(&values[i], &word, 4);
      break;
    }
    default:
      return tensorError(file.path(), tensor.name, "dtype",
                         "expected F16, BF16 or F32, got " +
                             dtypeName(tensor.dtype));
    }
  }
  return values;
}

Expected<std::vector<uint32_t>>
qmlir::checkpoint::readWords(const SafetensorsFile &file,
                             const TensorInfo &tensor) {
  if (tensor.dtype != DType::I32 && tensor.dtype != DType::U32)
    return tensorError(file.path(), tensor.name, "dtype",
                       "expected I32, got " + dtypeName(tensor.dtype));
  llvm::ArrayRef<uint8_t> bytes = file.bytes(tensor);
  std::vector<uint32_t> words(tensor.numElements());
  for (size_t i = 0; i < words.size(); ++i)
    words[i] = llvm::support::endian::read32le(bytes.data() + 4 * i);
  return words;
}
