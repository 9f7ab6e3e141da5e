//===- qmlir-checkpoint-info.cpp - Describe a checkpoint and/or a spec ----===//
//
// qmlir-checkpoint-info [PATH] [--spec=SPEC]: imports the checkpoint (a
// directory or a .safetensors file), joins it with the spec if one is given,
// and prints the model's layers. Exit status: 0, or 2 with an error on
// stderr for bad input.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Checkpoint/ModelSpec.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace qmlir;
using namespace qmlir::checkpoint;

namespace {
llvm::cl::opt<std::string> inputPath(llvm::cl::Positional,
                                     llvm::cl::desc("[checkpoint]"));
llvm::cl::opt<std::string> specPath("spec",
                                    llvm::cl::desc("Model spec (JSON)"),
                                    llvm::cl::value_desc("file"));

int fail(llvm::Error error) {
  llvm::WithColor::error(llvm::errs(), "qmlir-checkpoint-info")
      << llvm::toString(std::move(error)) << "\n";
  return 2;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "Prints the layers of a quantized checkpoint and/or a spec\n");
  if (inputPath.empty() && specPath.empty())
    return fail(llvm::createStringError("give a checkpoint, --spec, or both"));
  std::optional<ImportedCheckpoint> checkpoint;
  std::optional<ModelSpec> spec;
  if (!inputPath.empty()) {
    llvm::Expected<ImportedCheckpoint> imported = importCheckpoint(inputPath);
    if (!imported)
      return fail(imported.takeError());
    checkpoint = std::move(*imported);
  }
  if (!specPath.empty()) {
    llvm::Expected<ModelSpec> loaded = loadModelSpec(specPath);
    if (!loaded)
      return fail(loaded.takeError());
    spec = std::move(*loaded);
  }
  llvm::Expected<Model> model = buildModel(spec ? &*spec : nullptr,
                                           checkpoint ? &*checkpoint : nullptr);
  if (!model)
    return fail(model.takeError());

  llvm::outs() << "model: " << model->name << "\n";
  if (checkpoint)
    llvm::outs() << "format: " << toString(checkpoint->format) << "\n";
  llvm::outs() << "activation: " << core::toString(model->activation) << "\n";
  llvm::outs() << "layers: " << model->layers.size() << "\n";
  for (const ModelLayer &layer : model->layers) {
    llvm::outs() << "layer " << layer.name << ": op=" << toString(layer.op)
                 << " n=" << layer.n << " k=" << layer.k
                 << " scheme=" << layer.scheme.str();
    if (layer.op == LayerOp::Swiglu && layer.upScheme != layer.scheme)
      llvm::outs() << " up_scheme=" << layer.upScheme.str();
    llvm::outs() << " bias=" << (layer.hasBias ? "yes" : "no")
                 << " residual=" << (layer.residual ? "yes" : "no")
                 << " weights=" << (layer.weights ? "yes" : "no") << "\n";
  }
  return 0;
}
