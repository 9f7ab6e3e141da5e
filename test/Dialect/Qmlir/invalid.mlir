// RUN: qmlir-opt %s -split-input-file -verify-diagnostics


// expected-error @+1 {{expected a 2-D [N, K] weight shape, got 3 dimensions}}
func.func private @rank3() -> (!qmlir.qtensor<2x8x128, #qmlir.scheme<i4, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{N must be positive, got 0}}
func.func private @empty_rows() -> (!qmlir.qtensor<0x128, #qmlir.scheme<i4, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{K = 96 is not divisible by the group size 64}}
func.func private @ragged_group() -> (!qmlir.qtensor<8x96, #qmlir.scheme<i4, group = 64, scale = f16>>)

// -----

// expected-error @+1 {{expected a #qmlir.scheme attribute, got 64 : i64}}
func.func private @not_a_scheme() -> (!qmlir.qtensor<8x96, 64>)

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @pack_codes_shape(%c: tensor<8x15xi32>, %s: tensor<8x2xf16>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op codes (part 0) must have type 'tensor<8x16xi32>' for '!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>', got 'tensor<8x15xi32>'}}
  %w = qmlir.pack %c, %s : (tensor<8x15xi32>, tensor<8x2xf16>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @pack_scale_type(%c: tensor<8x16xi32>, %s: tensor<8x2xbf16>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op scales (part 1) must have type 'tensor<8x2xf16>'}}
  %w = qmlir.pack %c, %s : (tensor<8x16xi32>, tensor<8x2xbf16>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @pack_unexpected_zeros(%c: tensor<8x16xi32>, %s: tensor<8x2xf16>, %z: tensor<8x1xi32>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op takes 2 parts (codes, scales) for the scheme #qmlir.scheme<i4, group = 64, scale = f16>, got 3}}
  %w = qmlir.pack %c, %s, %z : (tensor<8x16xi32>, tensor<8x2xf16>, tensor<8x1xi32>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = 64, scale = f16, zero = int>>
func.func @pack_missing_zeros(%c: tensor<8x16xi32>, %s: tensor<8x2xf16>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op takes 3 parts (codes, scales, zeros) for the scheme #qmlir.scheme<u4, group = 64, scale = f16, zero = int>, got 2}}
  %w = qmlir.pack %c, %s : (tensor<8x16xi32>, tensor<8x2xf16>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = 64, scale = f16, zero = float>>
func.func @pack_zeros_type(%c: tensor<8x16xi32>, %s: tensor<8x2xf16>, %z: tensor<8x1xi32>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op zeros (part 2) must have type 'tensor<8x2xf16>'}}
  %w = qmlir.pack %c, %s, %z : (tensor<8x16xi32>, tensor<8x2xf16>, tensor<8x1xi32>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @unpack_result_types(%w: !w) {
  // expected-error @+2 {{'qmlir.unpack' op failed to infer returned types}}
  // expected-error @+1 {{'qmlir.unpack' op inferred type(s) 'tensor<8x16xi32>', 'tensor<8x2xf16>' are incompatible with return type(s) of operation 'tensor<8x16xi32>', 'tensor<8x2xf32>'}}
  %c, %s = "qmlir.unpack"(%w) : (!w) -> (tensor<8x16xi32>, tensor<8x2xf32>)
  return
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_k_mismatch(%x: tensor<4x64xf16>, %w: !w) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op input has K = 64 but the weights have K = 128}}
  %y = qmlir.matmul %x, %w : tensor<4x64xf16>, !w -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_f32_input(%x: tensor<4x128xf32>, %w: !w) -> tensor<4x8xf32> {
  // expected-error @+1 {{'qmlir.matmul' op operand #0 must be 2D tensor of 16-bit float or bfloat16 type values, but got 'tensor<4x128xf32>'}}
  %y = qmlir.matmul %x, %w : tensor<4x128xf32>, !w -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_rank1(%x: tensor<128xf16>, %w: !w) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op operand #0 must be 2D tensor of 16-bit float or bfloat16 type values, but got 'tensor<128xf16>'}}
  %y = qmlir.matmul %x, %w : tensor<128xf16>, !w -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_result_type(%x: tensor<4x128xf16>, %w: !w) -> tensor<4x8xbf16> {
  // expected-error @+1 {{'qmlir.matmul' op result element type 'bf16' must match the input element type 'f16'}}
  %y = qmlir.matmul %x, %w : tensor<4x128xf16>, !w -> tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_m_mismatch(%x: tensor<?x128xf16>, %w: !w) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op result has M = 4 but the input has M = ?}}
  %y = qmlir.matmul %x, %w : tensor<?x128xf16>, !w -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @matmul_n_mismatch(%x: tensor<4x128xf16>, %w: !w) -> tensor<4x16xf16> {
  // expected-error @+1 {{'qmlir.matmul' op result has N = 16 but the weights have N = 8}}
  %y = qmlir.matmul %x, %w : tensor<4x128xf16>, !w -> tensor<4x16xf16>
  return %y : tensor<4x16xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @quantize_shape(%f: tensor<8x64xf16>) -> !w {
  // expected-error @+1 {{'qmlir.quantize' op input shape 'tensor<8x64xf16>' does not match the quantized shape '!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>'}}
  %w = qmlir.quantize %f : tensor<8x64xf16> -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @quantize_integer_input(%f: tensor<8x128xi8>) -> !w {
  // expected-error @+1 {{'qmlir.quantize' op operand #0 must be 2D tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<8x128xi8>'}}
  %w = qmlir.quantize %f : tensor<8x128xi8> -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @dequantize_shape(%w: !w) -> tensor<128x8xf32> {
  // expected-error @+1 {{'qmlir.dequantize' op result shape 'tensor<128x8xf32>' does not match the quantized shape '!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>'}}
  %f = qmlir.dequantize %w : !w -> tensor<128x8xf32>
  return %f : tensor<128x8xf32>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @dequantize_integer_result(%w: !w) -> tensor<8x128xi32> {
  // expected-error @+1 {{'qmlir.dequantize' op result #0 must be 2D tensor of 16-bit float or bfloat16 type or 32-bit float values, but got 'tensor<8x128xi32>'}}
  %f = qmlir.dequantize %w : !w -> tensor<8x128xi32>
  return %f : tensor<8x128xi32>
}

// -----

// expected-error @+1 {{bits lists 3 groups but K = 512 with group 128 has 4}}
func.func private @mixed_bits_count() -> (!qmlir.qtensor<8x512, #qmlir.scheme<u*, bits = [4, 2, 3], group = 128, scale = f16>>)

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = 32, scale = f16, zero = int, act_order>>
func.func @pack_act_order_without_g_idx(%c: tensor<8x16xi32>, %s: tensor<8x4xf16>, %z: tensor<8x1xi32>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op takes 4 parts (codes, scales, zeros, g_idx) for the scheme #qmlir.scheme<u4, group = 32, scale = f16, zero = int, act_order>, got 3}}
  %w = qmlir.pack %c, %s, %z : (tensor<8x16xi32>, tensor<8x4xf16>, tensor<8x1xi32>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<mxfp4>>
func.func @pack_mx_scales_as_f16(%c: tensor<8x16xi32>, %s: tensor<8x4xf16>) -> !w {
  // expected-error @+1 {{'qmlir.pack' op scales (part 1) must have type 'tensor<8x4xf8E8M0FNU>'}}
  %w = qmlir.pack %c, %s : (tensor<8x16xi32>, tensor<8x4xf16>) -> !w
  return %w : !w
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @bias_element_type(%x: tensor<4x128xf16>, %w: !w, %b: tensor<8xbf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op bias element type 'bf16' must match the input element type 'f16'}}
  %y = qmlir.matmul %x, %w bias(%b) : tensor<4x128xf16>, !w, tensor<8xbf16> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @bias_length(%x: tensor<4x128xf16>, %w: !w, %b: tensor<7xf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op bias has N = 7 but the weights have N = 8}}
  %y = qmlir.matmul %x, %w bias(%b) : tensor<4x128xf16>, !w, tensor<7xf16> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @bias_dynamic(%x: tensor<4x128xf16>, %w: !w, %b: tensor<?xf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op bias has N = ? but the weights have N = 8}}
  %y = qmlir.matmul %x, %w bias(%b) : tensor<4x128xf16>, !w, tensor<?xf16> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @bias_rank2(%x: tensor<4x128xf16>, %w: !w, %b: tensor<1x8xf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op operand #2 must be 1D tensor of 16-bit float or bfloat16 type values, but got 'tensor<1x8xf16>'}}
  %y = qmlir.matmul %x, %w bias(%b) : tensor<4x128xf16>, !w, tensor<1x8xf16> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @residual_type(%x: tensor<?x128xf16>, %w: !w, %r: tensor<4x8xf16>) -> tensor<?x8xf16> {
  // expected-error @+1 {{'qmlir.matmul' op residual type 'tensor<4x8xf16>' must match the result type 'tensor<?x8xf16>'}}
  %y = qmlir.matmul %x, %w residual(%r) : tensor<?x128xf16>, !w, tensor<4x8xf16> -> tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}

// -----

!w = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @epilogue_type_missing(%x: tensor<4x128xf16>, %w: !w, %b: tensor<8xf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{expected ','}}
  %y = qmlir.matmul %x, %w bias(%b) : tensor<4x128xf16>, !w -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
!u = !qmlir.qtensor<16x128, #qmlir.scheme<i8, group = channel, scale = f16>>
func.func @swiglu_shapes(%x: tensor<4x128xf16>, %g: !g, %u: !u) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.swiglu' op up weights are 16x128 but the gate weights are 8x128}}
  %y = qmlir.swiglu %x, %g, %u : tensor<4x128xf16>, !g, !u -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @swiglu_k(%x: tensor<4x64xf16>, %g: !g) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.swiglu' op input has K = 64 but the weights have K = 128}}
  %y = qmlir.swiglu %x, %g, %g : tensor<4x64xf16>, !g, !g -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @swiglu_result_type(%x: tensor<4x128xf16>, %g: !g) -> tensor<4x8xbf16> {
  // expected-error @+1 {{'qmlir.swiglu' op result element type 'bf16' must match the input element type 'f16'}}
  %y = qmlir.swiglu %x, %g, %g : tensor<4x128xf16>, !g, !g -> tensor<4x8xbf16>
  return %y : tensor<4x8xbf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @swiglu_m(%x: tensor<?x128xf16>, %g: !g) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.swiglu' op result has M = 4 but the input has M = ?}}
  %y = qmlir.swiglu %x, %g, %g : tensor<?x128xf16>, !g, !g -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @swiglu_n(%x: tensor<4x128xf16>, %g: !g) -> tensor<4x16xf16> {
  // expected-error @+1 {{'qmlir.swiglu' op result has N = 16 but the weights have N = 8}}
  %y = qmlir.swiglu %x, %g, %g : tensor<4x128xf16>, !g, !g -> tensor<4x16xf16>
  return %y : tensor<4x16xf16>
}

// -----

!g = !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @swiglu_residual(%x: tensor<4x128xf16>, %g: !g, %r: tensor<4x8xbf16>) -> tensor<4x8xf16> {
  // expected-error @+1 {{'qmlir.swiglu' op residual type 'tensor<4x8xbf16>' must match the result type 'tensor<4x8xf16>'}}
  %y = qmlir.swiglu %x, %g, %g residual(%r) : tensor<4x128xf16>, !g, !g, tensor<4x8xbf16> -> tensor<4x8xf16>
  return %y : tensor<4x8xf16>
}
