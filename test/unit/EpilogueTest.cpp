//===- EpilogueTest.cpp - Fused epilogues in the reference numerics -------===//
//
// Bias, residual and SwiGLU problems: the fp64 reference against an
// independent computation, the checker's swiglu bound on hand-worked values
// and against f32 evaluation, validation and planted faults.
//
//===----------------------------------------------------------------------===//

#include "CoreTestSupport.h"

#include "qmlir/Core/Problem.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace qmlir::core;
using qmlir::core::test_support::makeProblem;

namespace {


std::vector<double> widen(const std::vector<uint16_t> &bits, FloatType type) {
  std::vector<double> values;
  for (uint16_t b : bits)
    values.push_back(activationValue(b, type));
  return values;
}

std::vector<double> dequantized(const QuantizedMatrix &m) {
  std::vector<float> values = dequantize(m);
  return std::vector<double>(values.begin(), values.end());
}

/// What a kernel computes, independently of makeMatmulData: f32
/// accumulation in k order, the epilogue in f32, one rounding to T.
std::vector<double> kernelOutput(const MatmulProblem &p, const MatmulData &d) {
  std::vector<double> x = widen(d.activations, p.activationType);
  std::vector<double> g = referenceMatmul(x, dequantized(d.weights), p.m, p.n,
                                          p.k, Accumulation::F32);
  std::vector<double> u;
  if (p.op == OpKind::Swiglu)
    u = referenceMatmul(x, dequantized(d.up), p.m, p.n, p.k,
                        Accumulation::F32);
  std::vector<double> out(g.size());
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      const size_t index = size_t(i * p.n + j);
      float value = float(g[index]);
      if (p.op == OpKind::Swiglu) {
        float silu = value / (std::exp(-value) + 1.0f);
        value = silu * float(u[index]);
      }
      if (p.bias)
        value += float(activationValue(d.bias[j], p.activationType));
      if (p.residual)
        value += float(activationValue(d.residual[index], p.activationType));
      out[index] = roundTo(p.activationType, value);
    }
  return out;
}

CheckResult check(const MatmulProblem &p, const MatmulData &d,
                  const std::vector<double> &out) {
  return checkOutput(out, d.reference, d.absProducts, p.m, p.n, p.k,
                     p.activationType);
}

} // namespace

TEST(SiluTest, HandWorkedValues) {
  EXPECT_EQ(silu(0.0), 0.0);
  EXPECT_DOUBLE_EQ(silu(1.0), 0.7310585786300049);
  EXPECT_DOUBLE_EQ(silu(-1.0), -0.2689414213699951);
  EXPECT_DOUBLE_EQ(silu(1000.0), 1000.0);
  // exp(1000) overflows: silu is -0, not NaN.
  EXPECT_EQ(silu(-1000.0), 0.0);
}

TEST(SwigluMagnitudeTest, HandWorkedValue) {
  // g = 2, u = -3, absGate = 10, absUp = 20, K = 64: c = 8 * 8 * 2^-24 =
  // 2^-18, silu(2) = 1.7615941559557646;
  // 1.1 * 3 * 10 + 1.7615.. * 20 + 1.1 * 2^-18 * 200 + 1.7615.. * 3.
  EXPECT_NEAR(swigluMagnitude(2.0, -3.0, 10.0, 20.0, 64), 73.51750482038102,
              1e-12);
  // With u = 0 the gate's error alone does not matter: what remains is
  // |silu(g)| absUp plus the second-order term.
  EXPECT_NEAR(swigluMagnitude(2.0, 0.0, 10.0, 20.0, 64),
              1.7615941559557646 * 20 + 1.1 * std::ldexp(1.0, -18) * 200,
              1e-12);
}

TEST(SwigluMagnitudeTest, BoundsF32EvaluationOfPerturbedSums) {
  // For sums off by up to c |x w| (what the checker assumes of an f32
  // accumulation), silu and the product evaluated in f32 stay within
  // c * swigluMagnitude of the exact value, including near silu's steepest
  // slope (g ~ 2.4) and on its flat negative side.
  const int64_t k = 16;
  const double c = 8.0 * std::sqrt(double(k)) * std::ldexp(1.0, -24);
  double worst = 0;
  for (double g = -40; g <= 40; g += 0.173)
    for (double u : {-7.5, -0.01, 0.3, 11.0})
      for (double absGate : {std::fabs(g), 4 * std::fabs(g) + 1})
        for (double absUp : {std::fabs(u), 4 * std::fabs(u) + 1})
          for (int sg : {-1, 1})
            for (int su : {-1, 1}) {
              float gf = float(g + sg * c * absGate);
              float uf = float(u + su * c * absUp);
              float silu32 = gf / (std::exp(-gf) + 1.0f);
              double out = double(silu32 * uf);
              double bound = c * swigluMagnitude(g, u, absGate, absUp, k);
              worst = std::max(worst, std::fabs(out - silu(g) * u) / bound);
            }
  EXPECT_LE(worst, 1.0);
  EXPECT_GT(worst, 0.05); // the bound is not vacuous
}

TEST(EpilogueDataTest, MatmulBiasResidualReference) {
  MatmulProblem p = makeProblem(
      5, 33, 256, "#qmlir.scheme<u4, group = 128, scale = f16, zero = int>",
      FloatType::BF16, 9);
  MatmulData plain = makeMatmulData(p);
  p.bias = p.residual = true;
  MatmulData d = makeMatmulData(p);
  // The epilogue's values come after the matmul's: those are unchanged.
  EXPECT_EQ(d.activations, plain.activations);
  EXPECT_EQ(d.weights.codes, plain.weights.codes);
  ASSERT_EQ(d.bias.size(), size_t(p.n));
  ASSERT_EQ(d.residual.size(), size_t(p.m * p.n));
  std::vector<double> bias = widen(d.bias, p.activationType);
  std::vector<double> residual = widen(d.residual, p.activationType);
  double biasMax = 0;
  for (double b : bias) {
    EXPECT_LE(std::fabs(b), 1.0);
    EXPECT_EQ(b, roundTo(FloatType::BF16, float(b))); // representable
    biasMax = std::max(biasMax, std::fabs(b));
  }
  EXPECT_GT(biasMax, 0.5);
  std::vector<double> x = widen(d.activations, p.activationType);
  std::vector<double> matmul = referenceMatmul(
      x, dequantized(d.weights), p.m, p.n, p.k, Accumulation::F64);
  for (int64_t i = 0; i < p.m; ++i)
    for (int64_t j = 0; j < p.n; ++j) {
      const size_t index = size_t(i * p.n + j);
      EXPECT_NEAR(d.reference[index], matmul[index] + bias[j] + residual[index],
                  1e-9 * (1 + std::fabs(matmul[index])));
      EXPECT_DOUBLE_EQ(d.absProducts[index], plain.absProducts[index] +
                                                 std::fabs(bias[j]) +
                                                 std::fabs(residual[index]));
    }
}

TEST(EpilogueDataTest, SwigluReference) {
  MatmulProblem p = makeProblem(
      3, 17, 4096, "#qmlir.scheme<i4, group = 128, scale = f16>");
  p.op = OpKind::Swiglu;
  p.upScheme = Scheme::parse("#qmlir.scheme<i8, group = channel, scale = f16>");
  p.residual = true;
  MatmulData d = makeMatmulData(p);
  EXPECT_EQ(d.up.scheme.str(), p.upScheme->str());
  std::vector<double> x = widen(d.activations, p.activationType);
  std::vector<double> g = referenceMatmul(x, dequantized(d.weights), p.m, p.n,
                                          p.k, Accumulation::F64);
  std::vector<double> u = referenceMatmul(x, dequantized(d.up), p.m, p.n, p.k,
                                          Accumulation::F64);
  for (size_t i = 0; i < g.size(); ++i) {
    const double expected = g[i] / (1 + std::exp(-g[i])) * u[i] +
                            activationValue(d.residual[i], p.activationType);
    EXPECT_NEAR(d.reference[i], expected, 1e-9 * (1 + std::fabs(expected)));
    EXPECT_GE(d.absProducts[i], 1.1 * std::fabs(u[i]) * std::fabs(g[i]));
  }
}

TEST(EpilogueDataTest, KernelArithmeticPassesAndPlantedFaultFails) {
  struct Case {
    const char *scheme;
    FloatType act;
    OpKind op;
    bool bias, residual;
    int64_t m, n, k;
  };
  const Case cases[] = {
      {"#qmlir.scheme<u4, group = 128, scale = f16, zero = int>",
       FloatType::F16, OpKind::Matmul, true, true, 7, 96, 384},
      {"#qmlir.scheme<i8, group = channel, scale = f16>", FloatType::BF16,
       OpKind::Matmul, true, false, 1, 17, 4096},
      {"#qmlir.scheme<nf4, group = 64, scale = f16>", FloatType::F16,
       OpKind::Swiglu, false, false, 1, 96, 384},
      {"#qmlir.scheme<mxfp4>", FloatType::BF16, OpKind::Swiglu, false, true, 33,
       96, 384},
  };
  for (const Case &c : cases)
    for (uint64_t seed : {1, 2, 3}) {
      MatmulProblem p = makeProblem(c.m, c.n, c.k, c.scheme, c.act, seed);
      p.op = c.op;
      p.bias = c.bias;
      p.residual = c.residual;
      SCOPED_TRACE(p.str());
      ASSERT_EQ(p.validate(), "");
      MatmulData d = makeMatmulData(p);
      CheckResult clean = check(p, d, kernelOutput(p, d));
      EXPECT_TRUE(clean.passed) << clean.summary();
      std::string fault = plantFault(d, p);
      EXPECT_NE(fault.find("flipped"), std::string::npos) << fault;
      CheckResult faulty = check(p, d, kernelOutput(p, d));
      EXPECT_FALSE(faulty.passed) << fault << ": " << faulty.summary();
    }
}

TEST(EpilogueProblemTest, ValidateNamesTheField) {
  MatmulProblem p = makeProblem(1, 8, 96, "#qmlir.scheme<i4, group = 32, scale = f16>");
  p.op = OpKind::Swiglu;
  EXPECT_EQ(p.validate(), "");
  p.bias = true;
  EXPECT_EQ(p.validate(), "swiglu takes no bias (only matmul does)");
  p.bias = false;
  p.upScheme = Scheme::parse("#qmlir.scheme<i4, group = 64, scale = f16>");
  EXPECT_EQ(p.validate(),
            "up weights: K = 96 is not divisible by the group size 64");
  p.op = OpKind::Matmul;
  EXPECT_EQ(p.validate(), "an up scheme is only for swiglu");
}

TEST(EpilogueProblemTest, OpNamesAndDescription) {
  EXPECT_STREQ(toString(OpKind::Matmul), "matmul");
  EXPECT_STREQ(toString(OpKind::Swiglu), "swiglu");
  EXPECT_EQ(parseOpKind("swiglu"), OpKind::Swiglu);
  EXPECT_EQ(parseOpKind("matmul"), OpKind::Matmul);
  EXPECT_EQ(parseOpKind("gelu"), std::nullopt);
  MatmulProblem p = makeProblem(1, 8, 96, "#qmlir.scheme<i4, group = 32, scale = f16>");
  const std::string plain = p.str();
  EXPECT_EQ(plain.find("swiglu"), std::string::npos);
  p.op = OpKind::Swiglu;
  p.residual = true;
  EXPECT_EQ(p.str(), plain + " op=swiglu up=#qmlir.scheme<i4, group = 32, "
                             "scale = f16> residual");
}
