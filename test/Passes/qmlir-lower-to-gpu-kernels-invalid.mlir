// RUN: qmlir-opt %s --qmlir-lower-to-gpu-kernels -verify-diagnostics

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
func.func @weights_argument(%x: tensor<1x64xf16>, %w: !w) -> tensor<1x8xf16> {
  // expected-error @+1 {{cannot lower 'qmlir.matmul' to a GPU kernel: its weights must be built by qmlir.pack in a func.func}}
  %y = qmlir.matmul %x, %w : tensor<1x64xf16>, !w -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}
