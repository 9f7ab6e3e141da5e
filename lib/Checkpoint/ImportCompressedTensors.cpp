//===- ImportCompressedTensors.cpp - compressed-tensors pack-quantized ----===//
//
// What vLLM loads (config.json quantization_config with quant_method
// "compressed-tensors", format "pack-quantized"). Per linear PREFIX, as
// compressed-tensors 0.20 writes them (compressors/pack_quantized):
//   weight_packed I32 [N, ceil(K * bits / 32)]: each row a dense little-endian
//     bit stream (codes may straddle words) of q + 2^(bits-1);
//   weight_scale [N, G] (G = 1 per channel);
//   weight_zero_point I32 [ceil(N * bits / 32), G] (asymmetric): column g a
//     bit stream along N of zp + 2^(bits-1);
//   weight_shape [2] = (N, K); weight_g_idx I32 [K] (actorder "group", from
//     versions that had it); optional bias.
// w = (q - zp) * s. Older versions packed floor(32 / bits) codes per word
// without straddling ([N, ceil(K / (32 // bits))]); that layout is read too.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "llvm/Support/Regex.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;
using llvm::StringRef;

namespace {

struct WeightArgs {
  std::string group; // config_groups key, for errors
  std::vector<std::string> targets;
  unsigned bits = 4;
  bool symmetric = true;
  bool perChannel = false;
  int64_t groupSize = 0;
  bool groupActOrder = false;
};

Expected<std::vector<WeightArgs>> readGroups(const QuantConfig &config) {
  Expected<std::string> format = configString(config, {"format"}, "");
  if (!format)
    return format.takeError();
  if (*format != "pack-quantized")
    return configError(config, "format",
                       "unsupported compressed-tensors format '" + *format +
                           "' (only pack-quantized is read)");
  const llvm::json::Object *groups = config.object.getObject("config_groups");
  if (!groups || groups->empty())
    return configError(config, "config_groups", "missing or empty");
  std::vector<std::string> keys;
  for (const auto &[key, value] : *groups)
    keys.push_back(key.str());
  std::sort(keys.begin(), keys.end());
  std::vector<WeightArgs> result;
  for (const std::string &key : keys) {
    std::string field = "config_groups." + key;
    const llvm::json::Object *group = groups->getObject(key);
    const llvm::json::Object *weights = group ? group->getObject("weights") : nullptr;
    if (!weights)
      return configError(config, field + ".weights", "missing or not an object");
    QuantConfig sub{config.origin + ": " + field + ".weights", *weights};
    WeightArgs args;
    args.group = key;
    if (const llvm::json::Array *targets = group->getArray("targets"))
      for (const llvm::json::Value &target : *targets)
        if (auto text = target.getAsString())
          args.targets.push_back(text->str());
    Expected<int64_t> bits = configInt(sub, {"num_bits"}, std::nullopt);
    if (!bits)
      return bits.takeError();
    if (*bits < 1 || *bits > 8)
      return configError(sub, "num_bits",
                         "unsupported bit-width " + llvm::Twine(*bits) +
                             " (pack-quantized has 1 to 8)");
    args.bits = unsigned(*bits);
    Expected<std::string> type = configString(sub, {"type"}, "int");
    if (!type)
      return type.takeError();
    if (*type != "int")
      return configError(sub, "type",
                         "unsupported type '" + *type + "' (only int)");
    Expected<bool> symmetric = configBool(sub, {"symmetric"}, true);
    if (!symmetric)
      return symmetric.takeError();
    args.symmetric = *symmetric;
    Expected<std::string> strategy = configString(sub, {"strategy"}, "");
    if (!strategy)
      return strategy.takeError();
    Expected<int64_t> groupSize = configInt(sub, {"group_size"}, -1);
    if (!groupSize)
      return groupSize.takeError();
    if (*strategy == "channel") {
      args.perChannel = true;
    } else if (*strategy == "group") {
      if (*groupSize <= 0)
        return configError(sub, "group_size",
                           "strategy group needs a positive group_size");
      args.groupSize = *groupSize;
    } else {
      return configError(sub, "strategy",
                         "unsupported strategy '" + *strategy +
                             "' (group or channel)");
    }
    Expected<std::string> actorder = configString(sub, {"actorder"}, "");
    if (!actorder)
      return actorder.takeError();
    args.groupActOrder = *actorder == "group";
    result.push_back(std::move(args));
  }
  return result;
}

/// The first group whose targets match the linear: "Linear" matches all,
/// "re:PATTERN" by regular expression, other targets by name.
const WeightArgs *groupFor(const std::vector<WeightArgs> &groups,
                           StringRef name) {
  for (const WeightArgs &args : groups)
    for (const std::string &target : args.targets) {
      StringRef t(target);
      if (t == "Linear" || t == name)
        return &args;
      if (t.consume_front("re:")) {
        llvm::Regex regex(("^(" + t + ")$").str());
        if (regex.isValid() && regex.match(name))
          return &args;
      }
    }
  return nullptr;
}

/// Field `index` of a packed stream: dense (bits * index) or the legacy
/// layout (32 / bits whole codes per word).
uint32_t unpack(const uint32_t *stream, int64_t index, unsigned bits,
                bool legacy) {
  if (!legacy)
    return core::extractCode(stream, index, bits);
  const int64_t perWord = 32 / bits;
  return (stream[index / perWord] >> ((index % perWord) * bits)) &
         ((1u << bits) - 1);
}

int64_t denseWords(int64_t count, unsigned bits) {
  return core::packedWords(count, bits);
}
int64_t legacyWords(int64_t count, unsigned bits) {
  return (count + 32 / bits - 1) / (32 / bits);
}

Expected<Linear> importLinear(const TensorSet &tensors,
                              const std::string &prefix,
                              const WeightArgs &args) {
  const unsigned bits = args.bits;
  Expected<TensorSet::Entry> packed = tensors.require(prefix + ".weight_packed");
  Expected<TensorSet::Entry> scales = tensors.require(prefix + ".weight_scale");
  Expected<TensorSet::Entry> shape = tensors.require(prefix + ".weight_shape");
  if (!packed)
    return packed.takeError();
  if (!scales)
    return scales.takeError();
  if (!shape)
    return shape.takeError();
  if (Error error = expectTensor(*packed, {DType::I32}, 2))
    return std::move(error);
  if (Error error =
          expectTensor(*scales, {DType::F16, DType::BF16, DType::F32}, 2))
    return std::move(error);
  if (Error error = expectTensor(*shape, {DType::I64, DType::I32}, 1))
    return std::move(error);
  Expected<std::vector<int64_t>> dims = readIntegers(*shape->file, *shape->info);
  if (!dims)
    return dims.takeError();
  if (dims->size() != 2 || (*dims)[0] <= 0 || (*dims)[1] <= 0)
    return entryError(*shape, "values", "expected two positive sizes (N, K)");
  const int64_t n = (*dims)[0], k = (*dims)[1];
  const int64_t groups = args.perChannel ? 1 : k / args.groupSize;
  if (!args.perChannel && k % args.groupSize != 0)
    return entryError(*shape, "values",
                      "K = " + llvm::Twine(k) +
                          " is not divisible by group_size " +
                          llvm::Twine(args.groupSize));
  const int64_t rowWords = packed->info->shape[1];
  const bool legacy = rowWords != denseWords(k, bits) &&
                      rowWords == legacyWords(k, bits);
  if (packed->info->shape[0] != n ||
      (rowWords != denseWords(k, bits) && !legacy))
    return entryError(*packed, "shape",
                      "expected [" + llvm::Twine(n) + ", " +
                          llvm::Twine(denseWords(k, bits)) +
                          "] for weight_shape (" + llvm::Twine(n) + ", " +
                          llvm::Twine(k) + ") and " + llvm::Twine(bits) +
                          " bits, got " + packed->info->shapeString());
  if (scales->info->shape[0] != n || scales->info->shape[1] != groups)
    return entryError(*scales, "shape",
                      "expected [" + llvm::Twine(n) + ", " +
                          llvm::Twine(groups) + "], got " +
                          scales->info->shapeString());

  core::QuantizedMatrix matrix;
  core::Scheme &scheme = matrix.scheme;
  scheme.kind = args.symmetric ? core::ElementKind::SignedInt
                               : core::ElementKind::UnsignedInt;
  scheme.bits = bits;
  scheme.groupSize = args.perChannel ? core::kPerChannel : args.groupSize;
  scheme.scaleType = scales->info->dtype == DType::BF16 ? core::ScaleType::BF16
                     : scales->info->dtype == DType::F32
                         ? core::ScaleType::F32
                         : core::ScaleType::F16;
  scheme.zero = args.symmetric ? core::ZeroKind::None : core::ZeroKind::Int;
  matrix.rows = n;
  matrix.cols = k;

  TensorSet::Entry gIdx = tensors.find(prefix + ".weight_g_idx");
  if (gIdx.info) {
    if (Error error = expectTensor(gIdx, {DType::I32}, 1))
      return std::move(error);
    if (gIdx.info->shape[0] != k)
      return entryError(gIdx, "shape",
                        "expected [" + llvm::Twine(k) + "], got " +
                            gIdx.info->shapeString());
    Expected<std::vector<int64_t>> values = readIntegers(*gIdx.file, *gIdx.info);
    if (!values)
      return values.takeError();
    const int64_t groupLength = k / groups;
    bool ordered = false;
    for (int64_t c = 0; c < k; ++c) {
      int64_t g = (*values)[c];
      if (g < 0 || g >= groups)
        return entryError(gIdx, "values",
                          "weight_g_idx[" + llvm::Twine(c) + "] = " +
                              llvm::Twine(g) + " is outside [0, " +
                              llvm::Twine(groups) + ")");
      ordered |= g != c / groupLength;
    }
    if (ordered) {
      scheme.actOrder = true;
      matrix.groupIndex.assign(values->begin(), values->end());
    }
  } else if (args.groupActOrder) {
    return tensorError(packed->file->path(), prefix + ".weight_g_idx", "",
                       "missing, but actorder is group (config group " +
                           args.group + ")");
  }
  if (std::string error = scheme.validateShape(n, k); !error.empty())
    return entryError(*packed, "scheme", error);

  Expected<std::vector<uint32_t>> words = readWords(*packed->file, *packed->info);
  Expected<std::vector<float>> scaleValues =
      readFloats(*scales->file, *scales->info);
  if (!words)
    return words.takeError();
  if (!scaleValues)
    return scaleValues.takeError();
  matrix.scales = std::move(*scaleValues);
  // Stored codes are q + 2^(bits-1): as unsigned codes (asymmetric) they
  // are used as they are; as two's complement q (symmetric) that offset is
  // a flip of the top bit.
  const uint32_t offset = 1u << (bits - 1);
  const int64_t codeRow = scheme.codeWordsPerRow(k);
  matrix.codes.assign(n * codeRow, 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      uint32_t stored = unpack(&(*words)[r * rowWords], c, bits, legacy);
      core::insertCode(&matrix.codes[r * codeRow], c, bits,
                       args.symmetric ? stored ^ offset : stored);
    }

  if (!args.symmetric) {
    Expected<TensorSet::Entry> zeros =
        tensors.require(prefix + ".weight_zero_point");
    if (!zeros)
      return zeros.takeError();
    if (Error error = expectTensor(*zeros, {DType::I32}, 2))
      return std::move(error);
    const int64_t zeroRows = zeros->info->shape[0];
    const bool zeroLegacy = zeroRows != denseWords(n, bits) &&
                            zeroRows == legacyWords(n, bits);
    if ((zeroRows != denseWords(n, bits) && !zeroLegacy) ||
        zeros->info->shape[1] != groups)
      return entryError(*zeros, "shape",
                        "expected [" + llvm::Twine(denseWords(n, bits)) + ", " +
                            llvm::Twine(groups) + "] (N = " + llvm::Twine(n) +
                            " packed along dim 0), got " +
                            zeros->info->shapeString());
    Expected<std::vector<uint32_t>> zeroWords =
        readWords(*zeros->file, *zeros->info);
    if (!zeroWords)
      return zeroWords.takeError();
    const int64_t zeroRow = scheme.zeroWordsPerRow(k);
    matrix.zeroCodes.assign(n * zeroRow, 0);
    std::vector<uint32_t> column(zeroRows);
    for (int64_t g = 0; g < groups; ++g) {
      for (int64_t w = 0; w < zeroRows; ++w)
        column[w] = (*zeroWords)[w * groups + g];
      for (int64_t r = 0; r < n; ++r)
        core::insertCode(&matrix.zeroCodes[r * zeroRow], g, bits,
                         unpack(column.data(), r, bits, zeroLegacy));
    }
  }
  Linear linear{prefix, std::move(matrix), std::nullopt};
  if (Error error = readBias(tensors, prefix, n, linear.bias))
    return std::move(error);
  return linear;
}

} // namespace

Error qmlir::checkpoint::detail::importCompressedTensors(
    const TensorSet &tensors, const QuantConfig &config,
    ImportedCheckpoint &out) {
  Expected<std::vector<WeightArgs>> groups = readGroups(config);
  if (!groups)
    return groups.takeError();
  for (const std::string &prefix : prefixesWith(tensors, ".weight_packed")) {
    const WeightArgs *args = groupFor(*groups, prefix);
    if (!args)
      return tensorError(config.origin, prefix + ".weight_packed", "",
                         "no config group targets this linear");
    Expected<Linear> linear = importLinear(tensors, prefix, *args);
    if (!linear)
      return linear.takeError();
    out.linears.push_back(std::move(*linear));
  }
  return Error::success();
}
