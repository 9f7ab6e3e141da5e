//===- Problem.cpp - Random matmul problems and their reference -----------===//
//
// Random inputs from a seed, their quantized weights, the fp64 reference and
// the checker's per-element magnitudes. MLIR-free.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Problem.h"

#include <cassert>
#include <cmath>
#include <limits>
#include <random>

using namespace qmlir::core;

std::string MatmulProblem::validate() const {
  if (m <= 0)
    return "M must be positive, got " + std::to_string(m);
  if (n <= 0)
    return "N must be positive, got " + std::to_string(n);
  if (k <= 0)
    return "K must be positive, got " + std::to_string(k);
  if (std::string error = scheme.validateShape(n, k); !error.empty())
    return error;
  if (activationType != FloatType::F16 && activationType != FloatType::BF16)
    return std::string("activation type must be f16 or bf16, got ") +
           toString(activationType);
  return {};
}

std::string MatmulProblem::str() const {
  return "M=" + std::to_string(m) + " N=" + std::to_string(n) +
         " K=" + std::to_string(k) + " " + scheme.str() +
         " act=" + toString(activationType) + " seed=" + std::to_string(seed);
}

double qmlir::core::activationValue(uint16_t bits, FloatType type) {
  switch (type) {
  case FloatType::F16:
    return halfToFloat(bits);
  case FloatType::BF16:
    return bf16ToFloat(bits);
  case FloatType::F32:
    break; // 16 bits cannot hold an f32 activation
  }
  assert(false && "activations are f16 or bf16");
  return std::numeric_limits<double>::quiet_NaN();
}

MatmulData qmlir::core::makeMatmulData(const MatmulProblem &problem) {
  assert(problem.validate().empty() && "invalid matmul problem");
  const int64_t m = problem.m, n = problem.n, k = problem.k;
  std::mt19937_64 rng(problem.seed);
  MatmulData data;

  // Activations first, then weights, from the one engine. The uniform draw
  // maps the engine's bits directly (53 bits -> [0, 1) -> [-1, 1]) because
  // std::uniform_real_distribution differs between standard libraries.
  data.activations.resize(size_t(m * k));
  std::vector<double> x(size_t(m * k));
  for (size_t i = 0; i < x.size(); ++i) {
    double unit = double(rng() >> 11) * 0x1p-53;
    float value = float(2.0 * unit - 1.0);
    uint16_t bits = problem.activationType == FloatType::F16
                        ? floatToHalf(value)
                        : floatToBf16(value);
    data.activations[i] = bits;
    x[i] = activationValue(bits, problem.activationType);
  }

  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> weights(size_t(n * k));
  for (float &w : weights)
    w = normal(rng);
  data.weights = quantize(weights.data(), n, k, problem.scheme);

  std::vector<float> dequantized = dequantize(data.weights);
  std::vector<double> w(dequantized.begin(), dequantized.end());
  data.reference = referenceMatmul(x, w, m, n, k, Accumulation::F64);

  data.absProducts.assign(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0;
      for (int64_t l = 0; l < k; ++l)
        sum += std::fabs(x[i * k + l] * w[j * k + l]);
      data.absProducts[i * n + j] = sum;
    }
  return data;
}

std::string qmlir::core::plantFault(MatmulData &data,
                                    const MatmulProblem &problem) {
  QuantizedMatrix &weights = data.weights;
  assert(weights.rows == problem.n && weights.cols == problem.k);
  const int64_t row = problem.n / 2;

  // The column the first output row weighs most, so the fault shows there.
  int64_t col = 0;
  double largest = -1;
  for (int64_t l = 0; l < problem.k; ++l) {
    double magnitude =
        std::fabs(activationValue(data.activations[l], problem.activationType));
    if (magnitude > largest) {
      largest = magnitude;
      col = l;
    }
  }

  const unsigned bits = weights.scheme.bits;
  uint32_t *codes = &weights.codes[row * weights.wordsPerRow()];
  uint32_t before = extractCode(codes, col, bits);
  uint32_t after = before ^ (uint32_t(1) << (bits - 1));
  insertCode(codes, col, bits, after);
  return "flipped bit " + std::to_string(bits - 1) + " of weight code (" +
         std::to_string(row) + ", " + std::to_string(col) + "): " +
         std::to_string(codeValue(before, weights.scheme)) + " -> " +
         std::to_string(codeValue(after, weights.scheme));
}
