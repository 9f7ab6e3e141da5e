// RUN: qmlir-opt %s | FileCheck %s
// RUN: qmlir-opt %s | qmlir-opt | FileCheck %s
// RUN: qmlir-opt %s -mlir-print-op-generic | qmlir-opt | FileCheck %s

// Every element format, group kind, scale type and zero kind prints back as
// written ("zero = none" is the default and is omitted).

// CHECK-LABEL: func.func private @schemes
// CHECK-SAME: !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-SAME: !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = 32, scale = bf16, zero = int>>
// CHECK-SAME: !qmlir.qtensor<8x128, #qmlir.scheme<u8, group = channel, scale = f32>>
// CHECK-SAME: !qmlir.qtensor<8x128, #qmlir.scheme<i3, group = 64, scale = f16, zero = float>>
// CHECK-SAME: !qmlir.qtensor<8x128, #qmlir.scheme<u2, group = 64, scale = f16>>
func.func private @schemes(
    !qmlir.qtensor<8x128, #qmlir.scheme<i4, group = 128, scale = f16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<u4 , group=32, scale = bf16, zero = int>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<u8, group = channel, scale = f32, zero = none>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<i3, group = 64, scale = f16, zero = float>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<u2, group = 64, scale = f16>>)

// Every element format and field, written as users may write them (aliases,
// spacing) and printed in canonical form.
// CHECK-LABEL: func.func private @formats
// CHECK-SAME: #qmlir.scheme<f4e2m1, group = 32, scale = e8m0>
// CHECK-SAME: #qmlir.scheme<f4e2m1, group = 16, scale = f8e4m3>
// CHECK-SAME: #qmlir.scheme<f6e2m3, group = channel, scale = bf16>
// CHECK-SAME: #qmlir.scheme<f6e3m2, group = 32, scale = f16>
// CHECK-SAME: #qmlir.scheme<f8e4m3, group = tensor, scale = f32>
// CHECK-SAME: #qmlir.scheme<f8e5m2, group = 128, scale = f16>
// CHECK-SAME: #qmlir.scheme<nf4, group = 64, scale = bf16>
// CHECK-SAME: #qmlir.scheme<lut3, group = 32, codebook = group>
// CHECK-SAME: #qmlir.scheme<lut4, group = tensor, scale = f32>
// CHECK-SAME: #qmlir.scheme<bcq3, group = 128, scale = f16, zero = float>
// CHECK-SAME: #qmlir.scheme<ternary, group = channel, scale = f16>
// CHECK-SAME: #qmlir.scheme<u*, bits = [4, 2, 3, 8], group = 32, scale = f16, zero = int>
// CHECK-SAME: #qmlir.scheme<i1, group = 32, scale = f16, zero = int, act_order>
// CHECK-SAME: #qmlir.scheme<u4, group = tensor, scale = f32, zero = float>
func.func private @formats(
    !qmlir.qtensor<8x128, #qmlir.scheme<mxfp4>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<nvfp4>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<f6e2m3, group = channel, scale = bf16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<f6e3m2, group = 32, scale = f16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<f8e4m3, group = tensor, scale = f32>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<f8e5m2, group = 128, scale = f16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<nf4, group = 64, scale = bf16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<lut3, group = 32, scale = f16, codebook = group>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<lut4, group = tensor, scale = f32, codebook = tensor>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<bcq3,group=128,scale=f16,zero=float>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<ternary, group = channel, scale = f16>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<u*, bits = [4, 2, 3, 8], group = 32, scale = f16, zero = int>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<i1, group = 32, scale = f16, zero = int, act_order>>,
    !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = tensor, scale = f32, zero = float>>)

// The parts of a few schemes, as qmlir.pack takes them: mxfp4's e8m0 scales,
// a per-group codebook, act-order's g_idx.
// CHECK-LABEL: func.func @parts
// CHECK: qmlir.pack %{{.*}}, %{{.*}} : (tensor<8x16xi32>, tensor<8x4xf8E8M0FNU>)
// CHECK: qmlir.pack %{{.*}}, %{{.*}} : (tensor<8x12xi32>, tensor<8x32xf16>)
// CHECK: qmlir.pack %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<8x16xi32>, tensor<8x4xf16>, tensor<8x1xi32>, tensor<1x128xi32>)
func.func @parts(%c4: tensor<8x16xi32>, %e8: tensor<8x4xf8E8M0FNU>, %c3: tensor<8x12xi32>, %book: tensor<8x32xf16>,
                 %s: tensor<8x4xf16>, %z: tensor<8x1xi32>, %g: tensor<1x128xi32>) {
  %a = qmlir.pack %c4, %e8 : (tensor<8x16xi32>, tensor<8x4xf8E8M0FNU>) -> !qmlir.qtensor<8x128, #qmlir.scheme<mxfp4>>
  %b = qmlir.pack %c3, %book : (tensor<8x12xi32>, tensor<8x32xf16>) -> !qmlir.qtensor<8x128, #qmlir.scheme<lut3, group = 32, scale = f16, codebook = group>>
  %c = qmlir.pack %c4, %s, %z, %g : (tensor<8x16xi32>, tensor<8x4xf16>, tensor<8x1xi32>, tensor<1x128xi32>) -> !qmlir.qtensor<8x128, #qmlir.scheme<u4, group = 32, scale = f16, zero = int, act_order>>
  return
}

!sym = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
!asym = !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>

// CHECK-LABEL: func.func @matmul_dynamic_m
// CHECK-SAME: (%[[X:.*]]: tensor<?x384xf16>, %[[C:.*]]: tensor<96x48xi32>, %[[S:.*]]: tensor<96x3xf16>)
// CHECK: %[[W:.*]] = qmlir.pack %[[C]], %[[S]] : (tensor<96x48xi32>, tensor<96x3xf16>) -> !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK: %[[Y:.*]] = qmlir.matmul %[[X]], %[[W]] : tensor<?x384xf16>, !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>> -> tensor<?x96xf16>
// CHECK: return %[[Y]]
func.func @matmul_dynamic_m(%x: tensor<?x384xf16>, %c: tensor<96x48xi32>, %s: tensor<96x3xf16>) -> tensor<?x96xf16> {
  %w = qmlir.pack %c, %s : (tensor<96x48xi32>, tensor<96x3xf16>) -> !sym
  %y = qmlir.matmul %x, %w : tensor<?x384xf16>, !sym -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// 3-bit codes: 384 * 3 / 32 = 36 words per row; 6 groups of 3-bit zero
// points need 1 word.
// CHECK-LABEL: func.func @matmul_zero_points_bf16
// CHECK: qmlir.pack %{{.*}}, %{{.*}}, %{{.*}} : (tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>)
// CHECK: qmlir.matmul %{{.*}} : tensor<7x384xbf16>, {{.*}} -> tensor<7x96xbf16>
func.func @matmul_zero_points_bf16(%x: tensor<7x384xbf16>, %c: tensor<96x36xi32>, %s: tensor<96x6xbf16>, %z: tensor<96x1xi32>) -> tensor<7x96xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>) -> !asym
  %y = qmlir.matmul %x, %w : tensor<7x384xbf16>, !asym -> tensor<7x96xbf16>
  return %y : tensor<7x96xbf16>
}

// CHECK-LABEL: func.func @quantize_unpack_dequantize
// CHECK: %[[Q:.*]] = qmlir.quantize %{{.*}} : tensor<96x384xf32> -> !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>
// CHECK: %{{.*}}:3 = qmlir.unpack %[[Q]] : !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>
// CHECK: qmlir.dequantize %[[Q]] : !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>> -> tensor<96x384xf16>
func.func @quantize_unpack_dequantize(%f: tensor<96x384xf32>) -> (tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>, tensor<96x384xf16>) {
  %w = qmlir.quantize %f : tensor<96x384xf32> -> !asym
  %c, %s, %z = qmlir.unpack %w : !asym
  %d = qmlir.dequantize %w : !asym -> tensor<96x384xf16>
  return %c, %s, %z, %d : tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>, tensor<96x384xf16>
}

// Fused epilogues: bias, residual, both; the types follow the weights' type
// in operand order.
!chan = !qmlir.qtensor<96x384, #qmlir.scheme<i8, group = channel, scale = f16>>
// CHECK-LABEL: func.func @matmul_epilogues
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} bias(%{{.*}}) : tensor<?x384xf16>, !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>, tensor<96xf16> -> tensor<?x96xf16>
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} residual(%{{.*}}) : tensor<?x384xf16>, !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>, tensor<?x96xf16> -> tensor<?x96xf16>
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} bias(%{{.*}}) residual(%{{.*}}) : tensor<?x384xf16>, !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>, tensor<96xf16>, tensor<?x96xf16> -> tensor<?x96xf16>
func.func @matmul_epilogues(%x: tensor<?x384xf16>, %c: tensor<96x48xi32>, %s: tensor<96x3xf16>, %b: tensor<96xf16>, %r: tensor<?x96xf16>) -> (tensor<?x96xf16>, tensor<?x96xf16>, tensor<?x96xf16>) {
  %w = qmlir.pack %c, %s : (tensor<96x48xi32>, tensor<96x3xf16>) -> !sym
  %y0 = qmlir.matmul %x, %w bias(%b) : tensor<?x384xf16>, !sym, tensor<96xf16> -> tensor<?x96xf16>
  %y1 = qmlir.matmul %x, %w residual(%r) : tensor<?x384xf16>, !sym, tensor<?x96xf16> -> tensor<?x96xf16>
  %y2 = qmlir.matmul %x, %w bias(%b) residual(%r) : tensor<?x384xf16>, !sym, tensor<96xf16>, tensor<?x96xf16> -> tensor<?x96xf16>
  return %y0, %y1, %y2 : tensor<?x96xf16>, tensor<?x96xf16>, tensor<?x96xf16>
}

// SwiGLU with gate and up weights of different schemes, with and without a
// residual.
// CHECK-LABEL: func.func @swiglu
// CHECK: qmlir.swiglu %{{.*}}, %{{.*}}, %{{.*}} : tensor<7x384xbf16>, !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>, !qmlir.qtensor<96x384, #qmlir.scheme<i8, group = channel, scale = f16>> -> tensor<7x96xbf16>
// CHECK: qmlir.swiglu %{{.*}}, %{{.*}}, %{{.*}} residual(%{{.*}}) : tensor<7x384xbf16>, !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>, !qmlir.qtensor<96x384, #qmlir.scheme<i8, group = channel, scale = f16>>, tensor<7x96xbf16> -> tensor<7x96xbf16>
func.func @swiglu(%x: tensor<7x384xbf16>, %c: tensor<96x36xi32>, %s: tensor<96x6xbf16>, %z: tensor<96x1xi32>, %uc: tensor<96x96xi32>, %us: tensor<96x1xf16>, %r: tensor<7x96xbf16>) -> (tensor<7x96xbf16>, tensor<7x96xbf16>) {
  %g = qmlir.pack %c, %s, %z : (tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>) -> !asym
  %u = qmlir.pack %uc, %us : (tensor<96x96xi32>, tensor<96x1xf16>) -> !chan
  %y0 = qmlir.swiglu %x, %g, %u : tensor<7x384xbf16>, !asym, !chan -> tensor<7x96xbf16>
  %y1 = qmlir.swiglu %x, %g, %u residual(%r) : tensor<7x384xbf16>, !asym, !chan, tensor<7x96xbf16> -> tensor<7x96xbf16>
  return %y0, %y1 : tensor<7x96xbf16>, tensor<7x96xbf16>
}

// Schedules and layouts print back as written.
// CHECK-LABEL: func.func @scheduled
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 16], blocks_per_sm = 4, warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 128], warps = 4, tile_n = 2, tile_m = 8, unroll = 2>, #qmlir.schedule<m = [129, 256], warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [257, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 3, warps_m = 2>]}
!tiled = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 32, scale = bf16, zero = int>>
func.func @scheduled(%x: tensor<?x384xbf16>, %w: !tiled) -> tensor<?x96xbf16> {
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 16], blocks_per_sm = 4, warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 128], blocks_per_sm = 0, warps = 4, tile_n = 2, tile_m = 8, unroll = 2>, #qmlir.schedule<m = [129, 256], mma = "mma_sync", warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4, warps_m = 1>, #qmlir.schedule<m = [257, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 3, warps_m = 2>]} : tensor<?x384xbf16>, !tiled -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}
