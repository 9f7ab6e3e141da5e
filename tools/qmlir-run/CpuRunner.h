//===- CpuRunner.h - qmlir-run's CPU target plugin --------------*- C++ -*-===//
//
// The CPU target needs MLIR (it compiles and JIT-runs); qmlir-run does not,
// so that it runs on machines where MLIR cannot be carried. qmlir-run loads
// the CPU target from libqmlir_cpu_runner.so with dlopen when asked for it.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_CPURUNNER_H
#define QMLIR_TOOLS_QMLIR_RUN_CPURUNNER_H

#include "qmlir/Core/Problem.h"

namespace qmlir::run {
/// qmlir-run's exit status.
enum ExitCode { kPass = 0, kMismatch = 1, kBadInput = 2, kSkipped = 77 };
} // namespace qmlir::run

/// Compiles, runs and checks `problem` on the CPU; prints what it checked
/// and returns an ExitCode.
extern "C" int qmlirRunOnCpu(const qmlir::core::MatmulProblem &problem,
                             bool plantFault, bool printIR);
using QmlirRunOnCpuFn = int (*)(const qmlir::core::MatmulProblem &, bool, bool);

#endif // QMLIR_TOOLS_QMLIR_RUN_CPURUNNER_H
