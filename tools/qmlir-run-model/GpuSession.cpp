//===- GpuSession.cpp - Device 0, made current, for the GPU tools ---------===//

#include "GpuSession.h"

using namespace qmlir::run;
using qmlir::runtime::CudaDriver;
using namespace qmlir::runtime::cuda;

BundlePtr qmlir::run::openModelBundle(const std::string &directory,
                                      std::string &error) {
  qmlir_bundle *raw = nullptr;
  if (qmlir_bundle_open(directory.c_str(), &raw) != QMLIR_SUCCESS) {
    error = std::string("cannot open the bundle: ") + qmlir_last_error();
    return BundlePtr(nullptr, qmlir_bundle_close);
  }
  BundlePtr bundle(raw, qmlir_bundle_close);
  if (qmlir_bundle_layer_count(raw) == 0) {
    error = directory + " has no layers (compile a model with qmlir-compile "
                        "--model-spec/--checkpoint)";
    bundle.reset();
  }
  return bundle;
}

std::optional<GpuSession> GpuSession::open(std::string &error) {
  CudaDriver *driver = CudaDriver::get(&error);
  if (!driver)
    return error = "SKIPPED: no GPU to run on (" + error + ")", std::nullopt;
  int devices = 0;
  if (driver->cuInit(0) != CUDA_SUCCESS ||
      driver->cuDeviceGetCount(&devices) != CUDA_SUCCESS || devices == 0)
    return error = "SKIPPED: no GPU to run on (no CUDA device)", std::nullopt;
  CUcontext context = nullptr;
  if (!driver->makePrimaryContextCurrent(0, &context, &error))
    return std::nullopt;
  GpuSession session{*driver};
  CUdevice device = 0;
  char name[256] = "unknown";
  driver->cuDeviceGet(&device, 0);
  driver->cuDeviceGetName(name, sizeof(name) - 1, device);
  session.deviceName = name;
  driver->cuDeviceGetAttribute(&session.smCount,
                               CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
  driver->cuDeviceGetAttribute(&session.l2Bytes,
                               CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, device);
  driver->cuDriverGetVersion(&session.driverVersion);
  if (!driver->check("cuStreamCreate",
                     driver->cuStreamCreate(&session.stream, CU_STREAM_DEFAULT),
                     &error))
    return std::nullopt;
  return session;
}

