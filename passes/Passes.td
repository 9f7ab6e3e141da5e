//===- Passes.td - qmlir passes ----------------------------*- tablegen -*-===//

#ifndef QMLIR_PASSES_TD
#define QMLIR_PASSES_TD

include "mlir/Pass/PassBase.td"

def QmlirLowerToLoops : Pass<"qmlir-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower qmlir ops to scf loops over memrefs (the CPU path)";
  let description = [{
    Rewrites `qmlir.matmul`, `qmlir.quantize` and `qmlir.dequantize` into
    `scf.for` loop nests over memrefs, with `bufferization.to_buffer` and
    `bufferization.to_tensor` at the boundary so that one-shot bufferization
    can finish the job. Weights are decoded with the shared decoding
    (`qmlir/Codegen/Decode.h`) that the GPU lowering uses as well, so running
    the CPU path tests the GPU kernels' decoding.

    Every quantized operand must come from `qmlir.pack` or `qmlir.quantize`
    in the same function: a `!qmlir.qtensor` that crosses a function or block
    boundary cannot be lowered, and the pass reports it. `qmlir.unpack` of a
    lowered value is replaced by its parts.

    Loop order of the matmul: for each output column n, each weight is
    decoded once and multiplied into all M rows (f32 accumulators).
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

#endif // QMLIR_PASSES_TD
