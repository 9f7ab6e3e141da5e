//===- ImportAwq.cpp - AWQ checkpoints (AutoAWQ GEMM) ---------------------===//
//
// Per linear PREFIX: qweight I32 [K, N / 8] and qzeros I32 [G, N / 8], both
// packed along N in AWQ's order (nibble i of word c holds column
// 8 c + [0, 2, 4, 6, 1, 3, 5, 7][i]), zeros stored as they are; scales
// F16/BF16 [G, N]; optional bias [N]. 4 bits only.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;

namespace {

/// Nibble of a word that holds column 8 c + j: the inverse of AWQ's order.
constexpr unsigned kNibbleOfColumn[8] = {0, 4, 1, 5, 2, 6, 3, 7};

uint32_t awqNibble(const std::vector<uint32_t> &words, int64_t row,
                   int64_t wordsPerRow, int64_t column) {
  uint32_t word = words[row * wordsPerRow + column / 8];
  return (word >> (4 * kNibbleOfColumn[column % 8])) & 0xF;
}

Expected<Linear> importLinear(const TensorSet &tensors,
                              const std::string &prefix, int64_t group) {
  Expected<PackedTensors> packed = requirePackedTensors(tensors, prefix);
  if (!packed)
    return packed.takeError();
  const auto &[qweight, qzeros, scales] = *packed;
  const int64_t groups = scales.info->shape[0], n = scales.info->shape[1];
  const int64_t k = qweight.info->shape[0];
  if (n % 8 != 0 || qweight.info->shape[1] * 8 != n)
    return entryError(qweight, "shape",
                      "expected [K, " + llvm::Twine(n / 8) +
                          "] (N = " + llvm::Twine(n) +
                          " of scales, 8 columns per word), got " +
                          qweight.info->shapeString());
  if (qzeros.info->shape[0] != groups || qzeros.info->shape[1] * 8 != n)
    return entryError(qzeros, "shape",
                      "expected [" + llvm::Twine(groups) + ", " +
                          llvm::Twine(n / 8) + "] (G and N / 8 of scales), got " +
                          qzeros.info->shapeString());
  const int64_t groupLength = group > 0 ? group : k;
  if (k == 0 || k % groupLength != 0 || groups != k / groupLength)
    return entryError(scales, "shape",
                      "expected " + llvm::Twine(k / groupLength) +
                          " groups (K = " + llvm::Twine(k) + ", group_size " +
                          llvm::Twine(group) + "), got " +
                          scales.info->shapeString());

  core::QuantizedMatrix matrix;
  core::Scheme &scheme = matrix.scheme;
  scheme.kind = core::ElementKind::UnsignedInt;
  scheme.bits = 4;
  scheme.groupSize = group > 0 ? group : core::kPerChannel;
  scheme.scaleType = scales.info->dtype == DType::BF16 ? core::ScaleType::BF16
                                                        : core::ScaleType::F16;
  scheme.zero = core::ZeroKind::Int;
  matrix.rows = n;
  matrix.cols = k;
  if (std::string error = scheme.validateShape(n, k); !error.empty())
    return entryError(qweight, "scheme", error);

  Expected<std::vector<uint32_t>> codeWords =
      readWords(*qweight.file, *qweight.info);
  Expected<std::vector<uint32_t>> zeroWords =
      readWords(*qzeros.file, *qzeros.info);
  Expected<std::vector<float>> scaleValues =
      readFloats(*scales.file, *scales.info);
  if (!codeWords)
    return codeWords.takeError();
  if (!zeroWords)
    return zeroWords.takeError();
  if (!scaleValues)
    return scaleValues.takeError();

  const int64_t codeRow = scheme.codeWordsPerRow(k);
  const int64_t zeroRow = scheme.zeroWordsPerRow(k);
  matrix.codes.assign(n * codeRow, 0);
  matrix.zeroCodes.assign(n * zeroRow, 0);
  matrix.scales.resize(n * groups);
  for (int64_t c = 0; c < k; ++c)
    for (int64_t r = 0; r < n; ++r)
      core::insertCode(&matrix.codes[r * codeRow], c, 4,
                       awqNibble(*codeWords, c, n / 8, r));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t r = 0; r < n; ++r) {
      core::insertCode(&matrix.zeroCodes[r * zeroRow], g, 4,
                       awqNibble(*zeroWords, g, n / 8, r));
      matrix.scales[r * groups + g] = (*scaleValues)[g * n + r];
    }
  Linear linear{prefix, std::move(matrix), std::nullopt};
  if (Error error = readBias(tensors, prefix, n, linear.bias))
    return std::move(error);
  return linear;
}

} // namespace

Error qmlir::checkpoint::detail::importAwq(const TensorSet &tensors,
                                           const QuantConfig &config,
                                           ImportedCheckpoint &out) {
  Expected<int64_t> bits = configInt(config, {"bits", "w_bit"}, std::nullopt);
  if (!bits)
    return bits.takeError();
  if (*bits != 4)
    return configError(config, "bits",
                       "unsupported bit-width " + llvm::Twine(*bits) +
                           " (AWQ GEMM checkpoints have 4)");
  Expected<int64_t> group =
      configInt(config, {"group_size", "q_group_size"}, std::nullopt);
  if (!group)
    return group.takeError();
  if (*group == 0 || *group < -1)
    return configError(config, "group_size",
                       "expected a positive size or -1, got " +
                           llvm::Twine(*group));
  Expected<std::string> version = configString(config, {"version"}, "gemm");
  if (!version)
    return version.takeError();
  if (llvm::StringRef(*version).lower() != "gemm")
    return configError(config, "version",
                       "unsupported AWQ version '" + *version +
                           "' (only gemm is read)");
  Expected<bool> zeroPoint = configBool(config, {"zero_point"}, true);
  if (!zeroPoint)
    return zeroPoint.takeError();
  if (!*zeroPoint)
    return configError(config, "zero_point",
                       "AWQ without zero points is not supported");
  for (const std::string &prefix : prefixesWith(tensors, ".qweight")) {
    Expected<Linear> linear = importLinear(tensors, prefix, *group);
    if (!linear)
      return linear.takeError();
    out.linears.push_back(std::move(*linear));
  }
  return Error::success();
}
