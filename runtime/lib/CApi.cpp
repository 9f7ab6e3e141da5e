//===- CApi.cpp - The qmlir runtime C API ---------------------------------===//
//
// The exported functions: argument checks on handles, the thread-local error
// message, and a guard that keeps every exception inside the library. The
// library is built with hidden visibility; only the declarations of
// qmlir_runtime.h, included below under "visibility push(default)", are
// exported.
//
//===----------------------------------------------------------------------===//

#pragma GCC visibility push(default)
#include "qmlir/Runtime/qmlir_runtime.h"
#pragma GCC visibility pop

#include "Bundle.h"

#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>

using namespace qmlir::runtime;

namespace {

/// The message of the last failure on this thread. Successful calls leave it
/// alone, like errno.
thread_local std::string lastError;

qmlir_status record(qmlir_status code, std::string message) noexcept {
  try {
    lastError = std::move(message);
  } catch (...) {
    // Out of memory while reporting: keep the status, lose the message.
    lastError.clear();
  }
  return code;
}

/// Runs `body` (returning a Status) and records its failure. Exceptions
/// (bad_alloc, anything from a library) become `fallback`.
template <typename Body>
qmlir_status guarded(const char *function, qmlir_status fallback,
                     Body &&body) noexcept {
  try {
    Status status = body();
    if (status.ok())
      return QMLIR_SUCCESS;
    return record(status.code, std::move(status.message));
  } catch (const std::exception &error) {
    return record(fallback, std::string(function) + ": " + error.what());
  } catch (...) {
    return record(fallback, std::string(function) + ": unknown exception");
  }
}

Bundle *unwrap(qmlir_bundle *bundle) {
  return reinterpret_cast<Bundle *>(bundle);
}
const Bundle *unwrap(const qmlir_bundle *bundle) {
  return reinterpret_cast<const Bundle *>(bundle);
}

Status nullArgument(const char *function, const char *argument) {
  return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                 std::string(function) + ": " + argument + " is null");
}

} // namespace

int qmlir_runtime_version(void) { return QMLIR_RUNTIME_API_VERSION; }

const char *qmlir_status_name(qmlir_status status) {
  // C callers may pass any int; reading it as the enum would be undefined
  // behaviour in C++ for values outside the enumerators' range.
  std::underlying_type_t<qmlir_status> value;
  std::memcpy(&value, &status, sizeof(value));
  switch (value) {
  case QMLIR_SUCCESS:
    return "QMLIR_SUCCESS";
  case QMLIR_ERROR_INVALID_ARGUMENT:
    return "QMLIR_ERROR_INVALID_ARGUMENT";
  case QMLIR_ERROR_IO:
    return "QMLIR_ERROR_IO";
  case QMLIR_ERROR_BAD_MANIFEST:
    return "QMLIR_ERROR_BAD_MANIFEST";
  case QMLIR_ERROR_VERSION:
    return "QMLIR_ERROR_VERSION";
  case QMLIR_ERROR_BAD_CUBIN:
    return "QMLIR_ERROR_BAD_CUBIN";
  case QMLIR_ERROR_NOT_FOUND:
    return "QMLIR_ERROR_NOT_FOUND";
  case QMLIR_ERROR_NO_DRIVER:
    return "QMLIR_ERROR_NO_DRIVER";
  case QMLIR_ERROR_NO_DEVICE:
    return "QMLIR_ERROR_NO_DEVICE";
  case QMLIR_ERROR_ARCH_MISMATCH:
    return "QMLIR_ERROR_ARCH_MISMATCH";
  case QMLIR_ERROR_NOT_LOADED:
    return "QMLIR_ERROR_NOT_LOADED";
  case QMLIR_ERROR_CUDA:
    return "QMLIR_ERROR_CUDA";
  case QMLIR_ERROR_NOT_BOUND:
    return "QMLIR_ERROR_NOT_BOUND";
  }
  // A value outside the enum, e.g. from a newer header.
  return "QMLIR_UNKNOWN_STATUS";
}

const char *qmlir_last_error(void) { return lastError.c_str(); }

qmlir_status qmlir_bundle_open(const char *directory, qmlir_bundle **bundle) {
  if (bundle)
    *bundle = nullptr;
  return guarded("qmlir_bundle_open", QMLIR_ERROR_BAD_MANIFEST, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_open", "bundle (the result pointer)");
    if (!directory)
      return nullArgument("qmlir_bundle_open", "directory");
    std::unique_ptr<Bundle> opened;
    Status status = Bundle::open(directory, opened);
    if (status.ok())
      *bundle = reinterpret_cast<qmlir_bundle *>(opened.release());
    return status;
  });
}

void qmlir_bundle_close(qmlir_bundle *bundle) {
  try {
    delete unwrap(bundle);
  } catch (...) {
    // A destructor of ours does not throw; nothing else to do here.
  }
}

qmlir_status qmlir_bundle_load(qmlir_bundle *bundle) {
  return guarded("qmlir_bundle_load", QMLIR_ERROR_CUDA, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_load", "bundle");
    return unwrap(bundle)->load();
  });
}

size_t qmlir_bundle_kernel_count(const qmlir_bundle *bundle) {
  return bundle ? unwrap(bundle)->kernelCount() : 0;
}

const char *qmlir_bundle_kernel_name(const qmlir_bundle *bundle, size_t index) {
  const char *name = nullptr;
  guarded("qmlir_bundle_kernel_name", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_kernel_name", "bundle");
    name = unwrap(bundle)->kernelName(index);
    if (!name)
      return failure(
          QMLIR_ERROR_INVALID_ARGUMENT,
          "qmlir_bundle_kernel_name: index " + std::to_string(index) +
              " is out of range (the "
              "bundle has " +
              std::to_string(unwrap(bundle)->kernelCount()) + " kernels)");
    return Status::success();
  });
  return name;
}

qmlir_status qmlir_bundle_kernel_info(const qmlir_bundle *bundle,
                                      const char *kernel,
                                      qmlir_kernel_info *info) {
  return guarded("qmlir_bundle_kernel_info", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_kernel_info", "bundle");
    if (!kernel)
      return nullArgument("qmlir_bundle_kernel_info", "kernel");
    if (!info)
      return nullArgument("qmlir_bundle_kernel_info", "info");
    return unwrap(bundle)->kernelInfo(kernel, *info);
  });
}

qmlir_status qmlir_launch(qmlir_bundle *bundle, const char *kernel, int64_t m,
                          void *const *args, size_t num_args, void *stream) {
  return guarded("qmlir_launch", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_launch", "bundle");
    if (!kernel)
      return nullArgument("qmlir_launch", "kernel (the kernel name)");
    return unwrap(bundle)->launch(kernel, m, args, num_args, stream);
  });
}

size_t qmlir_bundle_layer_count(const qmlir_bundle *bundle) {
  return bundle ? unwrap(bundle)->layerCount() : 0;
}

const char *qmlir_bundle_layer_name(const qmlir_bundle *bundle, size_t index) {
  const char *name = nullptr;
  guarded("qmlir_bundle_layer_name", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_layer_name", "bundle");
    name = unwrap(bundle)->layerName(index);
    if (!name)
      return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                     "qmlir_bundle_layer_name: index " + std::to_string(index) +
                         " is out of range (the bundle has " +
                         std::to_string(unwrap(bundle)->layerCount()) +
                         " layers)");
    return Status::success();
  });
  return name;
}

qmlir_status qmlir_bundle_layer_info(const qmlir_bundle *bundle,
                                     const char *layer,
                                     qmlir_layer_info *info) {
  return guarded("qmlir_bundle_layer_info", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_layer_info", "bundle");
    if (!layer)
      return nullArgument("qmlir_bundle_layer_info", "layer");
    if (!info)
      return nullArgument("qmlir_bundle_layer_info", "info");
    return unwrap(bundle)->layerInfo(layer, *info);
  });
}

qmlir_status qmlir_bundle_weight_info(const qmlir_bundle *bundle,
                                      const char *layer, size_t index,
                                      qmlir_weight_info *info) {
  return guarded("qmlir_bundle_weight_info", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_weight_info", "bundle");
    if (!layer)
      return nullArgument("qmlir_bundle_weight_info", "layer");
    if (!info)
      return nullArgument("qmlir_bundle_weight_info", "info");
    return unwrap(bundle)->weightInfo(layer, index, *info);
  });
}

qmlir_status qmlir_bundle_upload_weights(qmlir_bundle *bundle) {
  return guarded("qmlir_bundle_upload_weights", QMLIR_ERROR_CUDA, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_upload_weights", "bundle");
    return unwrap(bundle)->uploadWeights();
  });
}

qmlir_status qmlir_bundle_bind_weight(qmlir_bundle *bundle, const char *layer,
                                      const char *weight,
                                      const void *device_pointer) {
  return guarded("qmlir_bundle_bind_weight", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_bundle_bind_weight", "bundle");
    if (!layer)
      return nullArgument("qmlir_bundle_bind_weight", "layer");
    if (!weight)
      return nullArgument("qmlir_bundle_bind_weight", "weight");
    return unwrap(bundle)->bindWeight(layer, weight, device_pointer);
  });
}

qmlir_status qmlir_bundle_arrange_weight(const qmlir_bundle *bundle,
                                         const char *layer, const char *weight,
                                         qmlir_arrangement direction,
                                         const void *in, void *out,
                                         size_t bytes) {
  const char *caller = "qmlir_bundle_arrange_weight";
  return guarded(caller, QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument(caller, "bundle");
    if (!layer)
      return nullArgument(caller, "layer");
    if (!weight)
      return nullArgument(caller, "weight");
    if (!in)
      return nullArgument(caller, "in");
    if (!out)
      return nullArgument(caller, "out");
    return unwrap(bundle)->arrangeWeight(layer, weight, direction, in, out,
                                         bytes);
  });
}

qmlir_status qmlir_layer_workspace_size(const qmlir_bundle *bundle,
                                        const char *layer, int64_t m,
                                        size_t *bytes) {
  return guarded("qmlir_layer_workspace_size", QMLIR_ERROR_INVALID_ARGUMENT,
                 [&] {
                   if (!bundle)
                     return nullArgument("qmlir_layer_workspace_size",
                                         "bundle");
                   if (!layer)
                     return nullArgument("qmlir_layer_workspace_size", "layer");
                   if (!bytes)
                     return nullArgument("qmlir_layer_workspace_size", "bytes");
                   return unwrap(bundle)->workspaceSize(layer, m, *bytes);
                 });
}

qmlir_status qmlir_run_layer(qmlir_bundle *bundle, const char *layer,
                             int64_t m, const void *x, const void *residual,
                             void *out, void *workspace,
                             size_t workspace_bytes, void *stream) {
  return guarded("qmlir_run_layer", QMLIR_ERROR_INVALID_ARGUMENT, [&] {
    if (!bundle)
      return nullArgument("qmlir_run_layer", "bundle");
    if (!layer)
      return nullArgument("qmlir_run_layer", "layer");
    return unwrap(bundle)->runLayer(layer, m, x, residual, out, workspace,
                                    workspace_bytes, stream);
  });
}
