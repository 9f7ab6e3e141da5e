//===- BenchSupport.h - The pieces of qmlir-bench's protocol ----*- C++ -*-===//
//
// The GPU session, the batch timer, the measured ceilings (copy bandwidth,
// cuBLAS fp16 rate) and one layer's device state (rotating weight copies,
// its fp16 twin for cuBLAS, the reference check). MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_BENCH_BENCHSUPPORT_H
#define QMLIR_TOOLS_QMLIR_BENCH_BENCHSUPPORT_H

#include "Cublas.h"
#include "DeviceMemory.h"
#include "GpuSession.h"
#include "LayerData.h"

#include "qmlir/Core/Problem.h"
#include "qmlir/Runtime/CudaDriver.h"

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace qmlir::run {

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees half a file.
bool writeFileAtomically(const std::string &path, const std::string &contents,
                         std::string &error);

/// CUDA events around `calls` back-to-back calls; the median over `batches`
/// batches of the time per call, after one warm-up batch. The call index
/// keeps counting across batches, so calls rotate over weight copies.
class Timer {
public:
  Timer(runtime::CudaDriver &driver, runtime::cuda::CUstream stream,
        int batches, int calls);
  ~Timer();
  /// Microseconds per call; std::nullopt if a call returned false.
  std::optional<double> median(const std::function<bool(int call)> &call);

private:
  runtime::CudaDriver &driver;
  runtime::cuda::CUstream stream;
  runtime::cuda::CUevent start = nullptr, stop = nullptr;
  int batches, calls;
};

/// What the floor is made of, measured on this device in this run.
struct Ceilings {
  static constexpr int kGemmSize = 8192;
  double copyBytesPerSecond = 0;   // bytes read + written by a D2D copy
  double cublasFlopsPerSecond = 0; // fp16 GEMM of kGemmSize^3
};
bool measureCeilings(GpuSession &gpu, Cublas &cublas, Timer &timer,
                     Ceilings &ceilings, std::string &error);

/// One layer on the device: its weights in enough copies that L2 cannot hold
/// them, a dense fp16/bf16 twin of them for cuBLAS (as many copies), random
/// activations and residual, and its output.
class LayerBench {
public:
  LayerBench(GpuSession &gpu, qmlir_bundle *bundle, std::string directory,
             const char *name);

  /// Draws or reads the weights and uploads the copies, for M up to `maxM`.
  bool prepare(uint64_t seed, int64_t maxM, std::mt19937_64 &rng,
               std::string &error);
  /// Runs the layer on copy 0 and checks rows 0 and M - 1 against the fp64
  /// reference under the numerics contract.
  bool check(int64_t m, core::CheckResult &result, std::string &error);
  /// One timed call on weight copy `call % copies`.
  bool runQmlir(int64_t m, int call);
  bool runCublas(Cublas &cublas, int64_t m, int call);

  /// What a call must read and write at least (weights, x, residual, out),
  /// and its multiply-adds times two.
  double bytesMoved(int64_t m) const;
  double flops(int64_t m) const;

  qmlir_layer_info info{};
  std::string schemeText;
  int copies = 0, cublasCopies = 0;

private:
  bool swiglu() const;
  bool bindCopy(int copy);

  GpuSession &gpu;
  qmlir_bundle *bundle;
  std::string directory, name;
  DeviceMemory memory;
  LayerData data;
  std::vector<std::string> weightNames;
  std::vector<std::vector<runtime::cuda::CUdeviceptr>> weights; // [copy][part]
  std::vector<runtime::cuda::CUdeviceptr> dense;                // [copy]
  runtime::cuda::CUdeviceptr x = 0, residual = 0, out = 0;
  std::vector<uint16_t> xBits, residualBits;
  int bound = -1;
};

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_BENCH_BENCHSUPPORT_H
