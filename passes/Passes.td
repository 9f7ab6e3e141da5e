//===- Passes.td - qmlir passes ----------------------------*- tablegen -*-===//

#ifndef QMLIR_PASSES_TD
#define QMLIR_PASSES_TD

include "mlir/Pass/PassBase.td"

def QmlirLowerToLoops : Pass<"qmlir-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lower qmlir ops to scf loops over memrefs (the CPU path)";
  let description = [{
    Rewrites `qmlir.matmul`, `qmlir.swiglu`, `qmlir.quantize` and
    `qmlir.dequantize` into `scf.for` loop nests over memrefs, with
    `bufferization.to_buffer` and `bufferization.to_tensor` at the boundary
    so that one-shot bufferization can finish the job. Weights are decoded
    with the shared decoding (`qmlir/Codegen/Decode.h`) and epilogues
    computed with the shared epilogue code (`qmlir/Codegen/Epilogue.h`) that
    the GPU lowering uses as well, so running the CPU path tests the GPU
    kernels' arithmetic.

    Every quantized operand must come from `qmlir.pack` or `qmlir.quantize`
    in the same function: a `!qmlir.qtensor` that crosses a function or block
    boundary cannot be lowered, and the pass reports it. `qmlir.unpack` of a
    lowered value is replaced by its parts.

    Loop order of the matmul and the swiglu: for each output column n, each
    weight (the gate's and the up's for swiglu) is decoded once and
    multiplied into all M rows (f32 accumulators); then the epilogue (bias,
    residual, silu(g) * u) is applied to each row in f32 and the result
    rounded once.
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

def QmlirLowerToGpuKernels
    : Pass<"qmlir-lower-to-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Turn each qmlir.matmul and qmlir.swiglu into a GPU kernel (simple SIMT)";
  let description = [{
    For every `qmlir.matmul` and `qmlir.swiglu` whose weights are built by
    `qmlir.pack`, adds a kernel `gpu.func` to the `gpu.module @qmlir_kernels`
    (created with an NVVM target for `chip`) and removes the host functions:
    the runtime launches kernels directly, so the output holds kernels only.

    The kernel is named `<function>_matmul<i>` or `<function>_swiglu<i>` and
    takes 2-D memrefs in this order (kernel ABI v1): the activations
    `memref<?xKxT>`; the parts of the weights' storage (as `qmlir.pack` takes
    them; for swiglu the gate's, then the up's); for matmul the bias as
    `memref<1xNxT>` if there is one; the residual `memref<?xNxT>` if there is
    one; the output `memref<?xNxT>`. One thread computes one output element:
    thread `x` of block `(bx, by)` computes column `bx * blockSize + x` of row
    `by`, accumulating in f32 in k order with the shared decoding
    (`qmlir/Codegen/Decode.h`), then applying the epilogue in f32
    (`qmlir/Codegen/Epilogue.h`) and rounding once. The launch rule is
    recorded on the kernel as `qmlir.block_size` (threads per block); the
    grid is `(ceil(N / blockSize), M, 1)`. For the bundle's manifest the
    kernel also records what it computes: `qmlir.op` ("matmul" or
    "swiglu"), `qmlir.scheme` (the gate's for swiglu), `qmlir.up_scheme`
    (swiglu), and the unit attributes `qmlir.bias` and `qmlir.residual` when
    it takes them.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU architecture">,
    Option<"features", "features", "std::string", /*default=*/"\"+ptx80\"",
           "PTX features">,
    Option<"blockSize", "block-size", "int64_t", /*default=*/"128",
           "Threads per block">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect"
  ];
}

#endif // QMLIR_PASSES_TD
