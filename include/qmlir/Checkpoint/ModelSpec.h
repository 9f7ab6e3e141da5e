//===- ModelSpec.h - Model specs and models ---------------------*- C++ -*-===//
//
// A model spec (JSON, docs/Checkpoints.md) lists the layers to compile, with
// or without a checkpoint's weights; buildModel joins a spec and/or a
// checkpoint into a Model, the list of layers with shapes, schemes and
// (optionally) weights.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CHECKPOINT_MODELSPEC_H
#define QMLIR_CHECKPOINT_MODELSPEC_H

#include "qmlir/Checkpoint/Import.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace qmlir::checkpoint {

enum class LayerOp { Matmul, Swiglu };
const char *toString(LayerOp op);

/// One layer of a spec, after "repeat" is expanded ("{i}" replaced).
struct SpecLayer {
  std::string name;
  /// Where the layer came from, for errors: "spec.json: layers[3]" or
  /// "spec.json: layers[3] (i = 5)".
  std::string where;
  LayerOp op = LayerOp::Matmul;
  std::optional<int64_t> n, k;
  std::optional<core::Scheme> scheme;
  std::optional<core::FloatType> activation;
  /// matmul: the checkpoint linear (default: name).
  std::string source;
  /// swiglu: the gate and up linears (default: <name>.gate, <name>.up).
  std::string gate, up;
  std::optional<bool> bias;
  bool residual = false;
};

struct ModelSpec {
  std::string name;
  std::optional<core::FloatType> activation;
  std::vector<SpecLayer> layers;
};

/// Parses a spec; `origin` names it in errors. Errors name the field, as in
/// "spec.json: layers[3].n: expected a positive integer".
llvm::Expected<ModelSpec> parseModelSpec(llvm::StringRef json,
                                         llvm::StringRef origin);
llvm::Expected<ModelSpec> loadModelSpec(llvm::StringRef path);

struct ModelLayer {
  std::string name;
  LayerOp op = LayerOp::Matmul;
  int64_t n = 0, k = 0;
  core::FloatType activation = core::FloatType::F16;
  core::Scheme scheme;
  /// swiglu: the up projection's scheme (scheme is the gate's).
  core::Scheme upScheme;
  bool hasBias = false;
  bool residual = false;
  /// With a checkpoint: the weights (swiglu: gate in weights, up in
  /// upWeights) and the bias.
  std::optional<core::QuantizedMatrix> weights, upWeights;
  std::vector<float> bias;
};

struct Model {
  std::string name;
  core::FloatType activation = core::FloatType::F16;
  std::vector<ModelLayer> layers;
};

/// Spec only: layers without weights (n, k and scheme required). Checkpoint
/// only: one matmul layer per linear. Both: the spec's layers with the
/// checkpoint's weights; n, k, scheme and bias are optional in the spec and
/// must match the checkpoint where given. At least one must be non-null.
llvm::Expected<Model> buildModel(const ModelSpec *spec,
                                 const ImportedCheckpoint *checkpoint);

} // namespace qmlir::checkpoint

#endif // QMLIR_CHECKPOINT_MODELSPEC_H
