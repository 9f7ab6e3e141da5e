//===- GpuRunner.cpp - qmlir-run's GPU target -----------------------------===//
//
// Opens a bundle through the runtime's C API, so that the run exercises the
// same loading and launching code users call, and checks each result against
// the core library's reference. Device memory is this tool's business (the
// runtime allocates nothing): it goes through the runtime's driver loader.
//
//===----------------------------------------------------------------------===//

#include "GpuRunner.h"
#include "CpuRunner.h"

#include "qmlir/Core/Layout.h"
#include "qmlir/Core/Problem.h"
#include "qmlir/Runtime/CudaDriver.h"
#include "qmlir/Runtime/qmlir_runtime.h"

#include <cstdio>
#include <cstring>

namespace core = qmlir::core;
using qmlir::runtime::CudaDriver;
using namespace qmlir::runtime::cuda;

namespace qmlir::run {
namespace {

int failWith(const char *what, const std::string &message) {
  std::fprintf(stderr, "qmlir-run: %s: %s\n", what, message.c_str());
  return kBadInput;
}

int skip(const std::string &reason) {
  std::printf("SKIPPED: no GPU to run on (%s)\n", reason.c_str());
  return kSkipped;
}

/// Device buffers of one run, freed on every path.
class DeviceBuffers {
public:
  explicit DeviceBuffers(CudaDriver &driver) : driver(driver) {}
  ~DeviceBuffers() {
    for (CUdeviceptr pointer : pointers)
      driver.cuMemFree(pointer);
  }
  /// Allocates `bytes` (at least 1) and copies `data` in if non-null.
  bool add(const void *data, size_t bytes, CUdeviceptr &pointer,
           std::string &error) {
    if (!driver.check("cuMemAlloc", driver.cuMemAlloc(&pointer, bytes ? bytes : 1),
                      &error))
      return false;
    pointers.push_back(pointer);
    return !data || driver.check("cuMemcpyHtoD",
                                 driver.cuMemcpyHtoD(pointer, data, bytes),
                                 &error);
  }

private:
  CudaDriver &driver;
  std::vector<CUdeviceptr> pointers;
};

/// Runs one M; returns an ExitCode.
int runOne(CudaDriver &driver, qmlir_bundle *bundle, const char *kernel,
           const core::MatmulProblem &problem, bool plantFault,
           CUstream stream) {
  qmlir_kernel_info info;
  if (qmlir_bundle_kernel_info(bundle, kernel, &info) != QMLIR_SUCCESS)
    return failWith("unknown kernel", qmlir_last_error());
  std::optional<core::Layout> layout = core::parseLayout(info.layout);
  if (!layout)
    return failWith("the manifest's kernel is unusable", "unknown layout");
  std::printf("problem:  %s target=gpu kernel=%s\n", problem.str().c_str(),
              kernel);
  core::MatmulData data = core::makeMatmulData(problem);
  if (plantFault)
    std::printf("fault:    %s\n", core::plantFault(data, problem).c_str());
  // Arguments in the manifest's order: x, the weights' parts (swiglu: the
  // gate's, then the up's), bias, residual (those the kernel takes), out.
  std::vector<std::vector<uint8_t>> inputs;
  auto halves = [](const std::vector<uint16_t> &values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(uint16_t));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    return bytes;
  };
  inputs.push_back(halves(data.activations));
  for (std::vector<uint8_t> &part : data.weights.partBytes(*layout))
    inputs.push_back(std::move(part));
  if (problem.op == core::OpKind::Swiglu)
    for (std::vector<uint8_t> &part : data.up.partBytes(*layout))
      inputs.push_back(std::move(part));
  if (problem.bias)
    inputs.push_back(halves(data.bias));
  if (problem.residual)
    inputs.push_back(halves(data.residual));
  size_t outBytes = problem.m * problem.n * sizeof(uint16_t);

  std::string error;
  DeviceBuffers buffers(driver);
  std::vector<void *> args;
  CUdeviceptr pointer = 0;
  for (const std::vector<uint8_t> &input : inputs) {
    if (!buffers.add(input.data(), input.size(), pointer, error))
      return failWith("cannot stage the inputs", error);
    args.push_back(reinterpret_cast<void *>(pointer));
  }
  CUdeviceptr out = 0;
  if (!buffers.add(nullptr, outBytes, out, error))
    return failWith("cannot stage the inputs", error);
  args.push_back(reinterpret_cast<void *>(out));
  // NaN in every output element: an element the kernel does not write fails.
  if (!driver.check("cuMemsetD8", driver.cuMemsetD8(out, 0xFF, outBytes), &error))
    return failWith("cannot poison the output", error);
  // Copies from pageable memory and memsets may still be in flight when they
  // return; the kernel must not start before they land.
  if (!driver.check("cuCtxSynchronize", driver.cuCtxSynchronize(), &error))
    return failWith("cannot stage the inputs", error);

  if (qmlir_launch(bundle, kernel, problem.m, args.data(), args.size(),
                   stream) != QMLIR_SUCCESS)
    return failWith("launch failed", qmlir_last_error());
  if (!driver.check("cuStreamSynchronize", driver.cuStreamSynchronize(stream),
                    &error))
    return failWith("the kernel failed", error);

  std::vector<uint16_t> result(problem.m * problem.n);
  if (!driver.check("cuMemcpyDtoH",
                    driver.cuMemcpyDtoH(result.data(), out, outBytes), &error))
    return failWith("cannot read the output", error);
  std::vector<double> values(result.size());
  for (size_t i = 0; i < result.size(); ++i)
    values[i] = core::activationValue(result[i], problem.activationType);
  core::CheckResult check =
      core::checkOutput(values, data.reference, data.absProducts, problem.m,
                        problem.n, problem.k, problem.activationType);
  std::printf("%s:   %s\n", core::toString(problem.op),
              check.summary().c_str());
  std::printf("%s\n", check.passed ? "PASS" : "FAIL");
  return check.passed ? kPass : kMismatch;
}

} // namespace

int runOnGpu(const std::string &bundleDir, const std::string &kernelName,
             const std::vector<int64_t> &ms, uint64_t seed, bool plantFault) {
  qmlir_bundle *bundle = nullptr;
  if (qmlir_bundle_open(bundleDir.c_str(), &bundle) != QMLIR_SUCCESS)
    return failWith("cannot open the bundle", qmlir_last_error());
  struct Closer {
    qmlir_bundle *bundle;
    ~Closer() { qmlir_bundle_close(bundle); }
  } closer{bundle};

  // Without --kernel, the first kernel's computation runs, each M on the
  // kernel of that computation whose M range holds it (qmlir-compile emits
  // one kernel per M bucket).
  std::vector<std::string> names;
  size_t count = qmlir_bundle_kernel_count(bundle);
  for (size_t i = 0; i < count; ++i)
    names.push_back(qmlir_bundle_kernel_name(bundle, i));
  std::string kernel =
      !kernelName.empty() ? kernelName : (names.empty() ? "" : names.front());
  qmlir_kernel_info info;
  if (qmlir_bundle_kernel_info(bundle, kernel.c_str(), &info) != QMLIR_SUCCESS)
    return failWith("unknown kernel", qmlir_last_error());
  auto text = [](const char *value) { return std::string(value ? value : ""); };
  auto sameComputation = [&](const qmlir_kernel_info &other) {
    return text(other.op) == text(info.op) && other.n == info.n &&
           other.k == info.k && text(other.scheme) == text(info.scheme) &&
           text(other.up_scheme) == text(info.up_scheme) &&
           text(other.activation) == text(info.activation) &&
           other.has_bias == info.has_bias &&
           other.has_residual == info.has_residual;
  };
  std::vector<std::string> kernels = {kernel};
  if (kernelName.empty())
    for (const std::string &name : names) {
      qmlir_kernel_info other;
      if (name != kernel &&
          qmlir_bundle_kernel_info(bundle, name.c_str(), &other) ==
              QMLIR_SUCCESS &&
          sameComputation(other))
        kernels.push_back(name);
    }
  auto kernelFor = [&](int64_t m) -> std::string {
    for (const std::string &name : kernels) {
      qmlir_kernel_info range;
      if (qmlir_bundle_kernel_info(bundle, name.c_str(), &range) ==
              QMLIR_SUCCESS &&
          range.m_min <= m && m <= range.m_max)
        return name;
    }
    return "";
  };

  core::MatmulProblem base;
  base.n = info.n;
  base.k = info.k;
  base.seed = seed;
  std::string parseError;
  std::optional<core::Scheme> scheme = core::Scheme::parse(info.scheme, &parseError);
  std::optional<core::FloatType> activation = core::parseFloatType(info.activation);
  if (!scheme || !activation)
    return failWith("the manifest's kernel is unusable",
                    scheme ? "bad activation type" : parseError);
  base.scheme = *scheme;
  base.activationType = *activation;
  // The op and its epilogue, as the manifest records them.
  std::optional<core::OpKind> op =
      core::parseOpKind(info.op ? info.op : "matmul");
  if (!op)
    return failWith("the manifest's kernel is unusable",
                    std::string("unknown op '") + info.op + "'");
  base.op = *op;
  if (base.op == core::OpKind::Swiglu) {
    if (!info.up_scheme)
      return failWith("the manifest's kernel is unusable",
                      "a swiglu kernel without an up scheme");
    std::optional<core::Scheme> up =
        core::Scheme::parse(info.up_scheme, &parseError);
    if (!up)
      return failWith("the manifest's kernel is unusable",
                      "up scheme: " + parseError);
    base.upScheme = *up;
  }
  base.bias = info.has_bias != 0;
  base.residual = info.has_residual != 0;
  std::vector<core::MatmulProblem> problems;
  std::vector<std::string> chosen;
  for (int64_t m : ms) {
    core::MatmulProblem problem = base;
    problem.m = m;
    if (std::string error = problem.validate(); !error.empty())
      return failWith("invalid problem", error);
    chosen.push_back(kernelFor(m));
    if (chosen.back().empty())
      return failWith("no kernel takes this M",
                      "M = " + std::to_string(m) + ": kernel " + kernel +
                          " computes it for M in [" +
                          std::to_string(info.m_min) + ", " +
                          std::to_string(info.m_max) + "]" +
                          (kernelName.empty() ? " and no other kernel does"
                                              : ""));
    problems.push_back(problem);
  }

  std::string error;
  CudaDriver *driver = CudaDriver::get(&error);
  if (!driver)
    return skip(error);
  CUresult initResult = driver->cuInit(0);
  int devices = 0;
  if (initResult == CUDA_ERROR_NO_DEVICE ||
      (initResult == CUDA_SUCCESS &&
       driver->cuDeviceGetCount(&devices) == CUDA_SUCCESS && devices == 0))
    return skip("the driver reports no device");
  if (!driver->check("cuInit", initResult, &error))
    return skip(error);
  CUcontext context = nullptr;
  if (!driver->makePrimaryContextCurrent(0, &context, &error))
    return failWith("cannot use GPU 0", error);
  struct ContextReleaser {
    CudaDriver *driver;
    ~ContextReleaser() { driver->releasePrimaryContext(0, nullptr); }
  } releaser{driver};

  char deviceName[256] = {0};
  CUdevice device = 0;
  driver->cuDeviceGet(&device, 0);
  driver->cuDeviceGetName(deviceName, sizeof(deviceName) - 1, device);
  std::printf("device:   %s\n", deviceName);
  if (qmlir_bundle_load(bundle) != QMLIR_SUCCESS)
    return failWith("cannot load the bundle", qmlir_last_error());

  CUstream stream = nullptr;
  if (!driver->check("cuStreamCreate",
                     driver->cuStreamCreate(&stream, CU_STREAM_DEFAULT),
                     &error))
    return failWith("cannot create a stream", error);
  int status = kPass;
  for (size_t i = 0; i < problems.size(); ++i) {
    int result = runOne(*driver, bundle, chosen[i].c_str(), problems[i],
                        plantFault, stream);
    if (result == kBadInput) {
      status = kBadInput;
      break;
    }
    if (result != kPass)
      status = result;
  }
  driver->cuStreamDestroy(stream);
  return status;
}

} // namespace qmlir::run
