//===- BenchSupport.cpp - The pieces of qmlir-bench's protocol ------------===//

#include "BenchSupport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace qmlir::run;
using qmlir::runtime::CudaDriver;
using namespace qmlir::runtime::cuda;
namespace core = qmlir::core;

namespace {

/// Enough copies of `bytes` that together they are >= 8x the L2 size.
int copiesFor(double bytes, int l2Bytes) {
  return std::max(2, int(std::ceil(8.0 * l2Bytes / std::max(bytes, 1.0))));
}

} // namespace

bool qmlir::run::writeFileAtomically(const std::string &path,
                                     const std::string &contents,
                                     std::string &error) {
  const std::string temporary =
      path + ".partial-" + std::to_string(long(getpid()));
  {
    std::ofstream file(temporary, std::ios::binary);
    file << contents;
    if (!file.flush()) {
      std::filesystem::remove(temporary);
      return error = "cannot write '" + temporary + "'", false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::filesystem::remove(temporary);
    return error = "cannot write '" + path + "': " + ec.message(), false;
  }
  return true;
}

Timer::Timer(CudaDriver &driver, CUstream stream, int batches, int calls)
    : driver(driver), stream(stream), batches(batches), calls(calls) {
  driver.cuEventCreate(&start, CU_EVENT_DEFAULT);
  driver.cuEventCreate(&stop, CU_EVENT_DEFAULT);
}

Timer::~Timer() {
  driver.cuEventDestroy(start);
  driver.cuEventDestroy(stop);
}

std::optional<double> Timer::median(const std::function<bool(int)> &call) {
  int index = 0;
  for (int c = 0; c < calls; ++c) // warm-up
    if (!call(index++))
      return std::nullopt;
  std::vector<double> perCall;
  for (int b = 0; b < batches; ++b) {
    driver.cuEventRecord(start, stream);
    for (int c = 0; c < calls; ++c)
      if (!call(index++))
        return std::nullopt;
    driver.cuEventRecord(stop, stream);
    if (driver.cuEventSynchronize(stop) != CUDA_SUCCESS)
      return std::nullopt;
    float ms = 0;
    driver.cuEventElapsedTime(&ms, start, stop);
    perCall.push_back(1000.0 * ms / calls);
  }
  std::sort(perCall.begin(), perCall.end());
  return perCall[perCall.size() / 2];
}

bool qmlir::run::measureCeilings(GpuSession &gpu, Cublas &cublas, Timer &timer,
                                 Ceilings &ceilings, std::string &error) {
  DeviceMemory memory(gpu.driver);
  // Copy bandwidth: at least 8x L2 each way, so that the copy streams from
  // and to HBM.
  const size_t copyBytes =
      std::max(size_t(8) * size_t(gpu.l2Bytes), size_t(512) << 20);
  CUdeviceptr from = memory.alloc(copyBytes, nullptr, error);
  CUdeviceptr to = from ? memory.alloc(copyBytes, nullptr, error) : 0;
  if (!to || !gpu.driver.check("cuMemsetD8",
                               gpu.driver.cuMemsetD8(from, 0x5a, copyBytes),
                               &error))
    return false;
  std::optional<double> copyUs = timer.median([&](int) {
    return gpu.driver.cuMemcpyDtoDAsync(to, from, copyBytes, gpu.stream) ==
           CUDA_SUCCESS;
  });
  if (!copyUs)
    return error = "the bandwidth measurement's copy failed", false;
  ceilings.copyBytesPerSecond = 2.0 * double(copyBytes) / (*copyUs * 1e-6);

  // cuBLAS fp16 rate on a large square GEMM, non-zero inputs.
  const int64_t size = Ceilings::kGemmSize;
  const size_t matrixBytes = size_t(size * size * 2);
  CUdeviceptr a = memory.alloc(matrixBytes, nullptr, error);
  CUdeviceptr b = a ? memory.alloc(matrixBytes, nullptr, error) : 0;
  CUdeviceptr c = b ? memory.alloc(matrixBytes, nullptr, error) : 0;
  if (!c)
    return false;
  // 0x2e: halves around 0.1, small enough that sums stay finite.
  gpu.driver.cuMemsetD8(a, 0x2e, matrixBytes);
  gpu.driver.cuMemsetD8(b, 0x2e, matrixBytes);
  std::optional<double> gemmUs = timer.median([&](int) {
    return cublas.linear(false, size, size, size, reinterpret_cast<void *>(a),
                         reinterpret_cast<void *>(b),
                         reinterpret_cast<void *>(c), error);
  });
  if (!gemmUs)
    return error = "the cuBLAS rate measurement failed: " + error, false;
  ceilings.cublasFlopsPerSecond =
      2.0 * double(size) * double(size) * double(size) / (*gemmUs * 1e-6);
  return gpu.driver.check("cuStreamSynchronize",
                          gpu.driver.cuStreamSynchronize(gpu.stream), &error);
}

LayerBench::LayerBench(GpuSession &gpu, qmlir_bundle *bundle,
                       std::string directory, const char *name)
    : gpu(gpu), bundle(bundle), directory(std::move(directory)), name(name),
      memory(gpu.driver) {
  qmlir_bundle_layer_info(bundle, name, &info);
}

bool LayerBench::swiglu() const { return std::string(info.op) == "swiglu"; }

bool LayerBench::prepare(uint64_t seed, int64_t maxM, std::mt19937_64 &rng,
                         std::string &error) {
  std::map<std::string, LayerLayout> layouts = readLayerLayouts(directory);
  const LayerLayout &layout = layouts[name];
  schemeText = layout.scheme;
  if (!loadLayerData(bundle, directory, name.c_str(), layout, seed, data,
                     error))
    return false;
  for (size_t w = 0; w < info.num_weights; ++w) {
    qmlir_weight_info weight;
    qmlir_bundle_weight_info(bundle, name.c_str(), w, &weight);
    weightNames.push_back(weight.name);
  }

  double weightBytes = 0;
  for (const std::vector<uint8_t> &tensor : data.tensors)
    weightBytes += double(tensor.size());
  copies = copiesFor(weightBytes, gpu.l2Bytes);
  for (int c = 0; c < copies; ++c) {
    std::vector<CUdeviceptr> parts;
    for (const std::vector<uint8_t> &tensor : data.tensors) {
      CUdeviceptr pointer = memory.alloc(tensor.size(), tensor.data(), error);
      if (!pointer)
        return false;
      parts.push_back(pointer);
    }
    weights.push_back(std::move(parts));
  }

  // cuBLAS's weights: the same values, dense, in the activation type
  // ([2n, k] for a swiglu, gate then up).
  const core::FloatType type = activationType(info);
  std::vector<uint16_t> denseBits;
  denseBits.reserve(data.dense.size() + data.upDense.size());
  for (float value : data.dense)
    denseBits.push_back(core::activationBits(type, value));
  for (float value : data.upDense)
    denseBits.push_back(core::activationBits(type, value));
  cublasCopies = copiesFor(2.0 * double(denseBits.size()), gpu.l2Bytes);
  for (int c = 0; c < cublasCopies; ++c) {
    CUdeviceptr pointer =
        memory.alloc(denseBits.size() * 2, denseBits.data(), error);
    if (!pointer)
      return false;
    dense.push_back(pointer);
  }

  xBits = randomActivations(size_t(maxM * info.k), type, rng);
  x = memory.alloc(xBits.size() * 2, xBits.data(), error);
  if (info.has_residual) {
    residualBits = randomActivations(size_t(maxM * info.n), type, rng);
    residual = memory.alloc(residualBits.size() * 2, residualBits.data(), error);
  }
  out = memory.alloc(size_t(maxM * info.n * (swiglu() ? 2 : 1) * 2), nullptr,
                     error);
  return x && out && (!info.has_residual || residual);
}

bool LayerBench::bindCopy(int copy) {
  if (copy == bound)
    return true;
  for (size_t w = 0; w < weightNames.size(); ++w)
    if (qmlir_bundle_bind_weight(bundle, name.c_str(), weightNames[w].c_str(),
                                 reinterpret_cast<void *>(weights[copy][w])) !=
        QMLIR_SUCCESS)
      return false;
  bound = copy;
  return true;
}

bool LayerBench::runQmlir(int64_t m, int call) {
  return bindCopy(call % copies) &&
         qmlir_run_layer(bundle, name.c_str(), m, reinterpret_cast<void *>(x),
                         reinterpret_cast<void *>(residual),
                         reinterpret_cast<void *>(out), nullptr, 0,
                         gpu.stream) == QMLIR_SUCCESS;
}

bool LayerBench::runCublas(Cublas &cublas, int64_t m, int call) {
  std::string error;
  return cublas.linear(activationType(info) == core::FloatType::BF16, m,
                       info.n * (swiglu() ? 2 : 1), info.k,
                       reinterpret_cast<void *>(x),
                       reinterpret_cast<void *>(dense[size_t(call % cublasCopies)]),
                       reinterpret_cast<void *>(out), error);
}

bool LayerBench::check(int64_t m, core::CheckResult &result,
                       std::string &error) {
  CudaDriver &driver = gpu.driver;
  if (!runQmlir(m, 0))
    return error = std::string("qmlir_run_layer: ") + qmlir_last_error(), false;
  std::vector<uint16_t> output(size_t(m * info.n));
  if (!driver.check("cuStreamSynchronize", driver.cuStreamSynchronize(gpu.stream),
                    &error) ||
      !driver.check("cuMemcpyDtoH",
                    driver.cuMemcpyDtoH(output.data(), out, output.size() * 2),
                    &error))
    return false;
  const core::FloatType type = activationType(info);
  std::vector<int64_t> rows = {0};
  if (m > 1)
    rows.push_back(m - 1);
  std::vector<double> xs, residuals, got;
  for (int64_t r : rows) {
    for (int64_t c = 0; c < info.k; ++c)
      xs.push_back(core::activationValue(xBits[size_t(r * info.k + c)], type));
    for (int64_t c = 0; c < info.n; ++c) {
      if (info.has_residual)
        residuals.push_back(
            core::activationValue(residualBits[size_t(r * info.n + c)], type));
      got.push_back(core::activationValue(output[size_t(r * info.n + c)], type));
    }
  }
  Reference reference =
      referenceRows(data, xs, residuals, int64_t(rows.size()));
  result = core::checkOutput(got, reference.values, reference.magnitudes,
                             int64_t(rows.size()), info.n, info.k, type);
  return true;
}

double LayerBench::bytesMoved(int64_t m) const {
  double bytes = 0;
  for (const std::vector<uint8_t> &tensor : data.tensors)
    bytes += double(tensor.size());
  bytes += 2.0 * double(m) * double(info.k + info.n);
  if (info.has_residual)
    bytes += 2.0 * double(m) * double(info.n);
  return bytes;
}

double LayerBench::flops(int64_t m) const {
  return 2.0 * double(m) * double(info.n) * double(info.k) * (swiglu() ? 2 : 1);
}
