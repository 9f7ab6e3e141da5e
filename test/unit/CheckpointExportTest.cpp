//===- CheckpointExportTest.cpp - Export -> import round trips ------------===//

#include "CheckpointTestSupport.h"
#include "CoreTestSupport.h"

#include "qmlir/Checkpoint/Export.h"
#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Core/Reference.h"

#include "gmock/gmock.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::test_support;
using ::testing::HasSubstr;

namespace {

struct RoundTrip {
  CheckpointFormat format;
  const char *scheme;
  int64_t n, k;
  bool bias;
};

Linear makeLinear(const std::string &name, const core::Scheme &scheme,
                  int64_t n, int64_t k, bool bias, uint32_t seed) {
  std::vector<float> w = core::test_support::randomNormal(n * k, seed);
  Linear linear{name, core::quantize(w.data(), n, k, scheme), std::nullopt};
  if (bias)
    linear.bias = core::test_support::randomNormal(n, seed + 1);
  return linear;
}

class ExportRoundTrip : public ::testing::TestWithParam<RoundTrip> {};

TEST_P(ExportRoundTrip, ImportsWhatWasWritten) {
  const RoundTrip &c = GetParam();
  auto scheme = core::Scheme::parse(c.scheme);
  ASSERT_TRUE(scheme.has_value());
  std::vector<Linear> linears = {
      makeLinear("model.layers.0.b", *scheme, c.n, c.k, c.bias, 11),
      makeLinear("model.layers.0.a", *scheme, c.n, c.k, false, 23)};
  TempDir dir;
  ExportOptions options;
  options.format = c.format;
  options.activation = core::FloatType::BF16;
  std::string path = dir.file("out");
  ASSERT_EQ(errorOf(exportCheckpoint(path, linears, options)), "");
  llvm::Expected<ImportedCheckpoint> back = importCheckpoint(path);
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  EXPECT_EQ(back->format, c.format);
  EXPECT_EQ(back->activation, core::FloatType::BF16);
  ASSERT_EQ(back->linears.size(), 2u);
  for (const Linear &original : linears) {
    SCOPED_TRACE(original.name);
    const Linear *imported = back->find(original.name);
    ASSERT_NE(imported, nullptr);
    EXPECT_EQ(imported->weights.scheme, original.weights.scheme);
    EXPECT_EQ(imported->weights.partBytes(), original.weights.partBytes());
    EXPECT_EQ(core::dequantize(imported->weights),
              core::dequantize(original.weights));
    ASSERT_EQ(imported->bias.has_value(), original.bias.has_value());
    if (original.bias) {
      // GPTQ and AWQ store the bias in the scales' type, native in f32.
      for (size_t i = 0; i < original.bias->size(); ++i)
        EXPECT_EQ((*imported->bias)[i],
                  c.format == CheckpointFormat::Native
                      ? (*original.bias)[i]
                      : core::roundTo(original.weights.scheme.scaleType,
                                      (*original.bias)[i]));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Checkpoint, ExportRoundTrip,
    ::testing::Values(
        RoundTrip{CheckpointFormat::Gptq,
                  "#qmlir.scheme<u4, group = 32, scale = f16, zero = int, "
                  "act_order>",
                  24, 96, true},
        RoundTrip{CheckpointFormat::Gptq,
                  "#qmlir.scheme<u3, group = 32, scale = f16, zero = int>", 32,
                  160, false},
        RoundTrip{CheckpointFormat::Gptq,
                  "#qmlir.scheme<u8, group = channel, scale = bf16, zero = "
                  "int>",
                  44, 100, true},
        RoundTrip{CheckpointFormat::Gptq,
                  "#qmlir.scheme<u2, group = 16, scale = f16, zero = int>", 48,
                  80, false},
        RoundTrip{CheckpointFormat::Awq,
                  "#qmlir.scheme<u4, group = 32, scale = f16, zero = int>", 40,
                  96, true},
        RoundTrip{CheckpointFormat::Awq,
                  "#qmlir.scheme<u4, group = channel, scale = bf16, zero = "
                  "int>",
                  24, 72, false},
        RoundTrip{CheckpointFormat::Native, "#qmlir.scheme<nf4, group = 32, "
                                            "scale = f16>",
                  37, 96, true},
        RoundTrip{CheckpointFormat::Native, "#qmlir.scheme<mxfp4>", 13, 64,
                  false},
        RoundTrip{CheckpointFormat::Native, "#qmlir.scheme<nvfp4>", 9, 48,
                  true},
        RoundTrip{CheckpointFormat::Native,
                  "#qmlir.scheme<lut4, group = channel, codebook = group>", 11,
                  40, false},
        RoundTrip{CheckpointFormat::Native,
                  "#qmlir.scheme<i4, group = 16, scale = f32, zero = float, "
                  "act_order>",
                  7, 48, false},
        RoundTrip{CheckpointFormat::Native,
                  "#qmlir.scheme<bcq3, group = 32, scale = f16, zero = float>",
                  5, 64, false},
        RoundTrip{CheckpointFormat::Native,
                  "#qmlir.scheme<ternary, group = tensor, scale = bf16>", 6, 50,
                  true},
        RoundTrip{CheckpointFormat::Native,
                  "#qmlir.scheme<u*, bits = [4, 2, 3], group = 16, scale = "
                  "f16, zero = int>",
                  3, 48, false}));

TEST(Export, RefusesWhatAFormatCannotHold) {
  auto scheme = [](const char *text) { return *core::Scheme::parse(text); };
  ExportOptions gptq{CheckpointFormat::Gptq};
  EXPECT_THAT(
      errorOf(exportFiles(
          {makeLinear("l", scheme("#qmlir.scheme<i4, group = 32, scale = f16>"),
                      8, 64, false, 1)},
          gptq)),
      HasSubstr("l: #qmlir.scheme<i4, group = 32, scale = f16> cannot be "
                "written as GPTQ: needs unsigned"));
  const char *u4 = "#qmlir.scheme<u4, group = 32, scale = f16, zero = int>";
  EXPECT_THAT(errorOf(exportFiles({makeLinear("l", scheme(u4), 8, 64, false, 1),
                                   makeLinear("m", scheme("#qmlir.scheme<u4, "
                                                          "group = 64, scale = "
                                                          "f16, zero = int>"),
                                              8, 64, false, 1)},
                                  gptq)),
              HasSubstr("m: "));
  EXPECT_THAT(errorOf(exportFiles(
                  {makeLinear("l", scheme("#qmlir.scheme<u3, group = 32, "
                                          "scale = f16, zero = int>"),
                              6, 64, false, 1)},
                  gptq)),
              HasSubstr("multiples of 32"));
  // All weights of a group >= 0: zero point 0, which v1 cannot store.
  std::vector<float> positive(8 * 32, 1.0f);
  positive[3] = 2.0f;
  Linear allPositive{"p", core::quantize(positive.data(), 8, 32, scheme(u4)),
                     std::nullopt};
  EXPECT_THAT(errorOf(exportFiles({allPositive}, gptq)),
              HasSubstr("p: zero point 0 (row 0, group 0) cannot be stored in "
                        "GPTQ v1"));
  ExportOptions awq{CheckpointFormat::Awq};
  EXPECT_THAT(errorOf(exportFiles({makeLinear("l", scheme(u4), 12, 64, false, 1)},
                                  awq)),
              HasSubstr("N to be a multiple of 8"));
  EXPECT_THAT(
      errorOf(exportFiles({makeLinear("l", scheme("#qmlir.scheme<u3, group = "
                                                  "32, scale = f16, zero = "
                                                  "int>"),
                                      16, 64, false, 1)},
                          awq)),
      HasSubstr("cannot be written as AWQ"));
  EXPECT_THAT(errorOf(exportFiles({}, awq)), HasSubstr("no linears"));
  EXPECT_THAT(
      errorOf(exportFiles({makeLinear("l", scheme(u4), 8, 64, false, 1)},
                          ExportOptions{CheckpointFormat::CompressedTensors})),
      HasSubstr("not supported"));
}

TEST(Export, WritesAtomicallyAndRefusesToOverwrite) {
  TempDir dir;
  std::string path = dir.file("ckpt");
  auto scheme = *core::Scheme::parse("#qmlir.scheme<nf4, group = 32, scale = f16>");
  std::vector<Linear> linears = {makeLinear("l", scheme, 4, 64, false, 3)};
  ASSERT_EQ(errorOf(exportCheckpoint(path, linears, {})), "");
  EXPECT_THAT(errorOf(exportCheckpoint(path, linears, {})),
              HasSubstr("exists; pass --force"));
  // A failing export leaves the existing checkpoint as it was.
  EXPECT_THAT(errorOf(exportCheckpoint(path, linears,
                                       {CheckpointFormat::Gptq, {}, true})),
              HasSubstr("cannot be written as GPTQ"));
  EXPECT_TRUE(bool(importCheckpoint(path)));
  ExportOptions force;
  force.force = true;
  linears[0].name = "renamed";
  ASSERT_EQ(errorOf(exportCheckpoint(path, linears, force)), "");
  llvm::Expected<ImportedCheckpoint> back = importCheckpoint(path);
  ASSERT_TRUE(bool(back));
  EXPECT_NE(back->find("renamed"), nullptr);
  // Nothing but the checkpoint is left next to it.
  std::error_code ec;
  int entries = 0;
  for (llvm::sys::fs::directory_iterator it(dir.path, ec), end;
       !ec && it != end; it.increment(ec))
    ++entries;
  EXPECT_EQ(entries, 1);
}

} // namespace
