//===- ManifestLayers.cpp - The layers and weights of a model bundle ------===//
//
// A layer names what it computes (like a kernel), its weight tensors (each a
// kernel argument, and where weights.bin holds it) and which kernel serves
// each range of M. Everything is checked against the kernels, so that
// qmlir_run_layer can pass the layer's pointers to any of them unchanged.
//
//===----------------------------------------------------------------------===//

#include "JsonReader.h"

#include <algorithm>

using namespace qmlir::runtime;
using json = nlohmann::json;

namespace {

/// Weights in weights.bin start at multiples of this many bytes.
constexpr uint64_t kWeightAlignment = 16;

bool sameOp(const OpSpec &a, const OpSpec &b) {
  return a.op == b.op && a.n == b.n && a.k == b.k && a.scheme == b.scheme &&
         (!a.isSwiglu() || a.upScheme == b.upScheme) &&
         a.activation == b.activation && a.hasBias == b.hasBias &&
         a.hasResidual == b.hasResidual;
}

/// The weights a layer computing `op` has: its kernels' arguments other than
/// x, residual and out, in order.
std::vector<ArgumentSpec> weightArguments(const OpSpec &op) {
  std::vector<ArgumentSpec> weights;
  for (ArgumentSpec &arg : kernelArguments(op))
    if (arg.name != "x" && arg.name != "residual" && arg.name != "out")
      weights.push_back(std::move(arg));
  return weights;
}

void parseWeightsFile(const JsonReader &r, const json &value,
                      WeightsFileSpec &file) {
  r.object(value, "weights");
  file.file = r.fileName(r.field(value, "weights", "file"), "weights.file");
  file.bytes =
      uint64_t(r.integer(r.field(value, "weights", "bytes"), "weights.bytes", 0));
  file.fnv1a64 = r.checksum(r.field(value, "weights", "fnv1a64"),
                            "weights.fnv1a64");
}

void parseWeights(const JsonReader &r, const json &value,
                  const std::string &path, const Manifest &manifest,
                  LayerSpec &layer) {
  std::vector<ArgumentSpec> expected = weightArguments(layer);
  r.array(value, path);
  std::vector<std::string> expectedNames, names;
  for (const ArgumentSpec &arg : expected)
    expectedNames.push_back(arg.name);
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string weightPath = element(path, i);
    r.object(value[i], weightPath);
    names.push_back(
        r.string(r.field(value[i], weightPath, "name"), join(weightPath, "name")));
  }
  if (names != expectedNames)
    r.fail(path, "a " + describeOp(layer) + " has the weights (" +
                     list(expectedNames) + "), got (" + list(names) + ")");

  for (size_t i = 0; i < value.size(); ++i) {
    const std::string weightPath = element(path, i);
    const ArgumentSpec &want = expected[i];
    WeightSpec weight;
    weight.name = want.name;
    weight.element = r.string(r.field(value[i], weightPath, "element"),
                              join(weightPath, "element"));
    if (weight.element != want.element)
      r.fail(join(weightPath, "element"),
             "weight '" + want.name + "' must have element type \"" +
                 want.element + "\", got \"" + weight.element + "\"");
    const std::string shapePath = join(weightPath, "shape");
    const json &shape =
        r.array(r.field(value[i], weightPath, "shape"), shapePath, 2);
    weight.rows = r.integer(shape[0], element(shapePath, 0), 1);
    weight.cols = r.integer(shape[1], element(shapePath, 1), 1);
    if (weight.rows != want.shape[0].value || weight.cols != want.shape[1].value)
      r.fail(shapePath, "weight '" + want.name + "' must have shape " +
                            formatShape(want.shape) + ", got [" +
                            std::to_string(weight.rows) + ", " +
                            std::to_string(weight.cols) + "]");
    weight.bytes = arrayBytes(weight.element, weight.rows, weight.cols);

    if (const json *offset = r.optionalField(value[i], "offset")) {
      const std::string offsetPath = join(weightPath, "offset");
      if (!manifest.weightsFile)
        r.fail(offsetPath, "the bundle has no weights file (\"weights\")");
      weight.inBundle = true;
      weight.offset = uint64_t(r.integer(*offset, offsetPath, 0));
      if (weight.offset % kWeightAlignment != 0)
        r.fail(offsetPath, "offset " + std::to_string(weight.offset) +
                               " is not a multiple of " +
                               std::to_string(kWeightAlignment));
      uint64_t fileBytes = manifest.weightsFile->bytes;
      if (weight.offset > fileBytes || weight.bytes > fileBytes - weight.offset)
        r.fail(offsetPath, "weight '" + weight.name + "' (" +
                               std::to_string(weight.bytes) + " bytes at " +
                               std::to_string(weight.offset) +
                               ") ends beyond the " +
                               std::to_string(fileBytes) + "-byte " +
                               manifest.weightsFile->file);
    }
    layer.weights.push_back(std::move(weight));
  }
}

void parseDispatch(const JsonReader &r, const json &value,
                   const std::string &path, const Manifest &manifest,
                   LayerSpec &layer) {
  r.array(value, path);
  if (value.empty())
    r.fail(path, "a layer needs at least one kernel");
  int64_t next = 1; // the smallest M not yet served
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entryPath = element(path, i);
    r.object(value[i], entryPath);
    DispatchEntry entry;
    entry.mMin = r.integer(r.field(value[i], entryPath, "m_min"),
                           join(entryPath, "m_min"), 1);
    entry.mMax = r.integer(r.field(value[i], entryPath, "m_max"),
                           join(entryPath, "m_max"), 1);
    if (entry.mMin != next)
      r.fail(join(entryPath, "m_min"),
             "ranges must be ascending and contiguous from M = 1: expected " +
                 std::to_string(next) + ", got " + std::to_string(entry.mMin));
    if (entry.mMax < entry.mMin)
      r.fail(join(entryPath, "m_max"),
             "m_max = " + std::to_string(entry.mMax) +
                 " is less than m_min = " + std::to_string(entry.mMin));
    std::string name = r.string(r.field(value[i], entryPath, "kernel"),
                                join(entryPath, "kernel"));
    auto it = std::find_if(
        manifest.kernels.begin(), manifest.kernels.end(),
        [&](const KernelSpec &kernel) { return kernel.name == name; });
    if (it == manifest.kernels.end())
      r.fail(join(entryPath, "kernel"),
             "no kernel \"" + name + "\" in \"kernels\"");
    if (!sameOp(*it, layer))
      r.fail(join(entryPath, "kernel"),
             "kernel \"" + name + "\" computes a " + describeOp(*it) +
                 " [n = " + std::to_string(it->n) + ", k = " +
                 std::to_string(it->k) + "], not the layer's " +
                 describeOp(layer) + " [n = " + std::to_string(layer.n) +
                 ", k = " + std::to_string(layer.k) + "]");
    if (entry.mMin < it->launch.mMin || entry.mMax > it->launch.mMax)
      r.fail(entryPath, "kernel \"" + name + "\" accepts M in [" +
                            std::to_string(it->launch.mMin) + ", " +
                            std::to_string(it->launch.mMax) +
                            "], not all of [" + std::to_string(entry.mMin) +
                            ", " + std::to_string(entry.mMax) + "]");
    // One copy of the weights serves every M: all kernels read one layout.
    if (i == 0)
      layer.layout = it->layout;
    else if (it->layout != layer.layout)
      r.fail(join(entryPath, "kernel"),
             "kernel \"" + name + "\" reads the " +
                 qmlir::core::toString(it->layout) + " layout, the layer's other "
                 "kernels the " + qmlir::core::toString(layer.layout) + " layout");
    entry.kernel = size_t(it - manifest.kernels.begin());
    layer.dispatch.push_back(entry);
    next = entry.mMax + 1;
  }
}

} // namespace

void qmlir::runtime::parseLayers(const JsonReader &r, const json &root,
                                 Manifest &manifest) {
  if (const json *weights = r.optionalField(root, "weights")) {
    manifest.weightsFile.emplace();
    parseWeightsFile(r, *weights, *manifest.weightsFile);
  }
  const json *layers = r.optionalField(root, "layers");
  if (!layers)
    return;
  r.array(*layers, "layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    const std::string path = element("layers", i);
    const json &value = r.object((*layers)[i], path);
    LayerSpec layer;
    layer.name = r.string(r.field(value, path, "name"), join(path, "name"));
    for (size_t j = 0; j < manifest.layers.size(); ++j)
      if (manifest.layers[j].name == layer.name)
        r.fail(join(path, "name"), "duplicate layer name \"" + layer.name +
                                       "\" (also layers[" + std::to_string(j) +
                                       "])");
    parseOp(r, value, path, layer);
    parseWeights(r, r.field(value, path, "weights"), join(path, "weights"),
                 manifest, layer);
    parseDispatch(r, r.field(value, path, "dispatch"), join(path, "dispatch"),
                  manifest, layer);
    manifest.layers.push_back(std::move(layer));
  }
}
