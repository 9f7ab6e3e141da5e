//===- Reference.h - Reference numerics (MLIR-free) -------------*- C++ -*-===//
//
// Plain C++ loops over the format definitions: quantization (round to
// nearest), dequantization, reference matmul and the numerics-contract
// checker. Independent of the compiler by construction; every kernel, CPU or
// GPU, is checked against these.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CORE_REFERENCE_H
#define QMLIR_CORE_REFERENCE_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

#include <cstdint>
#include <vector>

namespace qmlir::core {

/// Quantized [rows, cols] weights in the canonical layout of Format.h. Only
/// the members the scheme's parts need are filled.
struct QuantizedMatrix {
  Scheme scheme;
  int64_t rows = 0;
  int64_t cols = 0;
  /// The "codes" part: rows x scheme.codeWordsPerRow(cols) words.
  std::vector<uint32_t> codes;
  /// The "scales" part, row-major in its Part shape; each value exactly
  /// representable in scheme.scaleType.
  std::vector<float> scales;
  /// ZeroKind::Int: the "zeros" part, rows x scheme.zeroWordsPerRow(cols).
  std::vector<uint32_t> zeroCodes;
  /// ZeroKind::Float: the "zeros" part, rows x groups, representable in
  /// scheme.scaleType.
  std::vector<float> zeroValues;
  /// Codebook formats: the "codebook" part, row-major in its Part shape.
  std::vector<float> codebook;
  /// Act-order: the "g_idx" part, the group of each column.
  std::vector<int32_t> groupIndex;

  /// Group of column c (g_idx[c] with act-order, else c / group size).
  int64_t groupOf(int64_t c) const;
  /// Dequantized weight (r, c), computed in f32 exactly as kernels do (see
  /// Format.h for each format's formula; integer formats: float(q - z) * s
  /// for integer zeros, (float(q) - z) * s for float zeros).
  float dequantized(int64_t r, int64_t c) const;

  /// Every part as little-endian bytes in its storage type, in the order of
  /// scheme.parts(rows, cols), with the codes arranged in `layout` (which
  /// layoutSupport must allow).
  std::vector<std::vector<uint8_t>>
  partBytes(Layout layout = Layout::Canonical) const;
};

enum class BcqMethod { Greedy, Alternating };

struct QuantizeOptions {
  BcqMethod bcq = BcqMethod::Alternating;
  /// Act-order: the order in which columns are grouped (column order[j]
  /// joins group j / group size). Empty: by descending column L2 norm, the
  /// order GPTQ's act-order would give for equal activation statistics.
  std::vector<int64_t> columnOrder;
};

/// Quantizes row-major [rows, cols] f32 weights with round to nearest,
/// computing in f32 (rules per format):
///   integers, zero = none: signed codes use s = max|w| / maxCode; unsigned
///                codes use s = max(max w, 0) / maxCode.
///   integers, zero = int: the group's range [min(lo, 0), max(hi, 0)] is
///                mapped onto [minCode, maxCode]: s = range / (maxCode -
///                minCode), z = clamp(rne(minCode - lo / s)),
///                q = clamp(rne(w / s) + z).
///   integers, zero = float: same s, z = minCode - lo / s kept as a float,
///                q = clamp(rne(w / s + z)).
///   small floats: s = max|w| / maxFinite, q = encodeFloat(w / s).
///   nf4:         s = max|w|, q = the nearest nf4 value to w / s.
///   lutB:        codebook from the group's (or tensor's) values by k-means
///                (quantile start, fixed iterations), q = nearest entry.
///   bcqB:        greedy (a_i = mean|r|, b_i = sign r, r -= a_i b_i), then
///                alternating refinement of a (least squares) and b (best
///                of 2^B sign patterns) with BcqMethod::Alternating.
///   ternary:     s = mean|w| (absmean), t = clamp(rne(w / s), -1, 1).
/// Scales and zeros are rounded to their storage type before codes are
/// computed, so dequantization uses exactly the stored values. A group of
/// zeros gets s = 0 and codes that dequantize to 0.
QuantizedMatrix quantize(const float *weights, int64_t rows, int64_t cols,
                         const Scheme &scheme,
                         const QuantizeOptions &options = {});

/// Row-major [rows, cols] dequantized weights (f32 arithmetic, see above).
std::vector<float> dequantize(const QuantizedMatrix &matrix);

enum class Accumulation { F64, F32 };

/// out[m, n] = sum_k x[m, k] * w[n, k] for row-major x [m, k] and w [n, k].
/// F64 accumulates in double; F32 accumulates in float in k order.
std::vector<double> referenceMatmul(const std::vector<double> &x,
                                    const std::vector<double> &w, int64_t m,
                                    int64_t n, int64_t k,
                                    Accumulation accumulation);

//===----------------------------------------------------------------------===//
// The numerics contract.
//===----------------------------------------------------------------------===//

/// ||out - ref|| / ||ref|| tolerance for outputs of the given type.
double relativeTolerance(FloatType outputType);

struct CheckResult {
  bool passed = false;
  double relativeError = 0; // ||out - ref||_F / ||ref||_F
  double tolerance = 0;
  /// Largest |out - ref| / bound over all elements (<= 1 passes), where the
  /// per-element bound is one unit in the last place of the output type at
  /// |ref| plus 8 sqrt(K) 2^-24 sum_k |x w| (f32 accumulation error).
  double worstElementRatio = 0;
  int64_t worstRow = 0, worstCol = 0;
  int64_t nonFinite = 0; // NaN or Inf outputs where ref is finite
  std::string summary() const;
};

/// Checks a kernel's [m, n] output (already widened to double) against the
/// fp64 reference `ref`. `absProducts[i]` is sum_k |x[m, k] * w[n, k]| for the
/// same element. Passes when the relative error is within the contract, every
/// element is within its bound and nothing is NaN or Inf.
CheckResult checkOutput(const std::vector<double> &out,
                        const std::vector<double> &ref,
                        const std::vector<double> &absProducts, int64_t m,
                        int64_t n, int64_t k, FloatType outputType);

} // namespace qmlir::core

#endif // QMLIR_CORE_REFERENCE_H
