//===- GpuRunner.h - qmlir-run's GPU target ---------------------*- C++ -*-===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_GPURUNNER_H
#define QMLIR_TOOLS_QMLIR_RUN_GPURUNNER_H

#include <cstdint>
#include <string>
#include <vector>

namespace qmlir::run {

/// Runs `kernel` of the bundle in `bundleDir` (the only kernel if empty) for
/// each M in `ms` on GPU 0, checks each result and prints what it checked.
/// Returns an ExitCode; kSkipped when there is no driver or no GPU.
int runOnGpu(const std::string &bundleDir, const std::string &kernel,
             const std::vector<int64_t> &ms, uint64_t seed, bool plantFault);

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_RUN_GPURUNNER_H
