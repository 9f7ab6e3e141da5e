//===- Export.cpp - Writing GPTQ, AWQ and qmlir-native checkpoints --------===//
//
// The inverse of the importers: canonical QuantizedMatrix storage to each
// format's tensors (ImportGptq.cpp, ImportAwq.cpp and ImportNative.cpp
// document the layouts), plus the config files the importers read.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Checkpoint/Export.h"

#include "llvm/Support/raw_ostream.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;

namespace {

const char *torchDtype(core::FloatType type) {
  switch (type) {
  case core::FloatType::F16:
    return "float16";
  case core::FloatType::BF16:
    return "bfloat16";
  case core::FloatType::F32:
    return "float32";
  }
  return "float16";
}

std::string jsonText(llvm::json::Value value) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::formatv("{0:2}", value) << "\n";
  return text;
}

DType scaleDType(const core::Scheme &scheme) {
  return scheme.scaleType == core::ScaleType::BF16 ? DType::BF16 : DType::F16;
}

int32_t zeroOf(const core::QuantizedMatrix &m, int64_t r, int64_t g) {
  const int64_t row = m.scheme.zeroWordsPerRow(m.cols);
  return int32_t(core::extractCode(&m.zeroCodes[r * row], g, m.scheme.bits));
}

/// Checks what GPTQ and AWQ share: unsigned codes of one width with integer
/// zeros, f16/bf16 scales, groups or per-channel, and one scheme for all.
Error checkGptqLike(llvm::ArrayRef<Linear> linears, const char *format,
                    llvm::ArrayRef<unsigned> widths) {
  for (const Linear &linear : linears) {
    const core::Scheme &s = linear.weights.scheme;
    auto fail = [&](const llvm::Twine &why) {
      return makeError(linear.name + ": " + s.str() + " cannot be written as " +
                       format + ": " + why);
    };
    if (s.kind != core::ElementKind::UnsignedInt || s.isMixed() ||
        !llvm::is_contained(widths, s.bits))
      return fail("needs unsigned integer codes of a supported width");
    if (s.zero != core::ZeroKind::Int)
      return fail("needs zero = int");
    if (s.scaleType != core::ScaleType::F16 &&
        s.scaleType != core::ScaleType::BF16)
      return fail("needs f16 or bf16 scales");
    if (s.isPerTensor())
      return fail("needs groups or per-channel scales");
    const core::Scheme &first = linears.front().weights.scheme;
    if (s.bits != first.bits || s.groupSize != first.groupSize ||
        s.scaleType != first.scaleType)
      return fail("every linear of one checkpoint needs the same bits, group "
                  "and scale type as " + linears.front().name);
    if (linear.bias && int64_t(linear.bias->size()) != linear.weights.rows)
      return makeError(linear.name + ": bias has " +
                       llvm::Twine(linear.bias->size()) + " values for N = " +
                       llvm::Twine(linear.weights.rows));
  }
  return Error::success();
}

void addBias(std::vector<TensorData> &tensors, const Linear &linear,
             DType type) {
  if (linear.bias)
    tensors.push_back({linear.name + ".bias", type,
                       {int64_t(linear.bias->size())},
                       floatsToBytes(*linear.bias, type)});
}

Expected<std::vector<TensorData>> gptqTensors(const Linear &linear) {
  const core::QuantizedMatrix &m = linear.weights;
  const unsigned bits = m.scheme.bits;
  const int64_t n = m.rows, k = m.cols, groups = m.scheme.groupsPerRow(k);
  if ((k * bits) % 32 || (n * bits) % 32)
    return makeError(linear.name + ": GPTQ needs K * bits and N * bits to be "
                     "multiples of 32, got [N, K] = [" + llvm::Twine(n) + ", " +
                     llvm::Twine(k) + "] with " + llvm::Twine(bits) + " bits");
  const int64_t words = m.scheme.codeWordsPerRow(k);
  std::vector<uint32_t> qweight(words * n), qzeros(groups * n * bits / 32, 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t w = 0; w < words; ++w)
      qweight[w * n + r] = m.codes[r * words + w];
  std::vector<float> scales(groups * n);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t r = 0; r < n; ++r) {
      int32_t zero = zeroOf(m, r, g);
      if (zero == 0)
        return makeError(linear.name + ": zero point 0 (row " +
                         llvm::Twine(r) + ", group " + llvm::Twine(g) +
                         ") cannot be stored in GPTQ v1, which stores zero - 1");
      core::insertCode(&qzeros[g * n * bits / 32], r, bits, uint32_t(zero - 1));
      scales[g * n + r] = m.scales[r * groups + g];
    }
  std::vector<int32_t> gIdx(k);
  for (int64_t c = 0; c < k; ++c)
    gIdx[c] = int32_t(m.groupOf(c));
  std::vector<uint32_t> gIdxWords(gIdx.begin(), gIdx.end());
  std::vector<TensorData> tensors = {
      {linear.name + ".qweight", DType::I32, {words, n}, wordsToBytes(qweight)},
      {linear.name + ".qzeros", DType::I32, {groups, n * bits / 32},
       wordsToBytes(qzeros)},
      {linear.name + ".scales", scaleDType(m.scheme), {groups, n},
       floatsToBytes(scales, scaleDType(m.scheme))},
      {linear.name + ".g_idx", DType::I32, {k}, wordsToBytes(gIdxWords)}};
  addBias(tensors, linear, scaleDType(m.scheme));
  return tensors;
}

/// Packs [rows, n] 4-bit values along n in AWQ's order.
std::vector<uint32_t> awqPack(int64_t rows, int64_t n,
                              llvm::function_ref<uint32_t(int64_t, int64_t)> at) {
  static constexpr unsigned kColumnOfNibble[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  std::vector<uint32_t> words(rows * n / 8, 0);
  for (int64_t row = 0; row < rows; ++row)
    for (int64_t c = 0; c < n / 8; ++c)
      for (unsigned i = 0; i < 8; ++i)
        words[row * (n / 8) + c] |= at(row, 8 * c + kColumnOfNibble[i])
                                    << (4 * i);
  return words;
}

Expected<std::vector<TensorData>> awqTensors(const Linear &linear) {
  const core::QuantizedMatrix &m = linear.weights;
  const int64_t n = m.rows, k = m.cols, groups = m.scheme.groupsPerRow(k);
  if (n % 8)
    return makeError(linear.name + ": AWQ needs N to be a multiple of 8, got " +
                     llvm::Twine(n));
  if (m.scheme.actOrder)
    return makeError(linear.name + ": AWQ has no act-order");
  const int64_t codeRow = m.scheme.codeWordsPerRow(k);
  std::vector<uint32_t> qweight = awqPack(k, n, [&](int64_t c, int64_t r) {
    return core::extractCode(&m.codes[r * codeRow], c, 4);
  });
  std::vector<uint32_t> qzeros = awqPack(groups, n, [&](int64_t g, int64_t r) {
    return uint32_t(zeroOf(m, r, g));
  });
  std::vector<float> scales(groups * n);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t r = 0; r < n; ++r)
      scales[g * n + r] = m.scales[r * groups + g];
  std::vector<TensorData> tensors = {
      {linear.name + ".qweight", DType::I32, {k, n / 8}, wordsToBytes(qweight)},
      {linear.name + ".qzeros", DType::I32, {groups, n / 8},
       wordsToBytes(qzeros)},
      {linear.name + ".scales", scaleDType(m.scheme), {groups, n},
       floatsToBytes(scales, scaleDType(m.scheme))}};
  addBias(tensors, linear, scaleDType(m.scheme));
  return tensors;
}

Expected<std::vector<TensorData>>
nativeTensors(const Linear &linear,
              std::map<std::string, std::string> &metadata) {
  const core::QuantizedMatrix &m = linear.weights;
  if (std::string error = m.scheme.validateShape(m.rows, m.cols);
      !error.empty())
    return makeError(linear.name + ": " + error);
  metadata["qmlir.scheme:" + linear.name] = m.scheme.str();
  metadata["qmlir.shape:" + linear.name] =
      "[" + std::to_string(m.rows) + ", " + std::to_string(m.cols) + "]";
  std::vector<TensorData> tensors;
  std::vector<core::Part> parts = m.scheme.parts(m.rows, m.cols);
  std::vector<std::vector<uint8_t>> bytes = m.partBytes();
  for (size_t i = 0; i < parts.size(); ++i)
    tensors.push_back({linear.name + "." + parts[i].name,
                       nativePartDType(parts[i].element),
                       {parts[i].rows, parts[i].cols}, std::move(bytes[i])});
  addBias(tensors, linear, DType::F32);
  return tensors;
}

} // namespace

Expected<std::map<std::string, std::string>>
qmlir::checkpoint::exportFiles(llvm::ArrayRef<Linear> linears,
                               const ExportOptions &options) {
  if (linears.empty())
    return makeError("no linears to write");
  std::vector<TensorData> tensors;
  std::map<std::string, std::string> metadata, files;
  llvm::json::Object config{{"torch_dtype", torchDtype(options.activation)}};
  const core::Scheme &first = linears.front().weights.scheme;
  const int64_t group = first.groupSize > 0 ? first.groupSize : -1;
  switch (options.format) {
  case CheckpointFormat::Gptq: {
    if (Error error = checkGptqLike(linears, "GPTQ", {2, 3, 4, 8}))
      return std::move(error);
    bool actOrder = false;
    for (const Linear &linear : linears)
      actOrder |= linear.weights.scheme.actOrder;
    llvm::json::Object quant{{"quant_method", "gptq"},
                             {"bits", first.bits},
                             {"group_size", group},
                             {"desc_act", actOrder},
                             {"sym", false},
                             {"checkpoint_format", "gptq"}};
    files["quantize_config.json"] = jsonText(llvm::json::Object(quant));
    config["quantization_config"] = std::move(quant);
    for (const Linear &linear : linears) {
      Expected<std::vector<TensorData>> more = gptqTensors(linear);
      if (!more)
        return more.takeError();
      std::move(more->begin(), more->end(), std::back_inserter(tensors));
    }
    break;
  }
  case CheckpointFormat::Awq: {
    if (Error error = checkGptqLike(linears, "AWQ", {4}))
      return std::move(error);
    config["quantization_config"] =
        llvm::json::Object{{"quant_method", "awq"}, {"bits", 4},
                           {"group_size", group}, {"zero_point", true},
                           {"version", "gemm"}};
    for (const Linear &linear : linears) {
      Expected<std::vector<TensorData>> more = awqTensors(linear);
      if (!more)
        return more.takeError();
      std::move(more->begin(), more->end(), std::back_inserter(tensors));
    }
    break;
  }
  case CheckpointFormat::Native:
    metadata["format"] = "qmlir";
    for (const Linear &linear : linears) {
      Expected<std::vector<TensorData>> more = nativeTensors(linear, metadata);
      if (!more)
        return more.takeError();
      std::move(more->begin(), more->end(), std::back_inserter(tensors));
    }
    break;
  case CheckpointFormat::CompressedTensors:
    return makeError("writing compressed-tensors checkpoints is not supported");
  }
  Expected<std::string> model = serializeSafetensors(tensors, metadata);
  if (!model)
    return model.takeError();
  files["model.safetensors"] = std::move(*model);
  files["config.json"] = jsonText(std::move(config));
  return files;
}

Error qmlir::checkpoint::exportCheckpoint(llvm::StringRef path,
                                          llvm::ArrayRef<Linear> linears,
                                          const ExportOptions &options) {
  Expected<std::map<std::string, std::string>> files =
      exportFiles(linears, options);
  if (!files)
    return makeError(path + ": " + llvm::toString(files.takeError()));
  return writeDirectoryAtomically(path, *files, options.force);
}
