//===- Reference.cpp - Reference numerics (MLIR-free) ---------------------===//
//
// Dequantization (QuantizedMatrix::dequantized, dequantize), the parts'
// bytes, the reference matmul and the numerics-contract checker. The f32
// expression of every dequantization formula is part of the contract that
// compiled kernels reproduce bit for bit, so each is written as one
// operation at a time, in the documented order, with nothing a compiler
// could contract into an FMA. Quantization is in Quantize*.cpp.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>

using namespace qmlir::core;
using namespace qmlir::core::detail;

//===----------------------------------------------------------------------===//
// Dequantization formulas
//===----------------------------------------------------------------------===//

namespace {

/// Integer formats: float(q - z) * s for integer zeros, (float(q) - z) * s
/// for float zeros.
inline float intWeight(int32_t q, float s, ZeroKind zero, int32_t zInt,
                       float zFloat) {
  switch (zero) {
  case ZeroKind::None:
    return float(q) * s;
  case ZeroKind::Int:
    return float(q - zInt) * s;
  case ZeroKind::Float: {
    float centered = float(q) - zFloat;
    return centered * s;
  }
  }
  return 0.0f;
}

/// bcq: acc = 0; acc = acc + (b_i ? a_i : -a_i) in plane order; + z.
inline float bcqWeight(uint32_t pattern, const float *alphas, unsigned planes,
                       bool hasZero, float z) {
  float acc = 0.0f;
  for (unsigned i = 0; i < planes; ++i) {
    float term = ((pattern >> i) & 1) ? alphas[i] : -alphas[i];
    acc = acc + term;
  }
  if (hasZero)
    acc = acc + z;
  return acc;
}

/// Index of group g of row r in the scales and float zeros (per-tensor: the
/// single value; bcq: times the planes).
int64_t unitIndex(const Scheme &scheme, int64_t groups, int64_t r, int64_t g) {
  return scheme.isPerTensor() ? 0 : r * groups + g;
}

/// The integer zero point of group g of row r (0 without integer zeros).
int32_t intZero(const QuantizedMatrix &m, int64_t r, int64_t g,
                int64_t zeroBit) {
  const Scheme &scheme = m.scheme;
  if (scheme.zero != ZeroKind::Int)
    return 0;
  const unsigned width = scheme.bitsOfGroup(g);
  const uint32_t *row = scheme.isPerTensor()
                            ? m.zeroCodes.data()
                            : &m.zeroCodes[r * scheme.zeroWordsPerRow(m.cols)];
  return codeValue(extractBits(row, scheme.isPerTensor() ? 0 : zeroBit, width),
                   width, scheme.isSigned());
}

/// The planes of bcq column c as a pattern (bit i = plane i).
uint32_t bcqPattern(const uint32_t *row, int64_t c, unsigned planes,
                    int64_t planeWords) {
  uint32_t pattern = 0;
  for (unsigned i = 0; i < planes; ++i)
    pattern |= ((row[i * planeWords + c / 32] >> (c % 32)) & 1) << i;
  return pattern;
}

/// Dequantizes rows with the per-matrix work (offsets, decode tables) done
/// once. Every value equals QuantizedMatrix::dequantized bit for bit: both
/// use the formulas above.
class RowDequantizer {
public:
  explicit RowDequantizer(const QuantizedMatrix &matrix)
      : m(matrix), s(matrix.scheme), offsets(matrix.scheme, matrix.cols) {
    groups = s.groupsPerRow(m.cols);
    groupLength = s.groupSizeFor(m.cols);
    codeWords = s.codeWordsPerRow(m.cols);
    if (s.kind == ElementKind::Float) {
      table.resize(size_t(1) << s.bits);
      for (uint32_t code = 0; code < table.size(); ++code)
        table[code] = decodeFloat(s.floatFormat, code);
    }
    scaleOfGroup.resize(groups);
    intZeroOfGroup.resize(groups);
    floatZeroOfGroup.resize(groups);
  }

  void row(int64_t r, float *out) {
    const uint32_t *codes = &m.codes[r * codeWords];
    for (int64_t g = 0; g < groups; ++g) {
      int64_t unit = unitIndex(s, groups, r, g);
      if (s.hasScales() && s.kind != ElementKind::BinaryCoded)
        scaleOfGroup[g] = m.scales[unit];
      if (s.zero == ZeroKind::Int)
        intZeroOfGroup[g] = intZero(m, r, g, offsets.zero[g]);
      if (s.zero == ZeroKind::Float)
        floatZeroOfGroup[g] = m.zeroValues[unit];
    }
    switch (s.kind) {
    case ElementKind::SignedInt:
    case ElementKind::UnsignedInt:
      if (s.actOrder) {
        for (int64_t c = 0; c < m.cols; ++c) {
          int64_t g = m.groupIndex[c];
          int32_t q = codeValue(extractBits(codes, c * s.bits, s.bits), s.bits,
                                s.isSigned());
          out[c] = intWeight(q, scaleOfGroup[g], s.zero, intZeroOfGroup[g],
                             floatZeroOfGroup[g]);
        }
        return;
      }
      for (int64_t g = 0; g < groups; ++g) {
        const unsigned width = s.bitsOfGroup(g);
        int64_t bit = offsets.code[g];
        for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c) {
          int32_t q =
              codeValue(extractBits(codes, bit, width), width, s.isSigned());
          bit += width;
          out[c] = intWeight(q, scaleOfGroup[g], s.zero, intZeroOfGroup[g],
                             floatZeroOfGroup[g]);
        }
      }
      return;
    case ElementKind::Float:
    case ElementKind::NormalFloat: {
      const float *values =
          s.kind == ElementKind::Float ? table.data() : normalFloat4Table();
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = scaleOfGroup[g];
        for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c)
          out[c] = values[extractCode(codes, c, s.bits)] * scale;
      }
      return;
    }
    case ElementKind::Codebook: {
      const int64_t entries = int64_t(1) << s.bits;
      for (int64_t g = 0; g < groups; ++g) {
        const float *book = s.codebook == CodebookScope::Tensor
                                ? m.codebook.data()
                                : &m.codebook[(r * groups + g) * entries];
        for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c)
          out[c] = book[extractCode(codes, c, s.bits)];
      }
      return;
    }
    case ElementKind::BinaryCoded: {
      const int64_t planeWords = (m.cols + 31) / 32;
      const bool hasZero = s.zero == ZeroKind::Float;
      const uint32_t patterns = uint32_t(1) << s.bits;
      // Each pattern's value once per group where that is cheaper: the same
      // formula, so the same bits.
      const bool tabulate = int64_t(patterns) <= groupLength;
      table.resize(patterns);
      for (int64_t g = 0; g < groups; ++g) {
        const float *alphas =
            &m.scales[unitIndex(s, groups, r, g) * int64_t(s.bits)];
        const float zero = floatZeroOfGroup[g];
        if (tabulate) {
          for (uint32_t p = 0; p < patterns; ++p)
            table[p] = bcqWeight(p, alphas, s.bits, hasZero, zero);
          for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c)
            out[c] = table[bcqPattern(codes, c, s.bits, planeWords)];
        } else {
          for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c)
            out[c] = bcqWeight(bcqPattern(codes, c, s.bits, planeWords), alphas,
                               s.bits, hasZero, zero);
        }
      }
      return;
    }
    case ElementKind::Ternary:
      for (int64_t g = 0; g < groups; ++g) {
        const float scale = scaleOfGroup[g];
        for (int64_t c = g * groupLength; c < (g + 1) * groupLength; ++c)
          out[c] = float(extractTrit(codes, c)) * scale;
      }
      return;
    }
  }

private:
  const QuantizedMatrix &m;
  const Scheme &s;
  GroupOffsets offsets;
  int64_t groups = 0, groupLength = 0, codeWords = 0;
  std::vector<float> table;
  std::vector<float> scaleOfGroup, floatZeroOfGroup;
  std::vector<int32_t> intZeroOfGroup;
};

} // namespace

//===----------------------------------------------------------------------===//
// QuantizedMatrix
//===----------------------------------------------------------------------===//

int64_t QuantizedMatrix::groupOf(int64_t c) const {
  assert(c >= 0 && c < cols);
  if (scheme.actOrder)
    return groupIndex[c];
  return c / scheme.groupSizeFor(cols);
}

float QuantizedMatrix::dequantized(int64_t r, int64_t c) const {
  assert(r >= 0 && r < rows && c >= 0 && c < cols);
  const int64_t g = groupOf(c);
  const int64_t groups = scheme.groupsPerRow(cols);
  const int64_t unit = unitIndex(scheme, groups, r, g);
  const uint32_t *row = &codes[r * scheme.codeWordsPerRow(cols)];
  const float zFloat = scheme.zero == ZeroKind::Float ? zeroValues[unit] : 0;
  switch (scheme.kind) {
  case ElementKind::SignedInt:
  case ElementKind::UnsignedInt: {
    const unsigned width = scheme.bitsOfGroup(g);
    int32_t q =
        codeValue(extractBits(row, scheme.codeBitOffset(c, cols), width), width,
                  scheme.isSigned());
    int64_t zeroBit = 0;
    for (int64_t h = 0; h < g; ++h)
      zeroBit += scheme.bitsOfGroup(h);
    return intWeight(q, scales[unit], scheme.zero,
                     intZero(*this, r, g, zeroBit), zFloat);
  }
  case ElementKind::Float:
    return decodeFloat(scheme.floatFormat, extractCode(row, c, scheme.bits)) *
           scales[unit];
  case ElementKind::NormalFloat:
    return normalFloat4Table()[extractCode(row, c, scheme.bits)] * scales[unit];
  case ElementKind::Codebook: {
    const int64_t entries = int64_t(1) << scheme.bits;
    uint32_t q = extractCode(row, c, scheme.bits);
    return scheme.codebook == CodebookScope::Tensor
               ? codebook[q]
               : codebook[(r * groups + g) * entries + q];
  }
  case ElementKind::BinaryCoded:
    return bcqWeight(bcqPattern(row, c, scheme.bits, (cols + 31) / 32),
                     &scales[unit * int64_t(scheme.bits)], scheme.bits,
                     scheme.zero == ZeroKind::Float, zFloat);
  case ElementKind::Ternary:
    return float(extractTrit(row, c)) * scales[unit];
  }
  return 0.0f;
}

namespace {
/// Appends `value` encoded in `type` as little-endian bytes.
void appendEncoded(std::vector<uint8_t> &out, ScaleType type, float value) {
  uint32_t bits = scaleBits(type, value);
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

template <typename Word>
std::vector<uint8_t> wordBytes(const std::vector<Word> &words) {
  static_assert(sizeof(Word) == 4);
  std::vector<uint8_t> bytes;
  bytes.reserve(words.size() * 4);
  for (Word word : words)
    for (unsigned i = 0; i < 4; ++i)
      bytes.push_back(uint8_t(uint32_t(word) >> (8 * i)));
  return bytes;
}
} // namespace

std::vector<std::vector<uint8_t>>
QuantizedMatrix::partBytes(Layout layout) const {
  std::vector<std::vector<uint8_t>> result;
  for (const Part &part : scheme.parts(rows, cols)) {
    if (part.name == "codes")
      result.push_back(wordBytes(layout == Layout::Canonical
                                     ? codes
                                     : arrangeCodes(layout, scheme, rows,
                                                    cols, codes)));
    else if (part.name == "scales")
      result.push_back(encodeAll(scales, scheme.scaleType));
    else if (part.name == "zeros")
      result.push_back(scheme.zero == ZeroKind::Int
                           ? wordBytes(zeroCodes)
                           : encodeAll(zeroValues, scheme.scaleType));
    else if (part.name == "codebook")
      result.push_back(encodeAll(codebook, scheme.scaleType));
    else if (part.name == "g_idx")
      result.push_back(wordBytes(groupIndex));
    else
      assert(false && "unknown part");
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Dequantization
//===----------------------------------------------------------------------===//

void qmlir::core::detail::forEachDequantizedRow(
    const QuantizedMatrix &matrix,
    const std::function<void(int64_t, const float *)> &fn) {
  RowDequantizer dequantizer(matrix);
  std::vector<float> row(matrix.cols);
  for (int64_t r = 0; r < matrix.rows; ++r) {
    dequantizer.row(r, row.data());
    fn(r, row.data());
  }
}

std::vector<float> qmlir::core::dequantize(const QuantizedMatrix &matrix) {
  std::vector<float> result(matrix.rows * matrix.cols);
  RowDequantizer dequantizer(matrix);
  for (int64_t r = 0; r < matrix.rows; ++r)
    dequantizer.row(r, &result[r * matrix.cols]);
  return result;
}

//===----------------------------------------------------------------------===//
// Reference matmul
//===----------------------------------------------------------------------===//

double qmlir::core::detail::dotRow(const double *x, const double *w, int64_t k,
                                   double *absSum) {
  // Eight independent partial sums (lane t takes l = t mod 8) let the
  // compiler vectorize without reassociating anything itself; the lanes are
  // combined in a fixed order, so the result does not depend on the target.
  constexpr int kLanes = 8;
  double sum[kLanes] = {}, abs[kLanes] = {};
  int64_t l = 0;
  if (absSum) {
    for (; l + kLanes <= k; l += kLanes)
      for (int t = 0; t < kLanes; ++t) {
        double product = x[l + t] * w[l + t];
        sum[t] += product;
        abs[t] += std::fabs(product);
      }
  } else {
    for (; l + kLanes <= k; l += kLanes)
      for (int t = 0; t < kLanes; ++t) {
        double product = x[l + t] * w[l + t];
        sum[t] += product;
      }
  }
  for (int t = 0; l < k; ++l, ++t) {
    double product = x[l] * w[l];
    sum[t] += product;
    abs[t] += std::fabs(product);
  }
  auto combine = [](const double *v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  };
  if (absSum)
    *absSum = combine(abs);
  return combine(sum);
}

std::vector<double> qmlir::core::referenceMatmul(const std::vector<double> &x,
                                                 const std::vector<double> &w,
                                                 int64_t m, int64_t n,
                                                 int64_t k,
                                                 Accumulation accumulation) {
  assert(int64_t(x.size()) == m * k && int64_t(w.size()) == n * k);
  std::vector<double> out(m * n);
  for (int64_t j = 0; j < n; ++j) {
    const double *wRow = &w[j * k];
    for (int64_t i = 0; i < m; ++i) {
      const double *xRow = &x[i * k];
      if (accumulation == Accumulation::F64) {
        out[i * n + j] = detail::dotRow(xRow, wRow, k, nullptr);
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
