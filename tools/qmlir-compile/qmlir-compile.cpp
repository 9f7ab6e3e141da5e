//===- qmlir-compile.cpp - Compile qmlir to a bundle of cubins ------------===//
//
// A problem (--n, --k, --scheme, --act) or an IR file in, a bundle directory
// out: the cubins and manifest.json of docs/Bundle.md. The bundle is written
// into a temporary sibling directory and renamed into place, so on any error
// nothing is left behind.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Pipelines/Pipelines.h"
#include "qmlir/ToolSupport/ProblemModule.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace core = qmlir::core;

namespace {

// Versions of what this compiler writes; see docs/Bundle.md.
constexpr int kBundleFormatVersion = 1;
constexpr int kKernelAbiVersion = 1;
// gridDim.y holds M in the SIMT kernels' launch rule.
constexpr int64_t kMaxGridY = 65535;

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
llvm::cl::opt<std::string> chip("chip", llvm::cl::desc("Target GPU architecture"),
                                llvm::cl::init("sm_90a"));
llvm::cl::opt<std::string> toolkit(
    "toolkit", llvm::cl::desc("CUDA toolkit holding ptxas"),
    llvm::cl::init(""));
llvm::cl::opt<int64_t> blockSize("block-size",
                                 llvm::cl::desc("Threads per block"),
                                 llvm::cl::init(128));

int fail(const llvm::Twine &message) {
  llvm::errs() << "qmlir-compile: " << message << "\n";
  return 1;
}

/// What the manifest says about one kernel, read before it becomes binary.
struct KernelRecord {
  std::string name;
  std::string op;
  core::Scheme scheme;
  int64_t n = 0, k = 0, blockSize = 0;
  std::string activation;
  llvm::json::Array arguments;
};

std::string elementName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

llvm::Expected<KernelRecord> describeKernel(gpu::GPUFuncOp kernel) {
  KernelRecord record;
  record.name = kernel.getName().str();
  auto op = kernel->getAttrOfType<StringAttr>("qmlir.op");
  auto scheme = kernel->getAttrOfType<qmlir::SchemeAttr>("qmlir.scheme");
  auto block = kernel->getAttrOfType<IntegerAttr>("qmlir.block_size");
  if (!op || !scheme || !block)
    return llvm::createStringError("kernel '" + record.name +
                                   "' lacks its qmlir.op, qmlir.scheme or "
                                   "qmlir.block_size attribute");
  record.op = op.getValue().str();
  record.scheme = scheme.toCore();
  record.blockSize = block.getInt();

  ArrayRef<Type> inputs = kernel.getFunctionType().getInputs();
  auto x = cast<MemRefType>(inputs.front());
  auto out = cast<MemRefType>(inputs.back());
  record.k = x.getDimSize(1);
  record.n = out.getDimSize(1);
  // x, the weights' storage parts (named as the core names them), out.
  SmallVector<std::string> names = {"x"};
  for (const core::Part &part : record.scheme.parts(record.n, record.k))
    names.push_back(part.name);
  names.push_back("out");
  if (inputs.size() != names.size())
    return llvm::createStringError("kernel '" + record.name + "' has " +
                                   Twine(inputs.size()) + " arguments, " +
                                   "expected " + Twine(names.size()));
  for (auto [name, type] : llvm::zip(names, inputs)) {
    auto memref = cast<MemRefType>(type);
    llvm::json::Array shape;
    for (int64_t dim : memref.getShape())
      shape.push_back(ShapedType::isDynamic(dim) ? llvm::json::Value("M")
                                                 : llvm::json::Value(dim));
    record.arguments.push_back(llvm::json::Object{
        {"name", name},
        {"element", elementName(memref.getElementType())},
        {"shape", std::move(shape)}});
  }
  record.activation = elementName(x.getElementType());
  return record;
}

/// FNV-1a, 64 bits: the manifest's check against truncated or corrupt files.
std::string fnv1a64(StringRef bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return llvm::formatv("{0:x-16}", hash).str();
}

/// "sm_90a" -> [9, 0].
std::optional<std::pair<int, int>> computeCapability(StringRef arch) {
  StringRef digits = arch;
  if (!digits.consume_front("sm_"))
    return std::nullopt;
  digits.consume_back("a");
  unsigned value;
  if (digits.size() < 2 || digits.getAsInteger(10, value))
    return std::nullopt;
  return std::make_pair(int(value / 10), int(value % 10));
}

llvm::json::Object buildManifest(ArrayRef<KernelRecord> kernels,
                                 StringRef moduleName, StringRef cubinName,
                                 StringRef cubin, std::pair<int, int> cc) {
  llvm::json::Array kernelEntries;
  for (const KernelRecord &kernel : kernels) {
    int64_t gridX = (kernel.n + kernel.blockSize - 1) / kernel.blockSize;
    kernelEntries.push_back(llvm::json::Object{
        {"name", kernel.name},
        {"module", moduleName},
        {"op", kernel.op},
        {"n", kernel.n},
        {"k", kernel.k},
        {"scheme", kernel.scheme.str()},
        {"activation", kernel.activation},
        {"launch",
         llvm::json::Object{
             {"block", llvm::json::Array{kernel.blockSize, 1, 1}},
             {"grid", llvm::json::Array{gridX, "M", 1}},
             {"shared_memory_bytes", 0},
             {"m_min", 1},
             {"m_max", kMaxGridY}}},
        {"arguments", llvm::json::Array(kernel.arguments)}});
  }
  return llvm::json::Object{
      {"format", "qmlir-bundle"},
      {"format_version", kBundleFormatVersion},
      {"abi_version", kKernelAbiVersion},
      {"producer", "qmlir-compile"},
      {"target", llvm::json::Object{{"arch", chip.getValue()},
                                    {"compute_capability",
                                     llvm::json::Array{cc.first, cc.second}}}},
      {"modules", llvm::json::Array{llvm::json::Object{
                      {"name", moduleName},
                      {"cubin", cubinName},
                      {"bytes", static_cast<int64_t>(cubin.size())},
                      {"fnv1a64", fnv1a64(cubin)}}}},
      {"kernels", std::move(kernelEntries)}};
}

llvm::Error writeFile(const llvm::Twine &path, StringRef contents) {
  std::error_code error;
  llvm::raw_fd_ostream os(path.str(), error);
  if (error)
    return llvm::createStringError("cannot write " + path + ": " +
                                   error.message());
  os << contents;
  os.close();
  if (os.has_error())
    return llvm::createStringError("cannot write " + path + ": " +
                                   os.error().message());
  return llvm::Error::success();
}

/// Writes `files` (name -> contents) as the directory `target`: first into a
/// fresh sibling directory, then renamed into place.
llvm::Error writeBundleAtomically(
    StringRef output, ArrayRef<std::pair<std::string, std::string>> files) {
  // Absolute, because createUniqueDirectory puts relative names under the
  // system's temporary directory, where a rename may cross file systems.
  SmallString<256> target(output);
  if (std::error_code error = llvm::sys::fs::make_absolute(target))
    return llvm::createStringError("cannot resolve '" + output +
                                   "': " + error.message());
  bool exists = llvm::sys::fs::exists(target);
  if (exists && !force)
    return llvm::createStringError("output '" + target +
                                   "' exists; pass --force to replace it");
  SmallString<256> staging;
  if (std::error_code error =
          llvm::sys::fs::createUniqueDirectory(target + ".partial", staging))
    return llvm::createStringError("cannot create a directory next to '" +
                                   target + "': " + error.message());
  // createUniqueDirectory makes it private; a bundle is meant to be shared.
  llvm::sys::fs::setPermissions(staging, llvm::sys::fs::perms(0755));
  auto discard = [&](llvm::Error error) {
    llvm::sys::fs::remove_directories(staging);
    return error;
  };
  for (const auto &[name, contents] : files)
    if (llvm::Error error = writeFile(staging + "/" + name, contents))
      return discard(std::move(error));
  SmallString<256> previous;
  if (exists) {
    previous = (target + ".previous").str();
    llvm::sys::fs::remove_directories(previous);
    if (std::error_code error = llvm::sys::fs::rename(target, previous))
      return discard(llvm::createStringError(
          "cannot move the existing '" + target + "' aside: " +
          error.message()));
  }
  if (std::error_code error = llvm::sys::fs::rename(staging, target))
    return discard(llvm::createStringError("cannot rename " + staging +
                                           " to " + target + ": " +
                                           error.message()));
  if (exists)
    llvm::sys::fs::remove_directories(previous);
  return llvm::Error::success();
}

OwningOpRef<ModuleOp> loadInput(MLIRContext &context, std::string &error) {
  bool fromProblem = nSize || kSize || !schemeText.empty();
  if (fromProblem == !inputFile.empty()) {
    error = "give either an input file or a problem (--n, --k, --scheme)";
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

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  llvm::cl::ParseCommandLineOptions(
      argc, argv, "qmlir-compile: compile qmlir to a bundle of cubins\n");

  std::optional<std::pair<int, int>> cc = computeCapability(chip);
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

  std::string inputError;
  OwningOpRef<ModuleOp> module = loadInput(context, inputError);
  if (!module)
    return fail(inputError);

  qmlir::GpuPipelineOptions options;
  options.chip = chip;
  options.blockSize = blockSize;
  options.toolkit = toolkit;
  options.format = "bin";
  PassManager kernelsPm(&context);
  qmlir::buildGpuKernelsPipeline(kernelsPm, options);
  if (failed(kernelsPm.run(*module)))
    return fail("lowering to GPU kernels failed");

  SmallVector<KernelRecord> kernels;
  for (auto gpuModule : module->getOps<gpu::GPUModuleOp>())
    for (auto kernel : gpuModule.getOps<gpu::GPUFuncOp>()) {
      llvm::Expected<KernelRecord> record = describeKernel(kernel);
      if (!record)
        return fail(llvm::toString(record.takeError()));
      kernels.push_back(std::move(*record));
    }
  if (kernels.empty())
    return fail("no qmlir.matmul to compile");

  PassManager binaryPm(&context);
  qmlir::buildGpuBinaryPipeline(binaryPm, options);
  if (failed(binaryPm.run(*module)))
    return fail("compiling the kernels to a cubin failed");

  auto binaries = llvm::to_vector(module->getOps<gpu::BinaryOp>());
  if (binaries.size() != 1 || binaries.front().getObjects().size() != 1)
    return fail("expected one gpu.binary with one object");
  auto object = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0]);
  if (object.getFormat() != gpu::CompilationTarget::Binary)
    return fail("the kernels were not compiled to a cubin");
  StringRef cubin = object.getObject().getValue();
  std::string moduleName = binaries.front().getName().str();
  std::string cubinName = moduleName + ".cubin";

  llvm::json::Object manifest =
      buildManifest(kernels, moduleName, cubinName, cubin, *cc);
  std::string manifestText =
      llvm::formatv("{0:2}", llvm::json::Value(std::move(manifest))).str() + "\n";
  if (llvm::Error error = writeBundleAtomically(
          outputDir, {{"manifest.json", manifestText},
                      {cubinName, cubin.str()}}))
    return fail(llvm::toString(std::move(error)));
  llvm::outs() << "qmlir-compile: wrote " << outputDir << " (" << kernels.size()
               << " kernel" << (kernels.size() == 1 ? "" : "s") << ", "
               << cubin.size() << "-byte cubin for " << chip << ")\n";
  return 0;
}
