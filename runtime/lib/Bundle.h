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
#include <string_view>
#include <unordered_map>
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

  // Layers (BundleLayers.cpp).
  size_t layerCount() const { return layers.size(); }
  const char *layerName(size_t index) const;
  Status layerInfo(const char *name, qmlir_layer_info &info) const;
  Status weightInfo(const char *layer, size_t index,
                    qmlir_weight_info &info) const;
  Status uploadWeights();
  Status bindWeight(const char *layer, const char *weight,
                    const void *pointer);
  Status arrangeWeight(const char *layer, const char *weight,
                       qmlir_arrangement direction, const void *in, void *out,
                       size_t bytes) const;
  Status workspaceSize(const char *layer, int64_t m, size_t &bytes) const;
  Status runLayer(const char *layer, int64_t m, const void *x,
                  const void *residual, void *out, void *workspace,
                  size_t workspaceBytes, void *stream) const;
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

  struct Layer {
    const LayerSpec *spec = nullptr;
    /// Device pointer of each weight (null: neither uploaded nor bound).
    std::vector<const void *> weights;
  };

  explicit Bundle(std::string directory) : dir(std::move(directory)) {}
  const Kernel *find(const char *name) const;
  const Layer *findLayer(const char *name) const;
  /// NOT_FOUND for layer `name`.
  Status layerNotFound(const char *caller, const char *name) const;
  /// Checks M, the argument count and the pointers of a call of `kernel`.
  Status checkLaunch(const char *caller, const Kernel &kernel, int64_t m,
                     void *const *args, size_t numArgs) const;
  /// Enqueues a checked call (the bundle must be loaded and its context
  /// current).
  Status enqueue(const char *caller, const Kernel &kernel, int64_t m,
                 void *const *args, void *stream) const;
  /// NOT_LOADED / NO_DEVICE unless the bundle is loaded into the current
  /// context.
  Status checkContext(const char *caller) const;
  /// IO / BAD_MANIFEST unless weights.bin has the manifest's size.
  Status checkWeightsFile() const;
  std::string weightsPath() const;
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
  std::vector<Layer> layers;
  /// Layer index by name (keys view the manifest's strings): qmlir_run_layer
  /// finds its layer without a scan over a model's hundreds of layers.
  std::unordered_map<std::string_view, size_t> layerIndex;
  /// weights.bin in device memory, once uploaded (freed with the bundle).
  cuda::CUdeviceptr weightsMemory = 0;
  CudaDriver *driver = nullptr;      // set by a successful load
  cuda::CUcontext context = nullptr; // the context the modules are in
  bool loaded = false;
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_BUNDLE_H
