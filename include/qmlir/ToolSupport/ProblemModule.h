//===- ProblemModule.h - IR for a matmul problem ----------------*- C++ -*-===//
//
// The qmlir IR that tools compile for a problem given on the command line
// (N, K, scheme, activation type), as text that reads like hand-written IR.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLSUPPORT_PROBLEMMODULE_H
#define QMLIR_TOOLSUPPORT_PROBLEMMODULE_H

#include "qmlir/Core/Problem.h"

#include <string>

namespace qmlir {

/// A module with `func.func @<name>(%x, %codes, %scales[, %zeros]) -> y`
/// computing qmlir.matmul for any M, and, if `withQuantize`, a function
/// `@<name>_quantize(%f: tensor<NxKxf32>) -> (codes, scales[, zeros])`.
/// Functions carry llvm.emit_c_interface for the CPU path.
std::string buildMatmulModule(const core::MatmulProblem &problem,
                              const std::string &name, bool withQuantize);

} // namespace qmlir

#endif // QMLIR_TOOLSUPPORT_PROBLEMMODULE_H
