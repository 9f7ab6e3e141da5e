//===- LayerData.h - Host weights and reference of a bundle's layers -*- C++ -*-===//
//
// What qmlir-run-model needs per layer: its weights as the bundle holds them
// (the tensors of weights.bin, or random ones quantized from a seed when the
// bundle has none) and, for chosen rows of the activations, the fp64
// reference with the checker's per-element magnitudes. MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_MODEL_LAYERDATA_H
#define QMLIR_TOOLS_QMLIR_RUN_MODEL_LAYERDATA_H

#include "qmlir/Core/Reference.h"
#include "qmlir/Runtime/qmlir_runtime.h"

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace qmlir::run {

struct LayerData {
  qmlir_layer_info info{};
  core::Scheme scheme, upScheme;
  /// matmul: the weights; swiglu: the gate (weights) and up (upWeights).
  core::QuantizedMatrix weights;
  std::optional<core::QuantizedMatrix> upWeights;
  std::vector<float> bias;
  /// Dequantized [n, k] matrices, row-major (up: swiglu only).
  std::vector<float> dense, upDense;
  /// Every weight tensor's bytes, in the bundle's order.
  std::vector<std::vector<uint8_t>> tensors;
};

/// The layer's activation type (F16 or BF16).
core::FloatType activationType(const qmlir_layer_info &info);

/// What the manifest says about a layer beyond the C API's layer info.
struct LayerLayout {
  std::string scheme, upScheme; // upScheme: swiglu only
  /// Offsets of the weights in weights.bin (empty: the bundle holds none).
  std::vector<uint64_t> offsets;
};

/// Every layer's LayerLayout, by name, from the bundle's manifest (which the
/// runtime has checked by the time this reads it).
std::map<std::string, LayerLayout> readLayerLayouts(const std::string &bundle);

/// "1,16,64" -> {1, 16, 64}; false (and `ms` unchanged) unless every entry
/// is a positive integer.
bool parseMList(const char *text, std::vector<int64_t> &ms);

/// Random activations in [-1, 1] as bits of `type` (F16 or BF16).
std::vector<uint16_t> randomActivations(size_t count, core::FloatType type,
                                        std::mt19937_64 &rng);

/// Reads layer `name`'s weights from the bundle's weights.bin (`directory`),
/// or draws them from `seed` when the bundle holds none.
bool loadLayerData(const qmlir_bundle *bundle, const std::string &directory,
                   const char *name, const LayerLayout &layout, uint64_t seed,
                   LayerData &data, std::string &error);

struct Reference {
  std::vector<double> values;      // [rows, n]
  std::vector<double> magnitudes;  // the checker's per-element magnitudes
};

/// The fp64 reference of `rows` rows of a layer: x [rows, k] and residual
/// [rows, n] (empty if none) as doubles.
Reference referenceRows(const LayerData &data, const std::vector<double> &x,
                        const std::vector<double> &residual, int64_t rows);

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_RUN_MODEL_LAYERDATA_H
