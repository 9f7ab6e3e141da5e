//===- ImportGptq.cpp - GPTQ checkpoints (AutoGPTQ / GPTQModel) -----------===//
//
// Per linear PREFIX: qweight I32 [K * bits / 32, N] (column n is a
// little-endian bit stream along K, codes may straddle words for 3 bits),
// qzeros I32 [G, N * bits / 32] (row g a bit stream along N), scales
// F16/BF16 [G, N], optional g_idx I32 [K] and bias [N]. checkpoint_format
// "gptq" (v1) stores zero - 1, "gptq_v2" the zero itself.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;

namespace {

struct GptqSettings {
  unsigned bits = 4;
  int64_t group = -1;
  bool descAct = false;
  bool v1 = true;
};

Expected<GptqSettings> readSettings(const QuantConfig &config) {
  GptqSettings settings;
  Expected<int64_t> bits = configInt(config, {"bits"}, std::nullopt);
  if (!bits)
    return bits.takeError();
  if (*bits != 2 && *bits != 3 && *bits != 4 && *bits != 8)
    return configError(config, "bits",
                       "unsupported bit-width " + llvm::Twine(*bits) +
                           " (GPTQ checkpoints have 2, 3, 4 or 8)");
  settings.bits = unsigned(*bits);
  Expected<int64_t> group = configInt(config, {"group_size"}, -1);
  if (!group)
    return group.takeError();
  if (*group == 0 || *group < -1)
    return configError(config, "group_size",
                       "expected a positive size or -1, got " +
                           llvm::Twine(*group));
  settings.group = *group;
  Expected<bool> descAct = configBool(config, {"desc_act"}, false);
  if (!descAct)
    return descAct.takeError();
  settings.descAct = *descAct;
  Expected<std::string> format =
      configString(config, {"checkpoint_format"}, "gptq");
  if (!format)
    return format.takeError();
  if (*format != "gptq" && *format != "gptq_v2")
    return configError(config, "checkpoint_format",
                       "expected gptq or gptq_v2, got '" + *format + "'");
  settings.v1 = *format == "gptq";
  return settings;
}

Expected<Linear> importLinear(const TensorSet &tensors,
                              const std::string &prefix,
                              const GptqSettings &settings) {
  const unsigned bits = settings.bits;
  Expected<PackedTensors> packed = requirePackedTensors(tensors, prefix);
  if (!packed)
    return packed.takeError();
  const auto &[qweight, qzeros, scales] = *packed;

  const int64_t groups = scales.info->shape[0], n = scales.info->shape[1];
  const int64_t words = qweight.info->shape[0];
  if (qweight.info->shape[1] != n)
    return entryError(qweight, "shape",
                      qweight.info->shapeString() + " has N = " +
                          llvm::Twine(qweight.info->shape[1]) +
                          " columns but scales " +
                          scales.info->shapeString() + " has N = " +
                          llvm::Twine(n));
  const int64_t k = words * 32 / bits;
  if (k == 0 || (words * 32) % bits != 0)
    return entryError(qweight, "shape",
                      qweight.info->shapeString() + ": " +
                          llvm::Twine(words) + " words per column do not hold "
                          "a whole number of " + llvm::Twine(bits) +
                          "-bit codes");
  if ((n * bits) % 32 != 0)
    return entryError(qzeros, "shape",
                      "N = " + llvm::Twine(n) + " zeros of " +
                          llvm::Twine(bits) + " bits do not fill whole words");
  if (qzeros.info->shape[0] != groups ||
      qzeros.info->shape[1] != n * bits / 32)
    return entryError(qzeros, "shape",
                      "expected [" + llvm::Twine(groups) + ", " +
                          llvm::Twine(n * bits / 32) + "] (G of scales, N * " +
                          llvm::Twine(bits) + " / 32), got " +
                          qzeros.info->shapeString());
  const int64_t groupLength = settings.group > 0 ? settings.group : k;
  if (k % groupLength != 0 || groups != k / groupLength)
    return entryError(scales, "shape",
                      "expected " + llvm::Twine(k / groupLength) +
                          " groups (K = " + llvm::Twine(k) + ", group_size " +
                          llvm::Twine(settings.group) + "), got " +
                          scales.info->shapeString());

  core::QuantizedMatrix matrix;
  core::Scheme &scheme = matrix.scheme;
  scheme.kind = core::ElementKind::UnsignedInt;
  scheme.bits = bits;
  scheme.groupSize = settings.group > 0 ? settings.group : core::kPerChannel;
  scheme.scaleType = scales.info->dtype == DType::BF16 ? core::ScaleType::BF16
                                                        : core::ScaleType::F16;
  scheme.zero = core::ZeroKind::Int;
  matrix.rows = n;
  matrix.cols = k;

  // g_idx decides act-order: only when it differs from k / group.
  TensorSet::Entry gIdx = tensors.find(prefix + ".g_idx");
  if (gIdx.info) {
    if (Error error = expectTensor(gIdx, {DType::I32}, 1))
      return std::move(error);
    if (gIdx.info->shape[0] != k)
      return entryError(gIdx, "shape",
                        "expected [" + llvm::Twine(k) + "] (K of qweight), got " +
                            gIdx.info->shapeString());
    Expected<std::vector<int64_t>> values = readIntegers(*gIdx.file, *gIdx.info);
    if (!values)
      return values.takeError();
    bool ordered = false;
    for (int64_t c = 0; c < k; ++c) {
      int64_t g = (*values)[c];
      if (g < 0 || g >= groups)
        return entryError(gIdx, "values",
                          "g_idx[" + llvm::Twine(c) + "] = " + llvm::Twine(g) +
                              " is outside [0, " + llvm::Twine(groups) + ")");
      ordered |= g != c / groupLength;
    }
    if (ordered) {
      scheme.actOrder = true;
      matrix.groupIndex.assign(values->begin(), values->end());
    }
  } else if (settings.descAct) {
    return tensorError(qweight.file->path(), prefix + ".g_idx", "",
                       "missing, but desc_act (act-order) is true");
  }
  if (std::string error = scheme.validateShape(n, k); !error.empty())
    return entryError(qweight, "scheme", error);

  Expected<std::vector<uint32_t>> qweightWords =
      readWords(*qweight.file, *qweight.info);
  Expected<std::vector<uint32_t>> zeroWords =
      readWords(*qzeros.file, *qzeros.info);
  Expected<std::vector<float>> scaleValues =
      readFloats(*scales.file, *scales.info);
  if (!qweightWords)
    return qweightWords.takeError();
  if (!zeroWords)
    return zeroWords.takeError();
  if (!scaleValues)
    return scaleValues.takeError();

  // Column n of qweight is row n's bit stream: transpose the words.
  matrix.codes.resize(n * words);
  for (int64_t w = 0; w < words; ++w)
    for (int64_t r = 0; r < n; ++r)
      matrix.codes[r * words + w] = (*qweightWords)[w * n + r];
  const int64_t zeroWordsPerRow = scheme.zeroWordsPerRow(k);
  const int64_t zeroRowWords = n * bits / 32;
  matrix.zeroCodes.assign(n * zeroWordsPerRow, 0);
  matrix.scales.resize(n * groups);
  for (int64_t g = 0; g < groups; ++g) {
    const uint32_t *stored = &(*zeroWords)[g * zeroRowWords];
    for (int64_t r = 0; r < n; ++r) {
      uint32_t zero = core::extractCode(stored, r, bits);
      if (settings.v1) {
        zero += 1;
        if (zero > uint32_t(scheme.maxCode()))
          return entryError(qzeros, "values",
                            "zero point of column " + llvm::Twine(r) +
                                ", group " + llvm::Twine(g) + " is stored as " +
                                llvm::Twine(zero - 1) +
                                "; GPTQ v1 stores zero - 1, and " +
                                llvm::Twine(zero) + " does not fit " +
                                llvm::Twine(bits) + " bits");
      }
      core::insertCode(&matrix.zeroCodes[r * zeroWordsPerRow], g, bits, zero);
      matrix.scales[r * groups + g] = (*scaleValues)[g * n + r];
    }
  }
  Linear linear{prefix, std::move(matrix), std::nullopt};
  if (Error error = readBias(tensors, prefix, n, linear.bias))
    return std::move(error);
  return linear;
}

} // namespace

Error qmlir::checkpoint::detail::importGptq(const TensorSet &tensors,
                                            const QuantConfig &config,
                                            ImportedCheckpoint &out) {
  Expected<GptqSettings> settings = readSettings(config);
  if (!settings)
    return settings.takeError();
  for (const std::string &prefix : prefixesWith(tensors, ".qweight")) {
    Expected<Linear> linear = importLinear(tensors, prefix, *settings);
    if (!linear)
      return linear.takeError();
    out.linears.push_back(std::move(*linear));
  }
  return Error::success();
}
