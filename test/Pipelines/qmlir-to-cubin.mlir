// RUN: qmlir-opt %s --qmlir-to-cubin=format=isa | FileCheck %s --check-prefix=PTX
// RUN: %if ptxas %{ qmlir-opt %s --qmlir-to-cubin=toolkit=%cuda_toolkit | FileCheck %s --check-prefix=CUBIN %}

// The whole GPU pipeline: one kernel per matmul, compiled for sm_90a. The
// PTX shows the kernel entry, 32-bit code loads, bf16 loads widened to f32
// and the f32 result rounded to bf16.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 128, scale = bf16, zero = int>>
func.func @layer(%x: tensor<?x384xbf16>, %c: tensor<96x48xi32>, %s: tensor<96x3xbf16>, %z: tensor<96x1xi32>) -> tensor<?x96xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<96x48xi32>, tensor<96x3xbf16>, tensor<96x1xi32>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

// PTX: gpu.binary @qmlir_kernels
// PTX-SAME: .target sm_90a
// PTX-SAME: .visible .entry layer_matmul0(
// PTX-SAME: ld.global.b32
// PTX-SAME: cvt.f32.bf16
// PTX-SAME: cvt.rn.bf16.f32
// PTX-SAME: st.global.b16

// CUBIN: gpu.binary @qmlir_kernels
// CUBIN-SAME: bin = "\7FELF
