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

#include <cstdint>
#include <vector>

namespace qmlir::core {

/// Quantized [rows, cols] weights in the canonical layout of Format.h.
struct QuantizedMatrix {
  Scheme scheme;
  int64_t rows = 0;
  int64_t cols = 0;
  /// rows x packedWords(cols, bits) words.
  std::vector<uint32_t> codes;
  /// rows x groupsPerRow(cols) values, each exactly representable in
  /// scheme.scaleType.
  std::vector<float> scales;
  /// ZeroKind::Int: rows x packedWords(groupsPerRow(cols), bits) words.
  std::vector<uint32_t> zeroCodes;
  /// ZeroKind::Float: rows x groupsPerRow(cols) values, exactly representable
  /// in scheme.scaleType.
  std::vector<float> zeroValues;

  int64_t wordsPerRow() const { return packedWords(cols, scheme.bits); }
  int64_t groupsPerRow() const { return scheme.groupsPerRow(cols); }
  int64_t zeroWordsPerRow() const {
    return packedWords(groupsPerRow(), scheme.bits);
  }
  /// Integer value of code (r, c), after sign extension.
  int32_t code(int64_t r, int64_t c) const;
  /// Zero point of group g of row r as a float (0 when the scheme has none).
  float zero(int64_t r, int64_t g) const;
  /// Dequantized weight (r, c), computed in f32 exactly as kernels do:
  /// float(q - z) * s for integer zeros, (float(q) - z) * s for float zeros.
  float dequantized(int64_t r, int64_t c) const;

  /// Scales or float zeros encoded in the storage type, little-endian bytes.
  std::vector<uint8_t> scaleBytes() const;
  std::vector<uint8_t> zeroValueBytes() const;
};

/// Quantizes row-major [rows, cols] f32 weights with round to nearest (ties to
/// even), computing in f32.
///   zero = none: signed codes use s = max|w| / maxCode; unsigned codes use
///                s = max(max w, 0) / maxCode.
///   zero = int:  the group's range [min(lo, 0), max(hi, 0)] is mapped onto
///                [minCode, maxCode]: s = range / (maxCode - minCode),
///                z = clamp(rne(minCode - lo / s)), q = clamp(rne(w / s) + z).
///   zero = float: same s, z = minCode - lo / s kept as a float,
///                q = clamp(rne(w / s + z)).
/// Scales and float zeros are rounded to their storage type before the codes
/// are computed, so dequantization uses exactly the stored values. A group of
/// zeros gets s = 0 and codes that dequantize to 0.
QuantizedMatrix quantize(const float *weights, int64_t rows, int64_t cols,
                         const Scheme &scheme);

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
