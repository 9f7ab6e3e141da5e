//===- Quantize.cpp - Reference quantization (MLIR-free) ------------------===//
//
// quantize(): the zero-initialized parts of a matrix, then the quantizer of
// its element format. The scale-only formats (small floats, nf4, ternary)
// are here; integers, codebooks and bcq are in QuantizeInteger.cpp,
// QuantizeCodebook.cpp and QuantizeBinaryCoded.cpp.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace qmlir::core;
using namespace qmlir::core::detail;

namespace {

//===--- Small floats, nf4, ternary ---------------------------------------===//

float absMax(const float *values, int64_t count) {
  float amax = 0.0f;
  for (int64_t i = 0; i < count; ++i)
    amax = std::max(amax, std::fabs(values[i]));
  return amax;
}

void quantizeSmallFloats(QuantizedMatrix &m, const float *weights) {
  const Scheme &s = m.scheme;
  const int64_t codeWords = s.codeWordsPerRow(m.cols);
  const float maxValue = maxFinite(s.floatFormat);
  forEachUnit(m, weights, [&](const Unit &unit) {
    float scale =
        roundTo(s.scaleType, absMax(unit.values, unit.count) / maxValue);
    m.scales[unit.index] = scale;
    if (scale == 0.0f)
      return; // codes 0 encode +0
    for (int64_t i = 0; i < unit.count; ++i) {
      auto [r, c] = position(m, unit, i);
      float scaled = unit.values[i] / scale;
      insertCode(&m.codes[r * codeWords], c, s.bits,
                 encodeFloat(s.floatFormat, scaled));
    }
  });
}

void quantizeNormalFloat(QuantizedMatrix &m, const float *weights) {
  const Scheme &s = m.scheme;
  const int64_t codeWords = s.codeWordsPerRow(m.cols);
  const NearestTable nearest(normalFloat4Table(), 16);
  forEachUnit(m, weights, [&](const Unit &unit) {
    float scale = roundTo(s.scaleType, absMax(unit.values, unit.count));
    m.scales[unit.index] = scale;
    for (int64_t i = 0; i < unit.count; ++i) {
      auto [r, c] = position(m, unit, i);
      uint32_t code = 7; // the value 0
      if (scale != 0.0f) {
        float scaled = unit.values[i] / scale;
        code = uint32_t(nearest(scaled));
      }
      insertCode(&m.codes[r * codeWords], c, 4, code);
    }
  });
}

void quantizeTernary(QuantizedMatrix &m, const float *weights) {
  const Scheme &s = m.scheme;
  const int64_t codeWords = s.codeWordsPerRow(m.cols);
  forEachUnit(m, weights, [&](const Unit &unit) {
    double sum = 0;
    for (int64_t i = 0; i < unit.count; ++i)
      sum += std::fabs(double(unit.values[i]));
    float scale = roundTo(s.scaleType, float(sum / double(unit.count)));
    m.scales[unit.index] = scale;
    for (int64_t i = 0; i < unit.count; ++i) {
      auto [r, c] = position(m, unit, i);
      int32_t trit = 0;
      if (scale != 0.0f) {
        float scaled = unit.values[i] / scale;
        trit = int32_t(std::clamp(std::nearbyint(scaled), -1.0f, 1.0f));
      }
      insertTrit(&m.codes[r * codeWords], c, trit);
    }
  });
}

} // namespace

QuantizedMatrix qmlir::core::quantize(const float *weights, int64_t rows,
                                      int64_t cols, const Scheme &scheme,
                                      const QuantizeOptions &options) {
  assert(scheme.validateShape(rows, cols).empty() && "invalid scheme or shape");
  QuantizedMatrix matrix;
  matrix.scheme = scheme;
  matrix.rows = rows;
  matrix.cols = cols;
  // Zero-initialized storage in the parts' shapes: this also keeps padding
  // bits zero and gives all-zero integer groups their (zero) codes.
  for (const Part &part : scheme.parts(rows, cols)) {
    size_t size = size_t(part.rows * part.cols);
    if (part.name == "codes")
      matrix.codes.assign(size, 0);
    else if (part.name == "scales")
      matrix.scales.assign(size, 0.0f);
    else if (part.name == "zeros" && scheme.zero == ZeroKind::Int)
      matrix.zeroCodes.assign(size, 0);
    else if (part.name == "zeros")
      matrix.zeroValues.assign(size, 0.0f);
    else if (part.name == "codebook")
      matrix.codebook.assign(size, 0.0f);
    else if (part.name == "g_idx")
      matrix.groupIndex.assign(size, 0);
  }

  switch (scheme.kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt:
    quantizeIntegers(matrix, weights, options);
    break;
  case ElementKind::Float:
    quantizeSmallFloats(matrix, weights);
    break;
  case ElementKind::NormalFloat:
    quantizeNormalFloat(matrix, weights);
    break;
  case ElementKind::Codebook:
    quantizeCodebook(matrix, weights);
    break;
  case ElementKind::BinaryCoded:
    quantizeBinaryCoded(matrix, weights, options);
    break;
  case ElementKind::Ternary:
    quantizeTernary(matrix, weights);
    break;
  }
  return matrix;
}
