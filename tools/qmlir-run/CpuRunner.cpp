//===- CpuRunner.cpp - qmlir-run's CPU target -----------------------------===//
//
// Compiles a problem through qmlir-cpu-pipeline, JIT-runs it with MLIR's
// ExecutionEngine and checks:
//   - qmlir.matmul against the fp64 reference (relative error and a bound on
//     every element);
//   - qmlir.quantize against core::quantize, bit for bit.
// Built as a plugin that qmlir-run loads with dlopen, so that qmlir-run
// itself runs where MLIR cannot be carried (the GPU machines).
//
//===----------------------------------------------------------------------===//

#include "CpuRunner.h"
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

/// Runs qmlir_matmul and checks it; returns true if it passed.
bool runMatmul(ExecutionEngine &engine, const core::MatmulProblem &problem,
               const core::MatmulData &data, bool &invoked) {
  const core::QuantizedMatrix &w = data.weights;
  auto x = const_cast<uint16_t *>(data.activations.data());
  auto codes = const_cast<uint32_t *>(w.codes.data());
  std::vector<uint8_t> scales = w.scaleBytes();
  std::vector<uint8_t> floatZeros = w.zeroValueBytes();
  std::vector<uint16_t> out(problem.m * problem.n, 0xFFFF); // NaN poison

  auto xDesc = describe(x, problem.m, problem.k);
  auto codesDesc = describe(codes, w.rows, w.wordsPerRow());
  auto scalesDesc = describe(scales.data(), w.rows, w.groupsPerRow());
  auto outDesc = describe(out.data(), problem.m, problem.n);
  auto *xArg = &xDesc;
  auto *codesArg = &codesDesc;
  auto *scalesArg = &scalesDesc;
  auto *outArg = &outDesc;
  llvm::Error error = llvm::Error::success();
  // Byte-typed descriptors are reinterpreted by the callee as the storage
  // type: only the pointers and the element counts matter to it.
  switch (w.scheme.zero) {
  case core::ZeroKind::None:
    error = engine.invoke("qmlir_matmul", xArg, codesArg, scalesArg, outArg);
    break;
  case core::ZeroKind::Int: {
    auto zerosDesc = describe(const_cast<uint32_t *>(w.zeroCodes.data()),
                              w.rows, w.zeroWordsPerRow());
    auto *zerosArg = &zerosDesc;
    error = engine.invoke("qmlir_matmul", xArg, codesArg, scalesArg, zerosArg,
                          outArg);
    break;
  }
  case core::ZeroKind::Float: {
    auto zerosDesc = describe(floatZeros.data(), w.rows, w.groupsPerRow());
    auto *zerosArg = &zerosDesc;
    error = engine.invoke("qmlir_matmul", xArg, codesArg, scalesArg, zerosArg,
                          outArg);
    break;
  }
  }
  if (error) {
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
  llvm::outs() << "matmul:   " << check.summary() << "\n";
  return check.passed;
}

/// Runs qmlir_quantize on fresh random weights and compares every stored
/// word with core::quantize; returns true if they are identical.
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

  int64_t words = expected.wordsPerRow(), groups = expected.groupsPerRow();
  unsigned scaleBytes = core::byteSize(scheme.scaleType);
  std::vector<uint32_t> codes(problem.n * words, 0xDEADBEEF);
  std::vector<uint8_t> scales(problem.n * groups * scaleBytes, 0xEE);
  std::vector<uint8_t> zeros;
  if (scheme.zero == core::ZeroKind::Int)
    zeros.assign(problem.n * expected.zeroWordsPerRow() * 4, 0xEE);
  else if (scheme.zero == core::ZeroKind::Float)
    zeros.assign(problem.n * groups * scaleBytes, 0xEE);

  auto inDesc = describe(weights.data(), problem.n, problem.k);
  auto codesDesc = describe(codes.data(), problem.n, words);
  auto scalesDesc = describe(scales.data(), problem.n, groups);
  auto zerosDesc =
      describe(zeros.data(), problem.n,
               scheme.zero == core::ZeroKind::Int ? expected.zeroWordsPerRow()
                                                  : groups);
  auto *inArg = &inDesc;
  auto *codesArg = &codesDesc;
  auto *scalesArg = &scalesDesc;
  auto *zerosArg = &zerosDesc;
  llvm::Error error =
      zeros.empty()
          ? engine.invoke("qmlir_matmul_quantize", inArg, codesArg, scalesArg)
          : engine.invoke("qmlir_matmul_quantize", inArg, codesArg, scalesArg,
                          zerosArg);
  if (error) {
    llvm::errs() << "qmlir-run: cannot run qmlir_matmul_quantize: "
                 << llvm::toString(std::move(error)) << "\n";
    invoked = false;
    return false;
  }
  invoked = true;

  auto countDiffering = [](const uint8_t *a, const uint8_t *b, size_t bytes,
                           unsigned unit) {
    int64_t differing = 0;
    for (size_t i = 0; i < bytes; i += unit)
      differing += std::memcmp(a + i, b + i, unit) != 0;
    return differing;
  };
  int64_t badCodes = countDiffering(
      reinterpret_cast<const uint8_t *>(codes.data()),
      reinterpret_cast<const uint8_t *>(expected.codes.data()),
      codes.size() * 4, 4);
  std::vector<uint8_t> expectedScales = expected.scaleBytes();
  int64_t badScales = countDiffering(scales.data(), expectedScales.data(),
                                     scales.size(), scaleBytes);
  int64_t badZeros = 0;
  if (scheme.zero == core::ZeroKind::Int)
    badZeros = countDiffering(
        zeros.data(),
        reinterpret_cast<const uint8_t *>(expected.zeroCodes.data()),
        zeros.size(), 4);
  else if (scheme.zero == core::ZeroKind::Float)
    badZeros = countDiffering(
        zeros.data(),
        expected.zeroValueBytes().data(),
        zeros.size(), scaleBytes);
  bool passed = badCodes == 0 && badScales == 0 && badZeros == 0;
  llvm::outs() << llvm::formatv(
      "quantize: differing code words {0}/{1}, scales {2}/{3}, zeros {4} "
      "(bit-exact required) {5}\n",
      badCodes, codes.size(), badScales, problem.n * groups, badZeros,
      passed ? "PASS" : "FAIL");
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

  std::string moduleText =
      qmlir::buildMatmulModule(problem, "qmlir_matmul", /*withQuantize=*/true);
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
  bool quantizePassed = runQuantize(**engine, problem, invoked);
  if (!invoked)
    return kBadInput;
  llvm::outs() << llvm::formatv(
      "time:     inputs+reference {0:f2} s, compile {1:f2} s, matmul {2:f2} s\n",
      prepareSeconds, compileSeconds, matmulSeconds);
  bool passed = matmulPassed && quantizePassed;
  llvm::outs() << (passed ? "PASS" : "FAIL") << "\n";
  return passed ? kPass : kMismatch;
}
