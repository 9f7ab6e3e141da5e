//===- Manifest.h - A bundle's manifest.json, parsed and checked -*- C++
//-*-===//
//
// The in-memory form of manifest.json (format version 2, docs/Bundle.md).
// parseManifest checks everything that can be checked without the files and
// the GPU: versions, the target, names and references, the launch rule, that
// every kernel's arguments are exactly what its op, schemes and epilogue
// imply, and that every layer's weights and dispatch agree with its kernels.
// What it returns can be trusted by the loader and the launcher.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_LIB_MANIFEST_H
#define QMLIR_RUNTIME_LIB_MANIFEST_H

#include "Status.h"

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qmlir::runtime {

/// Most arguments a kernel may take; qmlir_launch builds its parameter array
/// on the stack with room for this many.
inline constexpr size_t kMaxKernelArguments = 16;
/// Scalars per argument in kernel argument ABI v1 (a 2-D memref descriptor).
inline constexpr size_t kParamsPerArgument = 7;

/// A grid entry or an array dimension: a constant, or the call's M; a grid
/// entry may also be ceil(M / perBlock) ("M/8" in the manifest).
struct Dim {
  bool isM = false;
  int64_t value = 0;    // when !isM
  int64_t perBlock = 1; // when isM

  int64_t resolve(int64_t m) const {
    return isM ? (m + perBlock - 1) / perBlock : value;
  }
};

struct TargetSpec {
  std::string arch; // "sm_90a"
  int major = 0;
  int minor = 0;
  bool archSpecific = false; // the "a" suffix: exactly this capability

  /// Whether the cubins run on a device of compute capability major.minor.
  bool runsOn(int deviceMajor, int deviceMinor) const;
};

struct ModuleSpec {
  std::string name;
  std::string cubin; // a file name inside the bundle directory
  uint64_t bytes = 0;
  uint64_t fnv1a64 = 0;
};

struct ArgumentSpec {
  std::string name;
  std::string element; // "f16", "bf16", "f32", "i32"
  Dim shape[2];
};

struct LaunchSpec {
  unsigned block[3] = {1, 1, 1};
  Dim grid[3];
  unsigned sharedMemoryBytes = 0;
  int64_t mMin = 1;
  int64_t mMax = 1;
};

/// What a kernel or a layer computes: the op, its shape, its weights'
/// schemes and its epilogue.
struct OpSpec {
  std::string op; // "matmul" or "swiglu"
  int64_t n = 0;
  int64_t k = 0;
  std::string schemeText; // swiglu: the gate's
  core::Scheme scheme;
  std::string upSchemeText; // swiglu only
  core::Scheme upScheme;
  core::FloatType activation = core::FloatType::F16;
  bool hasBias = false;     // matmul only
  bool hasResidual = false;

  bool isSwiglu() const { return op == "swiglu"; }
};

struct KernelSpec : OpSpec {
  std::string name;
  /// How the kernel reads the codes parts (core/Layout.h).
  core::Layout layout = core::Layout::Canonical;
  size_t module = 0; // index into Manifest::modules
  LaunchSpec launch;
  std::vector<ArgumentSpec> arguments;
};

/// One weight tensor of a layer: a kernel argument other than x, residual
/// and out, and where weights.bin holds it (if it does).
struct WeightSpec {
  std::string name;
  std::string element;
  int64_t rows = 0;
  int64_t cols = 0;
  uint64_t bytes = 0;
  bool inBundle = false;
  uint64_t offset = 0; // into weights.bin, when inBundle
};

/// Layer kernel `kernel` (index into Manifest::kernels) serves m_min..m_max.
struct DispatchEntry {
  int64_t mMin = 1;
  int64_t mMax = 1;
  size_t kernel = 0;
};

struct LayerSpec : OpSpec {
  std::string name;
  /// The layout of its codes: that of every kernel it dispatches to.
  core::Layout layout = core::Layout::Canonical;
  std::vector<WeightSpec> weights;
  /// Ascending, contiguous ranges starting at M = 1.
  std::vector<DispatchEntry> dispatch;
  int64_t mMax() const { return dispatch.back().mMax; }
};

struct WeightsFileSpec {
  std::string file; // a file name inside the bundle directory
  uint64_t bytes = 0;
  uint64_t fnv1a64 = 0;
};

struct Manifest {
  int64_t formatVersion = 0;
  int64_t abiVersion = 0;
  TargetSpec target;
  std::vector<ModuleSpec> modules;
  std::vector<KernelSpec> kernels;
  std::optional<WeightsFileSpec> weightsFile;
  std::vector<LayerSpec> layers;
};

/// Parses and checks the text of a manifest. `file` names it in messages
/// ("<file>: kernels[0].launch.grid[1]: ..."). Never throws.
Status parseManifest(std::string_view text, const std::string &file,
                     Manifest &manifest);

/// The arguments a kernel computing `op` must declare, in order: x, the
/// weights (matmul: the scheme's parts, then "bias"; swiglu: "gate."- and
/// "up."-prefixed parts), "residual" if any, "out".
std::vector<ArgumentSpec> kernelArguments(const OpSpec &op);

/// Bytes of a [rows, cols] array of `element` ("i32", "f16", ...); 0 for an
/// unknown element.
uint64_t arrayBytes(const std::string &element, int64_t rows, int64_t cols);

/// "[\"M\", 4096]".
std::string formatShape(const Dim (&shape)[2]);

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_MANIFEST_H
