//===- CheckpointImportTest.cpp - Importers against official fixtures -----===//
//
// The fixtures (test/Checkpoint/Inputs, written by make_fixtures.py with the
// official packages) come with the dequantized weights computed in numpy
// from each format's rules; the importers must reproduce them exactly.
// Error cases are made by editing a fixture's tensors or config.
//
//===----------------------------------------------------------------------===//

#include "CheckpointTestSupport.h"

#include "qmlir/Checkpoint/Import.h"
#include "qmlir/Core/Reference.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include "gmock/gmock.h"

using namespace qmlir;
using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::test_support;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

std::string inputs(llvm::StringRef name) {
  return (llvm::Twine(QMLIR_CHECKPOINT_INPUTS) + "/" + name).str();
}

/// A checkpoint's tensors and other files, editable and writable as one
/// model.safetensors.
struct Editable {
  std::map<std::string, TensorData> tensors;
  std::map<std::string, std::string> metadata;
  std::map<std::string, std::string> files;

  static Editable load(llvm::StringRef name) {
    Editable result;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(inputs(name), ec), end;
         !ec && it != end; it.increment(ec)) {
      llvm::StringRef path = it->path();
      llvm::StringRef base = llvm::sys::path::filename(path);
      if (path.ends_with(".safetensors")) {
        llvm::Expected<SafetensorsFile> file = SafetensorsFile::open(path);
        EXPECT_TRUE(bool(file));
        if (!file) {
          llvm::consumeError(file.takeError());
          continue;
        }
        for (const TensorInfo &info : file->tensors())
          result.tensors[info.name] = {info.name, info.dtype, info.shape,
                                       std::vector<uint8_t>(
                                           file->bytes(info).begin(),
                                           file->bytes(info).end())};
        for (const auto &[k, v] : file->metadata())
          result.metadata[k] = v;
      } else if (!base.ends_with(".index.json")) {
        result.files[base.str()] =
            (*llvm::MemoryBuffer::getFile(path))->getBuffer().str();
      }
    }
    return result;
  }

  std::string save(const TempDir &dir) const {
    for (const auto &[name, text] : files)
      dir.write(name, text);
    std::vector<TensorData> list;
    for (const auto &[name, tensor] : tensors)
      list.push_back(tensor);
    EXPECT_EQ(errorOf(writeSafetensors(dir.file("model.safetensors"), list,
                                       metadata)),
              "");
    return dir.path.str().str();
  }

  /// Replaces `from` by `to` in file `name` (which must contain it).
  void edit(const std::string &name, llvm::StringRef from,
            llvm::StringRef to) {
    std::string &text = files.at(name);
    size_t at = text.find(from.str());
    ASSERT_NE(at, std::string::npos) << from.str();
    text.replace(at, from.size(), to.str());
  }
};

std::string importError(const Editable &checkpoint) {
  TempDir dir;
  return errorOf(importCheckpoint(checkpoint.save(dir)));
}

void setWord(TensorData &tensor, size_t index, uint32_t value) {
  llvm::support::endian::write32le(tensor.bytes.data() + 4 * index, value);
}

//===----------------------------------------------------------------------===//
// Fixtures against their expected weights
//===----------------------------------------------------------------------===//

struct FixtureCase {
  const char *name;
  CheckpointFormat format;
  core::FloatType activation;
  size_t linears;
  const char *scheme; // of the first linear
};

class Fixtures : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(Fixtures, DequantizeToTheExpectedWeights) {
  const FixtureCase &c = GetParam();
  llvm::Expected<ImportedCheckpoint> checkpoint =
      importCheckpoint(inputs(c.name));
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  EXPECT_EQ(checkpoint->format, c.format);
  EXPECT_EQ(checkpoint->activation, c.activation);
  ASSERT_EQ(checkpoint->linears.size(), c.linears);
  EXPECT_EQ(checkpoint->linears[0].weights.scheme.str(), c.scheme);
  llvm::Expected<SafetensorsFile> expected = SafetensorsFile::open(
      inputs(std::string(c.name) + ".expected.safetensors"));
  ASSERT_TRUE(bool(expected));
  size_t biases = 0;
  for (const TensorInfo &info : expected->tensors())
    biases += llvm::StringRef(info.name).ends_with(".bias");
  for (const Linear &linear : checkpoint->linears) {
    SCOPED_TRACE(linear.name);
    const TensorInfo *weight = expected->find(linear.name + ".weight");
    ASSERT_NE(weight, nullptr);
    ASSERT_EQ(weight->shape, (std::vector<int64_t>{linear.weights.rows,
                                                   linear.weights.cols}));
    std::vector<float> want = *readFloats(*expected, *weight);
    std::vector<float> got = core::dequantize(linear.weights);
    int64_t mismatches = 0;
    for (size_t i = 0; i < want.size(); ++i)
      mismatches += got[i] != want[i];
    EXPECT_EQ(mismatches, 0) << "first: " << want[0] << " vs " << got[0];
    const TensorInfo *bias = expected->find(linear.name + ".bias");
    ASSERT_EQ(bias != nullptr, linear.bias.has_value());
    if (bias) {
      EXPECT_EQ(*linear.bias, *readFloats(*expected, *bias));
      --biases;
    }
  }
  EXPECT_EQ(biases, 0u) << "a bias of the fixture was not imported";
}

INSTANTIATE_TEST_SUITE_P(
    Checkpoint, Fixtures,
    ::testing::Values(
        FixtureCase{"gptq-4bit-actorder", CheckpointFormat::Gptq,
                    core::FloatType::F16, 2,
                    "#qmlir.scheme<u4, group = 64, scale = f16, zero = int, "
                    "act_order>"},
        FixtureCase{"gptq-3bit-v2-sharded", CheckpointFormat::Gptq,
                    core::FloatType::F16, 2,
                    "#qmlir.scheme<u3, group = 96, scale = f16, zero = int>"},
        FixtureCase{"gptq-8bit-channel-bf16", CheckpointFormat::Gptq,
                    core::FloatType::BF16, 1,
                    "#qmlir.scheme<u8, group = channel, scale = bf16, zero = "
                    "int>"},
        FixtureCase{"awq-4bit", CheckpointFormat::Awq, core::FloatType::F16, 2,
                    "#qmlir.scheme<u4, group = 64, scale = f16, zero = int>"},
        FixtureCase{"ct-int4-group", CheckpointFormat::CompressedTensors,
                    core::FloatType::F16, 1,
                    "#qmlir.scheme<i4, group = 64, scale = f16>"},
        FixtureCase{"ct-int8-channel", CheckpointFormat::CompressedTensors,
                    core::FloatType::F16, 1,
                    "#qmlir.scheme<i8, group = channel, scale = f16>"},
        FixtureCase{"ct-int4-asym", CheckpointFormat::CompressedTensors,
                    core::FloatType::F16, 1,
                    "#qmlir.scheme<u4, group = 128, scale = f16, zero = int>"},
        FixtureCase{"ct-int3-asym", CheckpointFormat::CompressedTensors,
                    core::FloatType::F16, 1,
                    "#qmlir.scheme<u3, group = 96, scale = f16, zero = int>"}),
    [](const auto &info) {
      std::string name = info.param.name;
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST(Import, ASingleSafetensorsFileOfAShardedCheckpointNeedsAConfig) {
  EXPECT_THAT(errorOf(importCheckpoint(
                  inputs("gptq-3bit-v2-sharded/model-00001-of-00002.safetensors"))),
              HasSubstr("no quantization config"));
}

//===----------------------------------------------------------------------===//
// GPTQ errors
//===----------------------------------------------------------------------===//

const char *kQ = "model.layers.0.self_attn.q_proj";

TEST(ImportGptq, NamesMissingTensorsAndWrongDtypes) {
  Editable c = Editable::load("gptq-4bit-actorder");
  c.tensors.erase(std::string(kQ) + ".scales");
  EXPECT_THAT(importError(c),
              AllOf(HasSubstr("tensor '" + std::string(kQ) + ".scales'"),
                    HasSubstr("missing")));
  c = Editable::load("gptq-4bit-actorder");
  c.tensors[std::string(kQ) + ".qweight"].dtype = DType::F32;
  EXPECT_THAT(importError(c),
              AllOf(HasSubstr("model.safetensors"),
                    HasSubstr(std::string(kQ) + ".qweight'"),
                    HasSubstr("dtype: expected I32, got F32")));
}

TEST(ImportGptq, NamesShapesThatDisagree) {
  Editable c = Editable::load("gptq-4bit-actorder");
  TensorData &qweight = c.tensors[std::string(kQ) + ".qweight"];
  qweight.shape = {qweight.shape[0] * 2, qweight.shape[1] / 2};
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".qweight'"), HasSubstr("shape"),
                                    HasSubstr("scales [4, 64] has N = 64")));
  c = Editable::load("gptq-4bit-actorder");
  TensorData &gIdx = c.tensors[std::string(kQ) + ".g_idx"];
  gIdx.shape = {128};
  gIdx.bytes.resize(512);
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".g_idx'"),
                                    HasSubstr("expected [256] (K of qweight)")));
  c = Editable::load("gptq-4bit-actorder");
  c.tensors[std::string(kQ) + ".qzeros"].shape = {8, 4};
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".qzeros'"),
                                    HasSubstr("expected [4, 8]")));
  c = Editable::load("gptq-4bit-actorder");
  c.edit("quantize_config.json", "\"group_size\": 64", "\"group_size\": 32");
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".scales'"),
                                    HasSubstr("expected 8 groups")));
}

TEST(ImportGptq, ChecksGIdxAndActOrder) {
  Editable c = Editable::load("gptq-4bit-actorder");
  setWord(c.tensors[std::string(kQ) + ".g_idx"], 5, 4);
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".g_idx'"),
                                    HasSubstr("g_idx[5] = 4 is outside [0, 4)")));
  c = Editable::load("gptq-4bit-actorder");
  c.tensors.erase(std::string(kQ) + ".g_idx");
  EXPECT_THAT(importError(c),
              AllOf(HasSubstr("tensor '" + std::string(kQ) + ".g_idx'"),
                    HasSubstr("missing, but desc_act (act-order) is true")));
  // g_idx equal to k / group is not act-order.
  c = Editable::load("gptq-3bit-v2-sharded");
  TempDir dir;
  llvm::Expected<ImportedCheckpoint> plain = importCheckpoint(c.save(dir));
  ASSERT_TRUE(bool(plain));
  EXPECT_FALSE(plain->linears[0].weights.scheme.actOrder);
}

TEST(ImportGptq, RejectsUnsupportedBitsFormatsAndZeros) {
  Editable c = Editable::load("gptq-4bit-actorder");
  c.edit("quantize_config.json", "\"bits\": 4", "\"bits\": 5");
  EXPECT_THAT(importError(c),
              AllOf(HasSubstr("quantize_config.json: bits"),
                    HasSubstr("unsupported bit-width 5")));
  c = Editable::load("gptq-4bit-actorder");
  c.edit("quantize_config.json", "\"checkpoint_format\": \"gptq\"",
         "\"checkpoint_format\": \"marlin\"");
  EXPECT_THAT(importError(c), HasSubstr("checkpoint_format: expected gptq or "
                                        "gptq_v2, got 'marlin'"));
  c = Editable::load("gptq-4bit-actorder");
  c.edit("quantize_config.json", "\"quant_method\": \"gptq\"",
         "\"quant_method\": \"hqq\"");
  EXPECT_THAT(importError(c),
              HasSubstr("unknown quantization method 'hqq'"));
  // v1 stores zero - 1: a stored 15 means 16, which 4 bits cannot hold.
  c = Editable::load("gptq-4bit-actorder");
  setWord(c.tensors[std::string(kQ) + ".qzeros"], 0, 0xFFFFFFFF);
  EXPECT_THAT(importError(c),
              AllOf(HasSubstr(".qzeros'"), HasSubstr("stored as 15"),
                    HasSubstr("16 does not fit 4 bits")));
}

TEST(ImportGptq, V2ZerosAreStoredAsTheyAre) {
  Editable c = Editable::load("gptq-3bit-v2-sharded");
  TempDir dir;
  llvm::Expected<ImportedCheckpoint> v2 = importCheckpoint(c.save(dir));
  ASSERT_TRUE(bool(v2));
  c.edit("quantize_config.json", "gptq_v2", "gptq");
  TempDir dir1;
  llvm::Expected<ImportedCheckpoint> v1 = importCheckpoint(c.save(dir1));
  ASSERT_TRUE(bool(v1)) << llvm::toString(v1.takeError());
  const core::QuantizedMatrix &a = v2->linears[0].weights,
                              &b = v1->linears[0].weights;
  EXPECT_EQ(core::extractCode(b.zeroCodes.data(), 0, 3),
            core::extractCode(a.zeroCodes.data(), 0, 3) + 1);
}

//===----------------------------------------------------------------------===//
// AWQ errors
//===----------------------------------------------------------------------===//

TEST(ImportAwq, RejectsUnsupportedSettingsAndShapes) {
  Editable c = Editable::load("awq-4bit");
  c.edit("config.json", "\"bits\": 4", "\"bits\": 8");
  EXPECT_THAT(importError(c), AllOf(HasSubstr("config.json: quantization_config"),
                                    HasSubstr("unsupported bit-width 8")));
  c = Editable::load("awq-4bit");
  c.edit("config.json", "\"gemm\"", "\"gemv\"");
  EXPECT_THAT(importError(c), HasSubstr("unsupported AWQ version 'gemv'"));
  c = Editable::load("awq-4bit");
  c.tensors["model.layers.0.mlp.up_proj.qzeros"].shape = {9, 5};
  EXPECT_THAT(importError(c), AllOf(HasSubstr("up_proj.qzeros'"),
                                    HasSubstr("expected [5, 9]")));
  c = Editable::load("awq-4bit");
  c.tensors["model.layers.0.mlp.up_proj.bias"].shape = {36, 2};
  EXPECT_THAT(importError(c), AllOf(HasSubstr("up_proj.bias'"),
                                    HasSubstr("expected 1 dimensions")));
}

//===----------------------------------------------------------------------===//
// compressed-tensors errors and act-order
//===----------------------------------------------------------------------===//

const char *kO = "model.layers.0.self_attn.o_proj";

TEST(ImportCompressedTensors, RejectsUnsupportedConfigs) {
  Editable c = Editable::load("ct-int4-group");
  c.edit("config.json", "pack-quantized", "float-quantized");
  EXPECT_THAT(importError(c),
              HasSubstr("unsupported compressed-tensors format "
                        "'float-quantized'"));
  c = Editable::load("ct-int4-group");
  c.edit("config.json", "\"type\": \"int\"", "\"type\": \"float\"");
  EXPECT_THAT(importError(c), AllOf(HasSubstr("config_groups.group_0.weights"),
                                    HasSubstr("unsupported type 'float'")));
  c = Editable::load("ct-int4-group");
  c.edit("config.json", "\"Linear\"", "\"re:.*mlp.*\"");
  EXPECT_THAT(importError(c), AllOf(HasSubstr(std::string(kO) + ".weight_packed"),
                                    HasSubstr("no config group targets")));
}

TEST(ImportCompressedTensors, NamesShapesAndMissingZeros) {
  Editable c = Editable::load("ct-int4-group");
  c.tensors[std::string(kO) + ".weight_shape"].bytes[0] = 81;
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".weight_packed'"),
                                    HasSubstr("expected [81, 32]")));
  c = Editable::load("ct-int4-group");
  c.tensors[std::string(kO) + ".weight_scale"].shape = {40, 8};
  EXPECT_THAT(importError(c), AllOf(HasSubstr(".weight_scale'"),
                                    HasSubstr("expected [80, 4]")));
  c = Editable::load("ct-int4-asym");
  c.tensors.erase("model.layers.0.self_attn.v_proj.weight_zero_point");
  EXPECT_THAT(importError(c), AllOf(HasSubstr("v_proj.weight_zero_point'"),
                                    HasSubstr("missing")));
}

TEST(ImportCompressedTensors, ActOrderGroupNeedsAValidGIdx) {
  Editable c = Editable::load("ct-int4-group");
  c.edit("config.json", "\"group_size\": 64", "\"actorder\": \"group\", \"group_size\": 64");
  EXPECT_THAT(importError(c), AllOf(HasSubstr(std::string(kO) + ".weight_g_idx'"),
                                    HasSubstr("missing, but actorder is group")));
  // A permuted g_idx makes the scheme act-order; each column then uses the
  // scale of its group.
  std::vector<uint32_t> gIdx(256);
  for (int c2 = 0; c2 < 256; ++c2)
    gIdx[c2] = (c2 * 7 % 256) / 64;
  std::vector<uint8_t> bytes(1024);
  for (int i = 0; i < 256; ++i)
    llvm::support::endian::write32le(bytes.data() + 4 * i, gIdx[i]);
  c.tensors[std::string(kO) + ".weight_g_idx"] = {
      std::string(kO) + ".weight_g_idx", DType::I32, {256}, bytes};
  TempDir dir;
  llvm::Expected<ImportedCheckpoint> ordered = importCheckpoint(c.save(dir));
  ASSERT_TRUE(bool(ordered)) << llvm::toString(ordered.takeError());
  const core::QuantizedMatrix &m = ordered->linears[0].weights;
  EXPECT_TRUE(m.scheme.actOrder);
  llvm::Expected<ImportedCheckpoint> plain =
      importCheckpoint(inputs("ct-int4-group"));
  ASSERT_TRUE(bool(plain));
  const core::QuantizedMatrix &p = plain->linears[0].weights;
  for (int64_t col : {0, 1, 100, 255})
    EXPECT_EQ(m.dequantized(3, col),
              p.dequantized(3, col) / p.scales[3 * 4 + col / 64] *
                  p.scales[3 * 4 + gIdx[col]]);
  setWord(c.tensors[std::string(kO) + ".weight_g_idx"], 9, 4);
  EXPECT_THAT(importError(c), HasSubstr("weight_g_idx[9] = 4 is outside [0, 4)"));
}

TEST(ImportCompressedTensors, ReadsTheLegacyPacking) {
  // Older compressed-tensors packed floor(32 / bits) codes per word without
  // straddling: 3 bits, K = 64 -> 7 words of 10 codes (dense would be 6).
  const int64_t n = 2, k = 64;
  std::vector<uint32_t> packed(n * 7, 0);
  std::vector<int> q(n * k);
  for (int64_t i = 0; i < n * k; ++i) {
    q[i] = int(i * 5 % 8) - 4; // -4..3
    int64_t r = i / k, c = i % k;
    packed[r * 7 + c / 10] |= uint32_t(q[i] + 4) << (3 * (c % 10));
  }
  std::vector<float> scales = {0.5f, 0.25f};
  TempDir dir;
  dir.write("config.json", R"({"quantization_config": {"quant_method":
    "compressed-tensors", "format": "pack-quantized", "config_groups":
    {"g": {"targets": ["Linear"], "weights": {"num_bits": 3, "type": "int",
    "symmetric": true, "strategy": "channel"}}}}})");
  std::vector<uint8_t> shape(16, 0);
  shape[0] = n;
  shape[8] = k;
  std::vector<uint8_t> scaleBytes(8);
  for (int i = 0; i < 2; ++i)
    std::memcpy(&scaleBytes[4 * i], &scales[i], 4);
  std::vector<uint8_t> packedBytes(packed.size() * 4);
  for (size_t i = 0; i < packed.size(); ++i)
    llvm::support::endian::write32le(packedBytes.data() + 4 * i, packed[i]);
  ASSERT_EQ(errorOf(writeSafetensors(
                dir.file("model.safetensors"),
                {{"l.weight_packed", DType::I32, {n, 7}, packedBytes},
                 {"l.weight_scale", DType::F32, {n, 1}, scaleBytes},
                 {"l.weight_shape", DType::I64, {2}, shape}})),
            "");
  llvm::Expected<ImportedCheckpoint> checkpoint =
      importCheckpoint(dir.path.str());
  ASSERT_TRUE(bool(checkpoint)) << llvm::toString(checkpoint.takeError());
  const core::QuantizedMatrix &m = checkpoint->linears[0].weights;
  EXPECT_EQ(m.scheme.str(), "#qmlir.scheme<i3, group = channel, scale = f32>");
  for (int64_t i = 0; i < n * k; ++i)
    ASSERT_EQ(m.dequantized(i / k, i % k), float(q[i]) * scales[i / k]) << i;
}

//===----------------------------------------------------------------------===//
// Directories and native checkpoints
//===----------------------------------------------------------------------===//

TEST(ImportDirectory, NamesWhatIsMissingOrInconsistent) {
  EXPECT_THAT(errorOf(importCheckpoint("/nonexistent/dir")),
              HasSubstr("no such file or directory"));
  TempDir empty;
  EXPECT_THAT(errorOf(importCheckpoint(empty.path.str())),
              HasSubstr("no .safetensors files"));
  empty.write("notes.txt", "x");
  EXPECT_THAT(errorOf(importCheckpoint(empty.file("notes.txt"))),
              HasSubstr("expected a directory or a .safetensors file"));
  // A tensor in two files.
  Editable c = Editable::load("awq-4bit");
  TempDir twice;
  c.save(twice);
  llvm::sys::fs::copy_file(twice.file("model.safetensors"),
                           twice.file("model2.safetensors"));
  EXPECT_THAT(errorOf(importCheckpoint(twice.path.str())),
              HasSubstr("also in"));
  // An index naming the wrong shard.
  TempDir sharded;
  c.save(sharded);
  sharded.write("model.safetensors.index.json",
                R"({"weight_map": {"model.layers.0.mlp.up_proj.qweight": "other.safetensors"}})");
  EXPECT_THAT(errorOf(importCheckpoint(sharded.path.str())),
              HasSubstr("other.safetensors: cannot read"));
  sharded.write("other.safetensors", rawFile("{}", ""));
  EXPECT_THAT(errorOf(importCheckpoint(sharded.path.str())),
              HasSubstr("weight_map.model.layers.0.mlp.up_proj.qweight: "
                        "tensor is not in other.safetensors"));
  // A config that is not JSON.
  TempDir broken;
  c.save(broken);
  broken.write("config.json", "{");
  EXPECT_THAT(errorOf(importCheckpoint(broken.path.str())),
              HasSubstr("config.json: not valid JSON"));
  broken.write("config.json", R"({"torch_dtype": "int8"})");
  EXPECT_THAT(errorOf(importCheckpoint(broken.path.str())),
              HasSubstr("torch_dtype: expected float16, bfloat16 or float32"));
}

TEST(ImportNative, NamesMetadataAndPartErrors) {
  TempDir dir;
  std::vector<uint8_t> codes(2 * 8 * 4, 0), scales(2 * 2 * 2, 0);
  auto write = [&](std::map<std::string, std::string> metadata,
                   std::vector<TensorData> tensors) {
    EXPECT_EQ(errorOf(writeSafetensors(dir.file("m.safetensors"), tensors,
                                       metadata)),
              "");
    return errorOf(importCheckpoint(dir.file("m.safetensors")));
  };
  std::vector<TensorData> good = {{"l.codes", DType::I32, {2, 8}, codes},
                                  {"l.scales", DType::F16, {2, 2}, scales}};
  const std::string scheme = "#qmlir.scheme<i4, group = 32, scale = f16>";
  EXPECT_EQ(write({{"format", "qmlir"},
                   {"qmlir.scheme:l", scheme},
                   {"qmlir.shape:l", "[2, 64]"}},
                  good),
            "");
  EXPECT_THAT(write({{"format", "qmlir"}}, good),
              AllOf(HasSubstr("tensor 'l.codes'"),
                    HasSubstr("no \"qmlir.scheme:l\" metadata")));
  EXPECT_THAT(write({{"format", "qmlir"}, {"qmlir.scheme:l", scheme}}, good),
              HasSubstr("without \"qmlir.shape:l\""));
  EXPECT_THAT(write({{"format", "qmlir"},
                     {"qmlir.scheme:l", "#qmlir.scheme<i9>"},
                     {"qmlir.shape:l", "[2, 64]"}},
                    good),
              HasSubstr("__metadata__.qmlir.scheme:l"));
  EXPECT_THAT(write({{"format", "qmlir"},
                     {"qmlir.scheme:l", scheme},
                     {"qmlir.shape:l", "[2, 60]"}},
                    good),
              HasSubstr("not divisible by the group size 32"));
  EXPECT_THAT(write({{"format", "qmlir"},
                     {"qmlir.scheme:l", scheme},
                     {"qmlir.shape:l", "[2, 64]"}},
                    {good[0], {"l.scales", DType::F32, {2, 1}, scales}}),
              AllOf(HasSubstr("tensor 'l.scales'"),
                    HasSubstr("expected F16, got F32")));
  EXPECT_THAT(write({{"format", "qmlir"},
                     {"qmlir.scheme:l", scheme},
                     {"qmlir.shape:l", "[2, 64]"}},
                    {good[0], {"l.scales", DType::F16, {4, 1}, scales}}),
              AllOf(HasSubstr("tensor 'l.scales'"), HasSubstr("expected [2, 2]")));
  EXPECT_THAT(write({{"format", "other"}}, good),
              HasSubstr("no quantization config"));
}

} // namespace
