//===- CoreTestSupport.h - Helpers shared by the core unit tests -*- C++ -*-===//

#ifndef QMLIR_TEST_UNIT_CORETESTSUPPORT_H
#define QMLIR_TEST_UNIT_CORETESTSUPPORT_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Problem.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace qmlir::core::test_support {

/// `count` standard-normal floats from `seed`.
inline std::vector<float> randomNormal(int64_t count, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(count);
  for (float &value : values)
    value = normal(rng);
  return values;
}

/// An integer scheme of one width.
inline Scheme intScheme(bool isSigned, unsigned bits, int64_t group,
                        ScaleType scale = ScaleType::F16,
                        ZeroKind zero = ZeroKind::None) {
  Scheme s;
  s.kind = isSigned ? ElementKind::SignedInt : ElementKind::UnsignedInt;
  s.bits = bits;
  s.groupSize = group;
  s.scaleType = scale;
  s.zero = zero;
  return s;
}

/// A problem with the scheme given as text (a parse failure fails the test).
inline MatmulProblem makeProblem(int64_t m, int64_t n, int64_t k,
                                 const char *scheme,
                                 FloatType act = FloatType::F16,
                                 uint64_t seed = 1) {
  MatmulProblem problem;
  problem.m = m;
  problem.n = n;
  problem.k = k;
  std::optional<Scheme> parsed = Scheme::parse(scheme);
  EXPECT_TRUE(parsed) << scheme;
  if (parsed)
    problem.scheme = *parsed;
  problem.activationType = act;
  problem.seed = seed;
  return problem;
}

} // namespace qmlir::core::test_support

#endif // QMLIR_TEST_UNIT_CORETESTSUPPORT_H
