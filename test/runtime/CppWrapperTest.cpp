//===- CppWrapperTest.cpp - qmlir_runtime.hpp without a GPU ---------------===//
//
// The C++ wrapper's own behaviour: the version check, errors that carry the
// runtime's status and message, and ownership of the handle. What the
// runtime checks is tested through the C API in RuntimeTest.cpp.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/qmlir_runtime.hpp"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>

namespace fs = std::filesystem;

namespace {

static_assert(!std::is_copy_constructible_v<qmlir::Bundle>);
static_assert(std::is_nothrow_move_constructible_v<qmlir::Bundle>);
static_assert(std::is_nothrow_move_assignable_v<qmlir::Bundle>);

/// A fresh temporary directory, removed at the end of the test.
class TempDir {
public:
  TempDir() {
    std::string pattern =
        (fs::temp_directory_path() / "qmlir-cpp-wrapper-XXXXXX").string();
    if (mkdtemp(pattern.data()))
      path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

/// Runs `body`, expecting a qmlir::Error with `status` whose message contains
/// `part`; returns the error's what().
template <typename Body>
std::string expectError(qmlir_status status, const std::string &part,
                        Body &&body) {
  try {
    body();
  } catch (const qmlir::Error &error) {
    EXPECT_EQ(error.status(), status) << error.what();
    EXPECT_STREQ(error.statusName(), qmlir_status_name(status));
    EXPECT_NE(error.message().find(part), std::string::npos)
        << "message: " << error.message() << "\nexpected: " << part;
    return error.what();
  }
  ADD_FAILURE() << "no qmlir::Error thrown";
  return "";
}

TEST(CppWrapper, VersionMatchesHeader) {
  EXPECT_EQ(qmlir::runtimeVersion(), QMLIR_RUNTIME_API_VERSION);
  EXPECT_NO_THROW(qmlir::checkRuntimeVersion());
}

TEST(CppWrapper, MissingBundleThrowsIoErrorNamingThePath) {
  TempDir dir;
  std::string missing = dir.path + "/no-such-bundle";
  std::string what = expectError(QMLIR_ERROR_IO, missing,
                                 [&] { qmlir::Bundle::open(missing); });
  // what() is "STATUS_NAME: message".
  EXPECT_EQ(what.rfind("QMLIR_ERROR_IO: qmlir_bundle_open", 0), 0u) << what;
}

TEST(CppWrapper, CorruptManifestThrowsBadManifest) {
  TempDir dir;
  std::ofstream(dir.path + "/manifest.json") << "{\"format\": \"qmlir-bundle\",";
  expectError(QMLIR_ERROR_BAD_MANIFEST, "manifest.json",
              [&] { qmlir::Bundle::open(dir.path); });
}

TEST(CppWrapper, ManifestOfAnotherFormatThrows) {
  TempDir dir;
  std::ofstream(dir.path + "/manifest.json") << "[1, 2, 3]";
  expectError(QMLIR_ERROR_BAD_MANIFEST, "manifest.json",
              [&] { qmlir::Bundle::open(dir.path); });
}

TEST(CppWrapper, ErrorKeepsItsMessageAfterLaterFailures) {
  TempDir dir;
  std::string first = dir.path + "/first";
  try {
    qmlir::Bundle::open(first);
    FAIL() << "no qmlir::Error thrown";
  } catch (const qmlir::Error &error) {
    // A later failure replaces qmlir_last_error(), not the caught message.
    EXPECT_THROW(qmlir::Bundle::open(dir.path + "/second"), qmlir::Error);
    EXPECT_NE(error.message().find(first), std::string::npos);
    EXPECT_EQ(error.message().find("second"), std::string::npos);
  }
}

TEST(CppWrapper, EmptyBundleCallsFailThroughTheRuntime) {
  qmlir::Bundle empty;
  EXPECT_FALSE(empty);
  EXPECT_EQ(empty.kernelCount(), 0u);
  // The runtime, not the wrapper, rejects the null handle.
  expectError(QMLIR_ERROR_INVALID_ARGUMENT, "bundle is null",
              [&] { empty.load(); });
  expectError(QMLIR_ERROR_INVALID_ARGUMENT, "bundle",
              [&] { empty.kernel("matmul0"); });
}

TEST(CppWrapper, MovedFromBundleIsEmptyAndCloseIsIdempotent) {
  qmlir::Bundle a;
  qmlir::Bundle b(std::move(a));
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
  b.close();
  b.close();
  EXPECT_EQ(b.release(), nullptr);
}

} // namespace
