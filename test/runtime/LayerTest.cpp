//===- LayerTest.cpp - Layers of model bundles, without a GPU -------------===//
//
// The manifest's "layers" and "weights" sections, the layer and weight
// queries, binding, and every check qmlir_run_layer makes before it needs the
// GPU.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kCodesBytes = 256 * 64 * 4;
constexpr int64_t kScalesBytes = 256 * 4 * 2;

json weight(const char *name, const char *element, int64_t rows, int64_t cols,
            std::optional<int64_t> offset) {
  json entry = {{"name", name}, {"element", element}, {"shape", {rows, cols}}};
  if (offset)
    entry["offset"] = *offset;
  return entry;
}

/// A layer served by the fixture's "matmul_plain" kernel (i4 g128, n = 256,
/// k = 512), its weights in weights.bin.
json plainLayer(const char *name = "proj") {
  return {{"name", name},
          {"op", "matmul"},
          {"n", 256},
          {"k", 512},
          {"scheme", "#qmlir.scheme<i4, group = 128, scale = f16>"},
          {"activation", "f16"},
          {"weights",
           {weight("codes", "i32", 256, 64, 0),
            weight("scales", "f16", 256, 4, kCodesBytes)}},
          {"dispatch",
           {{{"m_min", 1}, {"m_max", 4096}, {"kernel", "matmul_plain"}}}}};
}

/// A swiglu kernel (u4 g128 zero points for both projections) with a
/// residual, as qmlir-compile writes it.
json swigluKernel() {
  const char *scheme = "#qmlir.scheme<u4, group = 128, scale = f16, zero = int>";
  return {{"name", "mlp_swiglu"},
          {"module", "qmlir_kernels"},
          {"op", "swiglu"},
          {"n", 64},
          {"k", 256},
          {"scheme", scheme},
          {"up_scheme", scheme},
          {"activation", "f16"},
          {"residual", true},
          {"launch",
           {{"block", {128, 1, 1}},
            {"grid", {1, "M", 1}},
            {"shared_memory_bytes", 0},
            {"m_min", 1},
            {"m_max", 65535}}},
          {"arguments",
           {argument("x", "f16", "M", 256), argument("gate.codes", "i32", 64, 32),
            argument("gate.scales", "f16", 64, 2),
            argument("gate.zeros", "i32", 64, 1),
            argument("up.codes", "i32", 64, 32),
            argument("up.scales", "f16", 64, 2),
            argument("up.zeros", "i32", 64, 1),
            argument("residual", "f16", "M", 64),
            argument("out", "f16", "M", 64)}}};
}

class LayerTest : public RuntimeTest {
protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    weights.assign(size_t(kCodesBytes + kScalesBytes), 0x11);
    manifest["layers"] = json::array({plainLayer()});
    setWeights(weights);
  }
  void setWeights(const std::vector<unsigned char> &bytes) {
    manifest["weights"] = {{"file", "weights.bin"},
                           {"bytes", bytes.size()},
                           {"fnv1a64", hex(fnv(bytes))}};
    writeFile("weights.bin", bytes);
  }
  json &layer0() { return manifest["layers"][0]; }

  std::vector<unsigned char> weights;
};

TEST_F(LayerTest, Queries) {
  openValid();
  ASSERT_EQ(qmlir_bundle_layer_count(bundle), 1u);
  EXPECT_STREQ(qmlir_bundle_layer_name(bundle, 0), "proj");
  EXPECT_EQ(qmlir_bundle_layer_name(bundle, 1), nullptr);
  expectMessage({"index 1 is out of range", "1 layers"});

  qmlir_layer_info info;
  ASSERT_EQ(qmlir_bundle_layer_info(bundle, "proj", &info), QMLIR_SUCCESS);
  EXPECT_STREQ(info.op, "matmul");
  EXPECT_EQ(info.n, 256);
  EXPECT_EQ(info.k, 512);
  EXPECT_STREQ(info.activation, "f16");
  EXPECT_EQ(info.has_bias, 0);
  EXPECT_EQ(info.has_residual, 0);
  EXPECT_EQ(info.num_weights, 2u);
  EXPECT_EQ(info.m_max, 4096);

  qmlir_weight_info w;
  ASSERT_EQ(qmlir_bundle_weight_info(bundle, "proj", 1, &w), QMLIR_SUCCESS);
  EXPECT_STREQ(w.name, "scales");
  EXPECT_STREQ(w.element, "f16");
  EXPECT_EQ(w.rows, 256);
  EXPECT_EQ(w.cols, 4);
  EXPECT_EQ(w.bytes, size_t(kScalesBytes));
  EXPECT_EQ(w.in_bundle, 1);
  EXPECT_EQ(qmlir_bundle_weight_info(bundle, "proj", 2, &w),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"layer 'proj' has 2 weights, index 2 is out of range"});
  EXPECT_EQ(qmlir_bundle_layer_info(bundle, "nope", &info),
            QMLIR_ERROR_NOT_FOUND);
  expectMessage({"qmlir_bundle_layer_info: no layer 'nope'", "'proj'"});

  size_t bytes = 1;
  EXPECT_EQ(qmlir_layer_workspace_size(bundle, "proj", 4096, &bytes),
            QMLIR_SUCCESS);
  EXPECT_EQ(bytes, 0u);
  EXPECT_EQ(qmlir_layer_workspace_size(bundle, "proj", 4097, &bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"M must be in [1, 4096], got 4097"});
}

TEST_F(LayerTest, WeightNamesMustMatchTheKernel) {
  layer0()["weights"][1]["name"] = "scale";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].weights", "has the weights (codes, scales)",
                   "got (codes, scale)"});
}

TEST_F(LayerTest, WeightShapeAndElement) {
  layer0()["weights"][1]["shape"] = {256, 8};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].weights[1].shape", "must have shape [256, 4]",
                   "got [256, 8]"});
  layer0() = plainLayer();
  layer0()["weights"][0]["element"] = "f32";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].weights[0].element", "\"i32\"", "\"f32\""});
}

TEST_F(LayerTest, DispatchMustStartAtOneAndBeContiguous) {
  layer0()["dispatch"][0]["m_min"] = 2;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch[0].m_min", "contiguous from M = 1",
                   "expected 1, got 2"});
  layer0() = plainLayer();
  layer0()["dispatch"] = {
      {{"m_min", 1}, {"m_max", 8}, {"kernel", "matmul_plain"}},
      {{"m_min", 10}, {"m_max", 4096}, {"kernel", "matmul_plain"}}};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch[1].m_min", "expected 9, got 10"});
  layer0()["dispatch"] = json::array();
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch", "at least one kernel"});
}

TEST_F(LayerTest, DispatchKernelMustExistAndComputeTheLayer) {
  layer0()["dispatch"][0]["kernel"] = "missing";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch[0].kernel", "no kernel \"missing\""});
  layer0() = plainLayer();
  layer0()["dispatch"][0]["kernel"] = "matmul_zeros";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernel \"matmul_zeros\" computes a matmul with "
                   "#qmlir.scheme<u3",
                   "not the layer's matmul with #qmlir.scheme<i4"});
  layer0() = plainLayer();
  layer0()["dispatch"][0]["m_max"] = 8192;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch[0]", "accepts M in [1, 4096]",
                   "not all of [1, 8192]"});
}

TEST_F(LayerTest, OffsetsStayInsideAlignedWeightsFile) {
  layer0()["weights"][1]["offset"] = kCodesBytes + 8;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].weights[1].offset", "not a multiple of 16"});
  layer0()["weights"][1]["offset"] = kCodesBytes + 16;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"weight 'scales' (2048 bytes at 65552) ends beyond the "
                   "67584-byte weights.bin"});
  layer0() = plainLayer();
  manifest.erase("weights");
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].weights[0].offset",
                   "the bundle has no weights file"});
}

TEST_F(LayerTest, WeightsFileMustHaveTheManifestSize) {
  weights.resize(weights.size() - 1);
  writeFile("weights.bin", weights);
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"weights.bin has 67583 bytes but the manifest says 67584",
                   "truncated or replaced"});
  fs::remove(fs::path(dir) / "weights.bin");
  expectOpenFails(QMLIR_ERROR_IO, {"cannot read the weights file"});
  manifest["weights"]["file"] = "../weights.bin";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"weights.file", "a file name in the bundle directory"});
}

TEST_F(LayerTest, DuplicateLayerNames) {
  manifest["layers"].push_back(plainLayer());
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[1].name", "duplicate layer name \"proj\"",
                   "layers[0]"});
}

TEST_F(LayerTest, BindingChecksNamesAndPointers) {
  openValid();
  EXPECT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "zeros", kArgs[0]),
            QMLIR_ERROR_NOT_FOUND);
  expectMessage({"layer 'proj' has no weight 'zeros'", "'codes', 'scales'"});
  EXPECT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "codes", (void *)0x1001),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"weight 'codes'", "not 16-byte aligned"});
  EXPECT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "codes", nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"the pointer is null"});
  EXPECT_EQ(qmlir_bundle_bind_weight(bundle, "nope", "codes", kArgs[0]),
            QMLIR_ERROR_NOT_FOUND);
  EXPECT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "codes", kArgs[0]),
            QMLIR_SUCCESS);
}

TEST_F(LayerTest, KernelsOfOneLayerShareItsLayout) {
  json tiled = kernel0();
  tiled["name"] = "matmul_plain_tiles";
  tiled["layout"] = "mma_tile";
  manifest["kernels"].push_back(tiled);
  layer0()["dispatch"] = {
      {{"m_min", 1}, {"m_max", 8}, {"kernel", "matmul_plain"}},
      {{"m_min", 9}, {"m_max", 4096}, {"kernel", "matmul_plain_tiles"}}};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"layers[0].dispatch[1]", "mma_tile layout",
                   "canonical layout"});
  layer0()["dispatch"][0]["kernel"] = "matmul_plain_tiles";
  openValid();
  qmlir_layer_info info;
  ASSERT_EQ(qmlir_bundle_layer_info(bundle, "proj", &info), QMLIR_SUCCESS);
  EXPECT_STREQ(info.layout, "mma_tile");
}

TEST_F(LayerTest, ArrangeWeightFollowsTheLayersLayout) {
  json tiled = kernel0();
  tiled["name"] = "matmul_plain_tiles";
  tiled["layout"] = "mma_tile";
  manifest["kernels"].push_back(tiled);
  layer0()["dispatch"][0]["kernel"] = "matmul_plain_tiles";
  openValid();
  // The fixture's layer: i4 group 128, [256, 512], 64 words of codes a row.
  std::vector<uint32_t> canonical(256 * 64);
  for (size_t i = 0; i < canonical.size(); ++i)
    canonical[i] = uint32_t(i * 2654435761u);
  const size_t bytes = canonical.size() * sizeof(uint32_t);
  std::vector<uint32_t> stored(canonical.size()), back(canonical.size());
  ASSERT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_SUCCESS)
      << qmlir_last_error();
  auto scheme = qmlir::core::Scheme::parse(
      "#qmlir.scheme<i4, group = 128, scale = f16>");
  ASSERT_TRUE(scheme.has_value());
  EXPECT_EQ(stored, qmlir::core::arrangeCodes(qmlir::core::Layout::MmaTile,
                                              *scheme, 256, 512, canonical));
  ASSERT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        QMLIR_STORED_TO_CANONICAL,
                                        stored.data(), back.data(), bytes),
            QMLIR_SUCCESS);
  EXPECT_EQ(back, canonical);
  // Scales are never rearranged.
  std::vector<uint16_t> scales(256 * 4, 0x3c00), copied(256 * 4);
  ASSERT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "scales",
                                        QMLIR_CANONICAL_TO_STORED, scales.data(),
                                        copied.data(), 2 * scales.size()),
            QMLIR_SUCCESS);
  EXPECT_EQ(copied, scales);

  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), 12),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"weight 'codes' has 65536 bytes, not 12"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        static_cast<qmlir_arrangement>(7),
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"unknown direction 7"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "zeros",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_NOT_FOUND);
  expectMessage({"layer 'proj' has no weight 'zeros'"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "nope", "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_NOT_FOUND);
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        QMLIR_CANONICAL_TO_STORED, nullptr,
                                        stored.data(), bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"in is null"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), nullptr, bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"out is null"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, nullptr, "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"layer is null"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(bundle, "proj", nullptr,
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"weight is null"});
  EXPECT_EQ(qmlir_bundle_arrange_weight(nullptr, "proj", "codes",
                                        QMLIR_CANONICAL_TO_STORED,
                                        canonical.data(), stored.data(), bytes),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"bundle is null"});
}

TEST_F(LayerTest, RunChecksTheCallBeforeTheGpu) {
  openValid();
  EXPECT_EQ(qmlir_run_layer(bundle, "nope", 1, kArgs[0], nullptr, kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_NOT_FOUND);
  EXPECT_EQ(qmlir_run_layer(bundle, "proj", 0, kArgs[0], nullptr, kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"layer 'proj': M must be in [1, 4096], got 0"});
  EXPECT_EQ(qmlir_run_layer(bundle, "proj", 1, kArgs[0], kArgs[2], kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"the layer has no residual input; pass null"});
  // Weights in the bundle are bound only by an upload, which needs a GPU.
  EXPECT_EQ(qmlir_run_layer(bundle, "proj", 1, kArgs[0], nullptr, kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_NOT_BOUND);
  expectMessage({"weight 'codes' is neither uploaded nor bound"});
  EXPECT_EQ(qmlir_bundle_upload_weights(bundle), QMLIR_ERROR_NOT_LOADED);
  expectMessage({"qmlir_bundle_upload_weights", "is not loaded"});
  ASSERT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "codes", kArgs[2]),
            QMLIR_SUCCESS);
  ASSERT_EQ(qmlir_bundle_bind_weight(bundle, "proj", "scales", kArgs[3]),
            QMLIR_SUCCESS);
  EXPECT_EQ(qmlir_run_layer(bundle, "proj", 1, (void *)0x10008, nullptr,
                            kArgs[1], nullptr, 0, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"argument 0 ('x')", "not 16-byte aligned"});
  EXPECT_EQ(qmlir_run_layer(bundle, "proj", 1, kArgs[0], nullptr, kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_NOT_LOADED);
  expectMessage({"qmlir_run_layer", "is not loaded"});
}

TEST_F(LayerTest, SpecOnlyLayerHasNoWeightsInTheBundle) {
  manifest.erase("weights");
  layer0()["weights"][0].erase("offset");
  layer0()["weights"][1].erase("offset");
  openValid();
  qmlir_weight_info w;
  ASSERT_EQ(qmlir_bundle_weight_info(bundle, "proj", 0, &w), QMLIR_SUCCESS);
  EXPECT_EQ(w.in_bundle, 0);
}

TEST_F(LayerTest, SwigluKernelsAndLayers) {
  manifest["kernels"].push_back(swigluKernel());
  json layer = swigluKernel();
  layer["name"] = "mlp";
  layer.erase("module");
  layer.erase("launch");
  layer.erase("arguments");
  json weights = json::array();
  const json kernelArguments = swigluKernel()["arguments"];
  for (const json &arg : kernelArguments)
    if (arg["name"] != "x" && arg["name"] != "residual" && arg["name"] != "out")
      weights.push_back(arg);
  layer["weights"] = weights;
  layer["dispatch"] = {{{"m_min", 1}, {"m_max", 65535}, {"kernel", "mlp_swiglu"}}};
  manifest["layers"].push_back(layer);
  openValid();
  qmlir_kernel_info kernel;
  ASSERT_EQ(qmlir_bundle_kernel_info(bundle, "mlp_swiglu", &kernel),
            QMLIR_SUCCESS);
  EXPECT_STREQ(kernel.op, "swiglu");
  EXPECT_STREQ(kernel.up_scheme,
               "#qmlir.scheme<u4, group = 128, scale = f16, zero = int>");
  EXPECT_EQ(kernel.has_residual, 1);
  EXPECT_EQ(kernel.has_bias, 0);
  EXPECT_EQ(kernel.num_args, 9u);
  qmlir_layer_info info;
  ASSERT_EQ(qmlir_bundle_layer_info(bundle, "mlp", &info), QMLIR_SUCCESS);
  EXPECT_EQ(info.num_weights, 6u);
  EXPECT_EQ(qmlir_run_layer(bundle, "mlp", 1, kArgs[0], nullptr, kArgs[1],
                            nullptr, 0, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"the layer adds a residual; pass it (got null)"});
}

TEST_F(LayerTest, SwigluArgumentsAreChecked) {
  json kernel = swigluKernel();
  std::swap(kernel["arguments"][1], kernel["arguments"][4]);
  manifest["kernels"].push_back(kernel);
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[2].arguments", "a swiglu with", "(gate)",
                   "x, gate.codes, gate.scales, gate.zeros, up.codes"});
  kernel = swigluKernel();
  kernel.erase("up_scheme");
  manifest["kernels"][2] = kernel;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[2].up_scheme", "a swiglu needs \"up_scheme\""});
  kernel = swigluKernel();
  kernel["bias"] = true;
  manifest["kernels"][2] = kernel;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[2].bias", "a swiglu has no bias epilogue"});
}

} // namespace
