//===- CudaDriver.cpp - The CUDA driver API, loaded with dlopen -----------===//
//
// Opens libcuda once per process and resolves the entry points we use. The
// library is never closed: kernels, contexts and atexit handlers of the driver
// may outlive any object of ours.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CudaDriver.h"

#include <dlfcn.h>

#include <initializer_list>

using namespace qmlir::runtime;

namespace {

/// Resolves entry points one after the other and remembers the first one that
/// is missing, so that the error names it.
class Resolver {
public:
  explicit Resolver(void *handle) : handle(handle) {}

  /// Stores into `slot` the first of `names` that the library exports.
  template <typename Fn>
  void operator()(Fn &slot, std::initializer_list<const char *> names) {
    for (const char *name : names)
      if (void *symbol = dlsym(handle, name)) {
        slot = reinterpret_cast<Fn>(symbol);
        return;
      }
    if (missing.empty())
      missing = *names.begin();
  }

  std::string missing;

private:
  void *handle;
};

} // namespace

CudaDriver *CudaDriver::get(std::string *error) {
  // A function-local static: initialised exactly once, even when several
  // threads get here first at the same time.
  static std::string loadError;
  static CudaDriver *instance = load(loadError);
  if (!instance && error)
    *error = loadError;
  return instance;
}

CudaDriver *CudaDriver::load(std::string &error) {
  const char *const primary = "libcuda.so.1";
  void *handle = dlopen(primary, RTLD_NOW | RTLD_LOCAL);
  std::string name = primary;
  if (!handle) {
    // Report why the real driver failed, not why the fallback did.
    const char *reason = dlerror();
    error = std::string("cannot load the CUDA driver (") + primary +
            "): " + (reason ? reason : "unknown error");
    handle = dlopen("libcuda.so", RTLD_NOW | RTLD_LOCAL);
    if (!handle)
      return nullptr;
    name = "libcuda.so";
  }

  auto *driver = new CudaDriver();
  driver->handle = handle;
  driver->library = name;
  Resolver resolve(handle);
  resolve(driver->cuInit, {"cuInit"});
  resolve(driver->cuDriverGetVersion, {"cuDriverGetVersion"});
  resolve(driver->cuDeviceGetCount, {"cuDeviceGetCount"});
  resolve(driver->cuDeviceGet, {"cuDeviceGet"});
  resolve(driver->cuDeviceGetAttribute, {"cuDeviceGetAttribute"});
  resolve(driver->cuDeviceGetName, {"cuDeviceGetName"});
  resolve(driver->cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"});
  resolve(driver->cuDevicePrimaryCtxRelease,
          {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"});
  resolve(driver->cuCtxSetCurrent, {"cuCtxSetCurrent"});
  resolve(driver->cuCtxGetCurrent, {"cuCtxGetCurrent"});
  resolve(driver->cuCtxGetDevice, {"cuCtxGetDevice"});
  resolve(driver->cuCtxSynchronize, {"cuCtxSynchronize"});
  resolve(driver->cuModuleLoadData, {"cuModuleLoadData"});
  resolve(driver->cuModuleUnload, {"cuModuleUnload"});
  resolve(driver->cuModuleGetFunction, {"cuModuleGetFunction"});
  resolve(driver->cuFuncSetAttribute, {"cuFuncSetAttribute"});
  resolve(driver->cuLaunchKernel, {"cuLaunchKernel"});
  // The unversioned memory functions take 32-bit device pointers: only the
  // _v2 ones will do.
  resolve(driver->cuMemAlloc, {"cuMemAlloc_v2"});
  resolve(driver->cuMemFree, {"cuMemFree_v2"});
  resolve(driver->cuMemcpyHtoD, {"cuMemcpyHtoD_v2"});
  resolve(driver->cuMemcpyDtoH, {"cuMemcpyDtoH_v2"});
  resolve(driver->cuMemsetD8, {"cuMemsetD8_v2"});
  resolve(driver->cuMemcpyDtoDAsync, {"cuMemcpyDtoDAsync_v2"});
  resolve(driver->cuStreamCreate, {"cuStreamCreate"});
  resolve(driver->cuStreamDestroy, {"cuStreamDestroy_v2", "cuStreamDestroy"});
  resolve(driver->cuStreamSynchronize, {"cuStreamSynchronize"});
  resolve(driver->cuEventCreate, {"cuEventCreate"});
  resolve(driver->cuEventRecord, {"cuEventRecord"});
  resolve(driver->cuEventSynchronize, {"cuEventSynchronize"});
  // _v2 exists from CUDA 12.8 on, with the same signature.
  resolve(driver->cuEventElapsedTime,
          {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  resolve(driver->cuEventDestroy, {"cuEventDestroy_v2", "cuEventDestroy"});
  resolve(driver->cuGetErrorString, {"cuGetErrorString"});
  resolve(driver->cuGetErrorName, {"cuGetErrorName"});

  if (!resolve.missing.empty()) {
    error = "cannot use the CUDA driver (" + name + "): it does not export " +
            resolve.missing + " (driver too old?)";
    delete driver;
    return nullptr;
  }
  error.clear();
  return driver;
}

std::string CudaDriver::describe(const char *call,
                                 cuda::CUresult result) const {
  const char *name = nullptr;
  const char *text = nullptr;
  std::string message = std::string(call) + " failed: ";
  if (cuGetErrorName(result, &name) != cuda::CUDA_SUCCESS || !name)
    return message + "CUDA error " + std::to_string(result);
  message += name;
  if (cuGetErrorString(result, &text) == cuda::CUDA_SUCCESS && text)
    message += std::string(" (") + text + ")";
  return message;
}

bool CudaDriver::check(const char *call, cuda::CUresult result,
                       std::string *error) const {
  if (result == cuda::CUDA_SUCCESS)
    return true;
  if (error)
    *error = describe(call, result);
  return false;
}

bool CudaDriver::makePrimaryContextCurrent(int ordinal,
                                           cuda::CUcontext *context,
                                           std::string *error) {
  cuda::CUdevice device = 0;
  cuda::CUcontext primary = nullptr;
  if (!check("cuInit", cuInit(0), error) ||
      !check("cuDeviceGet", cuDeviceGet(&device, ordinal), error) ||
      !check("cuDevicePrimaryCtxRetain",
             cuDevicePrimaryCtxRetain(&primary, device), error))
    return false;
  if (!check("cuCtxSetCurrent", cuCtxSetCurrent(primary), error)) {
    cuDevicePrimaryCtxRelease(device);
    return false;
  }
  if (context)
    *context = primary;
  return true;
}

bool CudaDriver::releasePrimaryContext(int ordinal, std::string *error) {
  cuda::CUdevice device = 0;
  return check("cuDeviceGet", cuDeviceGet(&device, ordinal), error) &&
         check("cuCtxSetCurrent", cuCtxSetCurrent(nullptr), error) &&
         check("cuDevicePrimaryCtxRelease", cuDevicePrimaryCtxRelease(device),
               error);
}
