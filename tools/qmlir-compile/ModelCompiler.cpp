//===- ModelCompiler.cpp - Modules and whole models to bundles ------------===//

#include "ModelCompiler.h"

#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Core/Reference.h"
#include "qmlir/Pipelines/Pipelines.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <chrono>

using namespace mlir;
using namespace qmlir::compile;
namespace core = qmlir::core;
namespace ckpt = qmlir::checkpoint;

namespace {

/// Weights in weights.bin start at multiples of this (the runtime needs 16).
constexpr uint64_t kWeightAlignment = 256;

class Progress {
public:
  explicit Progress(bool enabled) : enabled(enabled) {}
  /// Prints `what` with the seconds since the previous step.
  void step(const Twine &what) {
    auto now = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now - last).count();
    last = now;
    if (enabled)
      llvm::errs() << "qmlir-compile: " << what
                   << llvm::formatv(" ({0:f2} s)\n", seconds);
  }
  bool enabled;

private:
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
};

/// Identical layers (same op, shape, schemes, activation and epilogue) share
/// one kernel.
std::string kernelKey(const ckpt::ModelLayer &layer) {
  return llvm::formatv("{0}|{1}|{2}|{3}|{4}|{5}|{6}|{7}",
                       ckpt::toString(layer.op), layer.n, layer.k,
                       layer.scheme.str(),
                       layer.op == ckpt::LayerOp::Swiglu ? layer.upScheme.str()
                                                         : "",
                       core::toString(layer.activation), layer.hasBias,
                       layer.residual)
      .str();
}

std::string tensorType(const core::Part &part) {
  return llvm::formatv("tensor<{0}x{1}x{2}>", part.rows, part.cols,
                       part.element);
}

/// `%<prefix>w = qmlir.pack ...` of one weight matrix; appends its
/// function arguments to `arguments`.
std::string packWeights(const core::Scheme &scheme, int64_t n, int64_t k,
                        StringRef prefix, std::string &arguments) {
  std::string operands, types;
  for (const core::Part &part : scheme.parts(n, k)) {
    arguments += llvm::formatv(", %{0}{1}: {2}", prefix, part.name,
                               tensorType(part));
    operands += (operands.empty() ? "%" : ", %") + prefix.str() + part.name;
    types += (types.empty() ? "" : ", ") + tensorType(part);
  }
  return llvm::formatv("  %{0}w = qmlir.pack {1} : ({2}) -> "
                       "!qmlir.qtensor<{3}x{4}, {5}>\n",
                       prefix, operands, types, n, k, scheme.str());
}

/// A func.func computing `layer` with one qmlir op.
std::string layerFunction(const ckpt::ModelLayer &layer, StringRef name) {
  const char *act = core::toString(layer.activation);
  std::string xType = llvm::formatv("tensor<?x{0}x{1}>", layer.k, act);
  std::string outType = llvm::formatv("tensor<?x{0}x{1}>", layer.n, act);
  auto qtensor = [&](const core::Scheme &scheme) {
    return llvm::formatv("!qmlir.qtensor<{0}x{1}, {2}>", layer.n, layer.k,
                         scheme.str())
        .str();
  };
  std::string arguments = "%x: " + xType, body, epilogue, epilogueTypes;
  if (layer.op == ckpt::LayerOp::Swiglu) {
    body += packWeights(layer.scheme, layer.n, layer.k, "g_", arguments);
    body += packWeights(layer.upScheme, layer.n, layer.k, "u_", arguments);
  } else {
    body += packWeights(layer.scheme, layer.n, layer.k, "", arguments);
    if (layer.hasBias) {
      std::string biasType = llvm::formatv("tensor<{0}x{1}>", layer.n, act);
      arguments += ", %bias: " + biasType;
      epilogue += " bias(%bias)";
      epilogueTypes += ", " + biasType;
    }
  }
  if (layer.residual) {
    arguments += ", %residual: " + outType;
    epilogue += " residual(%residual)";
    epilogueTypes += ", " + outType;
  }
  if (layer.op == ckpt::LayerOp::Swiglu)
    body += llvm::formatv("  %y = qmlir.swiglu %x, %g_w, %u_w{0} : {1}, {2}, "
                          "{3}{4} -> {5}\n",
                          epilogue, xType, qtensor(layer.scheme),
                          qtensor(layer.upScheme), epilogueTypes, outType);
  else
    body += llvm::formatv("  %y = qmlir.matmul %x, %w{0} : {1}, {2}{3} -> {4}\n",
                          epilogue, xType, qtensor(layer.scheme),
                          epilogueTypes, outType);
  return llvm::formatv("func.func @{0}({1}) -> {2} {{\n{3}  return %y : {2}\n}\n",
                       name, arguments, outType, body);
}

/// One weight tensor of a layer in weights.bin order.
struct WeightRecord {
  const ArgumentRecord *argument = nullptr;
  uint64_t bytes = 0;
  std::optional<uint64_t> offset;
};

/// A layer's weights: its kernel's arguments other than x, residual and out.
SmallVector<WeightRecord> layerWeights(const KernelRecord &kernel) {
  SmallVector<WeightRecord> weights;
  for (const ArgumentRecord &arg : kernel.arguments) {
    if (!arg.isWeight())
      continue;
    weights.push_back({&arg,
                       core::elementByteSize(arg.element) *
                           uint64_t(arg.rows * arg.cols),
                       std::nullopt});
  }
  return weights;
}

/// The bytes of a layer's weights in its kernel's argument order.
llvm::Expected<std::vector<std::vector<uint8_t>>>
weightBytes(const ckpt::ModelLayer &layer, ArrayRef<WeightRecord> records,
            core::Layout layout) {
  std::vector<std::vector<uint8_t>> bytes;
  // The codes in the layout the layer's kernels read (core/Layout.h).
  auto addMatrix = [&](const std::optional<core::QuantizedMatrix> &matrix) {
    core::QuantizedMatrix arranged = *matrix;
    arranged.codes = core::arrangeCodes(layout, matrix->scheme, matrix->rows,
                                        matrix->cols, matrix->codes);
    for (std::vector<uint8_t> &part : arranged.partBytes())
      bytes.push_back(std::move(part));
  };
  addMatrix(layer.weights);
  if (layer.op == ckpt::LayerOp::Swiglu)
    addMatrix(layer.upWeights);
  if (layer.hasBias)
    bytes.push_back(core::activationBytes(layer.activation, layer.bias));
  if (bytes.size() != records.size())
    return llvm::createStringError("layer '" + layer.name + "' has " +
                                   Twine(bytes.size()) + " weight tensors, " +
                                   "its kernel takes " + Twine(records.size()));
  for (size_t i = 0; i < bytes.size(); ++i)
    if (bytes[i].size() != records[i].bytes)
      return llvm::createStringError(
          "layer '" + layer.name + "', weight '" + records[i].argument->name +
          "': " +
          Twine(bytes[i].size()) + " bytes, expected " +
          Twine(records[i].bytes));
  return bytes;
}

} // namespace

llvm::Expected<CompiledKernels>
qmlir::compile::compileKernels(ModuleOp module, const CompileOptions &options) {
  qmlir::GpuPipelineOptions gpuOptions;
  gpuOptions.chip = options.chip;
  gpuOptions.blockSize = options.blockSize;
  gpuOptions.toolkit = options.toolkit;
  gpuOptions.tensorCores = options.tensorCores;
  gpuOptions.linearK = options.linearK;
  gpuOptions.format = "bin";
  PassManager kernelsPm(module.getContext());
  qmlir::buildGpuKernelsPipeline(kernelsPm, gpuOptions);
  if (failed(kernelsPm.run(module)))
    return llvm::createStringError("lowering to GPU kernels failed");

  CompiledKernels result;
  for (auto gpuModule : module.getOps<gpu::GPUModuleOp>())
    for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
      llvm::Expected<KernelRecord> record = describeKernel(kernel);
      if (!record)
        return record.takeError();
      result.kernels.push_back(std::move(*record));
    }
  if (result.kernels.empty())
    return llvm::createStringError("no qmlir.matmul or qmlir.swiglu to compile");

  PassManager binaryPm(module.getContext());
  qmlir::buildGpuBinaryPipeline(binaryPm, gpuOptions);
  if (failed(binaryPm.run(module)))
    return llvm::createStringError("compiling the kernels to a cubin failed");
  auto binaries = llvm::to_vector(module.getOps<gpu::BinaryOp>());
  if (binaries.size() != 1 || binaries.front().getObjects().size() != 1)
    return llvm::createStringError("expected one gpu.binary with one object");
  auto object = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);
  if (object.getFormat() != gpu::CompilationTarget::Binary)
    return llvm::createStringError("the kernels were not compiled to a cubin");
  result.cubin = object.getObject().getValue().str();
  result.moduleName = binaries.front().getName().str();
  return result;
}

llvm::Error qmlir::compile::compileModel(MLIRContext &context,
                                         const ckpt::Model &model,
                                         const CompileOptions &options,
                                         StringRef output, bool force) {
  Progress progress(options.progress);
  std::optional<std::pair<int, int>> cc = qmlir::codegen::computeCapability(options.chip);
  if (!cc)
    return llvm::createStringError("invalid chip '" + options.chip + "'");
  if (model.layers.empty())
    return llvm::createStringError("the model has no layers");

  // One function (hence one kernel per M bucket) per distinct layer.
  llvm::StringMap<size_t> kernelOf;
  SmallVector<size_t> layerKernel;
  std::string text;
  for (const ckpt::ModelLayer &layer : model.layers) {
    auto [it, inserted] = kernelOf.try_emplace(kernelKey(layer), kernelOf.size());
    if (inserted)
      text += layerFunction(layer, "k" + std::to_string(it->second));
    layerKernel.push_back(it->second);
  }
  progress.step(llvm::formatv("model '{0}': {1} layers, {2} distinct projections",
                              model.name, model.layers.size(),
                              kernelOf.size()));

  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  if (!module)
    return llvm::createStringError("the generated IR does not parse");
  llvm::Expected<CompiledKernels> compiled = compileKernels(*module, options);
  if (!compiled)
    return compiled.takeError();
  progress.step(llvm::formatv("compiled {0} kernels to one {1}-byte {2} cubin",
                              compiled->kernels.size(), compiled->cubin.size(),
                              options.chip));
  // Kernels "k<i>_<op><j>[_b<bucket>]" come from function "k<i>": one, or
  // one per M bucket.
  std::vector<SmallVector<const KernelRecord *>> kernelRecord(kernelOf.size());
  for (const KernelRecord &record : compiled->kernels) {
    size_t index;
    StringRef digits = StringRef(record.name).drop_front(1).split('_').first;
    if (!StringRef(record.name).starts_with("k") ||
        digits.getAsInteger(10, index) || index >= kernelRecord.size())
      return llvm::createStringError("unexpected kernel name '" + record.name +
                                     "'");
    kernelRecord[index].push_back(&record);
  }
  for (SmallVector<const KernelRecord *> &records : kernelRecord) {
    if (records.empty())
      return llvm::createStringError("a layer's kernel is missing");
    llvm::sort(records, [](const KernelRecord *a, const KernelRecord *b) {
      return a->mMin < b->mMin;
    });
  }

  // Layout of weights.bin.
  bool withWeights = model.layers.front().weights.has_value();
  uint64_t fileBytes = 0;
  std::vector<SmallVector<WeightRecord>> weights;
  for (auto [i, layer] : llvm::enumerate(model.layers)) {
    if (layer.weights.has_value() != withWeights)
      return llvm::createStringError(
          "layer '" + layer.name +
          "': either every layer has weights or none has");
    weights.push_back(layerWeights(*kernelRecord[layerKernel[i]].front()));
    if (withWeights)
      for (WeightRecord &weight : weights.back()) {
        weight.offset = fileBytes;
        fileBytes = llvm::alignTo(fileBytes + weight.bytes, kWeightAlignment);
      }
  }

  llvm::json::Object manifest =
      manifestHeader(options.chip, *cc, compiled->moduleName,
                     compiled->moduleName + ".cubin", compiled->cubin);
  llvm::json::Array kernelEntries;
  for (const KernelRecord &kernel : compiled->kernels)
    kernelEntries.push_back(kernelEntry(kernel, compiled->moduleName));
  manifest["kernels"] = std::move(kernelEntries);

  llvm::json::Array layers;
  for (auto [i, layer] : llvm::enumerate(model.layers)) {
    llvm::json::Array weightEntries;
    for (const WeightRecord &weight : weights[i]) {
      llvm::json::Object entry{
          {"name", weight.argument->name},
          {"element", weight.argument->element},
          {"shape", llvm::json::Array{weight.argument->rows,
                                      weight.argument->cols}}};
      if (weight.offset)
        entry["offset"] = int64_t(*weight.offset);
      weightEntries.push_back(std::move(entry));
    }
    llvm::json::Array dispatch;
    for (const KernelRecord *kernel : kernelRecord[layerKernel[i]])
      dispatch.push_back(llvm::json::Object{{"m_min", kernel->mMin},
                                            {"m_max", kernel->mMax},
                                            {"kernel", kernel->name}});
    llvm::json::Object entry{
        {"name", layer.name},
        {"op", ckpt::toString(layer.op)},
        {"n", layer.n},
        {"k", layer.k},
        {"scheme", layer.scheme.str()},
        {"activation", core::toString(layer.activation)},
        {"bias", layer.hasBias},
        {"residual", layer.residual},
        {"weights", std::move(weightEntries)},
        {"dispatch", std::move(dispatch)}};
    if (layer.op == ckpt::LayerOp::Swiglu)
      entry["up_scheme"] = layer.upScheme.str();
    layers.push_back(std::move(entry));
  }
  manifest["layers"] = std::move(layers);

  // weights.bin is written first: the manifest records its checksum.
  std::vector<BundleFile> files;
  // Filled in while weights.bin is written, before the manifest is.
  uint64_t weightsHash = kFnvOffsetBasis;
  if (withWeights)
    files.push_back({"weights.bin", [&](llvm::raw_ostream &os)
                                        -> llvm::Error {
      uint64_t written = 0;
      size_t reported = 0;
      for (auto [i, layer] : llvm::enumerate(model.layers)) {
        auto bytes = weightBytes(layer, weights[i],
                                 kernelRecord[layerKernel[i]].front()->layout);
        if (!bytes)
          return bytes.takeError();
        for (auto [record, data] : llvm::zip(weights[i], *bytes)) {
          std::string padding(*record.offset - written, '\0');
          StringRef chunk(reinterpret_cast<const char *>(data.data()),
                          data.size());
          os << padding << chunk;
          weightsHash =
              fnv1a64Update(fnv1a64Update(weightsHash, padding), chunk);
          written = *record.offset + data.size();
        }
        // Progress on long packs: about every tenth of the layers.
        if (progress.enabled &&
            (i + 1) * 10 / model.layers.size() != reported) {
          reported = (i + 1) * 10 / model.layers.size();
          llvm::errs() << "qmlir-compile: packing weights: " << (i + 1) << "/"
                       << model.layers.size() << " layers\n";
        }
      }
      std::string tail(fileBytes - written, '\0');
      os << tail;
      weightsHash = fnv1a64Update(weightsHash, tail);
      return llvm::Error::success();
    }});
  files.push_back({compiled->moduleName + ".cubin",
                   [&](llvm::raw_ostream &os) -> llvm::Error {
                     os << compiled->cubin;
                     return llvm::Error::success();
                   }});
  files.push_back({"manifest.json", [&](llvm::raw_ostream &os)
                                        -> llvm::Error {
    if (withWeights)
      manifest["weights"] = llvm::json::Object{
          {"file", "weights.bin"},
          {"bytes", int64_t(fileBytes)},
          {"fnv1a64", hex64(weightsHash)}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest)))
       << "\n";
    return llvm::Error::success();
  }});
  if (llvm::Error error = writeBundleAtomically(output, files, force))
    return error;
  progress.step(llvm::formatv("wrote {0} ({1} layers, {2} kernels{3})", output,
                              model.layers.size(), compiled->kernels.size(),
                              withWeights ? llvm::formatv(", {0} bytes of weights",
                                                          fileBytes)
                                                .str()
                                          : std::string(", no weights")));
  return llvm::Error::success();
}
