//===- QuantizeCodebook.cpp - Codebook quantization (MLIR-free) -----------===//
//
// lutB: a codebook of 2^B entries per tensor or per (row, group), fitted by
// k-means (Lloyd's iterations from evenly spaced quantiles), and each
// weight's nearest entry.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <bit>

using namespace qmlir::core;
using namespace qmlir::core::detail;

namespace {

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

} // namespace

void qmlir::core::detail::quantizeCodebook(QuantizedMatrix &m,
                                           const float *weights) {
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
