//===- QuantizeInteger.cpp - Integer quantization (MLIR-free) -------------===//
//
// Integer codes (iB, uB, i*, u*) with no, integer or float zero points,
// per group, channel or tensor, and GPTQ act-order grouping. The f32
// expressions of this quantizer are part of the contract that compiled
// kernels reproduce bit for bit, so each is written as one operation at a
// time, in the documented order, with nothing a compiler could contract
// into an FMA.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

using namespace qmlir::core;
using namespace qmlir::core::detail;

namespace {

/// The column order for act-order grouping (see QuantizeOptions).
std::vector<int64_t> actOrderColumns(const float *weights, int64_t rows,
                                     int64_t cols,
                                     const QuantizeOptions &options) {
  if (!options.columnOrder.empty()) {
    std::vector<int64_t> order = options.columnOrder;
    assert(int64_t(order.size()) == cols && "columnOrder must list K columns");
    std::vector<int64_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t c = 0; c < cols; ++c)
      assert(sorted[c] == c && "columnOrder must be a permutation");
    (void)sorted;
    return order;
  }
  std::vector<double> norms(cols, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double w = weights[r * cols + c];
      norms[c] += w * w;
    }
  std::vector<int64_t> order(cols);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return norms[a] > norms[b] || (norms[a] == norms[b] && a < b);
  });
  return order;
}

} // namespace

void qmlir::core::detail::quantizeIntegers(QuantizedMatrix &m,
                                           const float *weights,
                                           const QuantizeOptions &options) {
  const Scheme &scheme = m.scheme;
  const int64_t rows = m.rows, cols = m.cols;
  const int64_t groups = scheme.groupsPerRow(cols);
  const int64_t length = scheme.groupSizeFor(cols);
  const int64_t codeWords = scheme.codeWordsPerRow(cols);
  const int64_t zeroWords = scheme.zeroWordsPerRow(cols);
  const GroupOffsets offsets(scheme, cols);

  std::vector<int64_t> order;
  if (scheme.actOrder) {
    order = actOrderColumns(weights, rows, cols, options);
    for (int64_t j = 0; j < cols; ++j)
      m.groupIndex[order[j]] = int32_t(j / length);
  }

  // Quantizes `count` values of one unit with codes of `width` bits; code i
  // is stored by store(i, code) and the zero point by storeZero(code).
  auto quantizeUnit = [&](const float *w, int64_t count, unsigned width,
                          int64_t index, auto store, auto storeZero) {
    const int32_t minCode = scheme.minCode(width),
                  maxCode = scheme.maxCode(width);
    const float minCodeF = float(minCode), maxCodeF = float(maxCode);
    // Clamping in float before converting keeps the conversion defined.
    auto clampCode = [&](float q) {
      return int32_t(std::clamp(q, minCodeF, maxCodeF));
    };

    float lo = w[0], hi = w[0];
    for (int64_t i = 1; i < count; ++i) {
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
    m.scales[index] = s;
    // All-zero group (or a scale that underflowed): zero codes and zero
    // points, already in place, dequantize to exactly 0.
    if (s == 0.0f)
      return;

    switch (scheme.zero) {
    case ZeroKind::None:
      for (int64_t i = 0; i < count; ++i) {
        float scaled = w[i] / s;
        store(i, uint32_t(clampCode(std::nearbyint(scaled))));
      }
      break;
    case ZeroKind::Int: {
      float offset = lo / s;
      int32_t z = clampCode(std::nearbyint(minCodeF - offset));
      storeZero(uint32_t(z));
      for (int64_t i = 0; i < count; ++i) {
        float scaled = w[i] / s;
        float q = std::nearbyint(scaled) + float(z); // exact: small integers
        store(i, uint32_t(clampCode(q)));
      }
      break;
    }
    case ZeroKind::Float: {
      float offset = lo / s;
      float zf = roundTo(scheme.scaleType, minCodeF - offset);
      m.zeroValues[index] = zf;
      for (int64_t i = 0; i < count; ++i) {
        float scaled = w[i] / s;
        float shifted = scaled + zf;
        store(i, uint32_t(clampCode(std::nearbyint(shifted))));
      }
      break;
    }
    }
  };

  if (scheme.isPerTensor()) {
    quantizeUnit(
        weights, rows * cols, scheme.bits, 0,
        [&](int64_t i, uint32_t code) {
          insertCode(&m.codes[(i / cols) * codeWords], i % cols, scheme.bits,
                     code);
        },
        [&](uint32_t code) {
          insertBits(m.zeroCodes.data(), 0, scheme.bits, code);
        });
    return;
  }

  std::vector<float> gathered(scheme.actOrder ? length : 0);
  for (int64_t r = 0; r < rows; ++r) {
    uint32_t *codeRow = &m.codes[r * codeWords];
    for (int64_t g = 0; g < groups; ++g) {
      const unsigned width = scheme.bitsOfGroup(g);
      auto storeZero = [&](uint32_t code) {
        insertBits(&m.zeroCodes[r * zeroWords], offsets.zero[g], width, code);
      };
      if (scheme.actOrder) {
        const int64_t *columns = &order[g * length];
        for (int64_t i = 0; i < length; ++i)
          gathered[i] = weights[r * cols + columns[i]];
        quantizeUnit(
            gathered.data(), length, width, r * groups + g,
            [&](int64_t i, uint32_t code) {
              insertCode(codeRow, columns[i], width, code);
            },
            storeZero);
      } else {
        const int64_t first = offsets.code[g];
        quantizeUnit(
            weights + r * cols + g * length, length, width, r * groups + g,
            [&](int64_t i, uint32_t code) {
              insertBits(codeRow, first + i * width, width, code);
            },
            storeZero);
      }
    }
  }
}
