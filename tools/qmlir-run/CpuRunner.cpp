//===- CpuRunner.cpp - qmlir-run's CPU target -----------------------------===//
//
// Compiles a problem through qmlir-cpu-pipeline, JIT-runs it with MLIR's
// ExecutionEngine and checks:
//   - qmlir.matmul (with its epilogue) or qmlir.swiglu against the fp64
//     reference (relative error and a bound on every element);
//   - qmlir.quantize against core::quantize, bit for bit.
// Built as a plugin that qmlir-run loads with dlopen, so that qmlir-run
// itself runs where MLIR cannot be carried (the GPU machines).
//
//===----------------------------------------------------------------------===//

#include "CpuRunner.h"
#include "qmlir/Passes/Passes.h"
#include "qmlir/ToolSupport/ProblemModule.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/CRunnerUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <random>

using namespace mlir;
using namespace qmlir::run;
namespace core = qmlir::core;

namespace {

/// A 2-D memref descriptor over caller-owned, row-major storage.
template <typename T>
StridedMemRefType<T, 2> describe(T *data, int64_t rows, int64_t cols) {
  StridedMemRefType<T, 2> desc;
  desc.basePtr = data;
  desc.data = data;
  desc.offset = 0;
  desc.sizes[0] = rows;
  desc.sizes[1] = cols;
  desc.strides[0] = cols;
  desc.strides[1] = 1;
  return desc;
}

double elapsedSeconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since)
      .count();
}

int fail(ExitCode code, const llvm::Twine &message) {
  llvm::errs() << "qmlir-run: " << message << "\n";
  return code;
}

/// Element size in bytes of a part (core::Part::element).
unsigned elementBytes(const std::string &element) {
  if (element == "i32" || element == "f32")
    return 4;
  if (element == "f16" || element == "bf16")
    return 2;
  return 1; // f8E8M0FNU, f8E4M3FN
}

/// Descriptors for caller-owned buffers, and the argument list that
/// ExecutionEngine::invokePacked takes for a C-interface function: a pointer
/// to each argument, each argument being a pointer to a descriptor.
class Arguments {
public:
  void add(void *data, int64_t rows, int64_t cols) {
    descriptors.push_back(
        std::make_unique<StridedMemRefType<char, 2>>(
            describe(static_cast<char *>(data), rows, cols)));
    pointers.push_back(descriptors.back().get());
  }
  /// A 1-D memref of `size` elements (the bias).
  void add1D(void *data, int64_t size) {
    auto desc = std::make_unique<StridedMemRefType<char, 1>>();
    desc->basePtr = desc->data = static_cast<char *>(data);
    desc->offset = 0;
    desc->sizes[0] = size;
    desc->strides[0] = 1;
    pointers.push_back(desc.get());
    vectors.push_back(std::move(desc));
  }
  SmallVector<void *> packed() {
    SmallVector<void *> args;
    for (void *&pointer : pointers)
      args.push_back(&pointer);
    return args;
  }

private:
  std::vector<std::unique_ptr<StridedMemRefType<char, 2>>> descriptors;
  std::vector<std::unique_ptr<StridedMemRefType<char, 1>>> vectors;
  std::vector<void *> pointers;
};

/// Runs qmlir_matmul (the problem's op) and checks it; returns true if it
/// passed.
bool runMatmul(ExecutionEngine &engine, const core::MatmulProblem &problem,
               const core::MatmulData &data, bool &invoked) {
  // Arguments in the function's order: x, the weights' parts (gate, up),
  // bias, residual, then the output (an out-parameter after bufferization).
  std::vector<const core::QuantizedMatrix *> matrices = {&data.weights};
  if (problem.op == core::OpKind::Swiglu)
    matrices.push_back(&data.up);
  std::vector<std::vector<uint8_t>> storage;
  Arguments arguments;
  arguments.add(const_cast<uint16_t *>(data.activations.data()), problem.m,
                problem.k);
  for (const core::QuantizedMatrix *w : matrices) {
    std::vector<core::Part> parts = w->scheme.parts(w->rows, w->cols);
    std::vector<std::vector<uint8_t>> bytes = w->partBytes();
    for (auto [part, partBytes] : llvm::zip(parts, bytes)) {
      storage.push_back(std::move(partBytes));
      arguments.add(storage.back().data(), part.rows, part.cols);
    }
  }
  if (problem.bias)
    arguments.add1D(const_cast<uint16_t *>(data.bias.data()), problem.n);
  if (problem.residual)
    arguments.add(const_cast<uint16_t *>(data.residual.data()), problem.m,
                  problem.n);
  std::vector<uint16_t> out(problem.m * problem.n, 0xFFFF); // NaN poison
  arguments.add(out.data(), problem.m, problem.n);
  SmallVector<void *> args = arguments.packed();
  if (llvm::Error error =
          engine.invokePacked("_mlir_ciface_qmlir_matmul", args)) {
    llvm::errs() << "qmlir-run: cannot run qmlir_matmul: "
                 << llvm::toString(std::move(error)) << "\n";
    invoked = false;
    return false;
  }
  invoked = true;
  std::vector<double> result(out.size());
  for (size_t i = 0; i < out.size(); ++i)
    result[i] = core::activationValue(out[i], problem.activationType);
  core::CheckResult check =
      core::checkOutput(result, data.reference, data.absProducts, problem.m,
                        problem.n, problem.k, problem.activationType);
  llvm::outs() << (problem.op == core::OpKind::Swiglu ? "swiglu:   "
                                                      : "matmul:   ")
               << check.summary() << "\n";
  return check.passed;
}

/// Runs qmlir_matmul_quantize on fresh random weights and compares every
/// stored element of every part with core::quantize; returns true if they
/// are identical.
bool runQuantize(ExecutionEngine &engine, const core::MatmulProblem &problem,
                 bool &invoked) {
  const core::Scheme &scheme = problem.scheme;
  std::mt19937_64 rng(problem.seed ^ 0x9e3779b97f4a7c15ULL);
  std::normal_distribution<float> normal;
  std::vector<float> weights(problem.n * problem.k);
  for (float &v : weights)
    v = normal(rng);
  core::QuantizedMatrix expected =
      core::quantize(weights.data(), problem.n, problem.k, scheme);
  std::vector<core::Part> parts = scheme.parts(problem.n, problem.k);
  std::vector<std::vector<uint8_t>> expectedBytes = expected.partBytes();

  Arguments arguments;
  arguments.add(weights.data(), problem.n, problem.k);
  std::vector<std::vector<uint8_t>> produced;
  for (const std::vector<uint8_t> &part : expectedBytes)
    produced.emplace_back(part.size(), 0xEE); // poison
  for (auto [part, storage] : llvm::zip(parts, produced))
    arguments.add(storage.data(), part.rows, part.cols);
  SmallVector<void *> args = arguments.packed();
  if (llvm::Error error =
          engine.invokePacked("_mlir_ciface_qmlir_matmul_quantize", args)) {
    llvm::errs() << "qmlir-run: cannot run qmlir_matmul_quantize: "
                 << llvm::toString(std::move(error)) << "\n";
    invoked = false;
    return false;
  }
  invoked = true;

  bool passed = true;
  std::string report;
  for (size_t i = 0; i < parts.size(); ++i) {
    unsigned unit = elementBytes(parts[i].element);
    int64_t differing = 0;
    for (size_t at = 0; at < produced[i].size(); at += unit)
      differing += std::memcmp(&produced[i][at], &expectedBytes[i][at], unit) != 0;
    passed &= differing == 0;
    report += llvm::formatv("{0}{1} {2}/{3}", i ? ", " : "", parts[i].name,
                            differing, produced[i].size() / unit);
  }
  llvm::outs() << "quantize: differing elements: " << report
               << " (bit-exact required) " << (passed ? "PASS" : "FAIL")
               << "\n";
  return passed;
}

} // namespace

extern "C" int qmlirRunOnCpu(const core::MatmulProblem &problem,
                             bool plantFault, bool printIR) {
  auto start = std::chrono::steady_clock::now();
  core::MatmulData data = core::makeMatmulData(problem);
  if (plantFault)
    llvm::outs() << "fault:    " << core::plantFault(data, problem) << "\n";
  double prepareSeconds = elapsedSeconds(start);

  DialectRegistry registry;
  registry.insert<qmlir::QmlirDialect>();
  // The pipeline's passes need the dialects' external models (bufferization
  // interfaces in particular), which are registered with the dialects.
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  bool checkQuantize = qmlir::isQuantizeLowered(problem.scheme);
  std::string moduleText =
      qmlir::buildMatmulModule(problem, "qmlir_matmul", checkQuantize);
  if (printIR)
    llvm::outs() << moduleText;
  start = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(moduleText, &context);
  if (!module)
    return fail(kBadInput, "the generated IR does not parse");
  PassManager pm(&context);
  qmlir::buildCpuPipeline(pm);
  if (failed(pm.run(*module)))
    return fail(kBadInput, "the CPU pipeline failed");

  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto machineBuilder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machineBuilder)
    return fail(kBadInput, "cannot describe the host: " +
                               llvm::toString(machineBuilder.takeError()));
  auto machine = machineBuilder->createTargetMachine();
  if (!machine)
    return fail(kBadInput, "cannot create a target machine: " +
                               llvm::toString(machine.takeError()));
  ExecutionEngineOptions engineOptions;
  auto optimize = makeOptimizingTransformer(3, 0, machine->get());
  engineOptions.transformer = optimize;
  auto engine =
      ExecutionEngine::create(*module, engineOptions, std::move(*machine));
  if (!engine)
    return fail(kBadInput, "cannot JIT-compile: " +
                               llvm::toString(engine.takeError()));
  double compileSeconds = elapsedSeconds(start);

  start = std::chrono::steady_clock::now();
  bool invoked = false;
  bool matmulPassed = runMatmul(**engine, problem, data, invoked);
  if (!invoked)
    return kBadInput;
  double matmulSeconds = elapsedSeconds(start);
  bool quantizePassed = true;
  if (checkQuantize) {
    quantizePassed = runQuantize(**engine, problem, invoked);
    if (!invoked)
      return kBadInput;
  } else {
    llvm::outs() << "quantize: qmlir.quantize has no lowering for this scheme "
                    "(the reference quantizes it)\n";
  }
  llvm::outs() << llvm::formatv(
      "time:     inputs+reference {0:f2} s, compile {1:f2} s, matmul {2:f2} s\n",
      prepareSeconds, compileSeconds, matmulSeconds);
  bool passed = matmulPassed && quantizePassed;
  llvm::outs() << (passed ? "PASS" : "FAIL") << "\n";
  return passed ? kPass : kMismatch;
}
