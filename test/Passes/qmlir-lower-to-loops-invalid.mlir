// RUN: qmlir-opt %s --qmlir-lower-to-loops --split-input-file -verify-diagnostics

// A quantized operand must be built inside the function: its parts are what
// the lowered code reads.

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// expected-error @+1 {{cannot lower a !qmlir.qtensor block argument: pass its parts and rebuild it with qmlir.pack}}
func.func @weights_argument(%x: tensor<1x64xf16>, %w: !w) -> tensor<1x8xf16> {
  // expected-error @+1 {{cannot lower 'qmlir.matmul': its quantized operand must be built by qmlir.pack or qmlir.quantize in the same function}}
  %y = qmlir.matmul %x, %w : tensor<1x64xf16>, !w -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}

// -----

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
func.func @weights_returned(%c: tensor<8x8xi32>, %s: tensor<8x2xf16>) -> !w {
  %w = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !w
  // expected-error @+1 {{cannot lower 'func.return': its quantized operand must be built by qmlir.pack or qmlir.quantize in the same function}}
  return %w : !w
}

// -----

// qmlir.quantize is lowered for integer codes of one width with per-group or
// per-channel scales; other formats are quantized by the reference offline.

!w = !qmlir.qtensor<8x64, #qmlir.scheme<nf4, group = 32, scale = f16>>
func.func @quantize_nf4(%f: tensor<8x64xf32>) -> (tensor<8x8xi32>, tensor<8x2xf16>) {
  // expected-error @+1 {{cannot lower 'qmlir.quantize' for #qmlir.scheme<nf4, group = 32, scale = f16>: only integer codes of one width with per-group or per-channel scales are lowered; quantize other formats offline (qmlir::core::quantize)}}
  %w = qmlir.quantize %f : tensor<8x64xf32> -> !w
  %c, %s = qmlir.unpack %w : !w
  return %c, %s : tensor<8x8xi32>, tensor<8x2xf16>
}

// -----

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// expected-error @+1 {{cannot lower a !qmlir.qtensor block argument: pass its parts and rebuild it with qmlir.pack}}
func.func @swiglu_weights_argument(%x: tensor<1x64xf16>, %c: tensor<8x8xi32>, %s: tensor<8x2xf16>, %u: !w) -> tensor<1x8xf16> {
  %g = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !w
  // expected-error @+1 {{cannot lower 'qmlir.swiglu': its quantized operand must be built by qmlir.pack or qmlir.quantize in the same function}}
  %y = qmlir.swiglu %x, %g, %u : tensor<1x64xf16>, !w, !w -> tensor<1x8xf16>
  return %y : tensor<1x8xf16>
}
