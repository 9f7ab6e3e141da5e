//===- Bundle.cpp - An opened bundle: load and launch ---------------------===//
//
// Messages start with the C function they come from, so that a caller that
// just prints qmlir_last_error() still says what failed.
//
//===----------------------------------------------------------------------===//

#include "Bundle.h"

#include "BundleFiles.h"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>

using namespace qmlir::runtime;
namespace fs = std::filesystem;

namespace {

constexpr uintptr_t kPointerAlignment = 16;

std::string addressString(const void *pointer) {
  char text[32];
  std::snprintf(text, sizeof(text), "0x%" PRIxPTR,
                reinterpret_cast<uintptr_t>(pointer));
  return text;
}

std::string capabilityString(int major, int minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

} // namespace

//===----------------------------------------------------------------------===//
// Opening
//===----------------------------------------------------------------------===//

Status Bundle::open(const std::string &directory,
                    std::unique_ptr<Bundle> &result) {
  std::error_code ec;
  fs::file_status status = fs::status(directory, ec);
  if (ec && ec != std::errc::no_such_file_or_directory)
    return failure(QMLIR_ERROR_IO, "qmlir_bundle_open: cannot access '" +
                                       directory + "': " + ec.message());
  if (!fs::exists(status))
    return failure(QMLIR_ERROR_IO, "qmlir_bundle_open: bundle directory '" +
                                       directory + "' does not exist");
  if (!fs::is_directory(status))
    return failure(QMLIR_ERROR_IO,
                   "qmlir_bundle_open: '" + directory +
                       "' is not a directory (a bundle is a directory "
                       "holding manifest.json and cubins)");

  std::unique_ptr<Bundle> bundle(new Bundle(directory));
  const std::string manifestPath =
      (fs::path(directory) / "manifest.json").string();
  std::vector<unsigned char> text;
  if (Status s = readFile(manifestPath, "the manifest", text); !s.ok())
    return failure(s.code, "qmlir_bundle_open: " + s.message);
  if (Status s = parseManifest(
          std::string_view(reinterpret_cast<const char *>(text.data()),
                           text.size()),
          manifestPath, bundle->manifest);
      !s.ok())
    return failure(s.code, "qmlir_bundle_open: " + s.message);

  // The manifest's vectors no longer change: pointers into them are stable.
  for (const ModuleSpec &spec : bundle->manifest.modules) {
    Module module;
    module.spec = &spec;
    module.path = (fs::path(directory) / spec.cubin).string();
    if (Status s = readCubin(module.path, spec, module.image); !s.ok())
      return failure(s.code, "qmlir_bundle_open: " + s.message);
    bundle->modules.push_back(std::move(module));
  }
  for (const KernelSpec &spec : bundle->manifest.kernels) {
    Kernel kernel;
    kernel.spec = &spec;
    for (const ArgumentSpec &arg : spec.arguments)
      kernel.argumentNames +=
          (kernel.argumentNames.empty() ? "" : ", ") + arg.name;
    bundle->kernels.push_back(std::move(kernel));
  }
  for (const LayerSpec &spec : bundle->manifest.layers) {
    bundle->layerIndex.emplace(spec.name, bundle->layers.size());
    bundle->layers.push_back(
        Layer{&spec, std::vector<const void *>(spec.weights.size(), nullptr)});
  }
  if (Status s = bundle->checkWeightsFile(); !s.ok())
    return failure(s.code, "qmlir_bundle_open: " + s.message);
  result = std::move(bundle);
  return Status::success();
}

const char *Bundle::kernelName(size_t index) const {
  return index < kernels.size() ? kernels[index].spec->name.c_str() : nullptr;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Status Bundle::load() {
  std::string error;
  CudaDriver *cuda = CudaDriver::get(&error);
  if (!cuda)
    return failure(QMLIR_ERROR_NO_DRIVER, "qmlir_bundle_load: " + error);

  if (cuda::CUresult r = cuda->cuInit(0); r != cuda::CUDA_SUCCESS) {
    qmlir_status code = QMLIR_ERROR_CUDA;
    if (r == cuda::CUDA_ERROR_NO_DEVICE)
      code = QMLIR_ERROR_NO_DEVICE;
    else if (r == cuda::CUDA_ERROR_STUB_LIBRARY ||
             r == cuda::CUDA_ERROR_INSUFFICIENT_DRIVER)
      code = QMLIR_ERROR_NO_DRIVER;
    return failure(code, "qmlir_bundle_load: " + cuda->describe("cuInit", r));
  }
  cuda::CUcontext current = nullptr;
  if (!cuda->check("cuCtxGetCurrent", cuda->cuCtxGetCurrent(&current), &error))
    return failure(QMLIR_ERROR_CUDA, "qmlir_bundle_load: " + error);
  if (!current)
    return failure(QMLIR_ERROR_NO_DEVICE,
                   "qmlir_bundle_load: no CUDA context is current on this "
                   "thread; make the context of the GPU to use current first "
                   "(e.g. cuDevicePrimaryCtxRetain + cuCtxSetCurrent, or any "
                   "CUDA runtime call such as cudaSetDevice + cudaFree(0))");
  if (loaded) {
    if (current == context)
      return Status::success();
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   "qmlir_bundle_load: bundle '" + dir +
                       "' is already loaded into another CUDA context; open "
                       "the bundle once per context");
  }

  // Can this GPU run the cubins?
  cuda::CUdevice device = 0;
  int major = 0, minor = 0;
  if (!cuda->check("cuCtxGetDevice", cuda->cuCtxGetDevice(&device), &error) ||
      !cuda->check("cuDeviceGetAttribute",
                   cuda->cuDeviceGetAttribute(
                       &major,
                       cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                       device),
                   &error) ||
      !cuda->check("cuDeviceGetAttribute",
                   cuda->cuDeviceGetAttribute(
                       &minor,
                       cuda::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                       device),
                   &error))
    return failure(QMLIR_ERROR_CUDA, "qmlir_bundle_load: " + error);
  const TargetSpec &target = manifest.target;
  if (!target.runsOn(major, minor)) {
    char name[256] = "unknown";
    if (cuda->cuDeviceGetName(name, sizeof(name), device) != cuda::CUDA_SUCCESS)
      std::strcpy(name, "unknown");
    std::string rule =
        target.archSpecific
            ? target.arch + " cubins run only on compute capability " +
                  capabilityString(target.major, target.minor)
            : target.arch + " cubins run on compute capability " +
                  std::to_string(target.major) +
                  ".x with x >= " + std::to_string(target.minor);
    return failure(QMLIR_ERROR_ARCH_MISMATCH,
                   "qmlir_bundle_load: " + dir + ": bundle targets " +
                       target.arch + " (compute capability " +
                       capabilityString(target.major, target.minor) +
                       ") but the current device is compute capability " +
                       capabilityString(major, minor) + " (device " +
                       std::to_string(device) + ", " + name + "); " + rule);
  }

  driver = cuda;
  context = current;
  if (Status s = loadModules(); !s.ok())
    return s;
  if (Status s = loadKernels(); !s.ok()) {
    unloadModules();
    return s;
  }
  // The driver has its own copy now.
  for (Module &module : modules)
    std::vector<unsigned char>().swap(module.image);
  loaded = true;
  return Status::success();
}

Status Bundle::loadModules() {
  for (Module &module : modules) {
    cuda::CUresult r =
        driver->cuModuleLoadData(&module.handle, module.image.data());
    if (r == cuda::CUDA_SUCCESS)
      continue;
    module.handle = nullptr;
    unloadModules();
    bool badImage = r == cuda::CUDA_ERROR_INVALID_IMAGE ||
                    r == cuda::CUDA_ERROR_NO_BINARY_FOR_GPU ||
                    r == cuda::CUDA_ERROR_INVALID_PTX ||
                    r == cuda::CUDA_ERROR_UNSUPPORTED_PTX_VERSION;
    return failure(badImage ? QMLIR_ERROR_BAD_CUBIN : QMLIR_ERROR_CUDA,
                   "qmlir_bundle_load: " + module.path + " (module '" +
                       module.spec->name +
                       "'): " + driver->describe("cuModuleLoadData", r));
  }
  return Status::success();
}

Status Bundle::loadKernels() {
  for (Kernel &kernel : kernels) {
    const KernelSpec &spec = *kernel.spec;
    const Module &module = modules[spec.module];
    cuda::CUresult r = driver->cuModuleGetFunction(
        &kernel.function, module.handle, spec.name.c_str());
    if (r == cuda::CUDA_ERROR_NOT_FOUND)
      return failure(QMLIR_ERROR_NOT_FOUND,
                     "qmlir_bundle_load: kernel '" + spec.name +
                         "' is not in module '" + module.spec->name + "' (" +
                         module.spec->cubin + ")");
    if (r != cuda::CUDA_SUCCESS)
      return failure(QMLIR_ERROR_CUDA,
                     "qmlir_bundle_load: kernel '" + spec.name +
                         "' of module '" + module.spec->name +
                         "': " + driver->describe("cuModuleGetFunction", r));
    // Beyond 48 KiB of shared memory, static and dynamic together, a kernel
    // must opt in; opting in whenever there is dynamic shared memory also
    // covers the static bytes a kernel declares.
    unsigned shared = spec.launch.sharedMemoryBytes;
    if (shared > 0) {
      r = driver->cuFuncSetAttribute(
          kernel.function,
          cuda::CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, int(shared));
      if (r != cuda::CUDA_SUCCESS)
        return failure(QMLIR_ERROR_CUDA,
                       "qmlir_bundle_load: kernel '" + spec.name +
                           "' asks for " + std::to_string(shared) +
                           " bytes of dynamic shared memory: " +
                           driver->describe("cuFuncSetAttribute", r));
    }
  }
  return Status::success();
}

void Bundle::unloadModules() {
  for (Module &module : modules)
    if (module.handle) {
      driver->cuModuleUnload(module.handle); // nothing to do if it fails
      module.handle = nullptr;
    }
  for (Kernel &kernel : kernels)
    kernel.function = nullptr;
}

Bundle::~Bundle() {
  if (!driver)
    return;
  // Modules belong to their context: unload only when it is current (at exit
  // the driver may be shut down already and say so, which is fine too).
  cuda::CUcontext current = nullptr;
  if (driver->cuCtxGetCurrent(&current) == cuda::CUDA_SUCCESS && current &&
      current == context) {
    unloadModules();
    if (weightsMemory)
      driver->cuMemFree(weightsMemory);
  }
}

//===----------------------------------------------------------------------===//
// Launching
//===----------------------------------------------------------------------===//

const Bundle::Kernel *Bundle::find(const char *name) const {
  for (const Kernel &kernel : kernels)
    if (std::strcmp(kernel.spec->name.c_str(), name) == 0)
      return &kernel;
  return nullptr;
}

Status Bundle::notFound(const char *caller, const char *name) const {
  std::string names;
  for (const Kernel &k : kernels)
    names += (names.empty() ? "'" : ", '") + k.spec->name + "'";
  return failure(QMLIR_ERROR_NOT_FOUND,
                 std::string(caller) + ": no kernel '" + name +
                     "' in bundle '" + dir + "' (it has " +
                     (names.empty() ? std::string("no kernels") : names) +
                     ")");
}

Status Bundle::kernelInfo(const char *name, qmlir_kernel_info &info) const {
  const Kernel *kernel = find(name);
  if (!kernel)
    return notFound("qmlir_bundle_kernel_info", name);
  const KernelSpec &spec = *kernel->spec;
  info.name = spec.name.c_str();
  info.op = spec.op.c_str();
  info.n = spec.n;
  info.k = spec.k;
  info.scheme = spec.schemeText.c_str();
  info.activation = core::toString(spec.activation);
  info.num_args = spec.arguments.size();
  info.m_min = spec.launch.mMin;
  info.m_max = spec.launch.mMax;
  info.up_scheme = spec.isSwiglu() ? spec.upSchemeText.c_str() : nullptr;
  info.has_bias = spec.hasBias;
  info.has_residual = spec.hasResidual;
  info.layout = core::toString(spec.layout);
  return Status::success();
}

Status Bundle::checkLaunch(const char *caller, const Kernel &kernel, int64_t m,
                           void *const *args, size_t numArgs) const {
  // Messages are built only on failure: a good call allocates nothing.
  const KernelSpec &spec = *kernel.spec;
  auto invalid = [&](const std::string &what) {
    return failure(QMLIR_ERROR_INVALID_ARGUMENT,
                   std::string(caller) + ": kernel '" + spec.name + "': " + what);
  };
  auto argument = [&](size_t i) {
    return "argument " + std::to_string(i) + " ('" + spec.arguments[i].name +
           "')";
  };
  if (m < spec.launch.mMin)
    return invalid("M must be at least " + std::to_string(spec.launch.mMin) +
                   ", got " + std::to_string(m));
  if (m > spec.launch.mMax)
    return invalid("M must be at most " + std::to_string(spec.launch.mMax) +
                   " (m_max), got " + std::to_string(m));
  if (numArgs != spec.arguments.size())
    return invalid("expected " + std::to_string(spec.arguments.size()) +
                   " arguments (" + kernel.argumentNames + "), got " +
                   std::to_string(numArgs));
  if (numArgs > 0 && !args)
    return invalid("args is null but the kernel takes " +
                   std::to_string(numArgs) + " arguments (" +
                   kernel.argumentNames + ")");
  for (size_t i = 0; i < numArgs; ++i) {
    if (!args[i])
      return invalid(argument(i) + " is a null pointer");
    if (reinterpret_cast<uintptr_t>(args[i]) % kPointerAlignment != 0)
      return invalid(argument(i) + " = " + addressString(args[i]) + " is not " +
                     std::to_string(kPointerAlignment) + "-byte aligned");
  }
  return Status::success();
}

Status Bundle::launch(const char *name, int64_t m, void *const *args,
                      size_t numArgs, void *stream) const {
  // Everything about the call is checked before the bundle's state and the
  // driver, so that a wrong call gets the same answer anywhere.
  const Kernel *kernel = find(name);
  if (!kernel)
    return notFound("qmlir_launch", name);
  if (Status s = checkLaunch("qmlir_launch", *kernel, m, args, numArgs);
      !s.ok())
    return s;
  return enqueue("qmlir_launch", *kernel, m, args, stream);
}

Status Bundle::checkContext(const char *caller) const {
  if (!loaded)
    return failure(QMLIR_ERROR_NOT_LOADED,
                   std::string(caller) + ": bundle '" + dir +
                       "' is not loaded; call qmlir_bundle_load first");
  // The functions belong to the context the bundle was loaded into.
  cuda::CUcontext current = nullptr;
  if (cuda::CUresult r = driver->cuCtxGetCurrent(&current);
      r != cuda::CUDA_SUCCESS)
    return failure(QMLIR_ERROR_CUDA, std::string(caller) + ": " +
                                         driver->describe("cuCtxGetCurrent", r));
  if (!current)
    return failure(QMLIR_ERROR_NO_DEVICE,
                   std::string(caller) +
                       ": no CUDA context is current on this thread; make "
                       "current the context the bundle was loaded into");
  if (current != context)
    return failure(QMLIR_ERROR_NOT_LOADED,
                   std::string(caller) + ": bundle '" + dir +
                       "' was loaded into another CUDA context than the "
                       "current one");
  return Status::success();
}

Status Bundle::enqueue(const char *caller, const Kernel &kernel, int64_t m,
                       void *const *args, void *stream) const {
  if (Status s = checkContext(caller); !s.ok())
    return s;
  const KernelSpec &spec = *kernel.spec;
  const size_t numArgs = spec.arguments.size();
  // Kernel argument ABI v1: per argument a 2-D memref descriptor (allocated
  // pointer, aligned pointer, offset, sizes, strides), all 64-bit.
  uint64_t values[kMaxKernelArguments * kParamsPerArgument];
  void *params[kMaxKernelArguments * kParamsPerArgument];
  for (size_t i = 0; i < numArgs; ++i) {
    const ArgumentSpec &arg = spec.arguments[i];
    uint64_t *v = values + i * kParamsPerArgument;
    uint64_t pointer = reinterpret_cast<uintptr_t>(args[i]);
    uint64_t cols = uint64_t(arg.shape[1].resolve(m));
    v[0] = pointer;
    v[1] = pointer;
    v[2] = 0;
    v[3] = uint64_t(arg.shape[0].resolve(m));
    v[4] = cols;
    v[5] = cols;
    v[6] = 1;
  }
  for (size_t i = 0; i < numArgs * kParamsPerArgument; ++i)
    params[i] = &values[i];

  // m_max keeps every "M" grid entry within CUDA's limits (see Manifest.cpp).
  const LaunchSpec &launch = spec.launch;
  unsigned grid[3];
  for (size_t d = 0; d < 3; ++d)
    grid[d] = unsigned(launch.grid[d].resolve(m));
  cuda::CUresult r = driver->cuLaunchKernel(
      kernel.function, grid[0], grid[1], grid[2], launch.block[0],
      launch.block[1], launch.block[2], launch.sharedMemoryBytes,
      static_cast<cuda::CUstream>(stream), params, nullptr);
  if (r != cuda::CUDA_SUCCESS)
    return failure(QMLIR_ERROR_CUDA,
                   std::string(caller) + ": kernel '" + spec.name +
                       "' with M = " + std::to_string(m) + ", grid [" +
                       std::to_string(grid[0]) + ", " +
                       std::to_string(grid[1]) + ", " +
                       std::to_string(grid[2]) + "], block [" +
                       std::to_string(launch.block[0]) + ", " +
                       std::to_string(launch.block[1]) + ", " +
                       std::to_string(launch.block[2]) + "], " +
                       std::to_string(launch.sharedMemoryBytes) +
                       " bytes of shared memory: " +
                       driver->describe("cuLaunchKernel", r));
  return Status::success();
}
