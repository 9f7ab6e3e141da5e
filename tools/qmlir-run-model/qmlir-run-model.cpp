//===- qmlir-run-model.cpp - Run every layer of a model bundle ------------===//
//
//   qmlir-run-model BUNDLE [--m=1,512] [--iterations=N] [--seed=S]
//
// Runs all layers of a model bundle in order, as one forward pass of the
// model's linear layers, for each M: checks every layer's output (a few rows
// of it) against the fp64 reference under the numerics contract, then times
// the pass with CUDA events next to cuBLAS fp16 GEMMs of the same shapes.
// Weights come from the bundle (uploaded through the runtime) or, for a
// bundle compiled from a spec, are drawn from the seed and bound; every
// layer has its own device copy, so no layer finds another's in L2.
// Exit status: 0 pass, 1 mismatch, 2 bad input or failure, 77 no GPU.
//
//===----------------------------------------------------------------------===//

#include "Cublas.h"
#include "DeviceMemory.h"
#include "GpuSession.h"
#include "LayerData.h"

#include "qmlir/Core/Problem.h"
#include "qmlir/Runtime/CudaDriver.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>

using namespace qmlir::run;
using qmlir::runtime::CudaDriver;
using namespace qmlir::runtime::cuda;
namespace core = qmlir::core;

namespace {

constexpr int kMismatch = 1, kBadInput = 2, kSkipped = 77;

int failWith(const std::string &message) {
  std::fprintf(stderr, "qmlir-run-model: %s\n", message.c_str());
  return kBadInput;
}

struct Options {
  std::string bundle;
  std::vector<int64_t> ms = {1, 512};
  int iterations = 5;
  uint64_t seed = 1;
};

bool parseOptions(int argc, char **argv, Options &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      size_t size = std::strlen(name);
      return arg.compare(0, size, name) == 0 ? arg.c_str() + size : nullptr;
    };
    char *end = nullptr;
    if (const char *list = value("--m=")) {
      if (!parseMList(list, options.ms))
        return error = "invalid --m '" + std::string(list) + "'", false;
    } else if (const char *n = value("--iterations=")) {
      options.iterations = int(std::strtol(n, &end, 10));
      if (*end || options.iterations < 1)
        return error = "invalid --iterations '" + std::string(n) + "'", false;
    } else if (const char *s = value("--seed=")) {
      options.seed = std::strtoull(s, &end, 10);
      if (*end)
        return error = "invalid --seed '" + std::string(s) + "'", false;
    } else if (arg.starts_with("--")) {
      return error = "unknown option '" + arg + "'", false;
    } else if (options.bundle.empty()) {
      options.bundle = arg;
    } else {
      return error = "more than one bundle given", false;
    }
  }
  if (options.bundle.empty())
    return error = "usage: qmlir-run-model BUNDLE [--m=1,512] "
                   "[--iterations=N] [--seed=S]",
           false;
  return true;
}

/// Layers that compute the same thing share drawn weights and references.
std::string layerKey(const qmlir_layer_info &info, const LayerLayout &layout) {
  return std::string(info.op) + "|" + std::to_string(info.n) + "|" +
         std::to_string(info.k) + "|" + info.activation + "|" +
         std::to_string(info.has_bias) + std::to_string(info.has_residual) +
         "|" + layout.scheme + "|" + layout.upScheme;
}

} // namespace

int main(int argc, char **argv) {
  Options options;
  std::string error;
  if (!parseOptions(argc, argv, options, error))
    return failWith(error);

  BundlePtr bundle = openModelBundle(options.bundle, error);
  if (!bundle)
    return failWith(error);
  const size_t layerCount = qmlir_bundle_layer_count(bundle.get());

  std::optional<GpuSession> gpu = GpuSession::open(error);
  if (!gpu) {
    if (error.starts_with("SKIPPED"))
      return std::printf("%s\n", error.c_str()), kSkipped;
    return failWith(error);
  }
  CudaDriver *driver = &gpu->driver;
  CUstream stream = gpu->stream;
  const char *deviceName = gpu->deviceName.c_str();
  if (qmlir_bundle_load(bundle.get()) != QMLIR_SUCCESS)
    return failWith(std::string("cannot load the bundle: ") + qmlir_last_error());

  DeviceMemory memory(*driver);
  std::vector<qmlir_layer_info> infos(layerCount);
  std::vector<const char *> names(layerCount);
  for (size_t i = 0; i < layerCount; ++i) {
    names[i] = qmlir_bundle_layer_name(bundle.get(), i);
    qmlir_bundle_layer_info(bundle.get(), names[i], &infos[i]);
  }
  std::map<std::string, LayerLayout> layouts = readLayerLayouts(options.bundle);
  bool inBundle = false;
  for (const auto &[name, layout] : layouts)
    inBundle = inBundle || !layout.offsets.empty();
  if (inBundle && qmlir_bundle_upload_weights(bundle.get()) != QMLIR_SUCCESS)
    return failWith(std::string("cannot upload the weights: ") +
                    qmlir_last_error());

  // Host weights: per layer from the bundle, or per distinct layer drawn from
  // the seed (each layer still gets its own device copy).
  std::map<std::string, std::shared_ptr<LayerData>> drawn;
  std::vector<std::shared_ptr<LayerData>> data(layerCount);
  for (size_t i = 0; i < layerCount; ++i) {
    std::string key = inBundle ? names[i] : layerKey(infos[i], layouts[names[i]]);
    auto it = drawn.find(key);
    if (it == drawn.end()) {
      auto layer = std::make_shared<LayerData>();
      if (!loadLayerData(bundle.get(), options.bundle, names[i],
                         layouts[names[i]], options.seed + i, *layer, error))
        return failWith(error);
      it = drawn.emplace(key, layer).first;
    }
    data[i] = it->second;
    if (inBundle)
      continue;
    for (size_t w = 0; w < infos[i].num_weights; ++w) {
      qmlir_weight_info weight;
      qmlir_bundle_weight_info(bundle.get(), names[i], w, &weight);
      const std::vector<uint8_t> &bytes = data[i]->tensors[w];
      CUdeviceptr pointer = memory.alloc(bytes.size(), bytes.data(), error);
      if (!pointer)
        return failWith(error);
      if (qmlir_bundle_bind_weight(bundle.get(), names[i], weight.name,
                                   reinterpret_cast<void *>(pointer)) !=
          QMLIR_SUCCESS)
        return failWith(qmlir_last_error());
    }
  }
  std::printf("%s: %zu layers, %zu kernels, weights %s, on %s\n",
              options.bundle.c_str(), layerCount,
              qmlir_bundle_kernel_count(bundle.get()),
              inBundle ? "from the bundle" : "drawn from the seed", deviceName);

  int64_t maxM = 0;
  for (int64_t m : options.ms)
    maxM = std::max(maxM, m);
  // Activations per (k, type) and residuals per (n, type), [maxM, *].
  std::mt19937_64 rng(options.seed);
  std::map<std::string, std::pair<std::vector<uint16_t>, CUdeviceptr>> inputs;
  auto input = [&](int64_t size, const char *act) -> auto & {
    std::string key = std::to_string(size) + act;
    auto it = inputs.find(key);
    if (it == inputs.end()) {
      core::FloatType type =
          core::parseFloatType(act).value_or(core::FloatType::F16);
      std::vector<uint16_t> bits = randomActivations(size_t(maxM * size), type, rng);
      CUdeviceptr pointer = memory.alloc(bits.size() * 2, bits.data(), error);
      it = inputs.emplace(key, std::make_pair(std::move(bits), pointer)).first;
    }
    return it->second;
  };
  // Room for every output, including cuBLAS's [M, 2n] of a swiglu.
  int64_t maxN = 0;
  for (const qmlir_layer_info &info : infos)
    maxN = std::max(maxN, 2 * info.n);
  CUdeviceptr out = memory.alloc(size_t(maxM * maxN * 2), nullptr, error);
  if (!out)
    return failWith(error);
  for (size_t i = 0; i < layerCount; ++i) {
    input(infos[i].k, infos[i].activation);
    if (infos[i].has_residual)
      input(infos[i].n, infos[i].activation);
  }
  for (auto &[key, value] : inputs)
    if (!value.second)
      return failWith(error);

  auto runLayer = [&](size_t i, int64_t m) {
    const qmlir_layer_info &info = infos[i];
    const void *x = reinterpret_cast<void *>(input(info.k, info.activation).second);
    const void *residual =
        info.has_residual
            ? reinterpret_cast<void *>(input(info.n, info.activation).second)
            : nullptr;
    return qmlir_run_layer(bundle.get(), names[i], m, x, residual,
                           reinterpret_cast<void *>(out), nullptr, 0, stream);
  };

  // cuBLAS fp16 baseline: every layer's dense weights ([2n, k] for a swiglu),
  // each in its own buffer, filled with small values.
  std::string cublasError;
  std::unique_ptr<Cublas> cublas(Cublas::create(stream, cublasError));
  std::vector<CUdeviceptr> denseWeights(layerCount, 0);
  if (cublas)
    for (size_t i = 0; i < layerCount && cublas; ++i) {
      bool swiglu = std::string(infos[i].op) == "swiglu";
      size_t bytes = size_t(infos[i].n * infos[i].k * 2 * (swiglu ? 2 : 1));
      denseWeights[i] = memory.alloc(bytes, nullptr, error);
      if (!denseWeights[i] ||
          driver->cuMemsetD8(denseWeights[i], 0x11, bytes) != CUDA_SUCCESS) {
        cublasError = "cannot allocate the fp16 weights: " + error;
        cublas.reset();
      }
    }
  if (!cublas)
    std::printf("cuBLAS baseline unavailable: %s\n", cublasError.c_str());

  CUevent start = nullptr, stop = nullptr;
  driver->cuEventCreate(&start, 0);
  driver->cuEventCreate(&stop, 0);
  auto timeForward = [&](auto &&runAll) -> double {
    runAll(); // warm-up
    driver->cuEventRecord(start, stream);
    for (int it = 0; it < options.iterations; ++it)
      runAll();
    driver->cuEventRecord(stop, stream);
    driver->cuEventSynchronize(stop);
    float ms = 0;
    driver->cuEventElapsedTime(&ms, start, stop);
    return double(ms) / options.iterations;
  };

  bool allPassed = true;
  std::printf("%-8s %-10s %-14s %-14s %-10s %s\n", "M", "checked", "qmlir ms",
              "cuBLAS fp16 ms", "ratio", "worst layer");
  for (int64_t m : options.ms) {
    for (size_t i = 0; i < layerCount; ++i)
      if (m > infos[i].m_max)
        return failWith("M = " + std::to_string(m) + " exceeds layer '" +
                        names[i] + "''s m_max " + std::to_string(infos[i].m_max));
    // Correctness: a few rows of every layer's output.
    std::vector<int64_t> rows = {0, m / 3, 2 * m / 3, m - 1};
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    int passed = 0;
    double worst = 0;
    std::string worstLayer;
    std::map<std::string, Reference> references;
    for (size_t i = 0; i < layerCount; ++i) {
      const qmlir_layer_info &info = infos[i];
      if (runLayer(i, m) != QMLIR_SUCCESS)
        return failWith(std::string("qmlir_run_layer: ") + qmlir_last_error());
      std::vector<uint16_t> result(size_t(m * info.n));
      if (!driver->check("cuStreamSynchronize", driver->cuStreamSynchronize(stream),
                         &error) ||
          !driver->check("cuMemcpyDtoH",
                         driver->cuMemcpyDtoH(result.data(), out, result.size() * 2),
                         &error))
        return failWith("layer '" + std::string(names[i]) + "': " + error);
      core::FloatType type = activationType(info);
      std::string key = (inBundle ? std::string(names[i]) : layerKey(info, layouts[names[i]])) +
                        "|" + std::to_string(m);
      auto it = references.find(key);
      if (it == references.end()) {
        std::vector<double> x, residual;
        const auto &xBits = input(info.k, info.activation).first;
        for (int64_t r : rows)
          for (int64_t c = 0; c < info.k; ++c)
            x.push_back(core::activationValue(xBits[size_t(r * info.k + c)], type));
        if (info.has_residual) {
          const auto &rBits = input(info.n, info.activation).first;
          for (int64_t r : rows)
            for (int64_t c = 0; c < info.n; ++c)
              residual.push_back(
                  core::activationValue(rBits[size_t(r * info.n + c)], type));
        }
        it = references
                 .emplace(key, referenceRows(*data[i], x, residual,
                                             int64_t(rows.size())))
                 .first;
      }
      std::vector<double> got;
      for (int64_t r : rows)
        for (int64_t c = 0; c < info.n; ++c)
          got.push_back(core::activationValue(result[size_t(r * info.n + c)], type));
      core::CheckResult check =
          core::checkOutput(got, it->second.values, it->second.magnitudes,
                            int64_t(rows.size()), info.n, info.k, type);
      if (check.passed)
        ++passed;
      else
        std::printf("FAIL: layer '%s' M = %lld: %s\n", names[i], (long long)m,
                    check.summary().c_str());
      if (check.relativeError >= worst) {
        worst = check.relativeError;
        worstLayer = names[i];
      }
    }
    allPassed = allPassed && passed == int(layerCount);

    double qmlirMs = timeForward([&] {
      for (size_t i = 0; i < layerCount; ++i)
        runLayer(i, m);
    });
    double cublasMs = 0;
    if (cublas)
      cublasMs = timeForward([&] {
        for (size_t i = 0; i < layerCount; ++i) {
          const qmlir_layer_info &info = infos[i];
          bool swiglu = std::string(info.op) == "swiglu";
          bool bf16 = activationType(info) == core::FloatType::BF16;
          cublas->linear(bf16, m, info.n * (swiglu ? 2 : 1), info.k,
                         reinterpret_cast<void *>(input(info.k, info.activation).second),
                         reinterpret_cast<void *>(denseWeights[i]),
                         reinterpret_cast<void *>(out), error);
        }
      });
    char checked[32], ratio[32] = "-", baseline[32] = "-";
    std::snprintf(checked, sizeof(checked), "%d/%zu", passed, layerCount);
    if (cublas) {
      std::snprintf(baseline, sizeof(baseline), "%.3f", cublasMs);
      std::snprintf(ratio, sizeof(ratio), "%.3fx", cublasMs / qmlirMs);
    }
    std::printf("%-8lld %-10s %-14.3f %-14s %-10s %s (rel_err %.2e)\n",
                (long long)m, checked, qmlirMs, baseline, ratio,
                worstLayer.c_str(), worst);
  }
  std::printf("ratio = cuBLAS time / qmlir time (> 1: qmlir faster); cuBLAS "
              "runs the GEMMs only (a swiglu as one [2n, k] GEMM), without "
              "epilogues\n");
  driver->cuEventDestroy(start);
  driver->cuEventDestroy(stop);
  driver->cuStreamDestroy(stream);
  std::printf("%s\n", allPassed ? "PASS" : "FAIL");
  return allPassed ? 0 : kMismatch;
}
