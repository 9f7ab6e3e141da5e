//===- Problem.h - Random matmul problems and their reference ---*- C++ -*-===//
//
// What every runner (CPU or GPU) needs to check a quantized matmul, with its
// fused epilogue (bias, residual) or as a SwiGLU: random inputs from a seed,
// the quantized weights, the fp64 reference and the per-element magnitudes
// the checker's bounds use. MLIR-free.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_PROBLEM_H
#define QMLIR_CORE_PROBLEM_H

#include "qmlir/Core/Reference.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::core {

/// What a kernel computes from x [M, K] (all sums in f32, rounded to the
/// activation type T once):
///   Matmul: out = x W^T (+ bias[n]) (+ residual[m, n])
///   Swiglu: out = silu(x G^T) * (x U^T) (+ residual[m, n]),
///           silu(g) = g / (1 + exp(-g)).
enum class OpKind { Matmul, Swiglu };

/// "matmul" or "swiglu".
const char *toString(OpKind op);
/// The inverse of toString, or nothing.
std::optional<OpKind> parseOpKind(const std::string &text);

struct MatmulProblem {
  int64_t m = 1, n = 1, k = 1;
  /// The weights' scheme (for swiglu the gate's).
  Scheme scheme;
  FloatType activationType = FloatType::F16;
  uint64_t seed = 0;
  OpKind op = OpKind::Matmul;
  /// Swiglu: the up weights' scheme; empty means the gate's.
  std::optional<Scheme> upScheme;
  /// Matmul only: adds bias [n] (activation type).
  bool bias = false;
  /// Adds residual [m, n] (activation type).
  bool residual = false;

  /// The up weights' scheme of a swiglu.
  const Scheme &upSchemeOrGate() const { return upScheme ? *upScheme : scheme; }

  /// Empty if the problem is well formed, else a message naming the field.
  std::string validate() const;
  std::string str() const;
};

struct MatmulData {
  /// [m, k] activations as raw bits of the activation type (f16 or bf16).
  std::vector<uint16_t> activations;
  /// Quantized [n, k] weights (swiglu: the gate's), quantized from N(0, 1)
  /// random floats.
  QuantizedMatrix weights;
  /// Swiglu: the quantized [n, k] up weights, drawn like `weights`.
  QuantizedMatrix up;
  /// Bias [n] and residual [m, n] as raw bits of the activation type, when
  /// the problem has them.
  std::vector<uint16_t> bias;
  std::vector<uint16_t> residual;
  /// [m, n] fp64 reference of the whole op, epilogue included.
  std::vector<double> reference;
  /// [m, n] magnitudes for the checker's per-element bound, which allows
  /// 8 sqrt(K) 2^-24 times this on top of one ulp of the output:
  ///   matmul: sum_k |x w| + |bias| + |residual| (the f32 accumulation plus
  ///           the two f32 additions of the epilogue);
  ///   swiglu: swigluMagnitude(...) + |residual|.
  std::vector<double> absProducts;
};

/// silu(g) = g / (1 + exp(-g)) in fp64.
double silu(double g);

/// The magnitude whose 8 sqrt(K) 2^-24 multiple bounds the f32 error of one
/// swiglu output silu(g) * u, where g and u are exact and `absGate`,
/// `absUp` are their sums of |x w| (so an f32 accumulation errs by at most
/// e_g = c absGate and e_u = c absUp, c = 8 sqrt(k) 2^-24). First order,
/// |d silu / dg| < 1.1 gives 1.1 |u| absGate + |silu(g)| absUp; the
/// second-order term 1.1 c absGate absUp and |silu(g) u| (the few f32
/// roundings of exp, the division and the product, well within c) are
/// added.
double swigluMagnitude(double g, double u, double absGate, double absUp,
                       int64_t k);

/// Draws activations (uniform in [-1, 1], rounded to the activation type) and
/// weights (standard normal) from the problem's seed, then the up weights
/// (swiglu), the bias and the residual (uniform in [-1, 1], rounded to the
/// activation type) in that order, quantizes the weights and computes the
/// reference. Deterministic for a given problem; a plain matmul draws the
/// same values with or without an epilogue.
MatmulData makeMatmulData(const MatmulProblem &problem);

/// Plants a fault that the checker must see: flips one bit of the stored
/// codes of weight (row, col = argmax_k |x[0, k]|) in `data.weights` (the
/// gate for swiglu), but not in the reference: of the bits that hold that
/// weight, the one whose flip changes the dequantized weight most while
/// keeping it finite. The row is n / 2 for matmul; for swiglu it is the
/// output column where the first row's output is most sensitive to the gate,
/// argmax_n |silu'(g) u|, so that silu's flat negative side cannot hide the
/// fault. Returns a description of what was flipped.
std::string plantFault(MatmulData &data, const MatmulProblem &problem);

/// Converts raw activation-type bits to double.
double activationValue(uint16_t bits, FloatType type);

} // namespace qmlir::core

#endif // QMLIR_CORE_PROBLEM_H
