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
    `qmlir.pack` and that has no `qmlir.schedules` (those are
    `qmlir-lower-dequant`'s), adds a kernel `gpu.func` to the `gpu.module @qmlir_kernels`
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
    kernel also records `qmlir.columns_per_block` (= blockSize),
    `qmlir.rows_per_block` (1), `qmlir.m_range` ([1, 65535]),
    `qmlir.weights_layout` ("canonical") and what it computes: `qmlir.op` ("matmul" or
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

def QmlirSelectSchedule : Pass<"qmlir-select-schedule", "::mlir::ModuleOp"> {
  let summary = "Choose the tensor-core kernels' M buckets and tiles";
  let description = [{
    Gives every `qmlir.matmul` and `qmlir.swiglu` without `qmlir.schedules`
    whose weights the `mma_tile` layout can hold (4- and 8-bit integer codes,
    N a multiple of 16, K of 64, groups of a multiple of 16 or per channel,
    no act-order, no float zeros; `qmlir::core::layoutSupport`) a list of
    `#qmlir.schedule`, one per M bucket, by a fixed rule: M in [1, 8],
    [9, 16], [17, 32] and [33, 128] get split-K kernels with 1, 2, 4 and 4
    tiles of 8 rows (4 chunks of 64 columns in flight per warp; 1 from
    M = 33 on, where more registers spill); a block has 8 warps (fewer when
    K has fewer 64-column chunks; for M <= 8, 16 when N <= 8192 and K has 16
    chunks or more, and 8 chunks in flight per warp instead of 4 when
    N >= 16384) and one 16-column tile for M <= 16 (the most blocks for the
    bandwidth-bound sizes), two from 17 on when N allows (each activation
    load then serves both; for M <= 32 only while that leaves 256 blocks).
    Where the mma_tile split-K kernels of one projection of 4-bit codes
    wait on their loads, `blocks_per_sm` trades a few spilled registers for
    more warps; at M <= 8 it states the occupancy the registers give anyway
    (2 blocks of 16 warps, 3 of 8), which ptxas schedules better for
    (benchmarks/results/2026-11-22-h200-occupancy.md). With 8 warps, where
    activation loads would outnumber code loads 4 or 8 to 1, M = 9..16 with
    N >= 8192 gets two tiles at 2 chunks in flight and 2 blocks per SM (4
    blocks with one tile when N is not a multiple of 32), and below
    N = 5120 with K >= 4096, 16 warps at 2 chunks in flight
    (benchmarks/results/2026-11-22-h100-block-order.md); M = 17..32 gets
    four tiles at 2 chunks in flight and 1 block per SM with N >= 5120 (a
    multiple of 64; otherwise 2 blocks with two tiles where N gives 256 of
    them), and two block rows of 16 at 2 chunks in flight below N = 5120
    (benchmarks/results/2026-11-22-h200-few-rows.md). With `linear-k` (the
    ops with a wgmma schedule get mma_tile_linear, whose split-K kernels
    stage activations in shared memory and spill more) only the bound at
    M <= 8 applies, and only with N >= 8192.
    From M = 129 on (for one projection of <= 4-bit codes on sm_90a from
    97 with N >= 8192, where it is 1.08-1.6x faster than split-K there, and
    from 33 with more than 128 blocks of 128 columns, N > 16384: 1.15-1.65x
    at M = 33..96 on 22016..32000 x 4096 and 28672 x 8192, H100)
    the staged kernel: 4 warps side by side along N, each 8 tiles of 8 rows
    by two 16-column tiles (one for a swiglu, when N is not a multiple of
    128, and on sm_90a up to the M at which two would still give at most
    128 blocks, in a bucket of its own), 4 cp.async stages, when N is a
    multiple of 64 (on sm_90a the 4 warps are one warpgroup issuing wgmma
    m64n64k16, `mma = "wgmma"`); otherwise the [33, 128] bucket runs to
    M = 65535. For one projection of <= 4-bit codes on sm_90a the wgmma
    kernels are warp-specialized (`producer_warps = 4`: a warpgroup that
    only copies, 2 blocks per SM), and once blocks of 128 rows by 128
    columns number at least 128 (from M = 256, N a multiple of 128) two
    compute warpgroups of m64n128k16 on one 64-column tile each, 1 block
    per SM: 1.02-1.45x at M = 256..4096 on twelve layers (1.11-1.41x from
    M = 1024; H100,
    benchmarks/results/2026-11-22-h100-warp-specialized.md). Ops that
    already have schedules keep them; ops the layout cannot hold, and every
    op when `chip` has no mma.sync m16n8k16 (before sm_80), are left to the
    SIMT lowering.
  }];
  let options = [
    Option<"tensorCores", "tensor-cores", "bool", /*default=*/"true",
           "Schedule tensor-core kernels (false leaves every op to SIMT)">,
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "The GPU the kernels are for">,
    Option<"linearK", "linear-k", "bool", /*default=*/"false",
           "Schedule for the layout qmlir-reorder-layout{linear-k} will choose">
  ];
}

def QmlirReorderLayout : Pass<"qmlir-reorder-layout", "::mlir::ModuleOp"> {
  let summary = "Put the weights of scheduled ops in an mma_tile layout";
  let description = [{
    Sets `qmlir.layout` on every `qmlir.matmul` and `qmlir.swiglu` that has
    `qmlir.schedules` and no layout yet: `#qmlir.layout<mma_tile>`, or with
    `linear-k` `#qmlir.layout<mma_tile_linear>` where one of its schedules
    issues wgmma. In K order, activations reach the wgmma kernel's shared
    memory by 16-byte copies (1.15-1.25x faster from M = 129 on an H200),
    but the split-K kernels stage theirs in shared memory or load them 4
    bytes at a time (up to 1.3x slower at M <= 128), so the choice is the
    user's (benchmarks/results/2026-11-21-h200-linear-k.md). The codes part
    of its weights is then read in that arrangement
    (`include/qmlir/Core/Layout.h`). Weights are kernel arguments, so the
    arrangement itself is applied where their bytes are written, by the
    same definition: `qmlir::core::arrangeCodes` in qmlir-compile's bundle
    writer, qmlir-run and the runtime's users, reading the layout the
    manifest records for each kernel. An op whose weights cannot use the
    layout is an error.
  }];
  let options = [
    Option<"linearK", "linear-k", "bool", /*default=*/"false",
           "mma_tile_linear for the weights of ops with a wgmma schedule">
  ];
  let dependentDialects = ["::qmlir::QmlirDialect"];
}

def QmlirLowerDequant : Pass<"qmlir-lower-dequant", "::mlir::ModuleOp"> {
  let summary = "Lower scheduled ops to dequantize-then-mma.sync kernels";
  let description = [{
    For every `qmlir.matmul` and `qmlir.swiglu` with `qmlir.schedules` (and
    `qmlir.layout` = `#qmlir.layout<mma_tile>` or `<mma_tile_linear>`),
    adds one kernel per schedule,
    named `<function>_<op><index>_b<bucket>`, to `gpu.module @qmlir_kernels`.
    Arguments and qmlir.* attributes are those of
    `qmlir-lower-to-gpu-kernels` (kernel ABI v1); the launch rule is the
    schedule's.

    The kernel computes the output's transpose with `mma.sync.m16n8k16`
    (f32 accumulators): the weights are the A operand, 16 output columns by
    16 of K, the activations the B operand, 8 rows of M. Each lane loads its
    codes with 16-byte loads; a pair of codes becomes one f16x2 (bf16x2)
    register with a shift, a mask and an OR with the exponent bits of 1024
    (128); subtracting that constant plus the zero point leaves q - z
    exactly (8-bit codes with bf16 go through f32, as 8 bits do not fit
    bf16's mantissa). The mma's products of those integers and the
    activations are exact; each group's f32 partial sums are then
    multiplied by its scale (per-channel scales once, in the epilogue), so
    no weight is ever rounded to 16 bits.

    A schedule without stages gives a split-K kernel: the warps of a block
    take 64-column chunks of K in turn, `unroll` at a time with every load
    issued first (straight into registers; with mma_tile_linear and several
    8-row tiles per warp, activations by cp.async into the warp's shared
    memory, read back by ldmatrix), and add their partial sums in
    shared memory; the block's threads then apply the epilogue (bias,
    residual, silu(g) * u) in f32 and round once. A schedule with stages
    gives a tiled kernel: the warps tile the block's output, and the
    block's activations (rows of 64 values, 16-byte pieces swizzled by the
    row) and codes pass through `stages` buffers of dynamic shared memory
    that `cp.async` fills `stages - 1` chunks ahead; each lane applies the
    epilogue to its own accumulators. With `mma = "wgmma"` (sm_90a) each
    four warps are a warpgroup issuing `wgmma.mma_async` m64nNk16: the
    decoded codes are its A registers (a warp's 16 rows have the mma.sync
    fragment layout), the activations its B operand, copied into shared-
    memory core matrices (4 bytes at a time in mma_tile's permuted K order,
    16 with mma_tile_linear) and read through a matrix descriptor; a
    group's partial sums are scaled
    into the sums after waiting for its wgmmas. A schedule whose columns do
    not divide N, whose buffers exceed the chip's shared memory per block,
    or that needs wgmma on a chip without it, is an error.
  }];
  let options = [
    Option<"chip", "chip", "std::string", /*default=*/"\"sm_90a\"",
           "Target GPU architecture">,
    Option<"features", "features", "std::string", /*default=*/"\"+ptx80\"",
           "PTX features">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

#endif // QMLIR_PASSES_TD
