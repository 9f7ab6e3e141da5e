//===- BuildModel.cpp - A model from a spec and/or a checkpoint -----------===//
//
// Joins a spec's layers with a checkpoint's linears: the checkpoint provides
// weights, shapes and schemes; whatever the spec also states must agree.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include "qmlir/Checkpoint/ModelSpec.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::detail;
using llvm::Error;
using llvm::Expected;

namespace {

/// Checks the spec's n, k and scheme (where given) against a linear.
Error checkAgainst(const SpecLayer &layer, const Linear &linear,
                   const llvm::Twine &role) {
  const core::QuantizedMatrix &w = linear.weights;
  auto mismatch = [&](const char *field, const std::string &spec,
                      const std::string &found) {
    return makeError(layer.where + "." + field + ": " + spec + " but " + role +
                     " '" + linear.name + "' has " + found);
  };
  if (layer.n && *layer.n != w.rows)
    return mismatch("n", std::to_string(*layer.n), std::to_string(w.rows));
  if (layer.k && *layer.k != w.cols)
    return mismatch("k", std::to_string(*layer.k), std::to_string(w.cols));
  if (layer.scheme && *layer.scheme != w.scheme)
    return mismatch("scheme", layer.scheme->str(), w.scheme.str());
  return Error::success();
}

Expected<const Linear *> findLinear(const ImportedCheckpoint &checkpoint,
                                    const SpecLayer &layer,
                                    const std::string &name,
                                    const char *field) {
  if (const Linear *linear = checkpoint.find(name))
    return linear;
  return makeError(layer.where + "." + field + ": the checkpoint " +
                   checkpoint.path + " has no linear '" + name + "'");
}

Expected<ModelLayer> withWeights(const SpecLayer &spec,
                                 const ImportedCheckpoint &checkpoint,
                                 core::FloatType activation) {
  ModelLayer layer;
  layer.name = spec.name;
  layer.op = spec.op;
  layer.activation = spec.activation.value_or(activation);
  layer.residual = spec.residual;
  if (spec.op == LayerOp::Matmul) {
    Expected<const Linear *> linear =
        findLinear(checkpoint, spec, spec.source, "source");
    if (!linear)
      return linear.takeError();
    if (Error error = checkAgainst(spec, **linear, "linear"))
      return std::move(error);
    const bool hasBias = (*linear)->bias.has_value();
    if (spec.bias && *spec.bias != hasBias)
      return makeError(spec.where + ".bias: " +
                       (*spec.bias ? "true" : "false") + " but linear '" +
                       (*linear)->name + "' has " +
                       (hasBias ? "a bias" : "no bias"));
    layer.n = (*linear)->weights.rows;
    layer.k = (*linear)->weights.cols;
    layer.scheme = (*linear)->weights.scheme;
    layer.weights = (*linear)->weights;
    layer.hasBias = hasBias;
    if (hasBias)
      layer.bias = *(*linear)->bias;
    return layer;
  }
  Expected<const Linear *> gate = findLinear(checkpoint, spec, spec.gate, "gate");
  if (!gate)
    return gate.takeError();
  Expected<const Linear *> up = findLinear(checkpoint, spec, spec.up, "up");
  if (!up)
    return up.takeError();
  if (Error error = checkAgainst(spec, **gate, "gate"))
    return std::move(error);
  for (const Linear *linear : {*gate, *up})
    if (linear->bias)
      return makeError(spec.where + ": swiglu '" + spec.name + "': linear '" +
                       linear->name + "' has a bias, which swiglu does not take");
  const core::QuantizedMatrix &g = (*gate)->weights, &u = (*up)->weights;
  if (g.rows != u.rows || g.cols != u.cols)
    return makeError(spec.where + ": swiglu '" + spec.name + "': gate '" +
                     (*gate)->name + "' is [" + std::to_string(g.rows) + ", " +
                     std::to_string(g.cols) + "] but up '" + (*up)->name +
                     "' is [" + std::to_string(u.rows) + ", " +
                     std::to_string(u.cols) + "]");
  layer.n = g.rows;
  layer.k = g.cols;
  layer.scheme = g.scheme;
  layer.upScheme = u.scheme;
  layer.weights = g;
  layer.upWeights = u;
  return layer;
}

Expected<ModelLayer> withoutWeights(const SpecLayer &spec,
                                    core::FloatType activation) {
  for (auto [present, field] : {std::pair{spec.n.has_value(), "n"},
                                {spec.k.has_value(), "k"},
                                {spec.scheme.has_value(), "scheme"}})
    if (!present)
      return makeError(spec.where + "." + field +
                       ": missing (needed without a checkpoint)");
  ModelLayer layer;
  layer.name = spec.name;
  layer.op = spec.op;
  layer.n = *spec.n;
  layer.k = *spec.k;
  layer.activation = spec.activation.value_or(activation);
  layer.scheme = *spec.scheme;
  layer.upScheme = *spec.scheme;
  layer.hasBias = spec.bias.value_or(false);
  layer.residual = spec.residual;
  return layer;
}

} // namespace

Expected<Model> qmlir::checkpoint::buildModel(
    const ModelSpec *spec, const ImportedCheckpoint *checkpoint) {
  if (!spec && !checkpoint)
    return makeError("buildModel needs a spec, a checkpoint or both");
  Model model;
  if (!spec) {
    model.name = checkpoint->path;
    model.activation = checkpoint->activation;
    for (const Linear &linear : checkpoint->linears) {
      ModelLayer layer;
      layer.name = linear.name;
      layer.n = linear.weights.rows;
      layer.k = linear.weights.cols;
      layer.activation = model.activation;
      layer.scheme = linear.weights.scheme;
      layer.upScheme = linear.weights.scheme;
      layer.weights = linear.weights;
      layer.hasBias = linear.bias.has_value();
      if (linear.bias)
        layer.bias = *linear.bias;
      model.layers.push_back(std::move(layer));
    }
    return model;
  }
  model.name = spec->name;
  model.activation = spec->activation.value_or(
      checkpoint ? checkpoint->activation : core::FloatType::F16);
  for (const SpecLayer &layer : spec->layers) {
    Expected<ModelLayer> built =
        checkpoint ? withWeights(layer, *checkpoint, model.activation)
                   : withoutWeights(layer, model.activation);
    if (!built)
      return built.takeError();
    model.layers.push_back(std::move(*built));
  }
  return model;
}
