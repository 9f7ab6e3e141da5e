//===- Bundle.h - An opened bundle: load and launch -------------*- C++ -*-===//
//
// The object behind the C API's qmlir_bundle handle. open() reads and checks
// the whole bundle without the driver; load() puts the cubins into the
// calling thread's current context; launch() checks a call and enqueues the
// kernel with no allocation and no synchronisation.
//
// Thread safety: once loaded, launch() and the kernel queries only read the
// bundle and may run on several threads at once. open, load and the
// destructor must not race with anything else on the same bundle.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_LIB_BUNDLE_H
#define QMLIR_RUNTIME_LIB_BUNDLE_H

#include "Manifest.h"
#include "Status.h"

#include "qmlir/Runtime/CudaDriver.h"

#include <memory>
#include <string>
#include <vector>

namespace qmlir::runtime {

class Bundle {
public:
  /// Reads and checks the bundle in `directory`.
  static Status open(const std::string &directory,
                     std::unique_ptr<Bundle> &bundle);
  /// Unloads the modules if their context is current on this thread.
  ~Bundle();

  Bundle(const Bundle &) = delete;
  Bundle &operator=(const Bundle &) = delete;

  Status load();
  Status launch(const char *kernel, int64_t m, void *const *args,
                size_t numArgs, void *stream) const;

  /// Describes kernel `name` (NOT_FOUND, listing the kernels, if absent).
  Status kernelInfo(const char *name, qmlir_kernel_info &info) const;

  size_t kernelCount() const { return kernels.size(); }
  /// Null if `index` is out of range.
  const char *kernelName(size_t index) const;
  const std::string &directory() const { return dir; }

private:
  struct Module {
    const ModuleSpec *spec = nullptr;
    std::string path;
    std::vector<unsigned char> image; // released once loaded
    cuda::CUmodule handle = nullptr;
  };
  struct Kernel {
    const KernelSpec *spec = nullptr;
    std::string argumentNames; // "x, codes, scales, out", for messages
    cuda::CUfunction function = nullptr;
  };

  explicit Bundle(std::string directory) : dir(std::move(directory)) {}
  const Kernel *find(const char *name) const;
  /// NOT_FOUND for `name`, naming the caller and the kernels there are.
  Status notFound(const char *caller, const char *name) const;
  Status checkLaunch(const Kernel &kernel, int64_t m, void *const *args,
                     size_t numArgs) const;
  Status loadModules();
  Status loadKernels();
  /// Unloads the modules loaded so far (the current context is theirs).
  void unloadModules();

  std::string dir;
  Manifest manifest;
  std::vector<Module> modules;
  std::vector<Kernel> kernels;
  CudaDriver *driver = nullptr;      // set by a successful load
  cuda::CUcontext context = nullptr; // the context the modules are in
  bool loaded = false;
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_BUNDLE_H
