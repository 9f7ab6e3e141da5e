//===- Reference.cpp - Reference numerics (MLIR-free) ---------------------===//
//
// Quantization, dequantization, the reference matmul and the numerics-contract
// checker. The f32 expressions of the integer quantizer and of every
// dequantization formula are the contract that compiled kernels reproduce bit
// for bit, so each is written as one operation at a time, in the documented
// order, with nothing a compiler could contract into an FMA.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Reference.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>

using namespace qmlir::core;

namespace qmlir::core::detail {
// Shared with Problem.cpp (declared there): calls `fn(r, row)` for every row
// r in order with row r of dequantize(matrix).
void forEachDequantizedRow(
    const QuantizedMatrix &matrix,
    const std::function<void(int64_t, const float *)> &fn);
// Dot product of two rows of length k in the fixed order referenceMatmul's
// F64 mode uses; with `absSum`, also sum |x w| in the same pass.
double dotRow(const double *x, const double *w, int64_t k, double *absSum);
} // namespace qmlir::core::detail

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

/// Bit offsets of each group's first code (mixed widths: prefix sums) and of
/// each group's integer zero point within a row.
struct GroupOffsets {
  std::vector<int64_t> code, zero;
  GroupOffsets(const Scheme &scheme, int64_t cols) {
    const int64_t groups = scheme.groupsPerRow(cols);
    const int64_t length = scheme.groupSizeFor(cols);
    code.resize(groups);
    zero.resize(groups);
    int64_t codeBit = 0, zeroBit = 0;
    for (int64_t g = 0; g < groups; ++g) {
      code[g] = codeBit;
      zero[g] = zeroBit;
      unsigned width = scheme.isInteger() ? scheme.bitsOfGroup(g) : scheme.bits;
      codeBit += length * width;
      zeroBit += width;
    }
  }
};

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

std::vector<std::vector<uint8_t>> QuantizedMatrix::partBytes() const {
  std::vector<std::vector<uint8_t>> result;
  for (const Part &part : scheme.parts(rows, cols)) {
    if (part.name == "codes")
      result.push_back(wordBytes(codes));
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
// Quantization
//===----------------------------------------------------------------------===//

namespace {

/// Finds the entry of an ascending table nearest to a value; of two equally
/// near entries the lower one, of equal entries the first. Exact: a value
/// goes above the midpoint of two adjacent distinct entries (exact in double)
/// only when it is strictly nearer the upper one.
class NearestTable {
public:
  NearestTable() = default;
  NearestTable(const float *table, int64_t size) { reset(table, size); }

  void reset(const float *table, int64_t size) {
    midpoints.clear();
    firsts.assign(1, 0);
    for (int64_t i = 1; i < size; ++i)
      if (table[i] != table[i - 1]) {
        midpoints.push_back((double(table[i - 1]) + double(table[i])) / 2);
        firsts.push_back(i);
      }
  }

  /// Index of the entry nearest to x (0 for NaN).
  int64_t operator()(float x) const { return view()(x); }

  /// The same lookup over raw pointers, for hot loops that also store
  /// bytes (which could alias the vectors' internals).
  struct View {
    const double *midpoints;
    size_t size;
    const int64_t *firsts;
    int64_t operator()(float x) const {
      const double value = x;
      size_t count = 0;
      if (size <= 16) {
        for (size_t j = 0; j < size; ++j)
          count += value > midpoints[j] ? 1 : 0;
      } else {
        count = size_t(std::lower_bound(midpoints, midpoints + size, value) -
                       midpoints);
      }
      return firsts[count];
    }
  };
  View view() const {
    return {midpoints.data(), midpoints.size(), firsts.data()};
  }

  /// Distinct entries: their first indices, and the midpoints between them.
  const std::vector<int64_t> &distinctFirsts() const { return firsts; }
  const std::vector<double> &distinctMidpoints() const { return midpoints; }

private:
  std::vector<double> midpoints;
  std::vector<int64_t> firsts;
};

/// One unit of quantization: the values sharing parameters (a row's group,
/// or the whole matrix per-tensor), contiguous in `values`, and where each
/// one lives.
struct Unit {
  const float *values;
  int64_t count;
  int64_t row;      // the row of a group unit; per-tensor: -1
  int64_t firstCol; // the column of values[0] in a group unit
  int64_t group;    // the group index (0 per-tensor)
  int64_t index;    // unitIndex: where its scale (and zero) goes
};

/// Calls fn(unit) for every unit of a scheme without act-order.
template <typename Fn>
void forEachUnit(const QuantizedMatrix &m, const float *weights, Fn fn) {
  const Scheme &s = m.scheme;
  if (s.isPerTensor()) {
    fn(Unit{weights, m.rows * m.cols, -1, 0, 0, 0});
    return;
  }
  const int64_t groups = s.groupsPerRow(m.cols);
  const int64_t length = s.groupSizeFor(m.cols);
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t g = 0; g < groups; ++g)
      fn(Unit{weights + r * m.cols + g * length, length, r, g * length, g,
              r * groups + g});
}

/// Row and column of element i of a unit.
inline std::pair<int64_t, int64_t> position(const QuantizedMatrix &m,
                                            const Unit &unit, int64_t i) {
  if (unit.row < 0)
    return {i / m.cols, i % m.cols};
  return {unit.row, unit.firstCol + i};
}

float absMax(const float *values, int64_t count) {
  float amax = 0.0f;
  for (int64_t i = 0; i < count; ++i)
    amax = std::max(amax, std::fabs(values[i]));
  return amax;
}

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

//===--- Integers ---------------------------------------------------------===//

void quantizeIntegers(QuantizedMatrix &m, const float *weights,
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

//===--- Small floats, nf4, ternary ---------------------------------------===//

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

//===--- Codebooks (k-means) ----------------------------------------------===//

constexpr int kLloydIterations = 10;

/// Sorts finite floats ascending (-0 before +0): an LSD radix sort on their
/// order-preserving bit patterns for long inputs, std::sort for short ones.
void sortFloats(std::vector<float> &values) {
  const size_t n = values.size();
  if (n < 1024) {
    std::sort(values.begin(), values.end());
    return;
  }
  std::vector<uint32_t> keys(n), scratch(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits = std::bit_cast<uint32_t>(values[i]);
    keys[i] = bits ^ ((bits >> 31) ? 0xFFFFFFFFu : 0x80000000u);
  }
  constexpr unsigned kDigitBits = 11;
  for (unsigned shift = 0; shift < 32; shift += kDigitBits) {
    size_t offsets[size_t(1) << kDigitBits] = {};
    const uint32_t mask = (uint32_t(1) << kDigitBits) - 1;
    for (uint32_t key : keys)
      ++offsets[(key >> shift) & mask];
    size_t total = 0;
    for (size_t &offset : offsets) {
      size_t count = offset;
      offset = total;
      total += count;
    }
    for (uint32_t key : keys)
      scratch[offsets[(key >> shift) & mask]++] = key;
    keys.swap(scratch);
  }
  for (size_t i = 0; i < n; ++i) {
    uint32_t key = keys[i];
    values[i] =
        std::bit_cast<float>(key ^ ((key >> 31) ? 0x80000000u : 0xFFFFFFFFu));
  }
}

/// Fills `book` (2^bits ascending entries of `type`) by k-means over the
/// values and indices[i] with the entry nearest to values[i].
void quantizeCodebookUnit(const float *values, int64_t count, unsigned bits,
                          ScaleType type, float *book, uint8_t *indices) {
  const int64_t entries = int64_t(1) << bits;
  std::vector<float> sorted(values, values + count);
  sortFloats(sorted);
  std::vector<double> prefix(count + 1, 0.0);
  for (int64_t i = 0; i < count; ++i)
    prefix[i + 1] = prefix[i] + double(sorted[i]);

  // Start at evenly spaced quantiles: entry j at quantile (j + 1/2) / 2^B.
  std::vector<float> centroids(entries), next(entries);
  for (int64_t j = 0; j < entries; ++j)
    centroids[j] =
        sorted[std::min(count - 1, (2 * j + 1) * count / (2 * entries))];

  NearestTable nearest;
  for (int iteration = 0; iteration < kLloydIterations; ++iteration) {
    // Each distinct centroid's cluster is a run of the sorted values: those
    // up to its upper midpoint (inclusive: ties go to the lower entry).
    // Later copies of a centroid get no values and keep their place.
    nearest.reset(centroids.data(), entries);
    const std::vector<int64_t> &firsts = nearest.distinctFirsts();
    const std::vector<double> &midpoints = nearest.distinctMidpoints();
    next = centroids;
    int64_t start = 0;
    for (size_t d = 0; d < firsts.size(); ++d) {
      int64_t end =
          d < midpoints.size()
              ? std::upper_bound(
                    sorted.begin() + start, sorted.end(), midpoints[d],
                    [](double bound, float v) { return bound < double(v); }) -
                    sorted.begin()
              : count;
      if (end > start)
        next[firsts[d]] =
            float((prefix[end] - prefix[start]) / double(end - start));
      start = end;
    }
    // Empty clusters may leave the centroids out of order.
    if (!std::is_sorted(next.begin(), next.end()))
      std::sort(next.begin(), next.end());
    if (next == centroids)
      break;
    centroids.swap(next);
  }

  // Rounding is monotone: the entries stay in order.
  for (float &centroid : centroids)
    centroid = roundTo(type, centroid);
  std::copy(centroids.begin(), centroids.end(), book);
  nearest.reset(book, entries);
  const NearestTable::View find = nearest.view();
  for (int64_t i = 0; i < count; ++i)
    indices[i] = uint8_t(find(values[i]));
}

void quantizeCodebook(QuantizedMatrix &m, const float *weights) {
  const Scheme &s = m.scheme;
  const int64_t codeWords = s.codeWordsPerRow(m.cols);
  const int64_t entries = int64_t(1) << s.bits;
  std::vector<uint8_t> indices;
  forEachUnit(m, weights, [&](const Unit &unit) {
    indices.resize(unit.count);
    float *book = s.codebook == CodebookScope::Tensor
                      ? m.codebook.data()
                      : &m.codebook[unit.index * entries];
    quantizeCodebookUnit(unit.values, unit.count, s.bits, s.scaleType, book,
                         indices.data());
    for (int64_t i = 0; i < unit.count; ++i) {
      auto [r, c] = position(m, unit, i);
      insertCode(&m.codes[r * codeWords], c, s.bits, indices[i]);
    }
  });
}

//===--- Binary-coded quantization ----------------------------------------===//

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

void quantizeBinaryCoded(QuantizedMatrix &m, const float *weights,
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
