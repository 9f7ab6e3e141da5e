//===- Manifest.cpp - A bundle's manifest.json, parsed and checked --------===//
//
// A small recursive reader over nlohmann::json. Each accessor knows the path
// of the value it reads ("kernels[0].launch.grid[1]") and throws a private
// ManifestError naming it; parseManifest turns that (and anything nlohmann
// throws) into a Status, so no exception leaves this file. Unknown fields are
// ignored, so that later producers may add information.
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include "JsonReader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

using namespace qmlir::runtime;
using qmlir::core::FloatType;
using qmlir::core::Scheme;
using qmlir::core::ZeroKind;
using json = nlohmann::json;

bool TargetSpec::runsOn(int deviceMajor, int deviceMinor) const {
  if (archSpecific)
    return deviceMajor == major && deviceMinor == minor;
  return deviceMajor == major && deviceMinor >= minor;
}

std::string qmlir::runtime::formatShape(const Dim (&shape)[2]) {
  auto dim = [](const Dim &d) {
    return d.isM ? std::string("\"M\"") : std::to_string(d.value);
  };
  return "[" + dim(shape[0]) + ", " + dim(shape[1]) + "]";
}

uint64_t qmlir::runtime::arrayBytes(const std::string &element, int64_t rows,
                                   int64_t cols) {
  return core::elementByteSize(element) * uint64_t(rows) * uint64_t(cols);
}

std::vector<ArgumentSpec> qmlir::runtime::kernelArguments(const OpSpec &op) {
  const std::string act = core::toString(op.activation);
  const Dim m{true, 0};
  auto c = [](int64_t value) { return Dim{false, value}; };
  std::vector<ArgumentSpec> args;
  auto addParts = [&](const Scheme &scheme, const std::string &prefix) {
    for (const core::Part &part : scheme.parts(op.n, op.k))
      args.push_back(
          {prefix + part.name, part.element, {c(part.rows), c(part.cols)}});
  };
  args.push_back({"x", act, {m, c(op.k)}});
  if (op.isSwiglu()) {
    addParts(op.scheme, "gate.");
    addParts(op.upScheme, "up.");
  } else {
    addParts(op.scheme, "");
    if (op.hasBias)
      args.push_back({"bias", act, {c(1), c(op.n)}});
  }
  if (op.hasResidual)
    args.push_back({"residual", act, {m, c(op.n)}});
  args.push_back({"out", act, {m, c(op.n)}});
  return args;
}

std::string qmlir::runtime::describeOp(const OpSpec &op) {
  std::string text = op.op + " with " + op.schemeText;
  if (op.isSwiglu())
    text += " (gate) and " + op.upSchemeText + " (up)";
  if (op.hasBias)
    text += ", bias";
  if (op.hasResidual)
    text += ", residual";
  return text;
}

namespace {

Scheme parseScheme(const JsonReader &reader, const std::string &text,
                   const std::string &path, int64_t n, int64_t k) {
  std::string error;
  std::optional<Scheme> scheme = Scheme::parse(text, &error);
  if (!scheme)
    reader.fail(path, "cannot parse \"" + text + "\": " + error);
  if (std::string shapeError = scheme->validateShape(n, k); !shapeError.empty())
    reader.fail(path, text + " cannot describe [n, k] = [" +
                          std::to_string(n) + ", " + std::to_string(k) +
                          "] weights: " + shapeError);
  return *scheme;
}

} // namespace

void qmlir::runtime::parseOp(const JsonReader &reader,
                             const nlohmann::json &value,
                             const std::string &path, OpSpec &op) {
  op.op = reader.string(reader.field(value, path, "op"), join(path, "op"));
  if (op.op != "matmul" && op.op != "swiglu")
    reader.fail(join(path, "op"),
                "unsupported op \"" + op.op +
                    "\" (this runtime knows \"matmul\" and \"swiglu\")");
  op.n = reader.integer(reader.field(value, path, "n"), join(path, "n"), 1);
  op.k = reader.integer(reader.field(value, path, "k"), join(path, "k"), 1);
  op.schemeText = reader.string(reader.field(value, path, "scheme"),
                                join(path, "scheme"));
  op.scheme = parseScheme(reader, op.schemeText, join(path, "scheme"), op.n,
                          op.k);
  const nlohmann::json *up = reader.optionalField(value, "up_scheme");
  if (op.isSwiglu() != (up != nullptr))
    reader.fail(join(path, "up_scheme"),
                op.isSwiglu() ? "a swiglu needs \"up_scheme\""
                              : "only a swiglu has \"up_scheme\"");
  if (up) {
    op.upSchemeText = reader.string(*up, join(path, "up_scheme"));
    op.upScheme = parseScheme(reader, op.upSchemeText,
                              join(path, "up_scheme"), op.n, op.k);
  }

  std::string activation = reader.string(
      reader.field(value, path, "activation"), join(path, "activation"));
  if (activation == "f16")
    op.activation = FloatType::F16;
  else if (activation == "bf16")
    op.activation = FloatType::BF16;
  else
    reader.fail(join(path, "activation"),
                "expected \"f16\" or \"bf16\", got \"" + activation + "\"");

  // Epilogue flags default to false, so that plain matmuls read as before.
  if (const nlohmann::json *bias = reader.optionalField(value, "bias"))
    op.hasBias = reader.boolean(*bias, join(path, "bias"));
  if (const nlohmann::json *residual = reader.optionalField(value, "residual"))
    op.hasResidual = reader.boolean(*residual, join(path, "residual"));
  if (op.hasBias && op.isSwiglu())
    reader.fail(join(path, "bias"), "a swiglu has no bias epilogue");
}

//===----------------------------------------------------------------------===//
// JsonReader
//===----------------------------------------------------------------------===//

std::string qmlir::runtime::list(const std::vector<std::string> &names) {
  std::string result;
  for (const std::string &name : names)
    result += (result.empty() ? "" : ", ") + name;
  return result;
}

void JsonReader::fail(const std::string &path, const std::string &what,
                      qmlir_status code) const {
  throw ManifestError{code,
                      file + ": " + (path.empty() ? "" : path + ": ") + what};
}

std::string JsonReader::show(const json &value) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 60)
    text = text.substr(0, 57) + "...";
  return text;
}

const json &JsonReader::object(const json &value,
                               const std::string &path) const {
  if (!value.is_object())
    fail(path, "expected an object, got " + show(value));
  return value;
}

const json &JsonReader::field(const json &object, const std::string &path,
                              const char *key) const {
  auto it = object.find(key);
  if (it == object.end())
    fail(path, std::string("missing field \"") + key + "\"");
  return *it;
}

const json *JsonReader::optionalField(const json &object,
                                      const char *key) const {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

const json &JsonReader::array(const json &value, const std::string &path,
                              std::optional<size_t> size) const {
  if (!value.is_array() || (size && value.size() != *size))
    fail(path, "expected an array" +
                   (size ? " of " + std::to_string(*size) + " entries"
                         : std::string()) +
                   ", got " + show(value));
  return value;
}

std::string JsonReader::string(const json &value,
                               const std::string &path) const {
  if (!value.is_string())
    fail(path, "expected a string, got " + show(value));
  std::string text = value.get<std::string>();
  if (text.empty())
    fail(path, "expected a non-empty string, got \"\"");
  if (text.find('\0') != std::string::npos)
    fail(path, "the string contains a NUL character: " + show(value));
  return text;
}

int64_t JsonReader::integer(const json &value, const std::string &path,
                            int64_t min) const {
  if (!value.is_number_integer())
    fail(path, "expected an integer, got " + show(value));
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
    fail(path, "integer " + show(value) + " is too large");
  int64_t result = value.get<int64_t>();
  if (result < min)
    fail(path, min == 1 ? "expected a positive integer, got " + show(value)
                        : "expected an integer >= " + std::to_string(min) +
                              ", got " + show(value));
  return result;
}

bool JsonReader::boolean(const json &value, const std::string &path) const {
  if (!value.is_boolean())
    fail(path, "expected true or false, got " + show(value));
  return value.get<bool>();
}

Dim JsonReader::dim(const json &value, const std::string &path,
                    bool tiled) const {
  if (value.is_string() && value.get<std::string>() == "M")
    return Dim{true, 0};
  if (tiled && value.is_string() && value.get<std::string>().rfind("M/", 0) == 0) {
    const std::string text = value.get<std::string>().substr(2);
    int64_t rows = 0;
    bool digits = !text.empty() && text.size() <= 6 &&
                  text.find_first_not_of("0123456789") == std::string::npos;
    if (digits)
      rows = std::stoll(text);
    if (rows <= 0)
      fail(path, "expected \"M/\" and a positive number of rows, got " +
                     show(value));
    return Dim{true, 0, rows};
  }
  if (!value.is_number_integer())
    fail(path, "expected an integer or \"M\", got " + show(value));
  int64_t size = integer(value, path);
  if (size <= 0)
    fail(path, "expected a positive integer or \"M\", got " + show(value));
  return Dim{false, size};
}

std::string JsonReader::fileName(const json &value,
                                 const std::string &path) const {
  std::string name = string(value, path);
  if (name.find('/') != std::string::npos || name == "." || name == "..")
    fail(path, "expected a file name in the bundle directory, got \"" + name +
                   "\"");
  return name;
}

uint64_t JsonReader::checksum(const json &value,
                              const std::string &path) const {
  std::string text = string(value, path);
  uint64_t result = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), result, 16);
  bool lowercaseHex = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (text.size() != 16 || !lowercaseHex || ec != std::errc() ||
      end != text.data() + text.size())
    fail(path, "expected 16 lowercase hexadecimal digits, got \"" + text +
                   "\"");
  return result;
}

namespace {

// CUDA's limits on a launch.
constexpr int64_t kMaxThreadsPerBlock = 1024;
constexpr int64_t kMaxBlockZ = 64;
constexpr int64_t kMaxGrid[3] = {2147483647, 65535, 65535};

class Parser : JsonReader {
public:
  explicit Parser(const std::string &file) : JsonReader(file) {}

  void parse(const json &root, Manifest &manifest) {
    object(root, "");
    parseVersions(root, manifest);
    parseTarget(field(root, "", "target"), manifest.target);
    const json &modules = array(field(root, "", "modules"), "modules");
    for (size_t i = 0; i < modules.size(); ++i)
      manifest.modules.push_back(
          parseModule(modules[i], element("modules", i), manifest));
    const json &kernels = array(field(root, "", "kernels"), "kernels");
    for (size_t i = 0; i < kernels.size(); ++i)
      manifest.kernels.push_back(
          parseKernel(kernels[i], element("kernels", i), manifest));
    parseLayers(*this, root, manifest);
  }

private:
  //===--------------------------------------------------------------------===//
  // Sections
  //===--------------------------------------------------------------------===//

  /// Read first: a bundle of another version may differ in anything else.
  void parseVersions(const json &root, Manifest &manifest) const {
    const json &format = field(root, "", "format");
    if (!format.is_string() || format.get<std::string>() != "qmlir-bundle")
      fail("format", "expected \"qmlir-bundle\", got " + show(format) +
                         " (not a qmlir bundle manifest)");
    manifest.formatVersion =
        integer(field(root, "", "format_version"), "format_version");
    if (manifest.formatVersion != QMLIR_BUNDLE_FORMAT_VERSION)
      fail("format_version",
           "bundle format version " + std::to_string(manifest.formatVersion) +
               " is not supported: this runtime reads version " +
               std::to_string(QMLIR_BUNDLE_FORMAT_VERSION),
           QMLIR_ERROR_VERSION);
    manifest.abiVersion =
        integer(field(root, "", "abi_version"), "abi_version");
    if (manifest.abiVersion != QMLIR_KERNEL_ABI_VERSION)
      fail("abi_version",
           "kernel argument ABI version " +
               std::to_string(manifest.abiVersion) +
               " is not supported: this runtime supports version " +
               std::to_string(QMLIR_KERNEL_ABI_VERSION),
           QMLIR_ERROR_VERSION);
  }

  void parseTarget(const json &value, TargetSpec &target) const {
    object(value, "target");
    target.arch = string(field(value, "target", "arch"), "target.arch");
    // "sm_" then the capability as two or three digits, then maybe "a".
    std::string_view digits = target.arch;
    bool valid = digits.starts_with("sm_");
    if (valid) {
      digits.remove_prefix(3);
      target.archSpecific = digits.ends_with('a');
      if (target.archSpecific)
        digits.remove_suffix(1);
      valid = (digits.size() == 2 || digits.size() == 3) && digits[0] != '0' &&
              std::all_of(digits.begin(), digits.end(),
                          [](char c) { return c >= '0' && c <= '9'; });
    }
    if (!valid)
      fail("target.arch", "expected \"sm_NN\" or \"sm_NNa\" (e.g. \"sm_90a\"), "
                          "got \"" +
                              target.arch + "\"");
    int number = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), number);
    target.major = number / 10;
    target.minor = number % 10;

    const json &capability = array(field(value, "target", "compute_capability"),
                                   "target.compute_capability", 2);
    int64_t major = integer(capability[0], "target.compute_capability[0]", 0);
    int64_t minor = integer(capability[1], "target.compute_capability[1]", 0);
    if (major != target.major || minor != target.minor)
      fail("target.compute_capability",
           "[" + std::to_string(major) + ", " + std::to_string(minor) +
               "] does not match target.arch \"" + target.arch +
               "\" (compute capability " + std::to_string(target.major) + "." +
               std::to_string(target.minor) + ")");
  }

  ModuleSpec parseModule(const json &value, const std::string &path,
                         const Manifest &manifest) const {
    object(value, path);
    ModuleSpec module;
    module.name = string(field(value, path, "name"), join(path, "name"));
    for (size_t i = 0; i < manifest.modules.size(); ++i)
      if (manifest.modules[i].name == module.name)
        fail(join(path, "name"), "duplicate module name \"" + module.name +
                                     "\" (also modules[" + std::to_string(i) +
                                     "])");

    module.cubin = fileName(field(value, path, "cubin"), join(path, "cubin"));
    module.bytes =
        uint64_t(integer(field(value, path, "bytes"), join(path, "bytes"), 0));
    module.fnv1a64 =
        checksum(field(value, path, "fnv1a64"), join(path, "fnv1a64"));
    return module;
  }

  KernelSpec parseKernel(const json &value, const std::string &path,
                         const Manifest &manifest) const {
    object(value, path);
    KernelSpec kernel;
    kernel.name = string(field(value, path, "name"), join(path, "name"));
    for (size_t i = 0; i < manifest.kernels.size(); ++i)
      if (manifest.kernels[i].name == kernel.name)
        fail(join(path, "name"), "duplicate kernel name \"" + kernel.name +
                                     "\" (also kernels[" + std::to_string(i) +
                                     "])");

    std::string module =
        string(field(value, path, "module"), join(path, "module"));
    auto it = std::find_if(
        manifest.modules.begin(), manifest.modules.end(),
        [&](const ModuleSpec &spec) { return spec.name == module; });
    if (it == manifest.modules.end()) {
      std::vector<std::string> names;
      for (const ModuleSpec &spec : manifest.modules)
        names.push_back(spec.name);
      fail(join(path, "module"),
           "kernel \"" + kernel.name + "\" refers to module \"" + module +
               "\", which is not in \"modules\" (" +
               (names.empty() ? "none" : list(names)) + ")");
    }
    kernel.module = size_t(it - manifest.modules.begin());

    parseOp(*this, value, path, kernel);
    if (const json *layout = optionalField(value, "layout")) {
      const std::string layoutPath = join(path, "layout");
      std::string name = string(*layout, layoutPath);
      std::optional<qmlir::core::Layout> parsed = qmlir::core::parseLayout(name);
      if (!parsed)
        fail(layoutPath, "unknown layout \"" + name +
                             "\" (this runtime knows \"canonical\", "
                             "\"mma_tile\" and \"mma_tile_linear\")");
      kernel.layout = *parsed;
      for (const qmlir::core::Scheme *scheme : {&kernel.scheme, &kernel.upScheme}) {
        if (scheme == &kernel.upScheme && !kernel.isSwiglu())
          continue;
        std::string why =
            qmlir::core::layoutSupport(kernel.layout, *scheme, kernel.n, kernel.k);
        if (!why.empty())
          fail(layoutPath, why);
      }
    }
    parseLaunch(field(value, path, "launch"), join(path, "launch"),
                kernel.launch);
    parseArguments(field(value, path, "arguments"), join(path, "arguments"),
                   kernel.arguments);
    checkArguments(path, kernel);
    return kernel;
  }

  void parseLaunch(const json &value, const std::string &path,
                   LaunchSpec &launch) const {
    object(value, path);
    const std::string blockPath = join(path, "block");
    const json &block = array(field(value, path, "block"), blockPath, 3);
    int64_t threads = 1;
    for (size_t d = 0; d < 3; ++d) {
      int64_t size = integer(block[d], element(blockPath, d), 1);
      if (size > kMaxThreadsPerBlock || (d == 2 && size > kMaxBlockZ))
        fail(element(blockPath, d),
             "block size " + std::to_string(size) +
                 " exceeds the CUDA limit of " +
                 std::to_string(d == 2 ? kMaxBlockZ : kMaxThreadsPerBlock));
      launch.block[d] = unsigned(size);
      threads *= size;
    }
    if (threads > kMaxThreadsPerBlock)
      fail(blockPath, "block " + show(block) + " has " +
                          std::to_string(threads) +
                          " threads; CUDA allows at most " +
                          std::to_string(kMaxThreadsPerBlock));

    const std::string gridPath = join(path, "grid");
    const json &grid = array(field(value, path, "grid"), gridPath, 3);
    for (size_t d = 0; d < 3; ++d) {
      launch.grid[d] = dim(grid[d], element(gridPath, d), /*tiled=*/true);
      if (!launch.grid[d].isM && launch.grid[d].value > kMaxGrid[d])
        fail(element(gridPath, d), std::to_string(launch.grid[d].value) +
                                     " blocks exceed the CUDA limit of " +
                                     std::to_string(kMaxGrid[d]));
    }

    int64_t shared = integer(field(value, path, "shared_memory_bytes"),
                             join(path, "shared_memory_bytes"), 0);
    if (shared > std::numeric_limits<int32_t>::max())
      fail(join(path, "shared_memory_bytes"),
           std::to_string(shared) + " bytes is too large");
    launch.sharedMemoryBytes = unsigned(shared);

    launch.mMin = integer(field(value, path, "m_min"), join(path, "m_min"), 1);
    launch.mMax = integer(field(value, path, "m_max"), join(path, "m_max"), 1);
    if (launch.mMax < launch.mMin)
      fail(join(path, "m_max"),
           "m_max = " + std::to_string(launch.mMax) +
               " is less than m_min = " + std::to_string(launch.mMin));
    // A grid entry "M" must stay launchable for every allowed M.
    for (size_t d = 0; d < 3; ++d)
      if (launch.grid[d].isM &&
          launch.grid[d].resolve(launch.mMax) > kMaxGrid[d])
        fail(join(path, "m_max"),
             "m_max = " + std::to_string(launch.mMax) + " exceeds " +
                 std::to_string(kMaxGrid[d]) + " blocks, the CUDA limit of " +
                 element("grid", d) + ", which depends on M");
  }

  void parseArguments(const json &value, const std::string &path,
                      std::vector<ArgumentSpec> &arguments) const {
    array(value, path);
    if (value.size() > kMaxKernelArguments)
      fail(path, std::to_string(value.size()) +
                     " arguments; this runtime supports at most " +
                     std::to_string(kMaxKernelArguments));
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string argPath = element(path, i);
      const json &arg = object(value[i], argPath);
      ArgumentSpec spec;
      spec.name = string(field(arg, argPath, "name"), join(argPath, "name"));
      spec.element =
          string(field(arg, argPath, "element"), join(argPath, "element"));
      const std::string shapePath = join(argPath, "shape");
      const json &shape = array(field(arg, argPath, "shape"), shapePath, 2);
      for (size_t d = 0; d < 2; ++d)
        spec.shape[d] = dim(shape[d], element(shapePath, d));
      arguments.push_back(std::move(spec));
    }
  }

  /// The arguments must be exactly those of kernelArguments, so that the
  /// caller's buffers (sized by the same rules) match what the kernel reads.
  void checkArguments(const std::string &path,
                      const KernelSpec &kernel) const {
    std::vector<ArgumentSpec> expected = kernelArguments(kernel);
    std::vector<std::string> expectedNames, actualNames;
    for (const ArgumentSpec &arg : expected)
      expectedNames.push_back(arg.name);
    for (const ArgumentSpec &arg : kernel.arguments)
      actualNames.push_back(arg.name);
    const std::string argsPath = join(path, "arguments");
    if (expectedNames != actualNames)
      fail(argsPath, "a " + describeOp(kernel) + " takes the arguments (" +
                         list(expectedNames) + "), got (" +
                         list(actualNames) + ")");
    for (size_t i = 0; i < expected.size(); ++i) {
      const ArgumentSpec &want = expected[i];
      const ArgumentSpec &got = kernel.arguments[i];
      const std::string argPath = element(argsPath, i);
      if (got.element != want.element)
        fail(join(argPath, "element"),
             "argument '" + want.name + "' must have element type \"" +
                 want.element + "\", got \"" + got.element + "\"");
      bool same = true;
      for (size_t d = 0; d < 2; ++d)
        same = same && got.shape[d].isM == want.shape[d].isM &&
               got.shape[d].value == want.shape[d].value;
      if (!same)
        fail(join(argPath, "shape"),
             "argument '" + want.name + "' of a " + describeOp(kernel) +
                 " with n = " + std::to_string(kernel.n) +
                 ", k = " + std::to_string(kernel.k) + " must have shape " +
                 formatShape(want.shape) + ", got " + formatShape(got.shape));
    }
  }

};

} // namespace

Status qmlir::runtime::parseManifest(std::string_view text,
                                     const std::string &file,
                                     Manifest &manifest) {
  try {
    json root;
    try {
      root = json::parse(text);
    } catch (const json::parse_error &error) {
      // what() is "[json.exception.parse_error.101] parse error at line ...".
      std::string what = error.what();
      if (size_t at = what.find("] "); at != std::string::npos)
        what = what.substr(at + 2);
      return failure(QMLIR_ERROR_BAD_MANIFEST,
                     file + ": malformed JSON: " + what);
    }
    Parser(file).parse(root, manifest);
    return Status::success();
  } catch (const ManifestError &error) {
    return failure(error.code, error.message);
  } catch (const std::exception &error) {
    return failure(QMLIR_ERROR_BAD_MANIFEST, file + ": " + error.what());
  }
}
