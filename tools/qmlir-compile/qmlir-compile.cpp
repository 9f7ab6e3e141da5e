//===- qmlir-compile.cpp - Compile qmlir to a bundle of cubins ------------===//
//
// In: a problem (--n, --k, --scheme, --act), an IR file, or a model (a model
// spec and/or a quantized checkpoint). Out: a bundle directory (manifest.json,
// the cubin, and for models with weights weights.bin; docs/Bundle.md),
// written into a temporary sibling directory and renamed into place, so on
// any error nothing is left behind.
//
//===----------------------------------------------------------------------===//

#include "ModelCompiler.h"

#include "qmlir/Codegen/Kernels.h"
#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Checkpoint/ModelSpec.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/ToolSupport/ProblemModule.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace core = qmlir::core;
namespace ckpt = qmlir::checkpoint;
using namespace qmlir::compile;

namespace {

llvm::cl::opt<std::string> inputFile(llvm::cl::Positional,
                                     llvm::cl::desc("[input.mlir]"),
                                     llvm::cl::init(""));
llvm::cl::opt<std::string> outputDir("o", llvm::cl::desc("Bundle directory to write"),
                                     llvm::cl::value_desc("directory"),
                                     llvm::cl::Required);
llvm::cl::opt<bool> force("force", llvm::cl::desc("Replace an existing bundle"),
                          llvm::cl::init(false));
llvm::cl::opt<int64_t> nSize("n", llvm::cl::desc("Problem: output features"),
                             llvm::cl::init(0));
llvm::cl::opt<int64_t> kSize("k", llvm::cl::desc("Problem: reduction size"),
                             llvm::cl::init(0));
llvm::cl::opt<std::string> schemeText(
    "scheme", llvm::cl::desc("Problem: weight scheme as written in the IR"),
    llvm::cl::init(""));
llvm::cl::opt<std::string> activationName(
    "act", llvm::cl::desc("Problem: activation type, f16 or bf16"),
    llvm::cl::init("f16"));
llvm::cl::opt<std::string> modelSpec(
    "model-spec",
    llvm::cl::desc("Model: a JSON model spec (docs/Checkpoints.md)"),
    llvm::cl::value_desc("spec.json"), llvm::cl::init(""));
llvm::cl::opt<std::string> checkpointPath(
    "checkpoint",
    llvm::cl::desc("Model: a quantized checkpoint (GPTQ, AWQ, "
                   "compressed-tensors or qmlir-native; a directory or a "
                   ".safetensors file)"),
    llvm::cl::value_desc("path"), llvm::cl::init(""));
llvm::cl::opt<bool> quiet("quiet",
                          llvm::cl::desc("Model: no progress on stderr"),
                          llvm::cl::init(false));
llvm::cl::opt<std::string> chip("chip", llvm::cl::desc("Target GPU architecture"),
                                llvm::cl::init("sm_90a"));
llvm::cl::opt<std::string> toolkit(
    "toolkit", llvm::cl::desc("CUDA toolkit holding ptxas"),
    llvm::cl::init(""));
llvm::cl::opt<bool> tensorCores(
    "tensor-cores",
    llvm::cl::desc("Tensor-core kernels per M bucket for the layers the "
                   "mma_tile layout can hold (--tensor-cores=false: SIMT "
                   "kernels only)"),
    llvm::cl::init(true));
llvm::cl::opt<bool> linearK(
    "linear-k",
    llvm::cl::desc("Store the weights of layers whose large-M kernel issues "
                   "wgmma (sm_90a) in mma_tile_linear: faster prefill "
                   "(M >= 129), slower decode"),
    llvm::cl::init(false));
llvm::cl::opt<int64_t> blockSize("block-size",
                                 llvm::cl::desc("Threads per block"),
                                 llvm::cl::init(128));

int fail(const llvm::Twine &message) {
  llvm::errs() << "qmlir-compile: " << message << "\n";
  return 1;
}

OwningOpRef<ModuleOp> loadInput(MLIRContext &context, std::string &error) {
  bool fromProblem = nSize || kSize || !schemeText.empty();
  if (fromProblem == !inputFile.empty()) {
    error = "give an input file, a problem (--n, --k, --scheme) or a model "
            "(--model-spec and/or --checkpoint)";
    return nullptr;
  }
  if (!fromProblem) {
    llvm::SourceMgr sourceMgr;
    std::string openError;
    auto file = openInputFile(inputFile, &openError);
    if (!file) {
      error = openError;
      return nullptr;
    }
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    SourceMgrDiagnosticHandler handler(sourceMgr, &context);
    OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!module)
      error = "cannot parse " + inputFile;
    return module;
  }
  core::MatmulProblem problem;
  problem.m = 1;
  problem.n = nSize;
  problem.k = kSize;
  std::string parseError;
  std::optional<core::Scheme> scheme = core::Scheme::parse(schemeText, &parseError);
  if (!scheme) {
    error = "invalid --scheme: " + parseError;
    return nullptr;
  }
  problem.scheme = *scheme;
  std::optional<core::FloatType> activation = core::parseFloatType(activationName);
  if (!activation) {
    error = "invalid --act '" + activationName + "': expected f16 or bf16";
    return nullptr;
  }
  problem.activationType = *activation;
  if (std::string problemError = problem.validate(); !problemError.empty()) {
    error = "invalid problem: " + problemError;
    return nullptr;
  }
  std::string text = qmlir::buildMatmulModule(problem, "layer", false);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(text, &context);
  if (!module)
    error = "the generated IR does not parse";
  return module;
}

} // namespace

/// Compiles --model-spec and/or --checkpoint.
int compileModelInputs(MLIRContext &context, const CompileOptions &options) {
  std::optional<ckpt::ModelSpec> spec;
  std::optional<ckpt::ImportedCheckpoint> checkpoint;
  if (!modelSpec.empty()) {
    llvm::Expected<ckpt::ModelSpec> loaded = ckpt::loadModelSpec(modelSpec);
    if (!loaded)
      return fail(llvm::toString(loaded.takeError()));
    spec = std::move(*loaded);
  }
  if (!checkpointPath.empty()) {
    llvm::Expected<ckpt::ImportedCheckpoint> imported =
        ckpt::importCheckpoint(checkpointPath);
    if (!imported)
      return fail(llvm::toString(imported.takeError()));
    checkpoint = std::move(*imported);
  }
  llvm::Expected<ckpt::Model> model =
      ckpt::buildModel(spec ? &*spec : nullptr,
                       checkpoint ? &*checkpoint : nullptr);
  if (!model)
    return fail(llvm::toString(model.takeError()));
  if (llvm::Error error =
          compileModel(context, *model, options, outputDir, force))
    return fail(llvm::toString(std::move(error)));
  return 0;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "qmlir-compile: compile qmlir to a bundle of cubins\n");

  std::optional<std::pair<int, int>> cc = qmlir::codegen::computeCapability(chip);
  if (!cc)
    return fail("invalid --chip '" + chip + "': expected sm_XY or sm_XYa");

  DialectRegistry registry;
  registry.insert<qmlir::QmlirDialect>();
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerAllToLLVMIRTranslations(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  CompileOptions options;
  options.chip = chip;
  options.toolkit = toolkit;
  // ptxas is looked up in the toolkit, then on PATH: default to CUDA's
  // usual home so that a plain PATH still finds it.
  if (options.toolkit.empty() && !std::getenv("CUDA_HOME") &&
      !std::getenv("CUDA_PATH") &&
      llvm::sys::fs::exists("/usr/local/cuda/bin/ptxas"))
    options.toolkit = "/usr/local/cuda";
  options.blockSize = blockSize;
  options.tensorCores = tensorCores;
  options.linearK = linearK;
  options.progress = !quiet;

  if (!modelSpec.empty() || !checkpointPath.empty()) {
    if (!inputFile.empty() || nSize || kSize || !schemeText.empty())
      return fail("give either a model (--model-spec, --checkpoint), an input "
                  "file or a problem, not several");
    return compileModelInputs(context, options);
  }

  std::string inputError;
  OwningOpRef<ModuleOp> module = loadInput(context, inputError);
  if (!module)
    return fail(inputError);
  llvm::Expected<CompiledKernels> compiled = compileKernels(*module, options);
  if (!compiled)
    return fail(llvm::toString(compiled.takeError()));

  std::string cubinName = compiled->moduleName + ".cubin";
  llvm::json::Object manifest = manifestHeader(
      chip, *cc, compiled->moduleName, cubinName, compiled->cubin);
  llvm::json::Array kernels;
  for (const KernelRecord &kernel : compiled->kernels)
    kernels.push_back(kernelEntry(kernel, compiled->moduleName));
  manifest["kernels"] = std::move(kernels);
  manifest["layers"] = llvm::json::Array();
  std::string manifestText =
      llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))).str() +
      "\n";
  BundleFile files[] = {
      {"manifest.json",
       [&](llvm::raw_ostream &os) {
         os << manifestText;
         return llvm::Error::success();
       }},
      {cubinName, [&](llvm::raw_ostream &os) {
         os << compiled->cubin;
         return llvm::Error::success();
       }}};
  if (llvm::Error error = writeBundleAtomically(outputDir, files, force))
    return fail(llvm::toString(std::move(error)));
  llvm::outs() << "qmlir-compile: wrote " << outputDir << " ("
               << compiled->kernels.size() << " kernel"
               << (compiled->kernels.size() == 1 ? "" : "s") << ", "
               << compiled->cubin.size() << "-byte cubin for " << chip
               << ")\n";
  return 0;
}
