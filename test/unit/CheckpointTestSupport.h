//===- CheckpointTestSupport.h - Helpers for the checkpoint tests -*- C++ -*-===//

#ifndef QMLIR_TEST_UNIT_CHECKPOINTTESTSUPPORT_H
#define QMLIR_TEST_UNIT_CHECKPOINTTESTSUPPORT_H

#include "qmlir/Checkpoint/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <string>

namespace qmlir::checkpoint::test_support {

/// The error text of an Expected that must have failed ("" if it did not).
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  if (value)
    return "";
  return llvm::toString(value.takeError());
}
inline std::string errorOf(llvm::Error error) {
  return error ? llvm::toString(std::move(error)) : "";
}

/// A fresh temporary directory, removed with the object.
struct TempDir {
  llvm::SmallString<128> path;
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("qmlir-ckpt-test", path));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    return (path + "/" + name).str();
  }
  void write(llvm::StringRef name, llvm::StringRef contents) const {
    std::error_code ec;
    llvm::raw_fd_ostream os(file(name), ec);
    ASSERT_FALSE(ec);
    os << contents;
  }
};

/// A raw safetensors file: the length, `header` and `data` as given.
inline std::string rawFile(llvm::StringRef header, llvm::StringRef data) {
  std::string result(8, '\0');
  llvm::support::endian::write64le(result.data(), header.size());
  return result + header.str() + data.str();
}

} // namespace qmlir::checkpoint::test_support

#endif // QMLIR_TEST_UNIT_CHECKPOINTTESTSUPPORT_H
