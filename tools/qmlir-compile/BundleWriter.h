//===- BundleWriter.h - Manifest entries and atomic bundle output -*- C++ -*-===//
//
// What qmlir-compile writes (docs/Bundle.md): a kernel's manifest entry is
// read from the attributes the GPU lowering leaves on each gpu.func, before
// the kernels become binary; the bundle directory is written into a sibling
// temporary directory and renamed into place.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_COMPILE_BUNDLEWRITER_H
#define QMLIR_TOOLS_QMLIR_COMPILE_BUNDLEWRITER_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <optional>
#include <string>

namespace qmlir::compile {

// Versions of what this compiler writes; see docs/Bundle.md.
inline constexpr int kBundleFormatVersion = 3;
inline constexpr int kKernelAbiVersion = 1;
// CUDA's limit on gridDim.y, which grows with M.
inline constexpr int64_t kMaxGridY = 65535;

/// One kernel argument: a row-major [rows, cols] array; rows (or cols) is
/// kDimM for the call's M.
struct ArgumentRecord {
  static constexpr int64_t kDimM = -1;
  std::string name;
  std::string element; // MLIR's name: "i32", "f16", ...
  int64_t rows = 0, cols = 0;
  /// Whether it is one of the layer's weights (not x, residual or out).
  bool isWeight() const {
    return name != "x" && name != "residual" && name != "out";
  }
};

/// What the manifest says about one kernel.
struct KernelRecord {
  std::string name;
  std::string op; // "matmul" or "swiglu"
  core::Scheme scheme;
  std::optional<core::Scheme> upScheme; // swiglu
  bool hasBias = false, hasResidual = false;
  int64_t n = 0, k = 0, blockSize = 0;
  /// Launch rule: grid (ceil(n / columnsPerBlock), ceil(M / rowsPerBlock)),
  /// for mMin <= M <= mMax.
  int64_t columnsPerBlock = 0, rowsPerBlock = 1, mMin = 1, mMax = kMaxGridY;
  /// Dynamic shared memory per block.
  int64_t sharedMemoryBytes = 0;
  core::Layout layout = core::Layout::Canonical;
  std::string activation;
  std::vector<ArgumentRecord> arguments;
};

/// Reads a kernel's record from its qmlir.* attributes and signature.
llvm::Expected<KernelRecord> describeKernel(mlir::gpu::GPUFuncOp kernel);

/// The kernel's manifest entry (in module `moduleName`).
llvm::json::Object kernelEntry(const KernelRecord &kernel,
                               llvm::StringRef moduleName);

/// The manifest's header: format, versions, producer, target, and the one
/// module holding `cubin`.
llvm::json::Object manifestHeader(llvm::StringRef chip,
                                  std::pair<int, int> computeCapability,
                                  llvm::StringRef moduleName,
                                  llvm::StringRef cubinName,
                                  llvm::StringRef cubin);

/// FNV-1a, 64 bits, as 16 lowercase hex digits; fnv1a64Update continues a
/// hash over more bytes.
uint64_t fnv1a64Update(uint64_t hash, llvm::StringRef bytes);
inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;
std::string hex64(uint64_t value);

/// A file of the bundle: its name and a function that writes its contents.
struct BundleFile {
  std::string name;
  std::function<llvm::Error(llvm::raw_ostream &)> write;
};

/// Writes `files` as the directory `output`: into a fresh sibling directory
/// first, then renamed into place (replacing an existing one only with
/// `force`). On any error nothing is left behind.
llvm::Error writeBundleAtomically(llvm::StringRef output,
                                  llvm::ArrayRef<BundleFile> files,
                                  bool force);

} // namespace qmlir::compile

#endif // QMLIR_TOOLS_QMLIR_COMPILE_BUNDLEWRITER_H
