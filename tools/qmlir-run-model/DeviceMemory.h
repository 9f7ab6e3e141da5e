//===- DeviceMemory.h - Device allocations freed on every path --*- C++ -*-===//
//
// For the GPU tools (qmlir-run-model, qmlir-bench): every buffer they
// allocate is released when the owner goes out of scope, including on the
// error paths that return early.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_MODEL_DEVICEMEMORY_H
#define QMLIR_TOOLS_QMLIR_RUN_MODEL_DEVICEMEMORY_H

#include "qmlir/Runtime/CudaDriver.h"

#include <string>
#include <vector>

namespace qmlir::run {

class DeviceMemory {
public:
  using CUdeviceptr = runtime::cuda::CUdeviceptr;
  explicit DeviceMemory(runtime::CudaDriver &driver) : driver(driver) {}
  ~DeviceMemory() {
    for (CUdeviceptr pointer : pointers)
      driver.cuMemFree(pointer);
  }
  DeviceMemory(const DeviceMemory &) = delete;
  DeviceMemory &operator=(const DeviceMemory &) = delete;

  /// `bytes` of device memory holding a copy of `data` (uninitialised if
  /// null); 0 with `error` set on failure.
  CUdeviceptr alloc(size_t bytes, const void *data, std::string &error) {
    CUdeviceptr pointer = 0;
    if (!driver.check("cuMemAlloc",
                      driver.cuMemAlloc(&pointer, bytes ? bytes : 1), &error))
      return 0;
    pointers.push_back(pointer);
    if (data && !driver.check("cuMemcpyHtoD",
                              driver.cuMemcpyHtoD(pointer, data, bytes), &error))
      return 0;
    return pointer;
  }

  runtime::CudaDriver &driver;

private:
  std::vector<CUdeviceptr> pointers;
};

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_RUN_MODEL_DEVICEMEMORY_H
