//===- QuantizeBinaryCoded.cpp - Binary-coded quantization (MLIR-free) ----===//
//
// bcqB: B sign planes and one alpha per plane and group (and a float zero
// point with zero = float), fitted greedily and, with
// BcqMethod::Alternating, refined by alternating least squares.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cmath>

using namespace qmlir::core;
using namespace qmlir::core::detail;

namespace {

constexpr int kAlternatingIterations = 3;

/// Solves the n x n system `a x = b` (row-major, overwritten) by Gaussian
/// elimination with partial pivoting; false if it is (nearly) singular.
bool solveLinear(std::vector<double> &a, std::vector<double> &b, int n) {
  double largest = 0;
  for (int i = 0; i < n; ++i)
    largest = std::max(largest, std::fabs(a[i * n + i]));
  if (largest == 0)
    return false;
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int row = col + 1; row < n; ++row)
      if (std::fabs(a[row * n + col]) > std::fabs(a[pivot * n + col]))
        pivot = row;
    if (std::fabs(a[pivot * n + col]) <= 1e-9 * largest)
      return false;
    if (pivot != col) {
      for (int k = 0; k < n; ++k)
        std::swap(a[col * n + k], a[pivot * n + k]);
      std::swap(b[col], b[pivot]);
    }
    for (int row = col + 1; row < n; ++row) {
      double factor = a[row * n + col] / a[col * n + col];
      for (int k = col; k < n; ++k)
        a[row * n + k] -= factor * a[col * n + k];
      b[row] -= factor * b[col];
    }
  }
  for (int row = n - 1; row >= 0; --row) {
    double sum = b[row];
    for (int k = row + 1; k < n; ++k)
      sum -= a[row * n + k] * b[k];
    b[row] = sum / a[row * n + row];
  }
  return true;
}

class BcqUnitQuantizer {
public:
  BcqUnitQuantizer(unsigned planes, bool hasZero, ScaleType type)
      : planes(planes), patterns(1u << planes), hasZero(hasZero), type(type) {}

  /// Quantizes values[0, count): alphas[planes], *zero and codes[count].
  void run(const float *values, int64_t count, BcqMethod method,
           float *alphasOut, float *zeroOut, uint8_t *codesOut) {
    float zero = 0.0f;
    workAlphas.assign(planes, 0.0f);
    if (hasZero) {
      double sum = 0;
      for (int64_t i = 0; i < count; ++i)
        sum += values[i];
      zero = roundTo(type, float(sum / double(count)));
    }

    // Greedy: a_i = mean |r|, b_i = sign r (+1 at 0), r -= a_i b_i. (Raw
    // pointers: stores to uint8_t codes could alias anything else.)
    codeBuffer.assign(count, 0);
    residual.resize(count);
    uint8_t *codes = codeBuffer.data();
    float *r = residual.data();
    for (int64_t i = 0; i < count; ++i)
      r[i] = values[i] - zero;
    for (unsigned plane = 0; plane < planes; ++plane) {
      double sum = 0;
      for (int64_t i = 0; i < count; ++i)
        sum += std::fabs(double(r[i]));
      const float alpha = roundTo(type, float(sum / double(count)));
      workAlphas[plane] = alpha;
      const uint8_t bit = uint8_t(1u << plane);
      for (int64_t i = 0; i < count; ++i) {
        bool plus = r[i] >= 0.0f;
        float term = plus ? alpha : -alpha;
        r[i] = r[i] - term;
        codes[i] |= plus ? bit : uint8_t(0);
      }
    }
    double bestError = error(values, count, codes, workAlphas, zero);
    bestAlphas = workAlphas;
    float bestZero = zero;
    bestCodes.assign(codes, codes + count);

    if (method == BcqMethod::Alternating) {
      histogram(values, count, codes);
      for (int iteration = 0; iteration < kAlternatingIterations; ++iteration) {
        if (!leastSquares(workAlphas, zero))
          break;
        // New codes, their error and the next histogram in one pass.
        double e = assignPatterns(values, count, workAlphas, zero, codes);
        if (e < bestError) {
          bestError = e;
          bestAlphas = workAlphas;
          bestZero = zero;
          bestCodes.assign(codes, codes + count);
        }
      }
    }
    std::copy(bestAlphas.begin(), bestAlphas.end(), alphasOut);
    *zeroOut = bestZero;
    std::copy(bestCodes.begin(), bestCodes.end(), codesOut);
  }

private:
  /// Values of every pattern, computed as dequantization does: level by
  /// level, the partial sums after planes 0..i (acc = acc + term in plane
  /// order, then + z), 2^B additions in all.
  void patternValues(const std::vector<float> &alphas, float zero) {
    reconstruction.assign(patterns, 0.0f);
    float *value = reconstruction.data();
    for (unsigned plane = 0; plane < planes; ++plane) {
      const uint32_t half = uint32_t(1) << plane;
      const float alpha = alphas[plane];
      for (uint32_t p = 0; p < half; ++p) {
        const float acc = value[p];
        value[p] = acc + -alpha;
        value[p | half] = acc + alpha;
      }
    }
    if (hasZero)
      for (uint32_t p = 0; p < patterns; ++p)
        value[p] = value[p] + zero;
  }

  double error(const float *w, int64_t count, const uint8_t *codes,
               const std::vector<float> &alphas, float zero) {
    patternValues(alphas, zero);
    const float *value = reconstruction.data();
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      double d = double(w[i]) - double(value[codes[i]]);
      sum += d * d;
    }
    return sum;
  }

  /// The least squares' sufficient statistics: per pattern, how many
  /// values have it and their sum.
  void histogram(const float *w, int64_t count, const uint8_t *codes) {
    histogramCount.assign(patterns, 0);
    histogramSum.assign(patterns, 0.0);
    int64_t *counts = histogramCount.data();
    double *sums = histogramSum.data();
    for (int64_t i = 0; i < count; ++i) {
      counts[codes[i]] += 1;
      sums[codes[i]] += w[i];
    }
  }

  /// The least-squares alphas (and zero) for the sign patterns of the
  /// histogram, rounded to the scale type; false if the system is singular.
  bool leastSquares(std::vector<float> &alphas, float &zero) {
    const int n = int(planes) + (hasZero ? 1 : 0);
    std::vector<double> a(n * n, 0.0), b(n, 0.0);
    double sign[9];
    for (uint32_t p = 0; p < patterns; ++p) {
      if (histogramCount[p] == 0)
        continue;
      for (unsigned i = 0; i < planes; ++i)
        sign[i] = ((p >> i) & 1) ? 1.0 : -1.0;
      if (hasZero)
        sign[planes] = 1.0;
      const double c = double(histogramCount[p]), s = histogramSum[p];
      for (int i = 0; i < n; ++i) {
        b[i] += sign[i] * s;
        for (int j = i; j < n; ++j)
          a[i * n + j] += sign[i] * sign[j] * c;
      }
    }
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < i; ++j)
        a[i * n + j] = a[j * n + i];
    if (!solveLinear(a, b, n))
      return false;
    for (unsigned i = 0; i < planes; ++i)
      alphas[i] = roundTo(type, float(b[i]));
    if (hasZero)
      zero = roundTo(type, float(b[planes]));
    return true;
  }

  /// Gives each value the pattern of the nearest reconstruction (ties: the
  /// lower value, then the lower pattern); returns the squared error and
  /// leaves the new codes' histogram.
  double assignPatterns(const float *w, int64_t count,
                        const std::vector<float> &alphas, float zero,
                        uint8_t *codes) {
    // The pattern values in ascending order (equal values by pattern),
    // built level by level like patternValues: each level's two halves are
    // the previous order shifted down and up, merged. Rounding can only
    // create ties, which a final insertion pass puts in pattern order.
    auto less = [](float va, uint32_t pa, float vb, uint32_t pb) {
      return va < vb || (va == vb && pa < pb);
    };
    sortedValues.assign(1, 0.0f);
    sortedPatterns.assign(1, 0);
    for (unsigned plane = 0; plane < planes; ++plane) {
      const uint32_t half = uint32_t(1) << plane;
      const float alpha = alphas[plane];
      lowValues.resize(half);
      highValues.resize(half);
      for (uint32_t i = 0; i < half; ++i) {
        lowValues[i] = sortedValues[i] + -alpha;
        highValues[i] = sortedValues[i] + alpha;
      }
      lowPatterns = sortedPatterns;
      sortedValues.resize(2 * half);
      sortedPatterns.resize(2 * half);
      uint32_t lo = 0, hi = 0;
      for (uint32_t out = 0; out < 2 * half; ++out) {
        bool takeLow =
            hi == half ||
            (lo < half && less(lowValues[lo], lowPatterns[lo], highValues[hi],
                               lowPatterns[hi] | half));
        if (takeLow) {
          sortedValues[out] = lowValues[lo];
          sortedPatterns[out] = lowPatterns[lo++];
        } else {
          sortedValues[out] = highValues[hi];
          sortedPatterns[out] = lowPatterns[hi++] | half;
        }
      }
      insertionFix();
    }
    if (hasZero) {
      for (float &value : sortedValues)
        value = value + zero;
      insertionFix();
    }
    nearest.reset(sortedValues.data(), int64_t(patterns));
    histogramCount.assign(patterns, 0);
    histogramSum.assign(patterns, 0.0);
    int64_t *counts = histogramCount.data();
    double *sums = histogramSum.data();
    const NearestTable::View find = nearest.view();
    const uint32_t *patternAt = sortedPatterns.data();
    const float *valueAt = sortedValues.data();
    double error = 0;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t index = find(w[i]);
      const uint32_t pattern = patternAt[index];
      codes[i] = uint8_t(pattern);
      const double d = double(w[i]) - double(valueAt[index]);
      error += d * d;
      counts[pattern] += 1;
      sums[pattern] += w[i];
    }
    return error;
  }

  /// Restores (value, pattern) order where rounding made values equal.
  void insertionFix() {
    for (size_t i = 1; i < sortedValues.size(); ++i) {
      const float value = sortedValues[i];
      const uint32_t pattern = sortedPatterns[i];
      size_t j = i;
      while (j > 0 && (value < sortedValues[j - 1] ||
                       (value == sortedValues[j - 1] &&
                        pattern < sortedPatterns[j - 1]))) {
        sortedValues[j] = sortedValues[j - 1];
        sortedPatterns[j] = sortedPatterns[j - 1];
        --j;
      }
      sortedValues[j] = value;
      sortedPatterns[j] = pattern;
    }
  }

  unsigned planes;
  uint32_t patterns;
  bool hasZero;
  ScaleType type;
  std::vector<float> workAlphas, bestAlphas, residual, reconstruction,
      sortedValues, lowValues, highValues;
  std::vector<uint32_t> sortedPatterns, lowPatterns;
  std::vector<uint8_t> codeBuffer, bestCodes;
  NearestTable nearest;
  std::vector<int64_t> histogramCount;
  std::vector<double> histogramSum;
};

} // namespace

void qmlir::core::detail::quantizeBinaryCoded(QuantizedMatrix &m,
                                              const float *weights,
                                              const QuantizeOptions &options) {
  const Scheme &s = m.scheme;
  const int64_t codeWords = s.codeWordsPerRow(m.cols);
  const int64_t planeWords = (m.cols + 31) / 32;
  const bool hasZero = s.zero == ZeroKind::Float;
  BcqUnitQuantizer quantizer(s.bits, hasZero, s.scaleType);
  std::vector<uint8_t> patterns;
  forEachUnit(m, weights, [&](const Unit &unit) {
    patterns.resize(unit.count);
    float zero = 0.0f;
    quantizer.run(unit.values, unit.count, options.bcq,
                  &m.scales[unit.index * int64_t(s.bits)], &zero,
                  patterns.data());
    if (hasZero)
      m.zeroValues[unit.index] = zero;
    const uint8_t *pattern = patterns.data();
    for (int64_t i = 0; i < unit.count; ++i) {
      if (pattern[i] == 0)
        continue;
      auto [r, c] = position(m, unit, i);
      uint32_t *word = &m.codes[r * codeWords + c / 32];
      const uint32_t bit = uint32_t(1) << (c % 32);
      for (unsigned plane = 0; plane < s.bits; ++plane)
        if ((pattern[i] >> plane) & 1)
          word[plane * planeWords] |= bit;
    }
  });
}
