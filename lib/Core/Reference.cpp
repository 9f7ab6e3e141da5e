//===- Reference.cpp - Reference numerics (MLIR-free) ---------------------===//
//
// Quantization, dequantization, the reference matmul and the numerics-contract
// checker. The f32 expressions here are the contract that compiled kernels
// reproduce bit for bit, so each is written as one operation at a time, in
// the documented order, with nothing a compiler could contract into an FMA.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Reference.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <limits>

using namespace qmlir::core;

//===----------------------------------------------------------------------===//
// QuantizedMatrix
//===----------------------------------------------------------------------===//

int32_t QuantizedMatrix::code(int64_t r, int64_t c) const {
  assert(r >= 0 && r < rows && c >= 0 && c < cols);
  return codeValue(extractCode(&codes[r * wordsPerRow()], c, scheme.bits),
                   scheme);
}

float QuantizedMatrix::zero(int64_t r, int64_t g) const {
  assert(r >= 0 && r < rows && g >= 0 && g < groupsPerRow());
  switch (scheme.zero) {
  case ZeroKind::None:
    return 0.0f;
  case ZeroKind::Int:
    return float(codeValue(
        extractCode(&zeroCodes[r * zeroWordsPerRow()], g, scheme.bits),
        scheme));
  case ZeroKind::Float:
    return zeroValues[r * groupsPerRow() + g];
  }
  return 0.0f;
}

float QuantizedMatrix::dequantized(int64_t r, int64_t c) const {
  int64_t g = c / scheme.groupSizeFor(cols);
  float s = scales[r * groupsPerRow() + g];
  int32_t q = code(r, c);
  switch (scheme.zero) {
  case ZeroKind::None:
    return float(q) * s;
  case ZeroKind::Int: {
    int32_t z = codeValue(
        extractCode(&zeroCodes[r * zeroWordsPerRow()], g, scheme.bits),
        scheme);
    return float(q - z) * s;
  }
  case ZeroKind::Float: {
    float centered = float(q) - zeroValues[r * groupsPerRow() + g];
    return centered * s;
  }
  }
  return 0.0f;
}

namespace {
/// Appends `value` encoded in `type` as little-endian bytes.
void appendEncoded(std::vector<uint8_t> &out, ScaleType type, float value) {
  uint32_t bits = 0;
  switch (type) {
  case ScaleType::F16:
    bits = floatToHalf(value);
    break;
  case ScaleType::BF16:
    bits = floatToBf16(value);
    break;
  case ScaleType::F32:
    bits = std::bit_cast<uint32_t>(value);
    break;
  }
  for (unsigned i = 0, e = byteSize(type); i != e; ++i)
    out.push_back(uint8_t(bits >> (8 * i)));
}

std::vector<uint8_t> encodeAll(const std::vector<float> &values,
                               ScaleType type) {
  std::vector<uint8_t> bytes;
  bytes.reserve(values.size() * byteSize(type));
  for (float value : values)
    appendEncoded(bytes, type, value);
  return bytes;
}
} // namespace

std::vector<uint8_t> QuantizedMatrix::scaleBytes() const {
  return encodeAll(scales, scheme.scaleType);
}

std::vector<uint8_t> QuantizedMatrix::zeroValueBytes() const {
  return encodeAll(zeroValues, scheme.scaleType);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

QuantizedMatrix qmlir::core::quantize(const float *weights, int64_t rows,
                                      int64_t cols, const Scheme &scheme) {
  assert(scheme.validateShape(rows, cols).empty() && "invalid scheme or shape");
  QuantizedMatrix matrix;
  matrix.scheme = scheme;
  matrix.rows = rows;
  matrix.cols = cols;
  const int64_t groupSize = scheme.groupSizeFor(cols);
  const int64_t groups = matrix.groupsPerRow();
  // Zero-initialized storage: this also keeps a row's padding bits zero and
  // gives all-zero groups their (zero) codes.
  matrix.codes.assign(rows * matrix.wordsPerRow(), 0);
  matrix.scales.assign(rows * groups, 0.0f);
  if (scheme.zero == ZeroKind::Int)
    matrix.zeroCodes.assign(rows * matrix.zeroWordsPerRow(), 0);
  if (scheme.zero == ZeroKind::Float)
    matrix.zeroValues.assign(rows * groups, 0.0f);

  const int32_t minCode = scheme.minCode(), maxCode = scheme.maxCode();
  const float minCodeF = float(minCode), maxCodeF = float(maxCode);
  // Clamping in float before converting keeps the conversion defined.
  auto clampCode = [&](float q) {
    return int32_t(std::clamp(q, minCodeF, maxCodeF));
  };

  for (int64_t r = 0; r < rows; ++r) {
    uint32_t *codeRow = &matrix.codes[r * matrix.wordsPerRow()];
    for (int64_t g = 0; g < groups; ++g) {
      const float *w = weights + r * cols + g * groupSize;
      const int64_t first = g * groupSize;

      float lo = w[0], hi = w[0];
      for (int64_t i = 1; i < groupSize; ++i) {
        lo = std::min(lo, w[i]);
        hi = std::max(hi, w[i]);
      }

      float s;
      if (scheme.zero == ZeroKind::None) {
        float amax = scheme.isSigned() ? std::max(std::fabs(lo), std::fabs(hi))
                                       : std::max(hi, 0.0f);
        s = amax / maxCodeF;
      } else {
        // The range always includes 0 so that 0 stays (nearly) exact.
        lo = std::min(lo, 0.0f);
        hi = std::max(hi, 0.0f);
        float range = hi - lo;
        s = range / float(maxCode - minCode);
      }
      // Codes are computed from the stored scale, not the exact one.
      s = roundTo(scheme.scaleType, s);
      matrix.scales[r * groups + g] = s;
      // All-zero group (or a scale that underflowed): zero codes and zero
      // points, already in place, dequantize to exactly 0.
      if (s == 0.0f)
        continue;

      switch (scheme.zero) {
      case ZeroKind::None:
        for (int64_t i = 0; i < groupSize; ++i) {
          float scaled = w[i] / s;
          insertCode(codeRow, first + i, scheme.bits,
                     uint32_t(clampCode(std::nearbyint(scaled))));
        }
        break;
      case ZeroKind::Int: {
        float offset = lo / s;
        int32_t z = clampCode(std::nearbyint(minCodeF - offset));
        insertCode(&matrix.zeroCodes[r * matrix.zeroWordsPerRow()], g,
                   scheme.bits, uint32_t(z));
        for (int64_t i = 0; i < groupSize; ++i) {
          float scaled = w[i] / s;
          float q = std::nearbyint(scaled) + float(z); // exact: small integers
          insertCode(codeRow, first + i, scheme.bits, uint32_t(clampCode(q)));
        }
        break;
      }
      case ZeroKind::Float: {
        float offset = lo / s;
        float zf = roundTo(scheme.scaleType, minCodeF - offset);
        matrix.zeroValues[r * groups + g] = zf;
        for (int64_t i = 0; i < groupSize; ++i) {
          float scaled = w[i] / s;
          float shifted = scaled + zf;
          insertCode(codeRow, first + i, scheme.bits,
                     uint32_t(clampCode(std::nearbyint(shifted))));
        }
        break;
      }
      }
    }
  }
  return matrix;
}

std::vector<float> qmlir::core::dequantize(const QuantizedMatrix &matrix) {
  std::vector<float> result(matrix.rows * matrix.cols);
  for (int64_t r = 0; r < matrix.rows; ++r)
    for (int64_t c = 0; c < matrix.cols; ++c)
      result[r * matrix.cols + c] = matrix.dequantized(r, c);
  return result;
}

std::vector<double> qmlir::core::referenceMatmul(const std::vector<double> &x,
                                                 const std::vector<double> &w,
                                                 int64_t m, int64_t n,
                                                 int64_t k,
                                                 Accumulation accumulation) {
  assert(int64_t(x.size()) == m * k && int64_t(w.size()) == n * k);
  std::vector<double> out(m * n);
  for (int64_t i = 0; i < m; ++i) {
    const double *xRow = &x[i * k];
    for (int64_t j = 0; j < n; ++j) {
      const double *wRow = &w[j * k];
      if (accumulation == Accumulation::F64) {
        double sum = 0;
        for (int64_t l = 0; l < k; ++l)
          sum += xRow[l] * wRow[l];
        out[i * n + j] = sum;
      } else {
        // Separate statements: an f32 product rounded, then an f32 add.
        float sum = 0;
        for (int64_t l = 0; l < k; ++l) {
          float product = float(xRow[l]) * float(wRow[l]);
          sum += product;
        }
        out[i * n + j] = sum;
      }
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// The numerics contract
//===----------------------------------------------------------------------===//

double qmlir::core::relativeTolerance(FloatType outputType) {
  switch (outputType) {
  case FloatType::F16:
    return 2e-3;
  case FloatType::BF16:
    return 1e-2;
  case FloatType::F32:
    return 1e-5;
  }
  return 0;
}

namespace {
/// One unit in the last place of `type` at `magnitude`: 2^(floor(log2 |x|) -
/// mantissa bits), never below the type's smallest subnormal.
double ulpAt(FloatType type, double magnitude) {
  int mantissaBits = 10, minExponent = -24;
  switch (type) {
  case FloatType::F16:
    break;
  case FloatType::BF16:
    mantissaBits = 7;
    minExponent = -133;
    break;
  case FloatType::F32:
    mantissaBits = 23;
    minExponent = -149;
    break;
  }
  if (magnitude == 0 || !std::isfinite(magnitude))
    return std::ldexp(1.0, minExponent);
  int exponent = std::ilogb(magnitude) - mantissaBits;
  return std::ldexp(1.0, std::max(exponent, minExponent));
}
} // namespace

std::string CheckResult::summary() const {
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "rel_err=%.2e (tol %.1e) worst_elem=%.3g of bound at [%lld, "
                "%lld] nonfinite=%lld %s",
                relativeError, tolerance, worstElementRatio,
                static_cast<long long>(worstRow),
                static_cast<long long>(worstCol),
                static_cast<long long>(nonFinite), passed ? "PASS" : "FAIL");
  return buffer;
}

CheckResult qmlir::core::checkOutput(const std::vector<double> &out,
                                     const std::vector<double> &ref,
                                     const std::vector<double> &absProducts,
                                     int64_t m, int64_t n, int64_t k,
                                     FloatType outputType) {
  CheckResult result;
  result.tolerance = relativeTolerance(outputType);
  const size_t size = size_t(m * n);
  if (m <= 0 || n <= 0 || out.size() != size || ref.size() != size ||
      absProducts.size() != size) {
    // Mismatched buffers cannot be checked; report them as a failure.
    result.relativeError = std::numeric_limits<double>::infinity();
    result.worstElementRatio = std::numeric_limits<double>::infinity();
    return result;
  }

  const double accumulationFactor =
      8.0 * std::sqrt(double(k)) * std::ldexp(1.0, -24);
  double diffSquares = 0, refSquares = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const size_t index = size_t(i * n + j);
      const double o = out[index], r = ref[index];
      double ratio;
      if (!std::isfinite(r)) {
        // Not expected from a reference; only an identical infinity matches.
        ratio = o == r ? 0 : std::numeric_limits<double>::infinity();
      } else if (!std::isfinite(o)) {
        ++result.nonFinite;
        ratio = std::numeric_limits<double>::infinity();
      } else {
        const double diff = o - r;
        diffSquares += diff * diff;
        refSquares += r * r;
        const double bound = ulpAt(outputType, std::fabs(r)) +
                             accumulationFactor * absProducts[index];
        ratio = std::fabs(diff) / bound;
      }
      if (ratio > result.worstElementRatio) {
        result.worstElementRatio = ratio;
        result.worstRow = i;
        result.worstCol = j;
      }
    }
  }

  const double diffNorm = std::sqrt(diffSquares);
  const double refNorm = std::sqrt(refSquares);
  result.relativeError = refNorm > 0 ? diffNorm / refNorm : diffNorm;
  result.passed = result.nonFinite == 0 &&
                  result.relativeError <= result.tolerance &&
                  result.worstElementRatio <= 1.0;
  return result;
}
