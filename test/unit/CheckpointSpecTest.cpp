//===- CheckpointSpecTest.cpp - Model specs and buildModel ----------------===//

#include "CheckpointTestSupport.h"
#include "CoreTestSupport.h"

#include "qmlir/Checkpoint/ModelSpec.h"

#include "gmock/gmock.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::test_support;
using ::testing::HasSubstr;

namespace {

const char *kExample = R"({ "format": "qmlir-model-spec", "version": 1,
  "name": "llama-3-8b-shaped", "activation": "f16",
  "schemes": { "w4": "#qmlir.scheme<u4, group = 128, scale = f16, zero = int>" },
  "layers": [
    { "name": "model.layers.{i}.self_attn.q_proj", "repeat": 32, "n": 4096, "k": 4096, "scheme": "w4" },
    { "name": "model.layers.{i}.self_attn.o_proj", "repeat": 32, "n": 4096, "k": 4096, "scheme": "w4",
      "residual": true },
    { "name": "model.layers.{i}.mlp.gate_up_proj", "repeat": 32, "op": "swiglu", "n": 14336, "k": 4096,
      "scheme": "w4", "gate": "model.layers.{i}.mlp.gate_proj", "up": "model.layers.{i}.mlp.up_proj" },
    { "name": "lm_head_like", "n": 1000, "k": 4096, "scheme": "#qmlir.scheme<i8, group = channel, scale = f16>", "bias": true }
  ] })";

/// The example with `layers` replaced by a single layer.
std::string withLayer(const std::string &layer) {
  return R"({"format": "qmlir-model-spec", "version": 1, "layers": [)" + layer +
         "]}";
}

std::string specError(const std::string &json) {
  return errorOf(parseModelSpec(json, "spec.json"));
}

TEST(ModelSpec, ParsesTheDocumentedExample) {
  llvm::Expected<ModelSpec> spec = parseModelSpec(kExample, "spec.json");
  ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
  EXPECT_EQ(spec->name, "llama-3-8b-shaped");
  ASSERT_EQ(spec->layers.size(), 97u);
  EXPECT_EQ(spec->layers[5].name, "model.layers.5.self_attn.q_proj");
  const SpecLayer &mlp = spec->layers[64 + 7];
  EXPECT_EQ(mlp.op, LayerOp::Swiglu);
  EXPECT_EQ(mlp.gate, "model.layers.7.mlp.gate_proj");
  EXPECT_EQ(mlp.up, "model.layers.7.mlp.up_proj");
  EXPECT_TRUE(spec->layers[32].residual);
  EXPECT_EQ(spec->layers[96].scheme->str(),
            "#qmlir.scheme<i8, group = channel, scale = f16>");
  llvm::Expected<Model> model = buildModel(&*spec, nullptr);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->layers[96].hasBias, true);
  EXPECT_EQ(model->layers[70].n, 14336);
  EXPECT_FALSE(model->layers[0].weights.has_value());
}

TEST(ModelSpec, NamesTheFieldOfEveryError) {
  struct Case {
    std::string json;
    const char *expected;
  } cases[] = {
      {"[", "spec.json: (root): not valid JSON"},
      {R"({"format": "x", "version": 1, "layers": []})", "spec.json: format: expected"},
      {R"({"format": "qmlir-model-spec", "version": 2, "layers": []})", "version: expected 1"},
      {R"({"format": "qmlir-model-spec", "version": 1, "layers": [], "extra": 1})", "extra: unknown key"},
      {R"({"format": "qmlir-model-spec", "version": 1})", "layers: expected an array"},
      {R"({"format": "qmlir-model-spec", "version": 1, "schemes": {"w": "#qmlir.scheme<q4>"}, "layers": []})", "schemes.w: invalid scheme"},
      {R"({"format": "qmlir-model-spec", "version": 1, "activation": "f8", "layers": []})", "activation: expected f16, bf16 or f32"},
      {withLayer(R"({"name": "a", "nn": 3})"), "layers[0].nn: unknown key"},
      {withLayer(R"({"n": 3})"), "layers[0].name: missing"},
      {withLayer(R"({"name": "a", "n": -3})"), "layers[0].n: expected a positive integer"},
      {withLayer(R"({"name": "a", "k": "5"})"), "layers[0].k: expected a positive integer"},
      {withLayer(R"({"name": "a", "op": "gelu"})"), "layers[0].op: expected matmul or swiglu"},
      {withLayer(R"({"name": "a", "scheme": "w9"})"), "layers[0].scheme: 'w9' is neither"},
      {withLayer(R"({"name": "a", "n": 8, "k": 100, "scheme": "#qmlir.scheme<i4, group = 64, scale = f16>"})"), "layers[0].scheme: K = 100 is not divisible"},
      {withLayer(R"({"name": "a", "repeat": 2})"), "layers[0].name: a repeated layer's name needs"},
      {withLayer(R"({"name": "a{i}"})"), "layers[0].name: \"{i}\" needs \"repeat\""},
      {withLayer(R"({"name": "a{i}", "repeat": 0})"), "layers[0].repeat: expected a positive integer"},
      {withLayer(R"({"name": "a", "op": "swiglu", "bias": true})"), "layers[0].bias: a swiglu layer has no bias"},
      {withLayer(R"({"name": "a", "op": "swiglu", "source": "b"})"), "layers[0].source: only a matmul"},
      {withLayer(R"({"name": "a", "gate": "b"})"), "layers[0].gate: only a swiglu"},
      {withLayer(R"({"name": "a", "residual": 1})"), "layers[0].residual: expected true or false"},
      {withLayer(R"({"name": "a"}, {"name": "b"}, {"name": "a"})"), "layers[2].name: duplicate layer name 'a' (also layers[0])"},
      {withLayer(R"(3)"), "layers[0]: expected an object"},
  };
  for (const Case &c : cases)
    EXPECT_THAT(specError(c.json), HasSubstr(c.expected)) << c.json;
}

ImportedCheckpoint checkpointWith(std::vector<std::pair<std::string, bool>> names,
                                  int64_t n = 16, int64_t k = 64) {
  ImportedCheckpoint checkpoint;
  checkpoint.path = "ckpt";
  checkpoint.activation = core::FloatType::BF16;
  auto scheme = *core::Scheme::parse(
      "#qmlir.scheme<u4, group = 32, scale = bf16, zero = int>");
  uint32_t seed = 1;
  for (auto &[name, bias] : names) {
    std::vector<float> w = core::test_support::randomNormal(n * k, seed++);
    Linear linear{name, core::quantize(w.data(), n, k, scheme), std::nullopt};
    if (bias)
      linear.bias = std::vector<float>(n, 0.5f);
    checkpoint.linears.push_back(std::move(linear));
  }
  return checkpoint;
}

TEST(BuildModel, CheckpointOnlyGivesOneMatmulPerLinear) {
  ImportedCheckpoint checkpoint = checkpointWith({{"a", true}, {"b", false}});
  llvm::Expected<Model> model = buildModel(nullptr, &checkpoint);
  ASSERT_TRUE(bool(model));
  EXPECT_EQ(model->activation, core::FloatType::BF16);
  ASSERT_EQ(model->layers.size(), 2u);
  EXPECT_TRUE(model->layers[0].hasBias);
  EXPECT_EQ(model->layers[0].bias.size(), 16u);
  EXPECT_FALSE(model->layers[1].hasBias);
  EXPECT_EQ(model->layers[1].weights->codes, checkpoint.linears[1].weights.codes);
  EXPECT_THAT(errorOf(buildModel(nullptr, nullptr)), HasSubstr("needs a spec"));
}

TEST(BuildModel, SpecLayersTakeTheCheckpointsWeights) {
  ImportedCheckpoint checkpoint =
      checkpointWith({{"x.gate_proj", false}, {"x.up_proj", false}, {"o", true}});
  llvm::Expected<ModelSpec> spec = parseModelSpec(
      R"({"format": "qmlir-model-spec", "version": 1, "name": "m", "layers": [
        {"name": "x.mlp", "op": "swiglu", "gate": "x.gate_proj", "up": "x.up_proj"},
        {"name": "out", "source": "o", "n": 16, "residual": true}]})",
      "spec.json");
  ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
  llvm::Expected<Model> model = buildModel(&*spec, &checkpoint);
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  EXPECT_EQ(model->activation, core::FloatType::BF16);
  const ModelLayer &mlp = model->layers[0];
  EXPECT_EQ(mlp.op, LayerOp::Swiglu);
  EXPECT_EQ(mlp.n, 16);
  EXPECT_EQ(mlp.k, 64);
  EXPECT_EQ(mlp.upWeights->codes, checkpoint.linears[1].weights.codes);
  EXPECT_EQ(mlp.weights->codes, checkpoint.linears[0].weights.codes);
  EXPECT_TRUE(model->layers[1].hasBias);
  EXPECT_TRUE(model->layers[1].residual);
}

TEST(BuildModel, NamesDisagreementsWithTheCheckpoint) {
  ImportedCheckpoint checkpoint = checkpointWith(
      {{"l", false}, {"b", true}, {"g", true}, {"u", false}, {"small", false}});
  checkpoint.linears[4] = checkpointWith({{"small", false}}, 8, 64).linears[0];
  struct Case {
    std::string layer;
    const char *expected;
  } cases[] = {
      {R"({"name": "l", "n": 17})", "layers[0].n: 17 but linear 'l' has 16"},
      {R"({"name": "l", "k": 32})", "layers[0].k: 32 but linear 'l' has 64"},
      {R"({"name": "l", "scheme": "#qmlir.scheme<u4, group = 32, scale = f16, zero = int>"})",
       "layers[0].scheme: #qmlir.scheme<u4, group = 32, scale = f16, zero = int> but "
       "linear 'l' has #qmlir.scheme<u4, group = 32, scale = bf16, zero = int>"},
      {R"({"name": "missing"})", "layers[0].source: the checkpoint ckpt has no linear 'missing'"},
      {R"({"name": "l", "bias": true})", "layers[0].bias: true but linear 'l' has no bias"},
      {R"({"name": "b", "bias": false})", "layers[0].bias: false but linear 'b' has a bias"},
      {R"({"name": "s", "op": "swiglu", "gate": "g", "up": "u"})", "linear 'g' has a bias"},
      {R"({"name": "s", "op": "swiglu", "gate": "u", "up": "small"})", "gate 'u' is [16, 64] but up 'small' is [8, 64]"},
      {R"({"name": "s", "op": "swiglu"})", "layers[0].gate: the checkpoint ckpt has no linear 's.gate'"},
  };
  for (const Case &c : cases) {
    llvm::Expected<ModelSpec> spec = parseModelSpec(withLayer(c.layer), "s");
    ASSERT_TRUE(bool(spec)) << llvm::toString(spec.takeError());
    EXPECT_THAT(errorOf(buildModel(&*spec, &checkpoint)), HasSubstr(c.expected))
        << c.layer;
  }
  llvm::Expected<ModelSpec> spec =
      parseModelSpec(withLayer(R"({"name": "l", "n": 16})"), "s");
  ASSERT_TRUE(bool(spec));
  EXPECT_THAT(errorOf(buildModel(&*spec, nullptr)),
              HasSubstr("layers[0].k: missing (needed without a checkpoint)"));
}

} // namespace
