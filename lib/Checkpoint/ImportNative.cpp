//===- ImportNative.cpp - qmlir-native checkpoints ------------------------===//
//
// One or more .safetensors files with metadata "format": "qmlir" and, per
// linear NAME, "qmlir.scheme:NAME" (the scheme's text) and "qmlir.shape:NAME"
// ("[N, K]"); tensors NAME.codes, NAME.scales, NAME.zeros, NAME.codebook,
// NAME.g_idx exactly as core::Scheme::parts(N, K) lays them out (I32 words
// for codes, integer zeros and g_idx; f16/bf16/f32 as F16/BF16/F32; e8m0 and
// f8e4m3 as U8 bytes), and an optional NAME.bias.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "llvm/ADT/StringExtras.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

DType qmlir::checkpoint::detail::nativePartDType(StringRef element) {
  if (element == "i32")
    return DType::I32;
  if (element == "f16")
    return DType::F16;
  if (element == "bf16")
    return DType::BF16;
  if (element == "f32")
    return DType::F32;
  return DType::U8; // f8E8M0FNU, f8E4M3FN: raw bytes
}

namespace {

/// A float part's values, decoded from its storage type.
Expected<std::vector<float>> readScaleValues(const TensorSet::Entry &entry,
                                             core::ScaleType type) {
  if (entry.info->dtype != DType::U8)
    return readFloats(*entry.file, *entry.info);
  llvm::ArrayRef<uint8_t> bytes = entry.file->bytes(*entry.info);
  std::vector<float> values(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i)
    values[i] = core::scaleValue(type, bytes[i]);
  return values;
}

Expected<std::pair<int64_t, int64_t>> parseShape(StringRef text) {
  Expected<llvm::json::Value> json = llvm::json::parse(text);
  if (!json) {
    llvm::consumeError(json.takeError());
    return makeError("expected \"[N, K]\", got '" + text + "'");
  }
  const llvm::json::Array *dims = json->getAsArray();
  if (!dims || dims->size() != 2 || !(*dims)[0].getAsInteger() ||
      !(*dims)[1].getAsInteger() || *(*dims)[0].getAsInteger() <= 0 ||
      *(*dims)[1].getAsInteger() <= 0)
    return makeError("expected \"[N, K]\" with positive sizes, got '" + text +
                     "'");
  return std::make_pair(*(*dims)[0].getAsInteger(), *(*dims)[1].getAsInteger());
}

Expected<Linear> importLinear(const TensorSet &tensors, StringRef origin,
                              const std::string &name, StringRef schemeText,
                              StringRef shapeText) {
  std::string parseError;
  std::optional<core::Scheme> scheme =
      core::Scheme::parse(schemeText, &parseError);
  if (!scheme)
    return tensorError(origin, "", "__metadata__.qmlir.scheme:" + name,
                       parseError);
  Expected<std::pair<int64_t, int64_t>> shape = parseShape(shapeText);
  if (!shape)
    return tensorError(origin, "", "__metadata__.qmlir.shape:" + name,
                       llvm::toString(shape.takeError()));
  auto [n, k] = *shape;
  if (std::string error = scheme->validateShape(n, k); !error.empty())
    return tensorError(origin, "", "__metadata__.qmlir.scheme:" + name,
                       error + " (shape [" + llvm::Twine(n) + ", " +
                           llvm::Twine(k) + "])");
  core::QuantizedMatrix matrix;
  matrix.scheme = *scheme;
  matrix.rows = n;
  matrix.cols = k;
  for (const core::Part &part : scheme->parts(n, k)) {
    Expected<TensorSet::Entry> entry = tensors.require(name + "." + part.name);
    if (!entry)
      return entry.takeError();
    if (Error error =
            expectTensor(*entry, {nativePartDType(part.element)}, 2))
      return std::move(error);
    if (entry->info->shape[0] != part.rows ||
        entry->info->shape[1] != part.cols)
      return entryError(*entry, "shape",
                        "expected [" + llvm::Twine(part.rows) + ", " +
                            llvm::Twine(part.cols) + "] for " +
                            scheme->str() + " and [N, K] = [" +
                            llvm::Twine(n) + ", " + llvm::Twine(k) +
                            "], got " + entry->info->shapeString());
    const bool words = part.element == "i32";
    if (words) {
      Expected<std::vector<uint32_t>> values =
          readWords(*entry->file, *entry->info);
      if (!values)
        return values.takeError();
      if (part.name == "codes") {
        matrix.codes = std::move(*values);
      } else if (part.name == "zeros") {
        matrix.zeroCodes = std::move(*values);
      } else {
        const int64_t groups = scheme->groupsPerRow(k);
        for (int64_t c = 0; c < k; ++c)
          if (int32_t((*values)[c]) < 0 || int32_t((*values)[c]) >= groups)
            return entryError(*entry, "values",
                              "g_idx[" + llvm::Twine(c) + "] = " +
                                  llvm::Twine(int32_t((*values)[c])) +
                                  " is outside [0, " + llvm::Twine(groups) +
                                  ")");
        matrix.groupIndex.assign(values->begin(), values->end());
      }
      continue;
    }
    Expected<std::vector<float>> values =
        readScaleValues(*entry, scheme->scaleType);
    if (!values)
      return values.takeError();
    if (part.name == "scales")
      matrix.scales = std::move(*values);
    else if (part.name == "zeros")
      matrix.zeroValues = std::move(*values);
    else
      matrix.codebook = std::move(*values);
  }
  Linear linear{name, std::move(matrix), std::nullopt};
  if (Error error = readBias(tensors, name, n, linear.bias))
    return std::move(error);
  return linear;
}

} // namespace

Error qmlir::checkpoint::detail::importNative(const TensorSet &tensors,
                                              ImportedCheckpoint &out) {
  std::map<std::string, std::pair<std::string, std::string>> linears;
  std::map<std::string, std::string> origins;
  for (const auto &file : tensors.files())
    for (const auto &[key, value] : file->metadata()) {
      StringRef rest(key);
      if (rest.consume_front("qmlir.scheme:")) {
        linears[rest.str()].first = value;
        origins[rest.str()] = file->path().str();
      } else if (rest.consume_front("qmlir.shape:")) {
        linears[rest.str()].second = value;
      }
    }
  for (const std::string &prefix : prefixesWith(tensors, ".codes"))
    if (!linears.count(prefix))
      return tensorError(tensors.find(prefix + ".codes").file->path(),
                         prefix + ".codes", "",
                         "no \"qmlir.scheme:" + prefix + "\" metadata");
  for (const auto &[name, texts] : linears) {
    if (texts.first.empty())
      return makeError(out.path + ": __metadata__: \"qmlir.shape:" + name +
                       "\" without \"qmlir.scheme:" + name + "\"");
    if (texts.second.empty())
      return tensorError(origins[name], "", "__metadata__",
                         "\"qmlir.scheme:" + name + "\" without \"qmlir.shape:" +
                             name + "\"");
  }
  for (const auto &[name, texts] : linears) {
    Expected<Linear> linear =
        importLinear(tensors, origins[name], name, texts.first, texts.second);
    if (!linear)
      return linear.takeError();
    out.linears.push_back(std::move(*linear));
  }
  return Error::success();
}
