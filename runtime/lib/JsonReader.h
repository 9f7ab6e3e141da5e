//===- JsonReader.h - Typed, path-aware access to a JSON manifest -*- C++ -*-===//
//
// Each accessor knows the path of the value it reads ("kernels[0].launch.grid
// [1]") and throws a ManifestError naming it; parseManifest turns that (and
// anything nlohmann throws) into a Status, so no exception leaves the
// manifest parser.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_LIB_JSONREADER_H
#define QMLIR_RUNTIME_LIB_JSONREADER_H

#include "Manifest.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::runtime {

struct ManifestError {
  qmlir_status code;
  std::string message;
};

inline std::string join(const std::string &path, const char *key) {
  return path.empty() ? std::string(key) : path + "." + key;
}
inline std::string element(const std::string &path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}
/// "a, b, c".
std::string list(const std::vector<std::string> &names);

class JsonReader {
public:
  using json = nlohmann::json;
  explicit JsonReader(const std::string &file) : file(file) {}

  [[noreturn]] void fail(const std::string &path, const std::string &what,
                         qmlir_status code = QMLIR_ERROR_BAD_MANIFEST) const;

  /// A JSON value as it appears in the file, shortened for messages.
  static std::string show(const json &value);

  const json &object(const json &value, const std::string &path) const;
  /// Member `key` of the object at `path`, which must be present.
  const json &field(const json &object, const std::string &path,
                    const char *key) const;
  /// Member `key`, or null if absent.
  const json *optionalField(const json &object, const char *key) const;
  const json &array(const json &value, const std::string &path,
                    std::optional<size_t> size = std::nullopt) const;
  /// A non-empty string without NUL characters.
  std::string string(const json &value, const std::string &path) const;
  int64_t integer(const json &value, const std::string &path,
                  int64_t min = std::numeric_limits<int64_t>::min()) const;
  bool boolean(const json &value, const std::string &path) const;
  /// A positive integer or "M".
  /// `tiled`: also accept "M/<rows>" (a grid entry).
  Dim dim(const json &value, const std::string &path, bool tiled = false) const;
  /// A plain file name: a bundle must not reach outside its directory.
  std::string fileName(const json &value, const std::string &path) const;
  /// 16 lowercase hexadecimal digits.
  uint64_t checksum(const json &value, const std::string &path) const;

private:
  const std::string &file;
};

/// Parses op, n, k, scheme, up_scheme, activation, bias and residual of a
/// kernel or layer entry at `path`.
void parseOp(const JsonReader &reader, const nlohmann::json &value,
             const std::string &path, OpSpec &op);
/// "matmul with #qmlir.scheme<...>, bias", for messages.
std::string describeOp(const OpSpec &op);

/// Parses the "layers" and "weights" sections into `manifest`, whose kernels
/// are already parsed (ManifestLayers.cpp).
void parseLayers(const JsonReader &reader, const nlohmann::json &root,
                 Manifest &manifest);

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_LIB_JSONREADER_H
