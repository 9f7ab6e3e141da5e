//===- qmlir-make-checkpoint.cpp - Write test checkpoints -----------------===//
//
// Quantizes weights with round to nearest (qmlir::core::quantize) and writes
// them as a GPTQ, AWQ or qmlir-native checkpoint directory, atomically.
// Weights are random (--layer=name:NxK, repeated; --seed) or the 2-D
// F16/BF16/F32 tensors of a safetensors file (--from).
//
//===----------------------------------------------------------------------===//

#include "qmlir/Checkpoint/Export.h"
#include "qmlir/Checkpoint/Safetensors.h"
#include "qmlir/Core/Reference.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <random>

using namespace qmlir;
using namespace qmlir::checkpoint;

namespace {
llvm::cl::opt<std::string> output("o", llvm::cl::desc("Output directory"),
                                  llvm::cl::value_desc("dir"),
                                  llvm::cl::Required);
llvm::cl::opt<std::string> format("format",
                                  llvm::cl::desc("gptq, awq or native"),
                                  llvm::cl::init("native"));
llvm::cl::opt<unsigned> bits("bits", llvm::cl::desc("Bits per weight"),
                             llvm::cl::init(4));
llvm::cl::opt<int> group("group",
                         llvm::cl::desc("Group size (-1: per channel)"),
                         llvm::cl::init(128));
llvm::cl::opt<bool> actOrder("act-order",
                             llvm::cl::desc("GPTQ act-order (g_idx)"));
llvm::cl::opt<bool> bias("bias",
                         llvm::cl::desc("Random bias for --layer linears"));
llvm::cl::opt<std::string>
    schemeText("scheme", llvm::cl::desc("Any scheme (native format only)"));
llvm::cl::list<std::string> layers("layer",
                                   llvm::cl::desc("Random linear name:NxK"));
llvm::cl::opt<unsigned> seed("seed", llvm::cl::desc("Random seed"),
                             llvm::cl::init(0));
llvm::cl::opt<std::string>
    from("from", llvm::cl::desc("Quantize the 2-D tensors of this file"));
llvm::cl::opt<std::string> activation("activation",
                                      llvm::cl::desc("f16 or bf16"),
                                      llvm::cl::init("f16"));
llvm::cl::opt<bool> force("force", llvm::cl::desc("Replace an existing output"));

int fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "qmlir-make-checkpoint")
      << message << "\n";
  return 2;
}

struct Source {
  std::string name;
  int64_t n = 0, k = 0;
  std::vector<float> weights;
  std::optional<std::vector<float>> bias;
};

llvm::Expected<std::vector<Source>> randomSources() {
  std::vector<Source> sources;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (const std::string &spec : layers) {
    auto [name, shape] = llvm::StringRef(spec).rsplit(':');
    auto [nText, kText] = shape.split('x');
    Source source;
    source.name = name.str();
    if (name.empty() || nText.getAsInteger(10, source.n) ||
        kText.getAsInteger(10, source.k) || source.n <= 0 || source.k <= 0)
      return llvm::createStringError("--layer=" + spec +
                                     ": expected name:NxK with positive N, K");
    source.weights.resize(source.n * source.k);
    for (float &w : source.weights)
      w = normal(rng);
    if (bias) {
      source.bias.emplace(source.n);
      for (float &b : *source.bias)
        b = normal(rng);
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

llvm::Expected<std::vector<Source>> fileSources() {
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::open(from);
  if (!file)
    return file.takeError();
  std::vector<Source> sources;
  for (const TensorInfo &info : file->tensors()) {
    if (info.shape.size() != 2 ||
        (info.dtype != DType::F16 && info.dtype != DType::BF16 &&
         info.dtype != DType::F32))
      continue;
    Source source;
    llvm::StringRef name(info.name);
    name.consume_back(".weight");
    source.name = name.str();
    source.n = info.shape[0];
    source.k = info.shape[1];
    llvm::Expected<std::vector<float>> values = readFloats(*file, info);
    if (!values)
      return values.takeError();
    source.weights = std::move(*values);
    if (const TensorInfo *b = file->find(source.name + ".bias");
        b && b->shape.size() == 1 && b->shape[0] == source.n) {
      llvm::Expected<std::vector<float>> values = readFloats(*file, *b);
      if (!values)
        return values.takeError();
      source.bias = std::move(*values);
    }
    sources.push_back(std::move(source));
  }
  if (sources.empty())
    return llvm::createStringError(from + ": no 2-D F16, BF16 or F32 tensors");
  return sources;
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "Writes a quantized test checkpoint (GPTQ, AWQ, native)\n");
  ExportOptions options;
  options.force = force;
  if (format == "gptq")
    options.format = CheckpointFormat::Gptq;
  else if (format == "awq")
    options.format = CheckpointFormat::Awq;
  else if (format == "native")
    options.format = CheckpointFormat::Native;
  else
    return fail("--format: expected gptq, awq or native, got '" + format + "'");
  auto act = core::parseFloatType(activation);
  if (!act || *act == core::FloatType::F32)
    return fail("--activation: expected f16 or bf16, got '" + activation + "'");
  options.activation = *act;
  // Checked first too, so that nothing is quantized for a refused output.
  if (!force && llvm::sys::fs::exists(output))
    return fail("output '" + output + "' exists; pass --force to replace it");
  if (layers.empty() == from.empty())
    return fail("give either --layer (repeatable) or --from");

  core::Scheme scheme;
  if (!schemeText.empty()) {
    if (options.format != CheckpointFormat::Native)
      return fail("--scheme is for --format=native; gptq and awq take --bits, "
                  "--group and --act-order");
    std::string error;
    auto parsed = core::Scheme::parse(schemeText, &error);
    if (!parsed)
      return fail("--scheme: " + error);
    scheme = *parsed;
  } else {
    scheme.kind = core::ElementKind::UnsignedInt;
    scheme.bits = bits;
    scheme.groupSize = group == -1 ? core::kPerChannel : group;
    scheme.scaleType = *act == core::FloatType::BF16 ? core::ScaleType::BF16
                                                     : core::ScaleType::F16;
    scheme.zero = core::ZeroKind::Int;
    scheme.actOrder = actOrder;
    if (group == 0 || group < -1)
      return fail("--group: expected a positive size or -1 (per channel)");
    if (std::string error = scheme.validate(); !error.empty())
      return fail(scheme.str() + ": " + error);
  }

  llvm::Expected<std::vector<Source>> sources =
      from.empty() ? randomSources() : fileSources();
  if (!sources)
    return fail(llvm::toString(sources.takeError()));
  std::vector<Linear> linears;
  for (Source &source : *sources) {
    if (std::string error = scheme.validateShape(source.n, source.k);
        !error.empty())
      return fail(source.name + ": " + scheme.str() + ": " + error);
    linears.push_back({source.name,
                       core::quantize(source.weights.data(), source.n,
                                      source.k, scheme),
                       std::move(source.bias)});
  }
  if (llvm::Error error = exportCheckpoint(output, linears, options))
    return fail(llvm::toString(std::move(error)));
  return 0;
}
