//===- ProblemModule.h - IR for a matmul problem ----------------*- C++ -*-===//
//
// The qmlir IR that tools compile for a problem given on the command line
// (N, K, scheme, activation type, op and epilogue), as text that reads like hand-written IR.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLSUPPORT_PROBLEMMODULE_H
#define QMLIR_TOOLSUPPORT_PROBLEMMODULE_H

#include "qmlir/Core/Problem.h"

#include <string>

namespace qmlir {

/// A module with `func.func @<name>(%x, <parts>[, %bias][, %residual]) -> y`
/// computing the problem's op for any M: qmlir.matmul (parts `%codes,
/// %scales, ...`, with the bias [N] and residual [?, N] the problem asks
/// for) or qmlir.swiglu (the gate's parts `%gate_codes, ...`, then the up's
/// `%up_codes, ...`). If `withQuantize`, also a function
/// `@<name>_quantize(%f: tensor<NxKxf32>) -> (codes, scales[, zeros])`
/// quantizing to the (gate) weights' scheme. Functions carry
/// llvm.emit_c_interface for the CPU path.
std::string buildMatmulModule(const core::MatmulProblem &problem,
                              const std::string &name, bool withQuantize);

} // namespace qmlir

#endif // QMLIR_TOOLSUPPORT_PROBLEMMODULE_H
