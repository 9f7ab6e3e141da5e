//===- BundleWriter.cpp - Manifest entries and atomic bundle output -------===//

#include "BundleWriter.h"

#include "qmlir/Dialect/Qmlir.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace qmlir::compile;
namespace core = qmlir::core;

namespace {

std::string elementName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << type;
  return text;
}

} // namespace

llvm::Expected<KernelRecord>
qmlir::compile::describeKernel(gpu::GPUFuncOp kernel) {
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
  auto columns = kernel->getAttrOfType<IntegerAttr>("qmlir.columns_per_block");
  auto rows = kernel->getAttrOfType<IntegerAttr>("qmlir.rows_per_block");
  auto range = kernel->getAttrOfType<DenseI64ArrayAttr>("qmlir.m_range");
  auto layout = kernel->getAttrOfType<StringAttr>("qmlir.weights_layout");
  std::optional<core::Layout> parsedLayout =
      layout ? core::parseLayout(layout.getValue()) : std::nullopt;
  if (!columns || !rows || !range || range.size() != 2 || !parsedLayout)
    return llvm::createStringError(
        "kernel '" + record.name +
        "' lacks a valid qmlir.columns_per_block, qmlir.rows_per_block, "
        "qmlir.m_range or qmlir.weights_layout attribute");
  record.columnsPerBlock = columns.getInt();
  record.rowsPerBlock = rows.getInt();
  record.mMin = range[0];
  record.mMax = std::min(range[1], kMaxGridY * record.rowsPerBlock);
  record.layout = *parsedLayout;
  if (auto shared =
          kernel->getAttrOfType<IntegerAttr>("qmlir.shared_memory_bytes"))
    record.sharedMemoryBytes = shared.getInt();
  record.hasBias = kernel->hasAttr("qmlir.bias");
  record.hasResidual = kernel->hasAttr("qmlir.residual");
  bool swiglu = record.op == "swiglu";
  if (swiglu) {
    auto up = kernel->getAttrOfType<qmlir::SchemeAttr>("qmlir.up_scheme");
    if (!up)
      return llvm::createStringError("swiglu kernel '" + record.name +
                                     "' lacks its qmlir.up_scheme attribute");
    record.upScheme = up.toCore();
  } else if (record.op != "matmul") {
    return llvm::createStringError("kernel '" + record.name +
                                   "' computes an unknown op '" + record.op +
                                   "'");
  }

  ArrayRef<Type> inputs = kernel.getFunctionType().getInputs();
  auto x = cast<MemRefType>(inputs.front());
  auto out = cast<MemRefType>(inputs.back());
  record.k = x.getDimSize(1);
  record.n = out.getDimSize(1);
  record.activation = elementName(x.getElementType());

  // The order of docs/Bundle.md: x, weights, bias, residual, out.
  SmallVector<std::string> names = {"x"};
  auto addParts = [&](const core::Scheme &s, const std::string &prefix) {
    for (const core::Part &part : s.parts(record.n, record.k))
      names.push_back(prefix + part.name);
  };
  if (swiglu) {
    addParts(record.scheme, "gate.");
    addParts(*record.upScheme, "up.");
  } else {
    addParts(record.scheme, "");
    if (record.hasBias)
      names.push_back("bias");
  }
  if (record.hasResidual)
    names.push_back("residual");
  names.push_back("out");
  if (inputs.size() != names.size())
    return llvm::createStringError("kernel '" + record.name + "' has " +
                                   Twine(inputs.size()) + " arguments, " +
                                   "expected " + Twine(names.size()));
  for (auto [name, type] : llvm::zip(names, inputs)) {
    auto memref = cast<MemRefType>(type);
    auto dim = [&](unsigned i) {
      int64_t size = memref.getDimSize(i);
      return ShapedType::isDynamic(size) ? ArgumentRecord::kDimM : size;
    };
    record.arguments.push_back({name, elementName(memref.getElementType()),
                                dim(0), dim(1)});
  }
  return record;
}

llvm::json::Object qmlir::compile::kernelEntry(const KernelRecord &kernel,
                                               StringRef moduleName) {
  int64_t gridX =
      (kernel.n + kernel.columnsPerBlock - 1) / kernel.columnsPerBlock;
  llvm::json::Value gridY =
      kernel.rowsPerBlock == 1
          ? llvm::json::Value("M")
          : llvm::json::Value("M/" + std::to_string(kernel.rowsPerBlock));
  llvm::json::Array arguments;
  for (const ArgumentRecord &arg : kernel.arguments) {
    auto dim = [](int64_t size) {
      return size == ArgumentRecord::kDimM ? llvm::json::Value("M")
                                           : llvm::json::Value(size);
    };
    arguments.push_back(
        llvm::json::Object{{"name", arg.name},
                           {"element", arg.element},
                           {"shape", llvm::json::Array{dim(arg.rows),
                                                       dim(arg.cols)}}});
  }
  llvm::json::Object entry{
      {"name", kernel.name},
      {"module", moduleName.str()},
      {"op", kernel.op},
      {"n", kernel.n},
      {"k", kernel.k},
      {"scheme", kernel.scheme.str()},
      {"activation", kernel.activation},
      {"bias", kernel.hasBias},
      {"residual", kernel.hasResidual},
      {"layout", core::toString(kernel.layout)},
      {"launch", llvm::json::Object{
                     {"block", llvm::json::Array{kernel.blockSize, 1, 1}},
                     {"grid", llvm::json::Array{gridX, std::move(gridY), 1}},
                     {"shared_memory_bytes", kernel.sharedMemoryBytes},
                     {"m_min", kernel.mMin},
                     {"m_max", kernel.mMax}}},
      {"arguments", std::move(arguments)}};
  if (kernel.upScheme)
    entry["up_scheme"] = kernel.upScheme->str();
  return entry;
}

uint64_t qmlir::compile::fnv1a64Update(uint64_t hash, StringRef bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string qmlir::compile::hex64(uint64_t value) {
  return llvm::formatv("{0:x-16}", value).str();
}

llvm::json::Object qmlir::compile::manifestHeader(
    StringRef chip, std::pair<int, int> cc, StringRef moduleName,
    StringRef cubinName, StringRef cubin) {
  return llvm::json::Object{
      {"format", "qmlir-bundle"},
      {"format_version", kBundleFormatVersion},
      {"abi_version", kKernelAbiVersion},
      {"producer", "qmlir-compile"},
      {"target",
       llvm::json::Object{
           {"arch", chip.str()},
           {"compute_capability", llvm::json::Array{cc.first, cc.second}}}},
      {"modules", llvm::json::Array{llvm::json::Object{
                      {"name", moduleName.str()},
                      {"cubin", cubinName.str()},
                      {"bytes", static_cast<int64_t>(cubin.size())},
                      {"fnv1a64",
                       hex64(fnv1a64Update(kFnvOffsetBasis, cubin))}}}}};
}

llvm::Error qmlir::compile::writeBundleAtomically(StringRef output,
                                                  ArrayRef<BundleFile> files,
                                                  bool force) {
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
  for (const BundleFile &file : files) {
    std::string path = (staging + "/" + file.name).str();
    std::error_code error;
    llvm::raw_fd_ostream os(path, error);
    if (error)
      return discard(llvm::createStringError("cannot write " + path + ": " +
                                             error.message()));
    if (llvm::Error writeError = file.write(os))
      return discard(std::move(writeError));
    os.close();
    if (os.has_error())
      return discard(llvm::createStringError("cannot write " + path + ": " +
                                             os.error().message()));
  }
  SmallString<256> previous;
  if (exists) {
    previous = (target + ".previous").str();
    llvm::sys::fs::remove_directories(previous);
    if (std::error_code error = llvm::sys::fs::rename(target, previous))
      return discard(llvm::createStringError("cannot move the existing '" +
                                             target +
                                             "' aside: " + error.message()));
  }
  if (std::error_code error = llvm::sys::fs::rename(staging, target))
    return discard(llvm::createStringError("cannot rename " + staging + " to " +
                                           target + ": " + error.message()));
  if (exists)
    llvm::sys::fs::remove_directories(previous);
  return llvm::Error::success();
}
