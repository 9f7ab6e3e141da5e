//===- qmlir-bench.cpp - Time a bundle's layers next to cuBLAS fp16 -------===//
//
//   qmlir-bench BUNDLE [--m=1,16,64,256,1024,4096] [--batches=5] [--calls=50]
//               [--seed=S] [--commit=HASH] [--json=FILE]
//
// For every layer of a model bundle and every M, in one process
// (../shared/targets.md's protocol): checks a few output rows against the
// fp64 reference (a fast wrong kernel is a failure, not a result), then
// times the layer and a cuBLAS fp16 GEMM of the same shape with CUDA events
// around `calls` back-to-back launches, the median of `batches` batches,
// after a warm-up; each call reads another copy of the weights, with enough
// copies (>= 8x the L2 size) that L2 cannot hold them. The floor is
// max(bytes / copy bandwidth, flops / cuBLAS fp16 rate), both measured here
// first. Prints a table and writes it as JSON for scripts/bench/plot.py.
// Exit status: 0 all checks pass, 1 a mismatch, 2 bad input, 77 no GPU.
//
//===----------------------------------------------------------------------===//

#include "BenchSupport.h"
#include "Cublas.h"
#include "DeviceMemory.h"
#include "LayerData.h"

#include "qmlir/Core/Problem.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <random>

using namespace qmlir::run;
using qmlir::runtime::CudaDriver;
using namespace qmlir::runtime::cuda;
namespace core = qmlir::core;

namespace {

constexpr int kMismatch = 1, kBadInput = 2, kSkipped = 77;

int failWith(const std::string &message) {
  std::fprintf(stderr, "qmlir-bench: %s\n", message.c_str());
  return kBadInput;
}

struct Options {
  std::string bundle, json, commit = "unknown";
  std::vector<int64_t> ms = {1, 16, 64, 256, 1024, 4096};
  int batches = 5, calls = 50;
  uint64_t seed = 1;
};

bool parseOptions(int argc, char **argv, Options &options, std::string &error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *name) -> const char * {
      size_t size = std::strlen(name);
      return arg.compare(0, size, name) == 0 ? arg.c_str() + size : nullptr;
    };
    auto positive = [&](const char *text, int &out, const char *name) {
      char *end = nullptr;
      long parsed = std::strtol(text, &end, 10);
      if (*end || parsed < 1 || parsed > 100000)
        return error = std::string("invalid ") + name + " '" + text + "'",
               false;
      out = int(parsed);
      return true;
    };
    if (const char *list = value("--m=")) {
      if (!parseMList(list, options.ms))
        return error = "invalid --m '" + std::string(list) + "'", false;
    } else if (const char *b = value("--batches=")) {
      if (!positive(b, options.batches, "--batches"))
        return false;
    } else if (const char *c = value("--calls=")) {
      if (!positive(c, options.calls, "--calls"))
        return false;
    } else if (const char *s = value("--seed=")) {
      char *end = nullptr;
      options.seed = std::strtoull(s, &end, 10);
      if (*end || !*s)
        return error = "invalid --seed '" + std::string(s) + "'", false;
    } else if (const char *j = value("--json=")) {
      options.json = j;
    } else if (const char *c = value("--commit=")) {
      options.commit = c;
    } else if (arg.starts_with("--")) {
      return error = "unknown option '" + arg + "'", false;
    } else if (options.bundle.empty()) {
      options.bundle = arg;
    } else {
      return error = "more than one bundle given", false;
    }
  }
  if (options.bundle.empty())
    return error = "usage: qmlir-bench BUNDLE [--m=1,16,...] [--batches=N] "
                   "[--calls=N] [--seed=S] [--commit=HASH] [--json=FILE]",
           false;
  return true;
}

struct Row {
  std::string layer, op, scheme, activation;
  int64_t n = 0, k = 0, m = 0;
  bool checked = false;
  double relativeError = 0;
  double qmlirUs = 0, cublasUs = 0, floorUs = 0;
  double bytes = 0, flops = 0;
  int copies = 0, cublasCopies = 0;
};

nlohmann::json toJson(const Row &row) {
  return {{"layer", row.layer},      {"op", row.op},
          {"n", row.n},
          {"k", row.k},              {"m", row.m},
          {"scheme", row.scheme},    {"activation", row.activation},
          {"checked", row.checked},  {"relative_error", row.relativeError},
          {"qmlir_us", row.qmlirUs}, {"cublas_us", row.cublasUs},
          {"floor_us", row.floorUs}, {"bytes", row.bytes},
          {"flops", row.flops},      {"weight_copies", row.copies},
          {"cublas_weight_copies", row.cublasCopies}};
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
  for (int64_t m : options.ms)
    for (size_t i = 0; i < layerCount; ++i) {
      qmlir_layer_info info;
      const char *name = qmlir_bundle_layer_name(bundle.get(), i);
      qmlir_bundle_layer_info(bundle.get(), name, &info);
      if (m > info.m_max)
        return failWith("M = " + std::to_string(m) + " exceeds layer '" +
                        name + "''s m_max " + std::to_string(info.m_max));
    }

  std::optional<GpuSession> gpu = GpuSession::open(error);
  if (!gpu) {
    if (error.starts_with("SKIPPED"))
      return std::printf("%s\n", error.c_str()), kSkipped;
    return failWith(error);
  }
  CudaDriver &driver = gpu->driver;
  if (qmlir_bundle_load(bundle.get()) != QMLIR_SUCCESS)
    return failWith(std::string("cannot load the bundle: ") + qmlir_last_error());
  std::unique_ptr<Cublas> cublas(Cublas::create(gpu->stream, error));
  if (!cublas)
    return failWith("cuBLAS is needed for the baseline: " + error);

  Timer timer(driver, gpu->stream, options.batches, options.calls);
  Ceilings ceilings;
  if (!measureCeilings(*gpu, *cublas, timer, ceilings, error))
    return failWith(error);
  std::printf("device: %s (%d SMs, L2 %.0f MB), driver %d\n",
              gpu->deviceName.c_str(), gpu->smCount, gpu->l2Bytes / 1e6,
              gpu->driverVersion);
  std::printf("measured: copy %.2f TB/s (read + write), cuBLAS fp16 %d^3 "
              "%.0f TFLOP/s\n",
              ceilings.copyBytesPerSecond / 1e12, Ceilings::kGemmSize,
              ceilings.cublasFlopsPerSecond / 1e12);
  std::printf("protocol: median of %d batches of %d calls, weight copies "
              ">= 8x L2, warm-up first\n\n",
              options.batches, options.calls);
  std::printf("%-28s %6s %10s %10s %9s %8s %9s %7s %9s %s\n", "layer (N x K)",
              "M", "qmlir us", "cuBLAS us", "ratio", "TB/s", "TFLOP/s",
              "floor", "% floor", "check");

  std::vector<Row> rows;
  bool allPassed = true;
  std::mt19937_64 rng(options.seed);
  for (size_t i = 0; i < layerCount; ++i) {
    const char *name = qmlir_bundle_layer_name(bundle.get(), i);
    LayerBench layer(*gpu, bundle.get(), options.bundle, name);
    if (!layer.prepare(options.seed + i, *std::max_element(options.ms.begin(),
                                                            options.ms.end()),
                       rng, error))
      return failWith("layer '" + std::string(name) + "': " + error);
    for (int64_t m : options.ms) {
      Row row;
      row.layer = name;
      row.op = layer.info.op;
      row.n = layer.info.n;
      row.k = layer.info.k;
      row.m = m;
      row.scheme = layer.schemeText;
      row.activation = layer.info.activation;
      core::CheckResult check;
      if (!layer.check(m, check, error))
        return failWith("layer '" + std::string(name) + "': " + error);
      row.checked = check.passed;
      row.relativeError = check.relativeError;
      allPassed = allPassed && check.passed;
      if (!check.passed)
        std::printf("FAIL: layer '%s' M = %lld: %s\n", name, (long long)m,
                    check.summary().c_str());
      row.copies = layer.copies;
      row.cublasCopies = layer.cublasCopies;
      std::optional<double> qmlirUs = timer.median([&](int call) {
        return layer.runQmlir(m, call);
      });
      std::optional<double> cublasUs = timer.median([&](int call) {
        return layer.runCublas(*cublas, m, call);
      });
      if (!qmlirUs || !cublasUs)
        return failWith("layer '" + std::string(name) + "': a timed call "
                        "failed: " + (qmlir_last_error()[0] ? qmlir_last_error()
                                                            : "cuBLAS"));
      row.qmlirUs = *qmlirUs;
      row.cublasUs = *cublasUs;
      row.bytes = layer.bytesMoved(m);
      row.flops = layer.flops(m);
      row.floorUs = 1e6 * std::max(row.bytes / ceilings.copyBytesPerSecond,
                                   row.flops / ceilings.cublasFlopsPerSecond);
      char shape[64];
      std::snprintf(shape, sizeof(shape), "%lld x %lld", (long long)row.n,
                    (long long)row.k);
      std::printf("%-28s %6lld %10.1f %10.1f %8.2fx %8.2f %9.1f %7.1f %8.0f%% %s\n",
                  shape, (long long)m, row.qmlirUs, row.cublasUs,
                  row.cublasUs / row.qmlirUs, row.bytes / row.qmlirUs / 1e6,
                  row.flops / row.qmlirUs / 1e6, row.floorUs,
                  100 * row.floorUs / row.qmlirUs,
                  check.passed ? "pass" : "FAIL");
      rows.push_back(row);
    }
  }

  std::printf("\ngeomean over the layers:\n%6s %12s %12s\n", "M",
              "vs cuBLAS", "% of floor");
  nlohmann::json summary = nlohmann::json::array();
  for (int64_t m : options.ms) {
    double logRatio = 0, logFloor = 0;
    int count = 0;
    for (const Row &row : rows)
      if (row.m == m) {
        logRatio += std::log(row.cublasUs / row.qmlirUs);
        logFloor += std::log(row.floorUs / row.qmlirUs);
        ++count;
      }
    double ratio = std::exp(logRatio / count), floor = std::exp(logFloor / count);
    std::printf("%6lld %11.2fx %11.0f%%\n", (long long)m, ratio, 100 * floor);
    summary.push_back({{"m", m}, {"ratio_to_cublas", ratio},
                       {"fraction_of_floor", floor}});
  }
  std::printf("ratio = cuBLAS fp16 time / qmlir time (> 1: qmlir faster)\n");

  if (!options.json.empty()) {
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    nlohmann::json results = nlohmann::json::array();
    for (const Row &row : rows)
      results.push_back(toJson(row));
    nlohmann::json document = {
        {"format", "qmlir-bench"},
        {"version", 1},
        {"date", date},
        {"commit", options.commit},
        {"bundle", options.bundle},
        {"device", gpu->deviceName},
        {"driver_version", gpu->driverVersion},
        {"sm_count", gpu->smCount},
        {"l2_bytes", gpu->l2Bytes},
        {"copy_bytes_per_second", ceilings.copyBytesPerSecond},
        {"cublas_fp16_flops_per_second", ceilings.cublasFlopsPerSecond},
        {"batches", options.batches},
        {"calls_per_batch", options.calls},
        {"results", results},
        {"geomean", summary}};
    if (!writeFileAtomically(options.json, document.dump(2) + "\n", error))
      return failWith(error);
  }
  std::printf("%s\n", allPassed ? "PASS" : "FAIL");
  return allPassed ? 0 : kMismatch;
}
