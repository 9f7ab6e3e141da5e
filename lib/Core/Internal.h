//===- Internal.h - Core library internals ----------------------*- C++ -*-===//
//
// Helpers that more than one file of lib/Core uses. Private to the library:
// not installed, not part of its API.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CORE_INTERNAL_H
#define QMLIR_LIB_CORE_INTERNAL_H

#include "qmlir/Core/Reference.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace qmlir::core::detail {

//===--- Schemes (Scheme.cpp) ---------------------------------------------===//

/// "<what> must be between 1 and 8, got <got>" (kMinIntBits, kMaxIntBits).
std::string rangeMessage(const std::string &what, int64_t got);

//===--- Storage layout ---------------------------------------------------===//

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

//===--- Quantization (Quantize*.cpp) -------------------------------------===//

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

/// The quantizers of QuantizeInteger.cpp, QuantizeCodebook.cpp and
/// QuantizeBinaryCoded.cpp: fill the zero-initialized parts of `m` from
/// `weights` ([m.rows, m.cols], row-major).
void quantizeIntegers(QuantizedMatrix &m, const float *weights,
                      const QuantizeOptions &options);
void quantizeCodebook(QuantizedMatrix &m, const float *weights);
void quantizeBinaryCoded(QuantizedMatrix &m, const float *weights,
                         const QuantizeOptions &options);

//===--- Dequantization and the reference (Reference.cpp) -----------------===//

/// Calls `fn(r, row)` for every row r in order with row r of
/// dequantize(matrix). Used by makeMatmulData (Problem.cpp).
void forEachDequantizedRow(
    const QuantizedMatrix &matrix,
    const std::function<void(int64_t, const float *)> &fn);

/// Dot product of two rows of length k in the fixed order referenceMatmul's
/// F64 mode uses; with `absSum`, also sum |x w| in the same pass.
double dotRow(const double *x, const double *w, int64_t k, double *absSum);

} // namespace qmlir::core::detail

#endif // QMLIR_LIB_CORE_INTERNAL_H
