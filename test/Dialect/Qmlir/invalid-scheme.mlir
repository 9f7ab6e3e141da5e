// RUN: qmlir-opt %s -split-input-file -verify-diagnostics

// Every rule of #qmlir.scheme (checked by the core library's parser and
// Scheme::validate, which the attribute uses) has a case here.

// expected-error @+1 {{invalid #qmlir.scheme: expected an element format (iB, uB, i*, u*, f4e2m1, f6e2m3, f6e3m2, f8e4m3, f8e5m2, nf4, lutB, bcqB, ternary, mxfp4 or nvfp4) but found 'x4'}}
func.func private @bad_format() -> (!qmlir.qtensor<8x128, #qmlir.scheme<x4, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: expected bit-width between 1 and 8 in 'i9'}}
func.func private @bits_too_wide() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i9, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: expected bit-width between 1 and 8 in 'u0'}}
func.func private @bits_zero() -> (!qmlir.qtensor<8x128, #qmlir.scheme<u0, group = 128, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: bits = [...] entry 1 must be between 1 and 8, got 9}}
func.func private @mixed_entry_too_wide() -> (!qmlir.qtensor<8x128, #qmlir.scheme<u*, bits = [4, 9], group = 64, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: mixed bit-widths (bits = [4, 2]) need a positive group size}}
func.func private @mixed_without_groups() -> (!qmlir.qtensor<8x128, #qmlir.scheme<u*, bits = [4, 2], group = channel, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: bits = [...] is only for i* and u*, not 'f4e2m1'}}
func.func private @bits_list_for_floats() -> (!qmlir.qtensor<8x128, #qmlir.scheme<f4e2m1, bits = [4, 2], group = 64, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: group size must be positive, got 0}}
func.func private @group_zero() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 0, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: expected 'scale' (i4 needs scale = f16, bf16, f32, e8m0 or f8e4m3) but found '>'}}
func.func private @missing_scale() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: unknown scale type 'f8' (expected f16, bf16, f32, e8m0 or f8e4m3)}}
func.func private @unknown_scale() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128, scale = f8>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: scale = e8m0 is only for small-float and nf4 formats, not i4}}
func.func private @e8m0_for_integers() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 32, scale = e8m0>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: unknown zero kind 'half' (expected none, int or float)}}
func.func private @unknown_zero() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128, scale = f16, zero = half>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: zero = int is not supported by f4e2m1 (zero points are for integer and bcq formats)}}
func.func private @zero_for_floats() -> (!qmlir.qtensor<8x128, #qmlir.scheme<f4e2m1, group = 32, scale = f16, zero = int>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: zero = int is not supported by bcq2 (bcq takes zero = none or float)}}
func.func private @int_zero_for_bcq() -> (!qmlir.qtensor<8x128, #qmlir.scheme<bcq2, group = 32, scale = f16, zero = int>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: zero = none: signed 1-bit codes (-1, 0) need zero points}}
func.func private @signed_one_bit_without_zero() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i1, group = 32, scale = f16>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: codebook = group is only for lut formats, not i4}}
func.func private @codebook_for_integers() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 32, scale = f16, codebook = group>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: codebook = group needs a positive group size or channel, got group = tensor}}
func.func private @group_codebook_per_tensor() -> (!qmlir.qtensor<8x128, #qmlir.scheme<lut4, group = tensor, scale = f16, codebook = group>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: codebook = tensor needs group = tensor (use codebook = group for one codebook per row and group)}}
func.func private @tensor_codebook_with_groups() -> (!qmlir.qtensor<8x128, #qmlir.scheme<lut4, group = 32, scale = f16, codebook = tensor>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: act_order is only for integer formats, not nf4}}
func.func private @act_order_for_floats() -> (!qmlir.qtensor<8x128, #qmlir.scheme<nf4, group = 64, scale = f16, act_order>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: act_order needs a positive group size}}
func.func private @act_order_per_channel() -> (!qmlir.qtensor<8x128, #qmlir.scheme<u4, group = channel, scale = f16, zero = int, act_order>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: act_order is not supported with mixed bit-widths}}
func.func private @act_order_mixed() -> (!qmlir.qtensor<8x128, #qmlir.scheme<u*, bits = [4, 2], group = 64, scale = f16, act_order>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: expected 'group' but found 'scale'}}
func.func private @fields_out_of_order() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, scale = f16, group = 128>>)

// -----

// expected-error @+1 {{invalid #qmlir.scheme: expected 'codebook' or 'act_order' but found 'extra'}}
func.func private @trailing_text() -> (!qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128, scale = f16, zero = int, extra>>)
