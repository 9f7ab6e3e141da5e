//===- Problem.cpp - Random matmul problems and their reference -----------===//
//
// Random inputs from a seed, their quantized weights, the fp64 reference and
// the checker's per-element magnitudes. MLIR-free.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Problem.h"

#include "Internal.h"

#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

using namespace qmlir::core;

namespace {

std::string hex(uint32_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%08x", value);
  return buffer;
}

/// Standard normal samples by Marsaglia and Tsang's ziggurat in Doornik's
/// ZIGNOR form (128 blocks; a sign-symmetric uniform and an independent block
/// index from each 64-bit draw). Several times faster than
/// std::normal_distribution, whose algorithm also differs between standard
/// libraries; this one depends only on the engine and on <cmath>.
class NormalSampler {
public:
  explicit NormalSampler(std::mt19937_64 &rng) : rng(rng) {
    static const Tables tables;
    x = tables.x;
    ratio = tables.ratio;
  }

  double operator()() {
    while (true) {
      const uint64_t bits = rng();
      const double u = double(bits >> 11) * 0x1p-52 - 1.0; // [-1, 1)
      const unsigned i = unsigned(bits & (kBlocks - 1));
      // The rectangular part of block i: accepted outright (~99%).
      if (std::fabs(u) < ratio[i])
        return u * x[i];
      // Block 0's remainder is the tail beyond R.
      if (i == 0)
        return tail(u < 0);
      // A wedge: accept under the density.
      const double value = u * x[i];
      const double f0 = std::exp(-0.5 * (x[i] * x[i] - value * value));
      const double f1 = std::exp(-0.5 * (x[i + 1] * x[i + 1] - value * value));
      if (f1 + uniform() * (f0 - f1) < 1.0)
        return value;
    }
  }

private:
  static constexpr unsigned kBlocks = 128;
  static constexpr double kR = 3.442619855899;      // start of the tail
  static constexpr double kV = 9.91256303526217e-3; // area of each block

  struct Tables {
    double x[kBlocks + 1];
    double ratio[kBlocks];
    Tables() {
      double f = std::exp(-0.5 * kR * kR);
      x[0] = kV / f; // block 0: the base strip including the tail
      x[1] = kR;
      x[kBlocks] = 0;
      for (unsigned i = 2; i < kBlocks; ++i) {
        x[i] = std::sqrt(-2 * std::log(kV / x[i - 1] + f));
        f = std::exp(-0.5 * x[i] * x[i]);
      }
      for (unsigned i = 0; i < kBlocks; ++i)
        ratio[i] = x[i + 1] / x[i];
    }
  };

  /// Uniform in (0, 1].
  double uniform() { return double((rng() >> 11) + 1) * 0x1p-53; }

  double tail(bool negative) {
    double a, b;
    do {
      a = std::log(uniform()) / kR;
      b = std::log(uniform());
    } while (-2 * b < a * a);
    return negative ? a - kR : kR - a;
  }

  std::mt19937_64 &rng;
  const double *x;
  const double *ratio;
};

/// Fills `out` with standard normal samples drawn from `rng`.
void fillStandardNormal(std::mt19937_64 &rng, std::vector<float> &out) {
  NormalSampler normal(rng);
  for (float &w : out)
    w = float(normal());
}

/// Raw bits of `type` for values uniform in [-1, 1], rounded to `type`. The
/// engine's bits map directly (53 bits -> [0, 1) -> [-1, 1]) because
/// std::uniform_real_distribution differs between standard libraries.
std::vector<uint16_t> uniformBits(std::mt19937_64 &rng, size_t count,
                                  FloatType type) {
  std::vector<uint16_t> bits(count);
  for (uint16_t &b : bits) {
    double unit = double(rng() >> 11) * 0x1p-53;
    float value = float(2.0 * unit - 1.0);
    b = activationBits(type, value);
  }
  return bits;
}

/// Standard normal [n, k] weights from `rng`, quantized to `scheme`.
QuantizedMatrix randomWeights(std::mt19937_64 &rng, int64_t n, int64_t k,
                              const Scheme &scheme) {
  std::vector<float> weights(size_t(n * k));
  fillStandardNormal(rng, weights);
  return quantize(weights.data(), n, k, scheme);
}

/// dot[i, j] = sum_l x[i, l] w[j, l] and abs[i, j] = sum_l |x[i, l] w[j, l]|
/// over the dequantized weights, one row at a time with the k loop innermost
/// and contiguous.
void products(const std::vector<double> &x, const QuantizedMatrix &weights,
              int64_t m, std::vector<double> &dot, std::vector<double> &abs) {
  const int64_t n = weights.rows, k = weights.cols;
  dot.assign(size_t(m * n), 0.0);
  abs.assign(size_t(m * n), 0.0);
  std::vector<double> wRow(static_cast<size_t>(k));
  detail::forEachDequantizedRow(weights, [&](int64_t j, const float *row) {
    for (int64_t l = 0; l < k; ++l)
      wRow[l] = row[l];
    for (int64_t i = 0; i < m; ++i)
      dot[i * n + j] =
          detail::dotRow(&x[i * k], wRow.data(), k, &abs[i * n + j]);
  });
}

/// d silu / dg = sigmoid(g) (1 + g (1 - sigmoid(g))).
double siluDerivative(double g) {
  const double sigmoid = 1.0 / (1.0 + std::exp(-g));
  return sigmoid * (1.0 + g * (1.0 - sigmoid));
}

} // namespace

const char *qmlir::core::toString(OpKind op) {
  return op == OpKind::Matmul ? "matmul" : "swiglu";
}

std::optional<OpKind> qmlir::core::parseOpKind(const std::string &text) {
  if (text == "matmul")
    return OpKind::Matmul;
  if (text == "swiglu")
    return OpKind::Swiglu;
  return std::nullopt;
}

double qmlir::core::silu(double g) { return g / (1.0 + std::exp(-g)); }

double qmlir::core::swigluMagnitude(double g, double u, double absGate,
                                    double absUp, int64_t k) {
  const double c = 8.0 * std::sqrt(double(k)) * std::ldexp(1.0, -24);
  const double s = silu(g);
  return 1.1 * std::fabs(u) * absGate + std::fabs(s) * absUp +
         1.1 * c * absGate * absUp + std::fabs(s * u);
}

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
  if (op == OpKind::Matmul && upScheme)
    return "an up scheme is only for swiglu";
  if (op == OpKind::Swiglu) {
    if (bias)
      return "swiglu takes no bias (only matmul does)";
    if (std::string error = upSchemeOrGate().validateShape(n, k);
        !error.empty())
      return "up weights: " + error;
  }
  return {};
}

std::string MatmulProblem::str() const {
  return "M=" + std::to_string(m) + " N=" + std::to_string(n) +
         " K=" + std::to_string(k) + " " + scheme.str() +
         " act=" + toString(activationType) + " seed=" + std::to_string(seed) +
         (op == OpKind::Swiglu ? " op=swiglu up=" + upSchemeOrGate().str()
                               : "") +
         (bias ? " bias" : "") + (residual ? " residual" : "");
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
  const FloatType type = problem.activationType;
  std::mt19937_64 rng(problem.seed);
  MatmulData data;

  // From the one engine: activations, weights, then what the epilogue adds.
  data.activations = uniformBits(rng, size_t(m * k), type);
  std::vector<double> x(size_t(m * k));
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = activationValue(data.activations[i], type);
  data.weights = randomWeights(rng, n, k, problem.scheme);
  if (problem.op == OpKind::Swiglu)
    data.up = randomWeights(rng, n, k, problem.upSchemeOrGate());
  if (problem.bias)
    data.bias = uniformBits(rng, size_t(n), type);
  if (problem.residual)
    data.residual = uniformBits(rng, size_t(m * n), type);

  products(x, data.weights, m, data.reference, data.absProducts);
  if (problem.op == OpKind::Swiglu) {
    std::vector<double> up, absUp;
    products(x, data.up, m, up, absUp);
    for (size_t i = 0; i < up.size(); ++i) {
      const double g = data.reference[i], absGate = data.absProducts[i];
      data.reference[i] = silu(g) * up[i];
      data.absProducts[i] = swigluMagnitude(g, up[i], absGate, absUp[i], k);
    }
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const size_t index = size_t(i * n + j);
      if (problem.bias) {
        const double b = activationValue(data.bias[j], type);
        data.reference[index] += b;
        data.absProducts[index] += std::fabs(b);
      }
      if (problem.residual) {
        const double r = activationValue(data.residual[index], type);
        data.reference[index] += r;
        data.absProducts[index] += std::fabs(r);
      }
    }
  return data;
}

namespace {
/// One stored bit of a weight: word `word` of the codes, bit `bit`.
struct CodeBit {
  int64_t word;
  unsigned bit;
  std::string name; // which bit of the weight's code it is
};
} // namespace

std::string qmlir::core::plantFault(MatmulData &data,
                                    const MatmulProblem &problem) {
  QuantizedMatrix &weights = data.weights;
  const Scheme &scheme = weights.scheme;
  assert(weights.rows == problem.n && weights.cols == problem.k);
  const int64_t k = problem.k;
  int64_t row = problem.n / 2;
  if (problem.op == OpKind::Swiglu) {
    // The first row's gate and up outputs decide where a gate fault shows.
    std::vector<double> x(static_cast<size_t>(k));
    for (int64_t l = 0; l < k; ++l)
      x[l] = activationValue(data.activations[l], problem.activationType);
    std::vector<double> gate, up, unused;
    products(x, data.weights, 1, gate, unused);
    products(x, data.up, 1, up, unused);
    double sensitivity = -1;
    for (int64_t j = 0; j < problem.n; ++j) {
      double s = std::fabs(siluDerivative(gate[j]) * up[j]);
      if (s > sensitivity) {
        sensitivity = s;
        row = j;
      }
    }
  }

  // The column the first output row weighs most, so the fault shows there.
  int64_t col = 0;
  double largest = -1;
  for (int64_t l = 0; l < k; ++l) {
    double magnitude =
        std::fabs(activationValue(data.activations[l], problem.activationType));
    if (magnitude > largest) {
      largest = magnitude;
      col = l;
    }
  }

  // The bits that hold weight (row, col).
  const int64_t rowWord = row * scheme.codeWordsPerRow(k);
  std::vector<CodeBit> candidates;
  switch (scheme.kind) {
  case ElementKind::BinaryCoded: {
    const int64_t planeWords = (k + 31) / 32;
    for (unsigned plane = 0; plane < scheme.bits; ++plane)
      candidates.push_back({rowWord + plane * planeWords + col / 32,
                            unsigned(col % 32),
                            "the sign bit of plane " + std::to_string(plane)});
    break;
  }
  case ElementKind::Ternary:
    for (unsigned bit = 0; bit < 32; ++bit)
      candidates.push_back(
          {rowWord + col / kTritsPerWord, bit,
           "bit " + std::to_string(bit) + " of the base-3 word"});
    break;
  default: {
    const int64_t offset = scheme.codeBitOffset(col, k);
    const unsigned width = scheme.isInteger()
                               ? scheme.bitsOfGroup(weights.groupOf(col))
                               : scheme.bits;
    for (unsigned b = 0; b < width; ++b)
      candidates.push_back({rowWord + (offset + b) / 32,
                            unsigned((offset + b) % 32),
                            "bit " + std::to_string(b) + " of the " +
                                std::to_string(width) + "-bit code"});
    break;
  }
  }

  // Of those, the flip that changes the weight most and keeps it finite.
  const float before = weights.dequantized(row, col);
  size_t chosen = 0;
  double largestChange = -1;
  for (size_t i = 0; i < candidates.size(); ++i) {
    uint32_t &word = weights.codes[candidates[i].word];
    word ^= uint32_t(1) << candidates[i].bit;
    const float after = weights.dequantized(row, col);
    word ^= uint32_t(1) << candidates[i].bit;
    double change = std::fabs(double(after) - double(before));
    if (std::isfinite(after) && change > largestChange) {
      largestChange = change;
      chosen = i;
    }
  }
  const CodeBit flip = candidates[chosen];
  const uint32_t wordBefore = weights.codes[flip.word];
  weights.codes[flip.word] ^= uint32_t(1) << flip.bit;
  const float after = weights.dequantized(row, col);

  char values[96];
  std::snprintf(values, sizeof(values), "%.6g -> %.6g", double(before),
                double(after));
  return "flipped " + flip.name + " of weight (" + std::to_string(row) + ", " +
         std::to_string(col) + "): code word " +
         std::to_string(flip.word - rowWord) + " of the row 0x" +
         hex(wordBefore) + " -> 0x" + hex(weights.codes[flip.word]) +
         ", value " + values;
}
