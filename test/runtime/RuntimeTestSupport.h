//===- RuntimeTestSupport.h - A fake bundle for the runtime tests -*- C++ -*-===//
//
// A bundle directory with a valid manifest and a fake cubin (a well-formed
// CUDA ELF that no driver needs to load), written per test so that each test
// can damage one thing and check the runtime's answer.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TEST_RUNTIME_RUNTIMETESTSUPPORT_H
#define QMLIR_TEST_RUNTIME_RUNTIMETESTSUPPORT_H

#include "qmlir/Runtime/qmlir_runtime.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// FNV-1a 64, written independently of the runtime's.
uint64_t fnv(const std::vector<unsigned char> &bytes) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char byte : bytes)
    hash = (hash ^ byte) * 1099511628211ull;
  return hash;
}

std::string hex(uint64_t value) {
  char text[17];
  snprintf(text, sizeof(text), "%016llx", (unsigned long long)value);
  return text;
}

void put(std::vector<unsigned char> &bytes, size_t offset, uint64_t value,
         size_t size) {
  for (size_t i = 0; i < size; ++i)
    bytes[offset + i] = (unsigned char)(value >> (8 * i));
}

constexpr size_t kSectionTable = 256; // offset of the fake's section headers

/// A little-endian ELF64 file for EM_CUDA: a header, filler bytes and, at
/// kSectionTable, two section headers (the null one and one of 128 bytes at
/// offset 64).
std::vector<unsigned char> fakeCubin(size_t size = 512) {
  std::vector<unsigned char> bytes(size);
  for (size_t i = 0; i < size; ++i)
    bytes[i] = (unsigned char)(i * 7 + 3);
  std::fill(bytes.begin(), bytes.begin() + 64, 0);
  const unsigned char ident[8] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0x33};
  std::copy(ident, ident + 8, bytes.begin());
  put(bytes, 16, 2, 2);             // e_type = ET_EXEC
  put(bytes, 18, 190, 2);           // e_machine = EM_CUDA
  put(bytes, 20, 1, 4);             // e_version
  put(bytes, 40, kSectionTable, 8); // e_shoff
  put(bytes, 52, 64, 2);            // e_ehsize
  put(bytes, 58, 64, 2);            // e_shentsize
  put(bytes, 60, 2, 2);             // e_shnum
  std::fill(bytes.begin() + kSectionTable, bytes.begin() + kSectionTable + 128,
            0);
  size_t section1 = kSectionTable + 64;
  put(bytes, section1 + 4, 1, 4);    // sh_type = SHT_PROGBITS
  put(bytes, section1 + 24, 64, 8);  // sh_offset
  put(bytes, section1 + 32, 128, 8); // sh_size
  return bytes;
}

json argument(const char *name, const char *element, json rows, json cols) {
  return {{"name", name}, {"element", element}, {"shape", {rows, cols}}};
}

/// A valid manifest: two matmul kernels in one module, one of them with
/// integer zero points.
json validManifest(const std::vector<unsigned char> &cubin) {
  json plain = {
      {"name", "matmul_plain"},
      {"module", "qmlir_kernels"},
      {"op", "matmul"},
      {"n", 256},
      {"k", 512},
      {"scheme", "#qmlir.scheme<i4, group = 128, scale = f16>"},
      {"activation", "f16"},
      {"launch",
       {{"block", {128, 1, 1}},
        {"grid", {2, "M", 1}},
        {"shared_memory_bytes", 0},
        {"m_min", 1},
        {"m_max", 4096}}},
      {"arguments",
       {argument("x", "f16", "M", 512), argument("codes", "i32", 256, 64),
        argument("scales", "f16", 256, 4), argument("out", "f16", "M", 256)}}};
  // u3 codes straddle words: 512 * 3 bits = 48 words per row; 8 groups of 64
  // give 8 * 3 bits = 1 word of zeros per row.
  json zeros = {
      {"name", "matmul_zeros"},
      {"module", "qmlir_kernels"},
      {"op", "matmul"},
      {"n", 128},
      {"k", 512},
      {"scheme", "#qmlir.scheme<u3, group = 64, scale = bf16, zero = int>"},
      {"activation", "bf16"},
      {"launch",
       {{"block", {64, 2, 1}},
        {"grid", {"M", 4, 1}},
        {"shared_memory_bytes", 65536},
        {"m_min", 2},
        {"m_max", 64}}},
      {"arguments",
       {argument("x", "bf16", "M", 512), argument("codes", "i32", 128, 48),
        argument("scales", "bf16", 128, 8), argument("zeros", "i32", 128, 1),
        argument("out", "bf16", "M", 128)}}};
  return {{"format", "qmlir-bundle"},
          {"format_version", QMLIR_BUNDLE_FORMAT_VERSION},
          {"abi_version", 1},
          {"producer", "RuntimeTest"},
          {"target", {{"arch", "sm_90a"}, {"compute_capability", {9, 0}}}},
          {"modules",
           {{{"name", "qmlir_kernels"},
             {"cubin", "qmlir_kernels.cubin"},
             {"bytes", cubin.size()},
             {"fnv1a64", hex(fnv(cubin))}}}},
          {"kernels", {plain, zeros}}};
}

class RuntimeTest : public ::testing::Test {
protected:
  void SetUp() override {
    std::string pattern =
        (fs::temp_directory_path() / "qmlir-runtime-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    cubin = fakeCubin();
    manifest = validManifest(cubin);
  }
  void TearDown() override {
    qmlir_bundle_close(bundle);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  void writeFile(const std::string &name, const std::string &text) {
    std::ofstream(fs::path(dir) / name, std::ios::binary) << text;
  }
  void writeFile(const std::string &name,
                 const std::vector<unsigned char> &bytes) {
    std::ofstream(fs::path(dir) / name, std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()),
               std::streamsize(bytes.size()));
  }
  /// Writes `manifest` and `cubin` as they are now.
  void writeBundle() {
    writeFile("manifest.json", manifest.dump(2));
    writeFile("qmlir_kernels.cubin", cubin);
  }
  /// Replaces the cubin and updates the manifest's size and checksum.
  void setCubin(std::vector<unsigned char> bytes) {
    cubin = std::move(bytes);
    manifest["modules"][0]["bytes"] = cubin.size();
    manifest["modules"][0]["fnv1a64"] = hex(fnv(cubin));
  }

  qmlir_status open() { return qmlir_bundle_open(dir.c_str(), &bundle); }

  /// Writes the bundle and expects opening it to fail with `status` and a
  /// message containing every one of `parts`.
  void expectOpenFails(qmlir_status status,
                       std::initializer_list<std::string> parts) {
    writeBundle();
    EXPECT_EQ(open(), status) << qmlir_last_error();
    EXPECT_EQ(bundle, nullptr);
    expectMessage(parts);
  }
  void expectMessage(std::initializer_list<std::string> parts) {
    std::string message = qmlir_last_error();
    for (const std::string &part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message: " << message << "\nexpected to contain: " << part;
  }

  void openValid() {
    writeBundle();
    ASSERT_EQ(open(), QMLIR_SUCCESS) << qmlir_last_error();
    ASSERT_NE(bundle, nullptr);
  }

  json &kernel0() { return manifest["kernels"][0]; }

  std::string dir;
  std::vector<unsigned char> cubin;
  json manifest;
  qmlir_bundle *bundle = nullptr;
};

// Aligned, never dereferenced: launches fail before reaching the GPU.
void *const kArgs[5] = {(void *)0x10000, (void *)0x20000, (void *)0x30000,
                        (void *)0x40000, (void *)0x50000};

} // namespace

#endif // QMLIR_TEST_RUNTIME_RUNTIMETESTSUPPORT_H
