// RUN: qmlir-opt %s --qmlir-lower-dequant=chip=sm_75 --verify-diagnostics

// Schedules pinned for a chip without mma.sync m16n8k16: an error, not a
// crash in instruction selection.
!w = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @turing(%x: tensor<?x128xf16>, %c: tensor<32x16xi32>, %s: tensor<32x2xf16>) -> tensor<?x32xf16> {
  %w = qmlir.pack %c, %s : (tensor<32x16xi32>, tensor<32x2xf16>) -> !w
  // expected-error @+1 {{cannot lower to tensor-core kernels for sm_75: mma.sync m16n8k16 needs sm_80 or later}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x128xf16>, !w -> tensor<?x32xf16>
  return %y : tensor<?x32xf16>
}
