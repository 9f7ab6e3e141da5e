//===- Import.cpp - Finding a checkpoint's files and format ---------------===//
//
// Collects a checkpoint's tensors (one file, a directory of *.safetensors or
// a sharded index), reads its quantization config and hands both to the
// importer of its format (Import<Format>.cpp).
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <set>

using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

const char *qmlir::checkpoint::toString(CheckpointFormat format) {
  switch (format) {
  case CheckpointFormat::Gptq:
    return "gptq";
  case CheckpointFormat::Awq:
    return "awq";
  case CheckpointFormat::CompressedTensors:
    return "compressed-tensors";
  case CheckpointFormat::Native:
    return "qmlir";
  }
  return "<invalid format>";
}

const Linear *ImportedCheckpoint::find(StringRef name) const {
  for (const Linear &linear : linears)
    if (linear.name == name)
      return &linear;
  return nullptr;
}

//===----------------------------------------------------------------------===//
// TensorSet and shared checks
//===----------------------------------------------------------------------===//

Error TensorSet::add(std::unique_ptr<SafetensorsFile> file) {
  for (const TensorInfo &info : file->tensors()) {
    auto [it, inserted] = entries.try_emplace(info.name, Entry{file.get(), &info});
    if (!inserted)
      return tensorError(file->path(), info.name, "",
                         "also in " + it->second.file->path());
  }
  owned.push_back(std::move(file));
  return Error::success();
}

TensorSet::Entry TensorSet::find(StringRef name) const {
  auto it = entries.find(name.str());
  return it == entries.end() ? Entry{} : it->second;
}

Expected<TensorSet::Entry> TensorSet::require(StringRef name) const {
  Entry entry = find(name);
  if (!entry.info) {
    std::string where = owned.size() == 1 ? owned[0]->path().str()
                                          : "the checkpoint's files";
    return tensorError(where, name, "", "missing");
  }
  return entry;
}

std::vector<std::string> TensorSet::names() const {
  std::vector<std::string> result;
  for (const auto &[name, entry] : entries)
    result.push_back(name);
  return result;
}

Error qmlir::checkpoint::detail::entryError(const TensorSet::Entry &entry,
                                            StringRef field,
                                            const llvm::Twine &message) {
  return tensorError(entry.file->path(), entry.info->name, field, message);
}

Expected<PackedTensors>
qmlir::checkpoint::detail::requirePackedTensors(const TensorSet &tensors,
                                                const std::string &prefix) {
  Expected<TensorSet::Entry> qweight = tensors.require(prefix + ".qweight");
  if (!qweight)
    return qweight.takeError();
  Expected<TensorSet::Entry> qzeros = tensors.require(prefix + ".qzeros");
  if (!qzeros)
    return qzeros.takeError();
  Expected<TensorSet::Entry> scales = tensors.require(prefix + ".scales");
  if (!scales)
    return scales.takeError();
  if (Error error = expectTensor(*qweight, {DType::I32}, 2))
    return std::move(error);
  if (Error error = expectTensor(*qzeros, {DType::I32}, 2))
    return std::move(error);
  if (Error error = expectTensor(*scales, {DType::F16, DType::BF16}, 2))
    return std::move(error);
  return PackedTensors{*qweight, *qzeros, *scales};
}

Error qmlir::checkpoint::detail::expectTensor(const TensorSet::Entry &entry,
                                              llvm::ArrayRef<DType> allowed,
                                              size_t rank) {
  if (!llvm::is_contained(allowed, entry.info->dtype)) {
    std::string names;
    for (DType type : allowed)
      names += (names.empty() ? "" : " or ") + dtypeName(type).str();
    return entryError(entry, "dtype",
                      "expected " + names + ", got " +
                          dtypeName(entry.info->dtype));
  }
  if (entry.info->shape.size() != rank)
    return entryError(entry, "shape",
                      "expected " + llvm::Twine(rank) + " dimensions, got " +
                          entry.info->shapeString());
  return Error::success();
}

Error qmlir::checkpoint::detail::readBias(
    const TensorSet &tensors, StringRef prefix, int64_t n,
    std::optional<std::vector<float>> &bias) {
  TensorSet::Entry entry = tensors.find((prefix + ".bias").str());
  if (!entry.info)
    return Error::success();
  if (Error error =
          expectTensor(entry, {DType::F16, DType::BF16, DType::F32}, 1))
    return error;
  if (entry.info->shape[0] != n)
    return entryError(entry, "shape",
                      "expected [" + llvm::Twine(n) +
                          "] (N of the weight), got " +
                          entry.info->shapeString());
  Expected<std::vector<float>> values = readFloats(*entry.file, *entry.info);
  if (!values)
    return values.takeError();
  bias = std::move(*values);
  return Error::success();
}

std::vector<std::string>
qmlir::checkpoint::detail::prefixesWith(const TensorSet &tensors,
                                        StringRef suffix) {
  std::vector<std::string> result;
  for (const std::string &name : tensors.names())
    if (StringRef(name).ends_with(suffix) && name.size() > suffix.size())
      result.push_back(name.substr(0, name.size() - suffix.size()));
  return result;
}

//===----------------------------------------------------------------------===//
// Files and configs
//===----------------------------------------------------------------------===//

namespace {

Expected<llvm::json::Value> readJson(StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  Expected<llvm::json::Value> json = llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return makeError(path + ": not valid JSON: " +
                     llvm::toString(json.takeError()));
  return json;
}

Error addFile(TensorSet &tensors, StringRef path) {
  Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  return tensors.add(std::make_unique<SafetensorsFile>(std::move(*file)));
}

/// The shards a model.safetensors.index.json names; checks that each tensor
/// of its weight_map is in the shard it names.
Error addIndexedFiles(TensorSet &tensors, StringRef dir, StringRef index) {
  Expected<llvm::json::Value> json = readJson(index);
  if (!json)
    return json.takeError();
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Object *map =
      root ? root->getObject("weight_map") : nullptr;
  if (!map)
    return makeError(index + ": weight_map: missing or not an object");
  std::set<std::string> shards;
  for (const auto &[tensor, file] : *map) {
    auto name = file.getAsString();
    if (!name || name->contains('/') || name->empty())
      return makeError(index + ": weight_map." + tensor.str() +
                       ": expected a file name in the directory");
    shards.insert(name->str());
  }
  for (const std::string &shard : shards) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, shard);
    if (Error error = addFile(tensors, path))
      return error;
  }
  for (const auto &[tensor, file] : *map) {
    TensorSet::Entry entry = tensors.find(tensor);
    if (!entry.info ||
        llvm::sys::path::filename(entry.file->path()) != *file.getAsString())
      return makeError(index + ": weight_map." + tensor.str() + ": tensor is not in " +
                       *file.getAsString());
  }
  return Error::success();
}

Expected<CheckpointFormat> methodOf(const QuantConfig &config) {
  const llvm::json::Value *method = config.object.get("quant_method");
  if (!method) {
    // AutoGPTQ's quantize_config.json and AutoAWQ's quant_config.json may
    // predate quant_method.
    if (config.object.get("w_bit"))
      return CheckpointFormat::Awq;
    if (config.object.get("bits"))
      return CheckpointFormat::Gptq;
    return makeError(config.origin +
                     ": quant_method: missing, and the format cannot be told "
                     "from the other fields");
  }
  auto text = method->getAsString();
  if (!text)
    return makeError(config.origin + ": quant_method: expected a string");
  std::string lower = text->lower();
  if (lower == "gptq")
    return CheckpointFormat::Gptq;
  if (lower == "awq")
    return CheckpointFormat::Awq;
  if (lower == "compressed-tensors" || lower == "compressed_tensors")
    return CheckpointFormat::CompressedTensors;
  return makeError(config.origin + ": quant_method: unknown quantization "
                                   "method '" + *text + "'");
}

/// torch_dtype (or dtype, its newer name) of config.json.
Error readActivation(const llvm::json::Object &config, StringRef origin,
                     qmlir::core::FloatType &activation) {
  for (StringRef key : {"torch_dtype", "dtype"}) {
    const llvm::json::Value *value = config.get(key);
    if (!value)
      continue;
    auto text = value->getAsString();
    if (text == "float16")
      activation = qmlir::core::FloatType::F16;
    else if (text == "bfloat16")
      activation = qmlir::core::FloatType::BF16;
    else if (text == "float32")
      activation = qmlir::core::FloatType::F32;
    else
      return makeError(origin + ": " + key +
                       ": expected float16, bfloat16 or float32");
    return Error::success();
  }
  return Error::success();
}

} // namespace

Expected<ImportedCheckpoint>
qmlir::checkpoint::importCheckpoint(StringRef path) {
  ImportedCheckpoint result;
  result.path = path.str();
  TensorSet tensors;
  std::optional<QuantConfig> config;

  if (!llvm::sys::fs::exists(path))
    return makeError(path + ": no such file or directory");
  if (!llvm::sys::fs::is_directory(path)) {
    if (!path.ends_with(".safetensors"))
      return makeError(path + ": expected a directory or a .safetensors file");
    if (Error error = addFile(tensors, path))
      return std::move(error);
  } else {
    auto join = [&](StringRef name) {
      llvm::SmallString<256> joined(path);
      llvm::sys::path::append(joined, name);
      return std::string(joined);
    };
    if (std::string file = join("config.json"); llvm::sys::fs::exists(file)) {
      Expected<llvm::json::Value> json = readJson(file);
      if (!json)
        return json.takeError();
      const llvm::json::Object *root = json->getAsObject();
      if (!root)
        return makeError(file + ": not a JSON object");
      if (Error error = readActivation(*root, file, result.activation))
        return std::move(error);
      if (const llvm::json::Value *quant = root->get("quantization_config")) {
        if (!quant->getAsObject())
          return makeError(file + ": quantization_config: not an object");
        config = QuantConfig{file + ": quantization_config",
                             *quant->getAsObject()};
      }
    }
    for (StringRef name : {"quantize_config.json", "quant_config.json"}) {
      std::string file = join(name);
      if (config || !llvm::sys::fs::exists(file))
        continue;
      Expected<llvm::json::Value> json = readJson(file);
      if (!json)
        return json.takeError();
      if (!json->getAsObject())
        return makeError(file + ": not a JSON object");
      config = QuantConfig{file, *json->getAsObject()};
    }
    if (std::string index = join("model.safetensors.index.json");
        llvm::sys::fs::exists(index)) {
      if (Error error = addIndexedFiles(tensors, path, index))
        return std::move(error);
    } else {
      std::vector<std::string> files;
      std::error_code ec;
      for (llvm::sys::fs::directory_iterator it(path, ec), end;
           !ec && it != end; it.increment(ec))
        if (StringRef(it->path()).ends_with(".safetensors"))
          files.push_back(it->path());
      if (ec)
        return makeError(path + ": cannot list: " + ec.message());
      std::sort(files.begin(), files.end());
      for (const std::string &file : files)
        if (Error error = addFile(tensors, file))
          return std::move(error);
    }
    if (tensors.files().empty())
      return makeError(path + ": no .safetensors files");
  }

  Error error = Error::success();
  if (config) {
    Expected<CheckpointFormat> format = methodOf(*config);
    if (!format)
      return format.takeError();
    result.format = *format;
    switch (*format) {
    case CheckpointFormat::Gptq:
      error = importGptq(tensors, *config, result);
      break;
    case CheckpointFormat::Awq:
      error = importAwq(tensors, *config, result);
      break;
    case CheckpointFormat::CompressedTensors:
      error = importCompressedTensors(tensors, *config, result);
      break;
    case CheckpointFormat::Native:
      break;
    }
  } else {
    for (const auto &file : tensors.files()) {
      auto it = file->metadata().find("format");
      if (it == file->metadata().end() || it->second != "qmlir")
        return makeError(
            file->path() +
            ": no quantization config (config.json quantization_config, "
            "quantize_config.json) and no \"format\": \"qmlir\" metadata");
    }
    result.format = CheckpointFormat::Native;
    error = importNative(tensors, result);
  }
  if (error)
    return std::move(error);
  if (result.linears.empty())
    return makeError(path + ": no quantized linear layers found (" +
                     toString(result.format) + " format)");
  std::sort(result.linears.begin(), result.linears.end(),
            [](const Linear &a, const Linear &b) { return a.name < b.name; });
  return result;
}

//===----------------------------------------------------------------------===//
// Config fields
//===----------------------------------------------------------------------===//

Error qmlir::checkpoint::detail::configError(const QuantConfig &config,
                                             StringRef field,
                                             const llvm::Twine &message) {
  return makeError(config.origin + ": " + field + ": " + message);
}

namespace {
std::pair<StringRef, const llvm::json::Value *>
firstPresent(const QuantConfig &config, llvm::ArrayRef<StringRef> keys) {
  for (StringRef key : keys)
    if (const llvm::json::Value *value = config.object.get(key))
      return {key, value};
  return {keys.front(), nullptr};
}
} // namespace

Expected<int64_t>
qmlir::checkpoint::detail::configInt(const QuantConfig &config,
                                     llvm::ArrayRef<StringRef> keys,
                                     std::optional<int64_t> fallback) {
  auto [key, value] = firstPresent(config, keys);
  if (!value || value->kind() == llvm::json::Value::Null) {
    if (fallback)
      return *fallback;
    return configError(config, key, "missing");
  }
  if (auto integer = value->getAsInteger())
    return *integer;
  return configError(config, key, "expected an integer");
}

Expected<bool> qmlir::checkpoint::detail::configBool(
    const QuantConfig &config, llvm::ArrayRef<StringRef> keys, bool fallback) {
  auto [key, value] = firstPresent(config, keys);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback;
  if (auto flag = value->getAsBoolean())
    return *flag;
  return configError(config, key, "expected true or false");
}

Expected<std::string> qmlir::checkpoint::detail::configString(
    const QuantConfig &config, llvm::ArrayRef<StringRef> keys,
    StringRef fallback) {
  auto [key, value] = firstPresent(config, keys);
  if (!value || value->kind() == llvm::json::Value::Null)
    return fallback.str();
  if (auto text = value->getAsString())
    return text->str();
  return configError(config, key, "expected a string");
}
