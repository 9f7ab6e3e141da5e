//===- LayerData.cpp - Host weights and reference of a bundle's layers ----===//

#include "LayerData.h"

#include "qmlir/Core/Layout.h"

#include "qmlir/Core/Problem.h"

#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

using namespace qmlir::run;
namespace core = qmlir::core;

namespace {

uint32_t readLittleEndian(const uint8_t *bytes, unsigned size) {
  uint32_t value = 0;
  for (unsigned i = 0; i < size; ++i)
    value |= uint32_t(bytes[i]) << (8 * i);
  return value;
}

std::vector<uint32_t> words(const std::vector<uint8_t> &bytes) {
  std::vector<uint32_t> result(bytes.size() / 4);
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = readLittleEndian(&bytes[4 * i], 4);
  return result;
}

std::vector<float> scaleValues(const std::vector<uint8_t> &bytes,
                               core::ScaleType type) {
  unsigned size = core::byteSize(type);
  std::vector<float> result(bytes.size() / size);
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = core::scaleValue(type, readLittleEndian(&bytes[size * i], size));
  return result;
}

/// The inverse of QuantizedMatrix::partBytes.
core::QuantizedMatrix fromParts(const core::Scheme &scheme, int64_t rows,
                                int64_t cols,
                                const std::vector<std::vector<uint8_t>> &parts) {
  core::QuantizedMatrix matrix;
  matrix.scheme = scheme;
  matrix.rows = rows;
  matrix.cols = cols;
  std::vector<core::Part> layout = scheme.parts(rows, cols);
  for (size_t i = 0; i < layout.size(); ++i) {
    const std::string &name = layout[i].name;
    if (name == "codes")
      matrix.codes = words(parts[i]);
    else if (name == "scales")
      matrix.scales = scaleValues(parts[i], scheme.scaleType);
    else if (name == "zeros" && scheme.zero == core::ZeroKind::Int)
      matrix.zeroCodes = words(parts[i]);
    else if (name == "zeros")
      matrix.zeroValues = scaleValues(parts[i], scheme.scaleType);
    else if (name == "codebook")
      matrix.codebook = scaleValues(parts[i], scheme.scaleType);
    else if (name == "g_idx")
      for (uint32_t word : words(parts[i]))
        matrix.groupIndex.push_back(int32_t(word));
  }
  return matrix;
}

core::QuantizedMatrix randomMatrix(const core::Scheme &scheme, int64_t n,
                                   int64_t k, std::mt19937_64 &rng) {
  std::normal_distribution<float> normal;
  std::vector<float> weights(size_t(n * k));
  for (float &w : weights)
    w = normal(rng) * 0.05f;
  return core::quantize(weights.data(), n, k, scheme);
}

} // namespace

core::FloatType qmlir::run::activationType(const qmlir_layer_info &info) {
  // The runtime accepts only f16 and bf16 layers.
  return core::parseFloatType(info.activation).value_or(core::FloatType::F16);
}

bool qmlir::run::loadLayerData(const qmlir_bundle *bundle,
                               const std::string &directory, const char *name,
                               const LayerLayout &layout, uint64_t seed,
                               LayerData &data, std::string &error) {
  if (qmlir_bundle_layer_info(bundle, name, &data.info) != QMLIR_SUCCESS) {
    error = qmlir_last_error();
    return false;
  }
  const qmlir_layer_info &info = data.info;
  bool swiglu = std::string(info.op) == "swiglu";
  std::vector<qmlir_weight_info> weights(info.num_weights);
  for (size_t i = 0; i < info.num_weights; ++i)
    if (qmlir_bundle_weight_info(bundle, name, i, &weights[i]) !=
        QMLIR_SUCCESS) {
      error = qmlir_last_error();
      return false;
    }
  std::optional<core::Scheme> scheme = core::Scheme::parse(layout.scheme, &error);
  std::optional<core::Scheme> upScheme =
      swiglu ? core::Scheme::parse(layout.upScheme, &error) : core::Scheme();
  if (!scheme || !upScheme) {
    error = "layer '" + std::string(name) + "': " + error;
    return false;
  }
  data.scheme = *scheme;
  data.upScheme = *upScheme;
  const std::vector<uint64_t> &offsets = layout.offsets;
  bool inBundle = !offsets.empty();
  std::optional<core::Layout> codesLayout = core::parseLayout(info.layout);
  if (!codesLayout) {
    error = "layer '" + std::string(name) + "': unknown layout";
    return false;
  }

  if (inBundle) {
    if (offsets.size() != info.num_weights) {
      error = "layer '" + std::string(name) + "': the manifest gives " +
              std::to_string(offsets.size()) + " weight offsets for " +
              std::to_string(info.num_weights) + " weights";
      return false;
    }
    std::ifstream file(directory + "/weights.bin", std::ios::binary);
    for (size_t i = 0; i < info.num_weights; ++i) {
      std::vector<uint8_t> bytes(weights[i].bytes);
      file.seekg(std::streamoff(offsets[i]));
      if (!file.read(reinterpret_cast<char *>(bytes.data()),
                     std::streamsize(bytes.size()))) {
        error = "cannot read weight '" + std::string(weights[i].name) +
                "' of layer '" + name + "' from " + directory + "/weights.bin";
        return false;
      }
      data.tensors.push_back(std::move(bytes));
    }
    size_t gateParts = data.scheme.parts(info.n, info.k).size();
    std::vector<std::vector<uint8_t>> gate(data.tensors.begin(),
                                           data.tensors.begin() + gateParts);
    data.weights = fromParts(data.scheme, info.n, info.k, gate);
    data.weights.codes = core::canonicalCodes(
        *codesLayout, data.scheme, info.n, info.k, data.weights.codes);
    if (swiglu) {
      std::vector<std::vector<uint8_t>> up(data.tensors.begin() + gateParts,
                                           data.tensors.end());
      data.upWeights = fromParts(data.upScheme, info.n, info.k, up);
      data.upWeights->codes = core::canonicalCodes(
          *codesLayout, data.upScheme, info.n, info.k, data.upWeights->codes);
    }
    if (info.has_bias) {
      const std::vector<uint8_t> &bias = data.tensors.back();
      for (int64_t i = 0; i < info.n; ++i) {
        uint16_t bits = uint16_t(bias[2 * i] | (bias[2 * i + 1] << 8));
        data.bias.push_back(
            float(core::activationValue(bits, activationType(info))));
      }
    }
  } else {
    std::mt19937_64 rng(seed);
    data.weights = randomMatrix(data.scheme, info.n, info.k, rng);
    if (swiglu)
      data.upWeights = randomMatrix(data.upScheme, info.n, info.k, rng);
    if (info.has_bias) {
      std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
      for (int64_t i = 0; i < info.n; ++i)
        data.bias.push_back(core::roundTo(activationType(info), uniform(rng)));
    }
    // The bytes the kernels read: codes in the layer's layout.
    data.tensors = data.weights.partBytes(*codesLayout);
    if (swiglu)
      for (std::vector<uint8_t> &part : data.upWeights->partBytes(*codesLayout))
        data.tensors.push_back(std::move(part));
    if (info.has_bias)
      data.tensors.push_back(
          core::activationBytes(activationType(info), data.bias));
  }
  data.dense = core::dequantize(data.weights);
  if (swiglu)
    data.upDense = core::dequantize(*data.upWeights);
  return true;
}

Reference qmlir::run::referenceRows(const LayerData &data,
                                    const std::vector<double> &x,
                                    const std::vector<double> &residual,
                                    int64_t rows) {
  const int64_t n = data.info.n, k = data.info.k;
  bool swiglu = std::string(data.info.op) == "swiglu";
  Reference ref;
  ref.values.resize(size_t(rows * n));
  ref.magnitudes.resize(size_t(rows * n));
  for (int64_t r = 0; r < rows; ++r) {
    const double *xr = &x[size_t(r * k)];
    for (int64_t c = 0; c < n; ++c) {
      const float *w = &data.dense[size_t(c * k)];
      double g = 0, absG = 0, u = 0, absU = 0;
      for (int64_t i = 0; i < k; ++i) {
        g += xr[i] * w[i];
        absG += std::fabs(xr[i] * w[i]);
      }
      double value = g, magnitude = absG;
      if (swiglu) {
        const float *wu = &data.upDense[size_t(c * k)];
        for (int64_t i = 0; i < k; ++i) {
          u += xr[i] * wu[i];
          absU += std::fabs(xr[i] * wu[i]);
        }
        double silu = g / (1 + std::exp(-g));
        value = silu * u;
        // The accumulation errors of g and u carried through silu(g) * u
        // (|silu'| < 1.1).
        magnitude = 1.1 * std::fabs(u) * absG + std::fabs(silu) * absU;
      } else if (data.info.has_bias) {
        value += data.bias[size_t(c)];
      }
      if (!residual.empty())
        value += residual[size_t(r * n + c)];
      ref.values[size_t(r * n + c)] = value;
      ref.magnitudes[size_t(r * n + c)] = magnitude;
    }
  }
  return ref;
}

std::vector<uint16_t> qmlir::run::randomActivations(size_t count,
                                                    core::FloatType type,
                                                    std::mt19937_64 &rng) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<uint16_t> bits(count);
  for (uint16_t &b : bits)
    b = core::activationBits(type, uniform(rng));
  return bits;
}

std::map<std::string, LayerLayout>
qmlir::run::readLayerLayouts(const std::string &bundle) {
  std::map<std::string, LayerLayout> layouts;
  std::ifstream file(bundle + "/manifest.json");
  nlohmann::json manifest = nlohmann::json::parse(file, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("layers"))
    return layouts;
  for (const auto &layer : manifest["layers"]) {
    LayerLayout &layout = layouts[layer["name"].get<std::string>()];
    layout.scheme = layer["scheme"].get<std::string>();
    if (layer.contains("up_scheme"))
      layout.upScheme = layer["up_scheme"].get<std::string>();
    for (const auto &weight : layer["weights"])
      if (weight.contains("offset"))
        layout.offsets.push_back(weight["offset"].get<uint64_t>());
  }
  return layouts;
}

bool qmlir::run::parseMList(const char *text, std::vector<int64_t> &ms) {
  std::vector<int64_t> parsed;
  for (const char *p = text; *p;) {
    char *end = nullptr;
    long long m = std::strtoll(p, &end, 10);
    if (end == p || m < 1 || (*end && *end != ','))
      return false;
    parsed.push_back(m);
    p = *end ? end + 1 : end;
  }
  if (parsed.empty())
    return false;
  ms = std::move(parsed);
  return true;
}
