//===- Problem.h - Random matmul problems and their reference ---*- C++ -*-===//
//
// What every runner (CPU or GPU) needs to check a quantized matmul: random
// inputs from a seed, the quantized weights, the fp64 reference and the
// per-element magnitudes the checker's bounds use. MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_PROBLEM_H
#define QMLIR_CORE_PROBLEM_H

#include "qmlir/Core/Reference.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qmlir::core {

struct MatmulProblem {
  int64_t m = 1, n = 1, k = 1;
  Scheme scheme;
  FloatType activationType = FloatType::F16;
  uint64_t seed = 0;

  /// Empty if the problem is well formed, else a message naming the field.
  std::string validate() const;
  std::string str() const;
};

struct MatmulData {
  /// [m, k] activations as raw bits of the activation type (f16 or bf16).
  std::vector<uint16_t> activations;
  /// Quantized [n, k] weights, quantized from N(0, 1) random floats.
  QuantizedMatrix weights;
  /// [m, n] fp64 reference: activations times the dequantized weights.
  std::vector<double> reference;
  /// [m, n] sum_k |x[m, k] * w[n, k]|, for the checker's per-element bound.
  std::vector<double> absProducts;
};

/// Draws activations (uniform in [-1, 1], rounded to the activation type) and
/// weights (standard normal) from the problem's seed, quantizes the weights
/// and computes the reference. Deterministic for a given problem.
MatmulData makeMatmulData(const MatmulProblem &problem);

/// Plants a fault that the checker must see: flips one bit of the stored
/// codes of weight (row = n / 2, col = argmax_k |x[0, k]|) in `data.weights`,
/// but not in the reference: of the bits that hold that weight, the one whose
/// flip changes the dequantized weight most while keeping it finite. Returns
/// a description of what was flipped.
std::string plantFault(MatmulData &data, const MatmulProblem &problem);

/// Converts raw activation-type bits to double.
double activationValue(uint16_t bits, FloatType type);

} // namespace qmlir::core

#endif // QMLIR_CORE_PROBLEM_H
