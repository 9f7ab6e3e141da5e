//===- qmlir-run.cpp - Run and check a quantized matmul -------------------===//
//
// Runs one quantized matmul (with its fused epilogue) or SwiGLU on random
// inputs drawn from a seed and checks it against the MLIR-free reference
// under the numerics contract.
//   qmlir-run --target=cpu --m=7 --n=96 --k=384 --scheme='#qmlir.scheme<...>'
//   qmlir-run --target=cpu --op=swiglu --residual --n=96 --k=384 --scheme=...
//   qmlir-run --target=gpu BUNDLE --m=1,7,33
// This binary links no MLIR or LLVM: the CPU target is a plugin loaded on
// demand, the GPU target uses the runtime, which loads the CUDA driver.
// Exit status: 0 pass, 1 mismatch, 2 bad input or failure, 77 skipped (no
// GPU).
//
//===----------------------------------------------------------------------===//

#include "CpuRunner.h"
#include "GpuRunner.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace core = qmlir::core;
using namespace qmlir::run;

namespace {

const char *kUsage = R"(usage:
  qmlir-run --target=cpu --n=N --k=K --scheme=SCHEME [--m=M,...] [--act=f16|bf16]
            [--op=matmul|swiglu] [--up-scheme=SCHEME] [--bias] [--residual]
            [--seed=S] [--plant-fault] [--print-ir]
  qmlir-run --target=gpu BUNDLE [--kernel=NAME] [--m=M,...] [--seed=S] [--plant-fault]

Runs a quantized matmul on random inputs from the seed and checks it against
the reference. SCHEME is written as in the IR, e.g.
'#qmlir.scheme<i4, group = 128, scale = f16>'. --op=swiglu computes
silu(x G^T) * (x U^T) with gate weights of SCHEME and up weights of
--up-scheme (default: SCHEME); --bias (matmul only) and --residual add a
bias [N] and a residual [M, N]. A GPU run takes N, K, the op, the schemes,
the epilogue and the activation type from the bundle's manifest.
Exit status: 0 pass, 1 mismatch, 2 bad input or failure, 77 skipped.
)";

int usageError(const std::string &message) {
  std::fprintf(stderr, "qmlir-run: %s (see --help)\n", message.c_str());
  return kBadInput;
}

/// Parses a non-negative decimal integer; false if `text` is not one.
bool parseInteger(const std::string &text, int64_t &value) {
  if (text.empty() || text.size() > 18)
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

/// The directory holding this executable, for finding its plugin.
std::string executableDirectory() {
  std::vector<char> path(4096);
  ssize_t length = readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (length <= 0)
    return ".";
  std::string result(path.data(), length);
  return result.substr(0, result.find_last_of('/'));
}

int runOnCpu(const std::vector<core::MatmulProblem> &problems, bool plantFault,
             bool printIR) {
  std::string plugin = executableDirectory() + "/../lib/libqmlir_cpu_runner.so";
  void *handle = dlopen(plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::fprintf(stderr,
                 "qmlir-run: the CPU target is not available here: %s\n",
                 dlerror());
    return kBadInput;
  }
  auto run = reinterpret_cast<QmlirRunOnCpuFn>(dlsym(handle, "qmlirRunOnCpu"));
  if (!run) {
    std::fprintf(stderr, "qmlir-run: %s has no qmlirRunOnCpu\n", plugin.c_str());
    return kBadInput;
  }
  int status = kPass;
  for (const core::MatmulProblem &problem : problems) {
    int result = run(problem, plantFault, printIR);
    if (result == kBadInput)
      return result;
    if (result != kPass)
      status = result;
  }
  return status;
}

} // namespace

int main(int argc, char **argv) {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return kPass;
    }
    if (arg.rfind("--", 0) != 0) {
      positional.push_back(arg);
      continue;
    }
    size_t equals = arg.find('=');
    std::string key = arg.substr(2, equals == std::string::npos ? std::string::npos
                                                                : equals - 2);
    options[key] = equals == std::string::npos ? "" : arg.substr(equals + 1);
  }
  static const char *known[] = {"target",      "m",        "n",    "k",
                                "scheme",      "act",      "seed", "kernel",
                                "plant-fault", "print-ir", "op",   "up-scheme",
                                "bias",        "residual"};
  // Flags take no value: "--bias=0" would read as a request for a bias.
  for (const char *flag : {"plant-fault", "print-ir", "bias", "residual"})
    if (options.count(flag) && !options[flag].empty())
      return usageError(std::string("--") + flag + " takes no value");
  for (const auto &[key, value] : options) {
    bool isKnown = false;
    for (const char *name : known)
      isKnown |= key == name;
    if (!isKnown)
      return usageError("unknown option '--" + key + "'");
  }
  auto option = [&](const std::string &key, const std::string &fallback) {
    auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  };

  std::string target = option("target", "cpu");
  uint64_t seed = 1;
  if (int64_t value; options.count("seed")) {
    if (!parseInteger(options["seed"], value))
      return usageError("invalid --seed '" + options["seed"] + "'");
    seed = value;
  }
  std::vector<int64_t> ms;
  std::string mList = option("m", "1");
  for (size_t start = 0; start <= mList.size();) {
    size_t comma = mList.find(',', start);
    std::string item = mList.substr(start, comma == std::string::npos
                                               ? std::string::npos
                                               : comma - start);
    int64_t m;
    if (!parseInteger(item, m))
      return usageError("invalid --m '" + mList + "': expected integers "
                        "separated by commas");
    ms.push_back(m);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  bool plantFault = options.count("plant-fault");
  bool printIR = options.count("print-ir");

  if (target == "gpu") {
    if (positional.size() != 1)
      return usageError("--target=gpu takes one bundle directory");
    for (const char *problemOnly : {"n", "k", "scheme", "act", "print-ir", "op",
                                    "up-scheme", "bias", "residual"})
      if (options.count(problemOnly))
        return usageError(std::string("--") + problemOnly +
                          " is read from the bundle with --target=gpu");
    return runOnGpu(positional[0], option("kernel", ""), ms, seed, plantFault);
  }
  if (target != "cpu")
    return usageError("unknown --target '" + target + "' (expected cpu or gpu)");
  if (!positional.empty())
    return usageError("unexpected argument '" + positional[0] + "'");

  core::MatmulProblem base;
  if (!options.count("n") || !parseInteger(options["n"], base.n))
    return usageError("--n=N is required (a positive integer)");
  if (!options.count("k") || !parseInteger(options["k"], base.k))
    return usageError("--k=K is required (a positive integer)");
  std::string parseError;
  std::optional<core::Scheme> scheme =
      core::Scheme::parse(option("scheme", ""), &parseError);
  if (!scheme)
    return usageError("invalid --scheme: " + parseError);
  base.scheme = *scheme;
  std::optional<core::FloatType> activation =
      core::parseFloatType(option("act", "f16"));
  if (!activation)
    return usageError("invalid --act '" + option("act", "f16") +
                      "': expected f16 or bf16");
  base.activationType = *activation;
  std::optional<core::OpKind> op = core::parseOpKind(option("op", "matmul"));
  if (!op)
    return usageError("invalid --op '" + option("op", "matmul") +
                      "': expected matmul or swiglu");
  base.op = *op;
  if (options.count("up-scheme")) {
    std::optional<core::Scheme> up =
        core::Scheme::parse(options["up-scheme"], &parseError);
    if (!up)
      return usageError("invalid --up-scheme: " + parseError);
    base.upScheme = *up;
  }
  base.bias = options.count("bias");
  base.residual = options.count("residual");
  base.seed = seed;
  std::vector<core::MatmulProblem> problems;
  for (int64_t m : ms) {
    core::MatmulProblem problem = base;
    problem.m = m;
    if (std::string error = problem.validate(); !error.empty()) {
      std::fprintf(stderr, "qmlir-run: invalid problem: %s\n", error.c_str());
      return kBadInput;
    }
    problems.push_back(problem);
  }
  return runOnCpu(problems, plantFault, printIR);
}
