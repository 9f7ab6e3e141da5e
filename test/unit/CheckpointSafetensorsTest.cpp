//===- CheckpointSafetensorsTest.cpp - Safetensors reader and writer ------===//

#include "CheckpointTestSupport.h"

#include "qmlir/Checkpoint/Safetensors.h"

#include "gmock/gmock.h"

using namespace qmlir::checkpoint;
using namespace qmlir::checkpoint::test_support;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

llvm::Expected<SafetensorsFile> parseBytes(const std::string &bytes) {
  return SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "t.safetensors"),
      "t.safetensors");
}

std::string parseError(llvm::StringRef header, llvm::StringRef data) {
  return errorOf(parseBytes(rawFile(header, data)));
}

TEST(SafetensorsReader, AcceptsAWellFormedFile) {
  std::string data(8 + 6, '\0');
  data[0] = 1;
  llvm::Expected<SafetensorsFile> file = parseBytes(rawFile(
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"I16","shape":[3],"data_offsets":[8,14]},"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},"e":{"dtype":"U8","shape":[0],"data_offsets":[14,14]}}  )",
      data));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->tensors()[0].name, "a"); // in data order
  EXPECT_EQ(file->find("b")->shape, std::vector<int64_t>{3});
  EXPECT_EQ(file->bytes(*file->find("a"))[0], 1);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(file->find("nope"), nullptr);
}

TEST(SafetensorsReader, RejectsShortFilesAndBadLengths) {
  EXPECT_THAT(errorOf(parseBytes("1234567")),
              AllOf(HasSubstr("t.safetensors"), HasSubstr("7 bytes")));
  std::string lying(8, '\0');
  llvm::support::endian::write64le(lying.data(), 100);
  EXPECT_THAT(errorOf(parseBytes(lying + "{}")),
              HasSubstr("header length 100 runs past the end"));
  llvm::support::endian::write64le(lying.data(), uint64_t(1) << 62);
  EXPECT_THAT(errorOf(parseBytes(lying + "{}")),
              HasSubstr("larger than the limit"));
}

TEST(SafetensorsReader, RejectsHeadersThatAreNotJsonObjects) {
  EXPECT_THAT(parseError("{\"a\":\xff}", ""), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(parseError("{\"a\":", ""), HasSubstr("not valid JSON"));
  EXPECT_THAT(parseError("[1, 2]", ""), HasSubstr("not a JSON object"));
  EXPECT_THAT(parseError("", ""), HasSubstr("not valid JSON"));
  EXPECT_THAT(parseError(R"({"__metadata__":{"k":1}})", ""),
              HasSubstr("__metadata__.k: must be a string"));
  EXPECT_THAT(parseError(R"({"__metadata__":[]})", ""),
              HasSubstr("__metadata__: must be an object"));
  EXPECT_THAT(parseError(R"({"t":3})", ""),
              HasSubstr("tensor 't': entry must be an object"));
}

TEST(SafetensorsReader, RejectsMissingOrWronglyTypedFields) {
  struct Case {
    const char *header, *expected;
  } cases[] = {
      {R"({"t":{"shape":[1],"data_offsets":[0,4]}})", "tensor 't': dtype: missing"},
      {R"({"t":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", "dtype: must be a string"},
      {R"({"t":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", "unknown dtype 'F17'"},
      {R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", "shape: missing"},
      {R"({"t":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", "shape: must be an array"},
      {R"({"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "dimension 0 must not be negative"},
      {R"({"t":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}})", "dimension 0 must be an integer"},
      {R"({"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", "overflows 64 bits"},
      {R"({"t":{"dtype":"F32","shape":[1]}})", "data_offsets: missing"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", "two integers"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "begin must not be negative"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", "begin 4 is after end 0"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", "end 8 is beyond the 4-byte data section"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "span of 4 bytes does not match shape [2] of F32 (8 bytes)"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}})", "extra: unknown field"},
      {R"({"":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "empty name"},
  };
  for (const Case &c : cases)
    EXPECT_THAT(parseError(c.header, "abcd"),
                AllOf(HasSubstr("t.safetensors"), HasSubstr(c.expected)))
        << c.header;
}

TEST(SafetensorsReader, RejectsOverlapsHolesAndTrailingBytes) {
  EXPECT_THAT(
      parseError(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}})",
                 "abcdef"),
      AllOf(HasSubstr("tensor 'b'"), HasSubstr("overlap tensor 'a'")));
  EXPECT_THAT(
      parseError(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                 "abcdef"),
      AllOf(HasSubstr("tensor 'b'"), HasSubstr("hole: bytes [2, 4)")));
  EXPECT_THAT(
      parseError(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})",
                 "abcdef"),
      HasSubstr("4 trailing bytes"));
  EXPECT_THAT(
      parseError(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}})",
                 "abcd"),
      HasSubstr("hole: bytes [0, 2)"));
}

TEST(SafetensorsReader, OpenNamesMissingFiles) {
  EXPECT_THAT(errorOf(SafetensorsFile::open("/nonexistent/x.safetensors")),
              HasSubstr("/nonexistent/x.safetensors: cannot read"));
}

TEST(SafetensorsWriter, RoundTripsAndLaysOutLikeTheOfficialWriter) {
  std::vector<TensorData> tensors = {
      {"small", DType::U8, {3}, {1, 2, 3}},
      {"wide", DType::F64, {1}, std::vector<uint8_t>(8, 7)},
      {"mid", DType::I32, {2, 1}, std::vector<uint8_t>(8, 9)},
      {"empty", DType::F16, {0, 4}, {}},
  };
  TempDir dir;
  std::string path = dir.file("w.safetensors");
  ASSERT_EQ(errorOf(writeSafetensors(path, tensors, {{"format", "pt"}})), "");
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  // Descending element size, then name: every tensor aligned to its element.
  std::vector<std::string> order;
  for (const TensorInfo &info : file->tensors())
    if (info.end > info.begin)
      order.push_back(info.name);
  EXPECT_EQ(order, (std::vector<std::string>{"wide", "mid", "small"}));
  for (const TensorData &t : tensors) {
    const TensorInfo *info = file->find(t.name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->dtype, t.dtype);
    EXPECT_EQ(info->shape, t.shape);
    EXPECT_EQ(std::vector<uint8_t>(file->bytes(*info).begin(),
                                   file->bytes(*info).end()),
              t.bytes);
    EXPECT_EQ(info->begin % dtypeSize(t.dtype), 0u);
  }
  EXPECT_EQ(file->metadata().at("format"), "pt");
  llvm::Expected<std::string> bytes = serializeSafetensors(tensors);
  ASSERT_TRUE(bool(bytes));
  uint64_t headerSize = llvm::support::endian::read64le(bytes->data());
  EXPECT_EQ(headerSize % 8, 0u);
  EXPECT_EQ((*bytes)[8 + headerSize - 1] == ' ' ||
                (*bytes)[8 + headerSize - 1] == '}',
            true);
}

TEST(SafetensorsWriter, RejectsInconsistentTensors) {
  EXPECT_THAT(errorOf(serializeSafetensors({{"a", DType::F32, {2}, {1, 2}}})),
              HasSubstr("tensor 'a': 2 bytes given for 8"));
  EXPECT_THAT(errorOf(serializeSafetensors(
                  {{"a", DType::U8, {1}, {1}}, {"a", DType::U8, {1}, {1}}})),
              HasSubstr("given twice"));
  EXPECT_THAT(errorOf(serializeSafetensors({{"a", DType::U8, {-1}, {}}})),
              HasSubstr("negative dimension"));
  EXPECT_THAT(errorOf(serializeSafetensors({{"", DType::U8, {1}, {1}}})),
              HasSubstr("cannot write a tensor named"));
}

TEST(SafetensorsElements, ReadsIntegersFloatsAndWords) {
  std::vector<TensorData> tensors = {
      {"i8", DType::I8, {2}, {0xff, 0x02}},
      {"f16", DType::F16, {1}, {0x00, 0x3c}},  // 1.0
      {"bf16", DType::BF16, {1}, {0x40, 0xc0}}, // -3.0
      {"i32", DType::I32, {1}, {0xfe, 0xff, 0xff, 0xff}},
  };
  llvm::Expected<std::string> bytes = serializeSafetensors(tensors);
  ASSERT_TRUE(bool(bytes));
  llvm::Expected<SafetensorsFile> file = parseBytes(*bytes);
  ASSERT_TRUE(bool(file));
  auto ints = readIntegers(*file, *file->find("i8"));
  ASSERT_TRUE(bool(ints));
  EXPECT_EQ(*ints, (std::vector<int64_t>{-1, 2}));
  auto half = readFloats(*file, *file->find("f16"));
  ASSERT_TRUE(bool(half));
  EXPECT_EQ((*half)[0], 1.0f);
  auto brain = readFloats(*file, *file->find("bf16"));
  ASSERT_TRUE(bool(brain));
  EXPECT_EQ((*brain)[0], -3.0f);
  auto words = readWords(*file, *file->find("i32"));
  ASSERT_TRUE(bool(words));
  EXPECT_EQ((*words)[0], 0xfffffffeu);
  EXPECT_THAT(errorOf(readFloats(*file, *file->find("i32"))),
              AllOf(HasSubstr("tensor 'i32'"), HasSubstr("dtype"),
                    HasSubstr("expected F16, BF16 or F32, got I32")));
  EXPECT_THAT(errorOf(readWords(*file, *file->find("f16"))),
              HasSubstr("expected I32, got F16"));
  EXPECT_THAT(errorOf(readIntegers(*file, *file->find("f16"))),
              HasSubstr("expected an integer dtype"));
}

} // namespace
