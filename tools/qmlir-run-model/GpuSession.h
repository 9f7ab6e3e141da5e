//===- GpuSession.h - Device 0, made current, for the GPU tools -*- C++ -*-===//
//
// qmlir-run-model and qmlir-bench open a model bundle, then device 0's
// primary context and a stream, the same way; a missing driver or device is
// a skip (exit 77), not an error.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_MODEL_GPUSESSION_H
#define QMLIR_TOOLS_QMLIR_RUN_MODEL_GPUSESSION_H

#include "qmlir/Runtime/CudaDriver.h"
#include "qmlir/Runtime/qmlir_runtime.h"

#include <memory>
#include <optional>
#include <string>

namespace qmlir::run {

using BundlePtr = std::unique_ptr<qmlir_bundle, void (*)(qmlir_bundle *)>;

/// Opens the model bundle in `directory`; null with `error` set if it
/// cannot be opened or has no layers.
BundlePtr openModelBundle(const std::string &directory, std::string &error);

/// Device 0's primary context, made current, and a stream.
struct GpuSession {
  /// std::nullopt with `error` set; `error` starts with "SKIPPED" when there
  /// is no driver or no device.
  static std::optional<GpuSession> open(std::string &error);

  runtime::CudaDriver &driver;
  runtime::cuda::CUstream stream = nullptr;
  std::string deviceName;
  int smCount = 0, l2Bytes = 0, driverVersion = 0;
};

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_RUN_MODEL_GPUSESSION_H
