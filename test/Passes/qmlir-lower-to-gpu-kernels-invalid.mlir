// RUN: qmlir-opt %s --qmlir-lower-to-gpu-kernels -split-input-file -verify-diagnostics

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
func.func @weights_argument(%x: tensor<1x64xf16>, %w: !w) -> tensor<1x8xf16> {
  // expected-error @+1 {{cannot lower 'qmlir.matmul' to a GPU kernel: its weights must be built by qmlir.pack in a func.func}}
  %y = qmlir.matmul %x, %w : tensor<1x64xf16>, !w -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}

// -----

// Both of a swiglu's weights must be packed in the function.
!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
func.func @swiglu_up_argument(%x: tensor<1x64xf16>, %c: tensor<8x8xi32>, %s: tensor<8x2xf16>, %u: !w) -> tensor<1x8xf16> {
  %g = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !w
  // expected-error @+1 {{cannot lower 'qmlir.swiglu' to a GPU kernel: its weights must be built by qmlir.pack in a func.func}}
  %y = qmlir.swiglu %x, %g, %u : tensor<1x64xf16>, !w, !w -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}
