//===- CudaDriver.h - The CUDA driver API, loaded with dlopen ---*- C++ -*-===//
//
// The runtime and the MLIR-free runner must start on machines without the
// CUDA toolkit and report a missing driver as an error, not fail to load. So
// nothing links libcuda: CudaDriver opens libcuda.so.1 with dlopen once per
// process and resolves the entry points below with dlsym. The types are our
// own minimal stand-ins for cuda.h's (same sizes and calling convention), so
// no CUDA header is needed to build.
//
// Where the driver exports a versioned symbol (cuMemAlloc_v2, ...), that is
// the one resolved: the unversioned legacy ones have 32-bit device pointers
// or older semantics. Every entry point is required; a driver lacking one is
// reported as unusable.
//
// This is an internal C++ API (not exported from libqmlir_runtime.so); it is
// built as the static library QmlirCudaDriver for the runtime and the runner.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_CUDADRIVER_H
#define QMLIR_RUNTIME_CUDADRIVER_H

#include <cstddef>
#include <string>

namespace qmlir::runtime {

namespace cuda {
using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;

// The few enumerators we use, with cuda.h's values.
inline constexpr CUresult CUDA_SUCCESS = 0;
inline constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
inline constexpr CUresult CUDA_ERROR_DEINITIALIZED = 4;
inline constexpr CUresult CUDA_ERROR_STUB_LIBRARY = 34;
inline constexpr CUresult CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
inline constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
inline constexpr CUresult CUDA_ERROR_INVALID_IMAGE = 200;
inline constexpr CUresult CUDA_ERROR_NO_BINARY_FOR_GPU = 209;
inline constexpr CUresult CUDA_ERROR_INVALID_PTX = 218;
inline constexpr CUresult CUDA_ERROR_UNSUPPORTED_PTX_VERSION = 222;
inline constexpr CUresult CUDA_ERROR_NOT_FOUND = 500;

inline constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
inline constexpr int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
inline constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
inline constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
inline constexpr unsigned CU_STREAM_DEFAULT = 0;
inline constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
inline constexpr unsigned CU_EVENT_DEFAULT = 0;

/// Dynamic shared memory a kernel may use without opting in.
} // namespace cuda

/// The CUDA driver entry points, resolved from libcuda at run time. Obtain the
/// process-wide instance with get(); the pointers are never null.
class CudaDriver {
public:
  /// Loads the driver on first use (thread-safe). Returns null, and a message
  /// in `error` if non-null, when libcuda cannot be loaded or lacks an entry
  /// point; later calls return the same result without retrying.
  static CudaDriver *get(std::string *error = nullptr);

  /// The library that was loaded, e.g. "libcuda.so.1".
  const std::string &libraryName() const { return library; }

  /// "cuModuleLoadData failed: CUDA_ERROR_INVALID_IMAGE (device kernel image
  /// is invalid)".
  std::string describe(const char *call, cuda::CUresult result) const;
  /// Returns true if `result` is CUDA_SUCCESS, otherwise stores
  /// describe(call, result) in `error` (if non-null) and returns false.
  bool check(const char *call, cuda::CUresult result, std::string *error) const;

  /// Convenience for tools: cuInit, then retains device `ordinal`'s primary
  /// context and makes it current on the calling thread. Pair with
  /// releasePrimaryContext.
  bool makePrimaryContextCurrent(int ordinal, cuda::CUcontext *context,
                                 std::string *error);
  /// Clears the current context and releases device `ordinal`'s primary
  /// context.
  bool releasePrimaryContext(int ordinal, std::string *error);

  using CUresult = cuda::CUresult;
  using CUdevice = cuda::CUdevice;
  using CUdeviceptr = cuda::CUdeviceptr;
  using CUcontext = cuda::CUcontext;
  using CUmodule = cuda::CUmodule;
  using CUfunction = cuda::CUfunction;
  using CUstream = cuda::CUstream;
  using CUevent = cuda::CUevent;

  // Initialisation, devices, contexts.
  CUresult (*cuInit)(unsigned flags) = nullptr;
  CUresult (*cuDriverGetVersion)(int *version) = nullptr;
  CUresult (*cuDeviceGetCount)(int *count) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal) = nullptr;
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute,
                                   CUdevice device) = nullptr;
  CUresult (*cuDeviceGetName)(char *name, int length,
                              CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context,
                                       CUdevice device) = nullptr;
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext context) = nullptr;
  CUresult (*cuCtxGetCurrent)(CUcontext *context) = nullptr;
  CUresult (*cuCtxGetDevice)(CUdevice *device) = nullptr;
  CUresult (*cuCtxSynchronize)() = nullptr;

  // Modules and launches.
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule module) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module,
                                  const char *name) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction function, int attribute,
                                 int value) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX,
                             unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ,
                             unsigned sharedMemBytes, CUstream stream,
                             void **kernelParams, void **extra) = nullptr;

  // Memory.
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr pointer) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr destination, const void *source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *destination, CUdeviceptr source,
                           size_t bytes) = nullptr;
  CUresult (*cuMemsetD8)(CUdeviceptr destination, unsigned char value,
                         size_t count) = nullptr;
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr destination, CUdeviceptr source,
                                size_t bytes, CUstream stream) = nullptr;

  // Streams and events.
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags) = nullptr;
  CUresult (*cuStreamDestroy)(CUstream stream) = nullptr;
  CUresult (*cuStreamSynchronize)(CUstream stream) = nullptr;
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags) = nullptr;
  CUresult (*cuEventRecord)(CUevent event, CUstream stream) = nullptr;
  CUresult (*cuEventSynchronize)(CUevent event) = nullptr;
  CUresult (*cuEventElapsedTime)(float *milliseconds, CUevent start,
                                 CUevent end) = nullptr;
  CUresult (*cuEventDestroy)(CUevent event) = nullptr;

  // Errors.
  CUresult (*cuGetErrorString)(CUresult error, const char **text) = nullptr;
  CUresult (*cuGetErrorName)(CUresult error, const char **text) = nullptr;

  CudaDriver(const CudaDriver &) = delete;
  CudaDriver &operator=(const CudaDriver &) = delete;

private:
  CudaDriver() = default;
  /// dlopens the driver and fills in the entry points.
  static CudaDriver *load(std::string &error);

  void *handle = nullptr;
  std::string library;
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_CUDADRIVER_H
