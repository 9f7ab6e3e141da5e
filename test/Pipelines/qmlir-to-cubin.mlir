// RUN: qmlir-opt %s --qmlir-to-cubin=format=isa | FileCheck %s --check-prefix=MMA
// RUN: qmlir-opt %s --qmlir-to-cubin="format=isa tensor-cores=false" | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ qmlir-opt %s --qmlir-to-cubin=toolkit=%cuda_toolkit | FileCheck %s --check-prefix=CUBIN %}

// The whole GPU pipeline, compiled for sm_90a. By default a matmul the
// mma_tile layout can hold gets one tensor-core kernel per M bucket: 16-byte
// loads (codes and activations), codes turned into exact bf16x2 values
// (q - z by one subtraction), mma.sync m16n8k16 with f32 accumulators,
// group scales applied to f32 partial sums by fma (inline, no libdevice
// call), partial sums of the warps met in shared memory, the result rounded
// to bf16. Without tensor cores: one SIMT kernel with 32-bit code loads,
// bf16 loads widened to f32 and the f32 result rounded to bf16.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 128, scale = bf16, zero = int>>
func.func @layer(%x: tensor<?x384xbf16>, %c: tensor<96x48xi32>, %s: tensor<96x3xbf16>, %z: tensor<96x1xi32>) -> tensor<?x96xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<96x48xi32>, tensor<96x3xbf16>, tensor<96x1xi32>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

// MMA: gpu.binary @qmlir_kernels
// MMA-NOT: __nv_
// MMA-SAME: .target sm_90a
// MMA-SAME: .visible .entry layer_matmul0_b0(
// MMA-SAME: ld.global.v4.b32
// MMA-SAME: sub.rn.bf16x2
// MMA-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// MMA-SAME: fma.rn.f32
// MMA-SAME: bar.sync
// MMA-SAME: ld.shared.b32
// MMA-SAME: cvt.rn.bf16.f32
// MMA-SAME: st.global.b16
// MMA-SAME: .visible .entry layer_matmul0_b1(
// MMA-SAME: .visible .entry layer_matmul0_b2(
// MMA-SAME: .visible .entry layer_matmul0_b3(

// PTX: gpu.binary @qmlir_kernels
// PTX-SAME: .target sm_90a
// PTX-SAME: .visible .entry layer_matmul0(
// PTX-SAME: ld.global.b32
// PTX-SAME: cvt.f32.bf16
// PTX-SAME: cvt.rn.bf16.f32
// PTX-SAME: st.global.b16

// CUBIN: gpu.binary @qmlir_kernels
// CUBIN-SAME: bin = "\7FELF
