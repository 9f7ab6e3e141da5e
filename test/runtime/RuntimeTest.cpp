//===- RuntimeTest.cpp - Tests of the runtime C API without a GPU ---------===//
//
// Each test writes a small bundle (a manifest and a fake cubin: a minimal
// ELF64 file for EM_CUDA) into a fresh temporary directory,
// breaks one thing, and checks the status and that the message names the
// problem. Launches are checked up to the point where the GPU would be
// needed; nothing here needs libcuda.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/qmlir_runtime.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "RuntimeTestSupport.h"

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

//===----------------------------------------------------------------------===//
// Library-level functions
//===----------------------------------------------------------------------===//

TEST(RuntimeApiTest, Version) {
  EXPECT_EQ(qmlir_runtime_version(), 3);
  EXPECT_EQ(qmlir_runtime_version(), QMLIR_RUNTIME_API_VERSION);
}

TEST(RuntimeApiTest, StatusNames) {
  EXPECT_STREQ(qmlir_status_name(QMLIR_SUCCESS), "QMLIR_SUCCESS");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_INVALID_ARGUMENT),
               "QMLIR_ERROR_INVALID_ARGUMENT");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_IO), "QMLIR_ERROR_IO");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_BAD_MANIFEST),
               "QMLIR_ERROR_BAD_MANIFEST");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_VERSION), "QMLIR_ERROR_VERSION");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_BAD_CUBIN),
               "QMLIR_ERROR_BAD_CUBIN");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_NOT_FOUND),
               "QMLIR_ERROR_NOT_FOUND");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_NO_DRIVER),
               "QMLIR_ERROR_NO_DRIVER");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_NO_DEVICE),
               "QMLIR_ERROR_NO_DEVICE");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_ARCH_MISMATCH),
               "QMLIR_ERROR_ARCH_MISMATCH");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_NOT_LOADED),
               "QMLIR_ERROR_NOT_LOADED");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_CUDA), "QMLIR_ERROR_CUDA");
  EXPECT_STREQ(qmlir_status_name(QMLIR_ERROR_NOT_BOUND),
               "QMLIR_ERROR_NOT_BOUND");
  EXPECT_STREQ(qmlir_status_name(static_cast<qmlir_status>(13)),
               "QMLIR_UNKNOWN_STATUS");
}

TEST(RuntimeApiTest, LastErrorIsEmptyNotNullAndPerThread) {
  // A fresh thread has had no failure.
  std::thread([] {
    const char *message = qmlir_last_error();
    ASSERT_NE(message, nullptr);
    EXPECT_STREQ(message, "");
  }).join();

  qmlir_bundle *bundle = nullptr;
  EXPECT_EQ(qmlir_bundle_open(nullptr, &bundle), QMLIR_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qmlir_last_error()).find("directory is null"),
            std::string::npos);
  // Another thread's failure is not seen here, and vice versa.
  std::thread([] { EXPECT_STREQ(qmlir_last_error(), ""); }).join();
  EXPECT_NE(std::string(qmlir_last_error()), "");
}

TEST(RuntimeApiTest, NullHandles) {
  EXPECT_EQ(qmlir_bundle_open("/tmp", nullptr), QMLIR_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(qmlir_bundle_load(nullptr), QMLIR_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(qmlir_launch(nullptr, "k", 1, kArgs, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(qmlir_last_error()).find("bundle is null"),
            std::string::npos);
  EXPECT_EQ(qmlir_bundle_kernel_count(nullptr), 0u);
  EXPECT_EQ(qmlir_bundle_kernel_name(nullptr, 0), nullptr);
  qmlir_bundle_close(nullptr); // a no-op
}

//===----------------------------------------------------------------------===//
// Opening
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, ValidBundleOpensAndListsItsKernels) {
  openValid();
  ASSERT_EQ(qmlir_bundle_kernel_count(bundle), 2u);
  EXPECT_STREQ(qmlir_bundle_kernel_name(bundle, 0), "matmul_plain");
  EXPECT_STREQ(qmlir_bundle_kernel_name(bundle, 1), "matmul_zeros");
  EXPECT_EQ(qmlir_bundle_kernel_name(bundle, 2), nullptr);
  expectMessage({"index 2 is out of range", "2 kernels"});
}

TEST_F(RuntimeTest, KernelInfoDescribesTheManifestEntry) {
  openValid();
  qmlir_kernel_info info;
  ASSERT_EQ(qmlir_bundle_kernel_info(bundle, "matmul_zeros", &info),
            QMLIR_SUCCESS)
      << qmlir_last_error();
  const json &entry = manifest["kernels"][1];
  EXPECT_STREQ(info.name, "matmul_zeros");
  EXPECT_STREQ(info.op, "matmul");
  EXPECT_EQ(info.n, entry["n"].get<int64_t>());
  EXPECT_EQ(info.k, entry["k"].get<int64_t>());
  EXPECT_EQ(std::string(info.scheme), entry["scheme"].get<std::string>());
  EXPECT_EQ(std::string(info.activation), entry["activation"].get<std::string>());
  EXPECT_EQ(info.num_args, entry["arguments"].size());
  EXPECT_EQ(info.m_min, entry["launch"]["m_min"].get<int64_t>());
  EXPECT_EQ(info.m_max, entry["launch"]["m_max"].get<int64_t>());

  EXPECT_EQ(qmlir_bundle_kernel_info(bundle, "matmul_other", &info),
            QMLIR_ERROR_NOT_FOUND);
  expectMessage({"qmlir_bundle_kernel_info: no kernel 'matmul_other'",
                 "'matmul_plain', 'matmul_zeros'"});
  EXPECT_EQ(qmlir_bundle_kernel_info(bundle, "matmul_plain", nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"info"});
}

TEST_F(RuntimeTest, KernelLayoutDefaultsToCanonical) {
  kernel0()["layout"] = "mma_tile";
  openValid();
  qmlir_kernel_info info;
  ASSERT_EQ(qmlir_bundle_kernel_info(bundle, "matmul_plain", &info),
            QMLIR_SUCCESS);
  EXPECT_STREQ(info.layout, "mma_tile");
  ASSERT_EQ(qmlir_bundle_kernel_info(bundle, "matmul_zeros", &info),
            QMLIR_SUCCESS);
  EXPECT_STREQ(info.layout, "canonical");
}

TEST_F(RuntimeTest, UnknownLayout) {
  kernel0()["layout"] = "swizzled";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].layout", "unknown layout \"swizzled\"",
                   "\"canonical\", \"mma_tile\" and \"mma_tile_linear\""});
}

TEST_F(RuntimeTest, LayoutTheSchemeCannotUse) {
  // 3-bit codes have no tensor-core layout: refused, not misread.
  manifest["kernels"][1]["layout"] = "mma_tile";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST, {"kernels[1].layout", "3-bit"});
}

TEST_F(RuntimeTest, LinearLayoutTheSchemeCannotUse) {
  manifest["kernels"][1]["layout"] = "mma_tile_linear";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[1].layout", "mma_tile_linear", "3-bit"});
}

TEST_F(RuntimeTest, GridRowsPerBlock) {
  kernel0()["launch"]["grid"] = {2, "M/16", 1};
  openValid();
  kernel0()["launch"]["grid"][1] = "M/0";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.grid[1]",
                   "expected \"M/\" and a positive number of rows, got \"M/0\""});
  kernel0()["launch"]["grid"][1] = "M/x";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.grid[1]", "\"M/x\""});
  // Only the grid divides M: a block is not tiled over M.
  kernel0()["launch"]["grid"] = {2, "M", 1};
  kernel0()["launch"]["block"] = {"M/16", 1, 1};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST, {"kernels[0].launch.block[0]"});
}

TEST_F(RuntimeTest, FloatZerosAndPerChannelSchemesOpen) {
  json &k = manifest["kernels"][1];
  k["scheme"] = "#qmlir.scheme<i8, group = channel, scale = f32, zero = float>";
  k["arguments"] = {
      argument("x", "bf16", "M", 512), argument("codes", "i32", 128, 128),
      argument("scales", "f32", 128, 1), argument("zeros", "f32", 128, 1),
      argument("out", "bf16", "M", 128)};
  openValid();
}

// The arguments follow the scheme's storage parts, whatever the format:
// shapes written out by hand from the layouts in Format.h.
TEST_F(RuntimeTest, EveryFormatsPartsAreAccepted) {
  json &k = manifest["kernels"][1];
  struct Case {
    const char *scheme;
    std::vector<json> parts;
  };
  std::vector<Case> cases = {
      // MXFP4: 4-bit codes (64 words of 512 x 4 bits), one e8m0 scale per 32.
      {"#qmlir.scheme<mxfp4>",
       {argument("codes", "i32", 128, 64),
        argument("scales", "f8E8M0FNU", 128, 16)}},
      // lut3 with a codebook per group of 64: 8 groups x 8 entries.
      {"#qmlir.scheme<lut3, group = 64, scale = f16, codebook = group>",
       {argument("codes", "i32", 128, 48),
        argument("codebook", "f16", 128, 64)}},
      // bcq2: two planes of 16 words; two alphas per group of 128.
      {"#qmlir.scheme<bcq2, group = 128, scale = f16>",
       {argument("codes", "i32", 128, 32), argument("scales", "f16", 128, 8)}},
      // ternary: 20 trits per word, ceil(512 / 20) = 26 words.
      {"#qmlir.scheme<ternary, group = channel, scale = bf16>",
       {argument("codes", "i32", 128, 26), argument("scales", "bf16", 128, 1)}},
      // act-order adds g_idx, one group per column.
      {"#qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>",
       {argument("codes", "i32", 128, 64), argument("scales", "f16", 128, 4),
        argument("zeros", "i32", 128, 1), argument("g_idx", "i32", 1, 512)}},
  };
  for (const Case &c : cases) {
    k["scheme"] = c.scheme;
    k["activation"] = "bf16";
    json arguments = json::array({argument("x", "bf16", "M", 512)});
    for (const json &part : c.parts)
      arguments.push_back(part);
    arguments.push_back(argument("out", "bf16", "M", 128));
    k["arguments"] = arguments;
    writeBundle();
    EXPECT_EQ(open(), QMLIR_SUCCESS) << c.scheme << ": " << qmlir_last_error();
    qmlir_bundle_close(bundle);
    bundle = nullptr;
  }
}

TEST_F(RuntimeTest, UnknownFieldsAreIgnored) {
  manifest["comment"] = "written by hand";
  manifest["modules"][0]["compiler"] = {{"ptxas", "13.0"}};
  kernel0()["launch"]["notes"] = json::array({1, 2, 3});
  kernel0()["arguments"][0]["layout"] = "row-major";
  openValid();
}

TEST_F(RuntimeTest, MissingDirectory) {
  std::string missing = dir + "/nowhere";
  EXPECT_EQ(qmlir_bundle_open(missing.c_str(), &bundle), QMLIR_ERROR_IO);
  EXPECT_EQ(bundle, nullptr);
  expectMessage({missing, "does not exist"});
}

TEST_F(RuntimeTest, DirectoryIsAFile) {
  writeFile("plain", std::string("not a directory"));
  std::string file = dir + "/plain";
  EXPECT_EQ(qmlir_bundle_open(file.c_str(), &bundle), QMLIR_ERROR_IO);
  expectMessage({file, "is not a directory"});
}

TEST_F(RuntimeTest, MissingManifest) {
  writeFile("qmlir_kernels.cubin", cubin);
  EXPECT_EQ(open(), QMLIR_ERROR_IO);
  expectMessage({dir + "/manifest.json", "No such file"});
}

TEST_F(RuntimeTest, MalformedJson) {
  writeFile("manifest.json", std::string("{\"format\": \"qmlir-bundle\",\n }"));
  writeFile("qmlir_kernels.cubin", cubin);
  EXPECT_EQ(open(), QMLIR_ERROR_BAD_MANIFEST);
  expectMessage({"manifest.json: malformed JSON", "line 2"});
}

TEST_F(RuntimeTest, TopLevelNotAnObject) {
  writeFile("manifest.json", std::string("[1, 2]"));
  EXPECT_EQ(open(), QMLIR_ERROR_BAD_MANIFEST);
  expectMessage({"manifest.json: expected an object, got [1,2]"});
}

TEST_F(RuntimeTest, WrongFormat) {
  manifest["format"] = "onnx";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"manifest.json: format", "\"qmlir-bundle\"", "\"onnx\""});
}

TEST_F(RuntimeTest, FormatVersion4) {
  manifest["format_version"] = 4;
  // A newer bundle may differ in anything else: the version is read first.
  manifest.erase("kernels");
  expectOpenFails(QMLIR_ERROR_VERSION,
                  {"format_version", "version 4", "reads version 3"});
}

TEST_F(RuntimeTest, FormatVersion2) {
  // Bundles of the second format (no layouts, one kernel per layer) are
  // refused, not misread.
  manifest["format_version"] = 2;
  expectOpenFails(QMLIR_ERROR_VERSION,
                  {"format_version", "version 2", "reads version 3"});
}

TEST_F(RuntimeTest, AbiVersion0) {
  manifest["abi_version"] = 0;
  expectOpenFails(QMLIR_ERROR_VERSION,
                  {"abi_version", "ABI version 0", "supports version 1"});
}

TEST_F(RuntimeTest, MissingField) {
  kernel0()["launch"].erase("m_max");
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch: missing field \"m_max\""});
}

TEST_F(RuntimeTest, BadArch) {
  manifest["target"]["arch"] = "compute_90";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST, {"target.arch", "compute_90"});
}

TEST_F(RuntimeTest, ArchInconsistentWithComputeCapability) {
  manifest["target"]["compute_capability"] = {8, 0};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"target.compute_capability", "[8, 0]", "sm_90a",
                   "compute capability 9.0"});
}

TEST_F(RuntimeTest, MissingModuleFile) {
  manifest["modules"][0]["cubin"] = "other.cubin";
  expectOpenFails(QMLIR_ERROR_IO,
                  {dir + "/other.cubin", "qmlir_kernels", "No such file"});
}

TEST_F(RuntimeTest, CubinOutsideTheBundle) {
  manifest["modules"][0]["cubin"] = "../qmlir_kernels.cubin";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"modules[0].cubin", "../qmlir_kernels.cubin"});
}

TEST_F(RuntimeTest, BadChecksumField) {
  manifest["modules"][0]["fnv1a64"] = "ABCDEF";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"modules[0].fnv1a64", "16 lowercase hexadecimal", "ABCDEF"});
}

TEST_F(RuntimeTest, TruncatedCubin) {
  writeBundle();
  cubin.resize(300);
  writeFile("qmlir_kernels.cubin", cubin);
  EXPECT_EQ(open(), QMLIR_ERROR_BAD_CUBIN);
  expectMessage(
      {"qmlir_kernels.cubin", "is 300 bytes", "says 512", "truncated"});
}

TEST_F(RuntimeTest, CorruptCubin) {
  writeBundle();
  cubin[100] ^= 0x10;
  writeFile("qmlir_kernels.cubin", cubin);
  EXPECT_EQ(open(), QMLIR_ERROR_BAD_CUBIN);
  expectMessage(
      {"qmlir_kernels.cubin", "checksum " + hex(fnv(cubin)), "corrupt"});
}

TEST_F(RuntimeTest, NotAnElf) {
  std::vector<unsigned char> text(200, 'x');
  setCubin(text);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN,
                  {"qmlir_kernels.cubin", "not an ELF file", "78 78 78 78"});
}

TEST_F(RuntimeTest, TooSmallForAnElfHeader) {
  std::vector<unsigned char> bytes = fakeCubin();
  bytes.resize(20);
  setCubin(bytes);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN, {"20 bytes", "too small"});
}

TEST_F(RuntimeTest, Elf32) {
  std::vector<unsigned char> bytes = fakeCubin();
  bytes[4] = 1; // ELFCLASS32
  setCubin(bytes);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN, {"not a 64-bit ELF"});
}

TEST_F(RuntimeTest, WrongMachine) {
  std::vector<unsigned char> bytes = fakeCubin();
  bytes[18] = 62; // EM_X86_64
  setCubin(bytes);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN,
                  {"machine 62", "not a CUDA cubin", "e_machine 190"});
}

TEST_F(RuntimeTest, SectionTableOutsideTheFile) {
  std::vector<unsigned char> bytes = fakeCubin();
  put(bytes, 40, 480, 8); // e_shoff: two 64-byte headers from 480 > 512
  setCubin(bytes);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN,
                  {"section header table", "[480, 480 + 128)",
                   "past the end of the file (512 bytes)"});
}

TEST_F(RuntimeTest, SectionOutsideTheFile) {
  std::vector<unsigned char> bytes = fakeCubin();
  put(bytes, kSectionTable + 64 + 32, 1000, 8); // sh_size of section 1
  setCubin(bytes);
  expectOpenFails(QMLIR_ERROR_BAD_CUBIN,
                  {"section 1 [64, 64 + 1000)", "past the end of the file"});
}

TEST_F(RuntimeTest, DuplicateKernelName) {
  manifest["kernels"][1]["name"] = "matmul_plain";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[1].name", "duplicate", "matmul_plain"});
}

TEST_F(RuntimeTest, KernelReferencesUnknownModule) {
  kernel0()["module"] = "elsewhere";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].module", "\"elsewhere\"", "qmlir_kernels"});
}

TEST_F(RuntimeTest, UnsupportedOp) {
  kernel0()["op"] = "conv";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST, {"kernels[0].op", "\"conv\""});
}

TEST_F(RuntimeTest, BadScheme) {
  kernel0()["scheme"] = "#qmlir.scheme<i9, group = 128, scale = f16>";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].scheme", "cannot parse", "bit-width"});
}

TEST_F(RuntimeTest, SchemeDoesNotFitK) {
  kernel0()["k"] = 500;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].scheme", "not divisible by the group size 128"});
}

TEST_F(RuntimeTest, NonPositiveN) {
  kernel0()["n"] = 0;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].n: expected a positive integer, got 0"});
}

TEST_F(RuntimeTest, BadActivation) {
  kernel0()["activation"] = "f32";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].activation", "\"f32\""});
}

TEST_F(RuntimeTest, CodesShapeInconsistentWithScheme) {
  // 512 four-bit codes take 64 words, not 128.
  kernel0()["arguments"][1]["shape"] = {256, 128};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].arguments[1].shape", "'codes'", "[256, 64]",
                   "got [256, 128]"});
}

TEST_F(RuntimeTest, WrongElementType) {
  kernel0()["arguments"][2]["element"] = "bf16";
  expectOpenFails(
      QMLIR_ERROR_BAD_MANIFEST,
      {"kernels[0].arguments[2].element", "'scales'", "\"f16\"", "\"bf16\""});
}

TEST_F(RuntimeTest, OutputRowsMustBeM) {
  kernel0()["arguments"][3]["shape"] = {16, 256};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].arguments[3].shape", "[\"M\", 256]"});
}

TEST_F(RuntimeTest, ZerosForSchemeWithoutZeros) {
  json &args = kernel0()["arguments"];
  args.insert(args.begin() + 3, argument("zeros", "i32", 256, 4));
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].arguments", "#qmlir.scheme<i4, group = 128, scale = f16>",
                   "(x, codes, scales, out)",
                   "(x, codes, scales, zeros, out)"});
}

TEST_F(RuntimeTest, MissingZeros) {
  json &args = manifest["kernels"][1]["arguments"];
  args.erase(args.begin() + 3);
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[1].arguments", "zero = int",
                   "(x, codes, scales, zeros, out)"});
}

TEST_F(RuntimeTest, BadGridEntry) {
  kernel0()["launch"]["grid"][1] = "N";
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"manifest.json: kernels[0].launch.grid[1]: expected an "
                   "integer or \"M\", got \"N\""});
}

TEST_F(RuntimeTest, GridWithTwoEntries) {
  kernel0()["launch"]["grid"] = {2, "M"};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.grid", "array of 3 entries"});
}

TEST_F(RuntimeTest, BlockTooLarge) {
  kernel0()["launch"]["block"] = {256, 8, 1};
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.block", "2048 threads", "1024"});
}

TEST_F(RuntimeTest, BlockNotPositive) {
  kernel0()["launch"]["block"][2] = 0;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.block[2]: expected a positive integer"});
}

TEST_F(RuntimeTest, NegativeSharedMemory) {
  kernel0()["launch"]["shared_memory_bytes"] = -1;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.shared_memory_bytes", "-1"});
}

TEST_F(RuntimeTest, MMaxBelowMMin) {
  kernel0()["launch"]["m_min"] = 8;
  kernel0()["launch"]["m_max"] = 4;
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.m_max", "m_max = 4", "m_min = 8"});
}

TEST_F(RuntimeTest, MMaxBeyondGridLimit) {
  kernel0()["launch"]["m_max"] = 100000; // grid[1] is "M": at most 65535
  expectOpenFails(QMLIR_ERROR_BAD_MANIFEST,
                  {"kernels[0].launch.m_max", "100000", "65535", "grid[1]"});
}

//===----------------------------------------------------------------------===//
// Launching and loading
//===----------------------------------------------------------------------===//

TEST_F(RuntimeTest, LaunchUnknownKernel) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_other", 1, kArgs, 4, nullptr),
            QMLIR_ERROR_NOT_FOUND);
  expectMessage({"no kernel 'matmul_other'", "'matmul_plain', 'matmul_zeros'"});
}

TEST_F(RuntimeTest, LaunchNullKernelName) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, nullptr, 1, kArgs, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"kernel (the kernel name) is null"});
}

TEST_F(RuntimeTest, LaunchMZero) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 0, kArgs, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"'matmul_plain'", "M must be at least 1, got 0"});
}

TEST_F(RuntimeTest, LaunchMBelowMMin) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_zeros", 1, kArgs, 5, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"M must be at least 2, got 1"});
}

TEST_F(RuntimeTest, LaunchMAboveMMax) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4097, kArgs, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"M must be at most 4096", "got 4097"});
}

TEST_F(RuntimeTest, LaunchWrongArgumentCount) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_zeros", 4, kArgs, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"'matmul_zeros'", "expected 5 arguments",
                 "(x, codes, scales, zeros, out)", "got 4"});
}

TEST_F(RuntimeTest, LaunchNullArgs) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4, nullptr, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"args is null"});
}

TEST_F(RuntimeTest, LaunchNullPointer) {
  openValid();
  void *args[4] = {kArgs[0], kArgs[1], nullptr, kArgs[3]};
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4, args, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"argument 2 ('scales') is a null pointer"});
}

TEST_F(RuntimeTest, LaunchMisalignedPointer) {
  openValid();
  void *args[4] = {kArgs[0], (void *)0x1008, kArgs[2], kArgs[3]};
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4, args, 4, nullptr),
            QMLIR_ERROR_INVALID_ARGUMENT);
  expectMessage({"argument 1 ('codes') = 0x1008", "not 16-byte aligned"});
}

TEST_F(RuntimeTest, LaunchBeforeLoad) {
  openValid();
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4, kArgs, 4, nullptr),
            QMLIR_ERROR_NOT_LOADED);
  expectMessage({"is not loaded", "qmlir_bundle_load"});
  EXPECT_EQ(qmlir_launch(bundle, "matmul_zeros", 64, kArgs, 5, nullptr),
            QMLIR_ERROR_NOT_LOADED);
}

TEST_F(RuntimeTest, LoadWithoutGpu) {
  openValid();
  // Without libcuda: NO_DRIVER. With libcuda but no GPU, or with a GPU but no
  // current context (this test makes none): NO_DEVICE.
  void *driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  qmlir_status status = qmlir_bundle_load(bundle);
  if (!driver) {
    EXPECT_EQ(status, QMLIR_ERROR_NO_DRIVER) << qmlir_last_error();
    expectMessage({"cannot load the CUDA driver (libcuda.so.1)"});
  } else {
    EXPECT_TRUE(status == QMLIR_ERROR_NO_DEVICE ||
                status == QMLIR_ERROR_NO_DRIVER)
        << qmlir_status_name(status) << ": " << qmlir_last_error();
    dlclose(driver);
  }
  // A failed load leaves the bundle usable and unloaded.
  EXPECT_EQ(qmlir_launch(bundle, "matmul_plain", 4, kArgs, 4, nullptr),
            QMLIR_ERROR_NOT_LOADED);
  EXPECT_EQ(qmlir_bundle_kernel_count(bundle), 2u);
}

} // namespace
