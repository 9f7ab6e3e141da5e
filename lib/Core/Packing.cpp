//===- Packing.cpp - Packed-code storage (MLIR-free) ----------------------===//
//
// Bit fields of rows of 32-bit words (extractBits, insertBits), the value
// of a signed or unsigned code, and base-3 trits (20 to a word). Standard
// library only.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Core/Format.h"

#include <cassert>

using namespace qmlir::core;

uint32_t qmlir::core::extractBits(const uint32_t *row, int64_t bitOffset,
                                  unsigned bits) {
  assert(bits >= 1 && bits <= 32 && bitOffset >= 0);
  uint64_t word = uint64_t(bitOffset) / 32;
  unsigned offset = unsigned(uint64_t(bitOffset) % 32);
  uint64_t value = row[word] >> offset;
  // Only touch the next word when the field straddles it: it may not exist.
  if (offset + bits > 32)
    value |= uint64_t(row[word + 1]) << (32 - offset);
  return uint32_t(value & ((uint64_t(1) << bits) - 1));
}

void qmlir::core::insertBits(uint32_t *row, int64_t bitOffset, unsigned bits,
                             uint32_t value) {
  assert(bits >= 1 && bits <= 32 && bitOffset >= 0);
  uint64_t mask = (uint64_t(1) << bits) - 1;
  uint64_t field = value & mask;
  uint64_t word = uint64_t(bitOffset) / 32;
  unsigned offset = unsigned(uint64_t(bitOffset) % 32);
  row[word] = uint32_t((row[word] & ~(mask << offset)) | (field << offset));
  if (offset + bits > 32) {
    unsigned shift = 32 - offset;
    row[word + 1] =
        uint32_t((row[word + 1] & ~(mask >> shift)) | (field >> shift));
  }
}

int32_t qmlir::core::codeValue(uint32_t code, unsigned bits, bool isSigned) {
  assert(bits >= 1 && bits <= 31);
  uint32_t raw = code & ((uint32_t(1) << bits) - 1);
  if (isSigned && (raw >> (bits - 1)) != 0)
    return int32_t(raw) - (int32_t(1) << bits);
  return int32_t(raw);
}

namespace {
constexpr uint32_t kPowersOf3[kTritsPerWord] = {
    1u,        3u,        9u,         27u,        81u,
    243u,      729u,      2187u,      6561u,      19683u,
    59049u,    177147u,   531441u,    1594323u,   4782969u,
    14348907u, 43046721u, 129140163u, 387420489u, 1162261467u};
static_assert(uint64_t(kPowersOf3[kTritsPerWord - 1]) * 3 <= UINT32_MAX + 1ull);
} // namespace

int32_t qmlir::core::extractTrit(const uint32_t *row, int64_t index) {
  assert(index >= 0);
  uint32_t word = row[index / kTritsPerWord];
  return int32_t(word / kPowersOf3[index % kTritsPerWord] % 3) - 1;
}

void qmlir::core::insertTrit(uint32_t *row, int64_t index, int32_t trit) {
  assert(index >= 0 && trit >= -1 && trit <= 1);
  uint32_t &word = row[index / kTritsPerWord];
  uint32_t power = kPowersOf3[index % kTritsPerWord];
  uint32_t old = word / power % 3;
  word = word - old * power + uint32_t(trit + 1) * power;
}
