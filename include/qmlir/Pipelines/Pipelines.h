//===- Pipelines.h - Named qmlir pass pipelines -----------------*- C++ -*-===//

#ifndef QMLIR_PIPELINES_PIPELINES_H
#define QMLIR_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace qmlir {

/// qmlir-cpu-pipeline: qmlir ops on tensors to the LLVM dialect, ready for
/// the ExecutionEngine. Functions take and return memrefs; results become
/// trailing out-parameters, so callers own every buffer.
void buildCpuPipeline(mlir::OpPassManager &pm);

/// Registers the named pipelines with the pass registry (for qmlir-opt).
void registerQmlirPipelines();

} // namespace qmlir

#endif // QMLIR_PIPELINES_PIPELINES_H
