//===- qmlir_runtime.hpp - C++ wrapper of the qmlir runtime C API -*- C++ -*-===//
//
// Header-only, C++17, over qmlir_runtime.h (the contract; read it for what
// each call checks and when it may be called). What it adds:
//   - qmlir::Bundle owns a qmlir_bundle (RAII, move-only): the destructor
//     closes it.
//   - Every failure throws qmlir::Error, which carries the status and the
//     runtime's message (qmlir_last_error() at the time of the failure).
//     Exceptions rather than an expected-like result because a failure here
//     (a bad bundle, a wrong argument) is a bug or a deployment problem that
//     the caller reports, not a value it branches on.
//   - Kernel, layer and weight descriptions as structs of std::string_view;
//     the views point into the bundle and live as long as it.
//   - Bundle::open checks that the library is the API version this header
//     describes (a library of another version throws QMLIR_ERROR_VERSION).
//
// Example:
//   qmlir::Bundle bundle = qmlir::Bundle::open("bundles/llama");
//   bundle.load();                 // into the current CUDA context
//   bundle.uploadWeights();
//   qmlir::LayerInfo q = bundle.layer("q_proj");
//   std::size_t bytes = bundle.workspaceSize("q_proj", m);
//   bundle.runLayer("q_proj", m, x, nullptr, out, workspace, bytes, stream);
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_HPP
#define QMLIR_RUNTIME_HPP

#include "qmlir/Runtime/qmlir_runtime.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace qmlir {

/// A failed runtime call: the status and the runtime's message.
class Error : public std::runtime_error {
public:
  Error(qmlir_status status, const std::string &message)
      : std::runtime_error(std::string(qmlir_status_name(status)) + ": " +
                           message),
        code(status), text(message) {}

  qmlir_status status() const noexcept { return code; }
  /// "QMLIR_ERROR_IO", ...
  const char *statusName() const noexcept { return qmlir_status_name(code); }
  /// The runtime's message alone (what() is "STATUS_NAME: message").
  const std::string &message() const noexcept { return text; }

private:
  qmlir_status code;
  std::string text;
};

namespace detail {
/// Throws Error for a failed status, with the calling thread's last message.
inline void check(qmlir_status status) {
  if (status != QMLIR_SUCCESS)
    throw Error(status, qmlir_last_error());
}
inline std::string_view view(const char *text) {
  return text ? std::string_view(text) : std::string_view();
}
} // namespace detail

/// A NUL-terminated name argument: a string literal, a const char * or a
/// std::string, passed to the C API without copying.
class Name {
public:
  Name(const char *text) : text(text) {}
  Name(const std::string &text) : text(text.c_str()) {}
  const char *c_str() const noexcept { return text; }

private:
  const char *text;
};

/// The API version of the loaded library (qmlir_runtime_version()).
inline int runtimeVersion() noexcept { return qmlir_runtime_version(); }

/// Throws QMLIR_ERROR_VERSION unless the library implements the API version
/// this header was written for.
inline void checkRuntimeVersion() {
  int version = qmlir_runtime_version();
  if (version != QMLIR_RUNTIME_API_VERSION)
    throw Error(QMLIR_ERROR_VERSION,
                "libqmlir_runtime implements API version " +
                    std::to_string(version) + ", qmlir_runtime.hpp expects " +
                    std::to_string(QMLIR_RUNTIME_API_VERSION));
}

struct KernelInfo {
  std::string_view name;
  std::string_view op; // "matmul" or "swiglu"
  int64_t n = 0;
  int64_t k = 0;
  std::string_view scheme;
  std::string_view activation; // "f16" or "bf16"
  std::size_t numArgs = 0;
  int64_t mMin = 0;
  int64_t mMax = 0;
  std::string_view upScheme; // swiglu only; empty otherwise
  bool hasBias = false;
  bool hasResidual = false;
  std::string_view layout; // "canonical", "mma_tile" or "mma_tile_linear"
};

struct LayerInfo {
  std::string_view name;
  std::string_view op; // "matmul" or "swiglu"
  int64_t n = 0;       // output features
  int64_t k = 0;       // input features
  std::string_view activation;
  bool hasBias = false;
  bool hasResidual = false;
  std::size_t numWeights = 0;
  int64_t mMax = 0;        // the smallest M is 1
  std::string_view layout; // of its codes, in memory bound to it too
};

struct WeightInfo {
  std::string_view name;    // "codes", "scales", ..., "gate.codes", ...
  std::string_view element; // "i32", "f16", "bf16", "f32", ...
  int64_t rows = 0;
  int64_t cols = 0;
  std::size_t bytes = 0;
  bool inBundle = false; // weights.bin holds it
};

/// An opened bundle; closed by the destructor.
class Bundle {
public:
  /// Reads and checks the bundle in `directory` (no GPU needed).
  static Bundle open(const std::string &directory) {
    checkRuntimeVersion();
    qmlir_bundle *handle = nullptr;
    detail::check(qmlir_bundle_open(directory.c_str(), &handle));
    return Bundle(handle);
  }
  /// Takes ownership of a handle from qmlir_bundle_open (may be null).
  explicit Bundle(qmlir_bundle *handle) noexcept : handle(handle) {}
  Bundle() noexcept = default;
  ~Bundle() { qmlir_bundle_close(handle); }

  Bundle(Bundle &&other) noexcept : handle(other.release()) {}
  Bundle &operator=(Bundle &&other) noexcept {
    if (this != &other) {
      qmlir_bundle_close(handle);
      handle = other.release();
    }
    return *this;
  }
  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  qmlir_bundle *get() const noexcept { return handle; }
  explicit operator bool() const noexcept { return handle != nullptr; }
  /// Gives up ownership; the caller closes the handle.
  qmlir_bundle *release() noexcept { return std::exchange(handle, nullptr); }
  /// Closes the bundle now (the destructor then does nothing).
  void close() noexcept { qmlir_bundle_close(release()); }

  /// Loads the cubins into the calling thread's current CUDA context.
  void load() { detail::check(qmlir_bundle_load(handle)); }

  // Kernels.
  std::size_t kernelCount() const noexcept {
    return qmlir_bundle_kernel_count(handle);
  }
  std::string_view kernelName(std::size_t index) const {
    const char *name = qmlir_bundle_kernel_name(handle, index);
    if (!name)
      detail::check(QMLIR_ERROR_INVALID_ARGUMENT);
    return name;
  }
  std::vector<std::string_view> kernelNames() const {
    std::vector<std::string_view> names;
    for (std::size_t i = 0, e = kernelCount(); i < e; ++i)
      names.push_back(kernelName(i));
    return names;
  }
  KernelInfo kernel(Name name) const {
    qmlir_kernel_info raw{};
    detail::check(qmlir_bundle_kernel_info(handle, name.c_str(), &raw));
    KernelInfo info;
    info.name = detail::view(raw.name);
    info.op = detail::view(raw.op);
    info.n = raw.n;
    info.k = raw.k;
    info.scheme = detail::view(raw.scheme);
    info.activation = detail::view(raw.activation);
    info.numArgs = raw.num_args;
    info.mMin = raw.m_min;
    info.mMax = raw.m_max;
    info.upScheme = detail::view(raw.up_scheme);
    info.hasBias = raw.has_bias != 0;
    info.hasResidual = raw.has_residual != 0;
    info.layout = detail::view(raw.layout);
    return info;
  }
  /// Launches one kernel; `args` as qmlir_launch describes them.
  void launch(Name kernel, int64_t m, const std::vector<void *> &args,
              void *stream) const {
    detail::check(qmlir_launch(handle, kernel.c_str(), m, args.data(),
                               args.size(), stream));
  }

  // Layers.
  std::size_t layerCount() const noexcept {
    return qmlir_bundle_layer_count(handle);
  }
  std::string_view layerName(std::size_t index) const {
    const char *name = qmlir_bundle_layer_name(handle, index);
    if (!name)
      detail::check(QMLIR_ERROR_INVALID_ARGUMENT);
    return name;
  }
  std::vector<std::string_view> layerNames() const {
    std::vector<std::string_view> names;
    for (std::size_t i = 0, e = layerCount(); i < e; ++i)
      names.push_back(layerName(i));
    return names;
  }
  LayerInfo layer(Name name) const {
    qmlir_layer_info raw{};
    detail::check(qmlir_bundle_layer_info(handle, name.c_str(), &raw));
    LayerInfo info;
    info.name = detail::view(raw.name);
    info.op = detail::view(raw.op);
    info.n = raw.n;
    info.k = raw.k;
    info.activation = detail::view(raw.activation);
    info.hasBias = raw.has_bias != 0;
    info.hasResidual = raw.has_residual != 0;
    info.layout = detail::view(raw.layout);
    info.numWeights = raw.num_weights;
    info.mMax = raw.m_max;
    return info;
  }
  WeightInfo weight(Name layer, std::size_t index) const {
    qmlir_weight_info raw{};
    detail::check(
        qmlir_bundle_weight_info(handle, layer.c_str(), index, &raw));
    WeightInfo info;
    info.name = detail::view(raw.name);
    info.element = detail::view(raw.element);
    info.rows = raw.rows;
    info.cols = raw.cols;
    info.bytes = raw.bytes;
    info.inBundle = raw.in_bundle != 0;
    return info;
  }
  /// Every weight of `layer`, in the order the runtime lists them.
  std::vector<WeightInfo> weights(Name layer) const {
    std::vector<WeightInfo> all;
    std::size_t count = this->layer(layer).numWeights;
    for (std::size_t i = 0; i < count; ++i)
      all.push_back(weight(layer, i));
    return all;
  }

  /// Copies the weights that weights.bin holds to the GPU (needs load()).
  void uploadWeights() { detail::check(qmlir_bundle_upload_weights(handle)); }
  /// Binds caller-owned device memory as weight `weight` of `layer`.
  void bindWeight(Name layer, Name weight, const void *devicePointer) {
    detail::check(qmlir_bundle_bind_weight(handle, layer.c_str(),
                                           weight.c_str(), devicePointer));
  }
  /// Converts weight `weight` of `layer` (`bytes` bytes of host memory)
  /// between checkpoint order and the layer's layout; see
  /// qmlir_bundle_arrange_weight.
  void arrangeWeight(Name layer, Name weight, qmlir_arrangement direction,
                     const void *in, void *out, std::size_t bytes) const {
    detail::check(qmlir_bundle_arrange_weight(handle, layer.c_str(),
                                              weight.c_str(), direction, in,
                                              out, bytes));
  }
  /// Bytes of workspace runLayer needs for `m` rows.
  std::size_t workspaceSize(Name layer, int64_t m) const {
    std::size_t bytes = 0;
    detail::check(
        qmlir_layer_workspace_size(handle, layer.c_str(), m, &bytes));
    return bytes;
  }
  /// Enqueues `layer` on `stream` (a CUstream) for `m` rows; no allocation,
  /// no synchronisation. `residual` is null unless the layer has one.
  void runLayer(Name layer, int64_t m, const void *x, const void *residual,
                void *out, void *workspace, std::size_t workspaceBytes,
                void *stream) {
    detail::check(qmlir_run_layer(handle, layer.c_str(), m, x, residual, out,
                                  workspace, workspaceBytes, stream));
  }

private:
  qmlir_bundle *handle = nullptr;
};

} // namespace qmlir

#endif // QMLIR_RUNTIME_HPP
