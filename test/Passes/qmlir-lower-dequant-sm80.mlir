// RUN: qmlir-opt %s --split-input-file --qmlir-lower-dequant=chip=sm_80 --verify-diagnostics
// RUN: not qmlir-opt %s --split-input-file --qmlir-lower-dequant=chip=sm_86 2>&1 | FileCheck %s --check-prefix=SM86

// What sm_80 cannot run: wgmma (sm_90a only), and more shared memory per
// block than its 163 KiB (which fits sm_90a's 227 KiB). Chips without an
// entry of their own (sm_86) get 99 KiB, and hold 1536 threads per
// multiprocessor where sm_80 holds 2048.
// SM86: needs wgmma, which sm_86 does not have (sm_90a only)
// SM86: needs 221184 bytes of shared memory per block; sm_86 has at most 101376
// SM86: needs 147456 bytes of shared memory per block; sm_86 has at most 101376
// SM86: asks for 4 blocks of 512 threads per multiprocessor; sm_86 holds at most 1536 threads

!w = !qmlir.qtensor<64x256, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @wgmma(%x: tensor<?x256xf16>, %c: tensor<64x32xi32>, %s: tensor<64x2xf16>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s : (tensor<64x32xi32>, tensor<64x2xf16>) -> !w
  // expected-error @+1 {{#qmlir.schedule<m = [1, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4> needs wgmma, which sm_80 does not have (sm_90a only)}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x256xf16>, !w -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// -----

!w = !qmlir.qtensor<1024x256, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @shared_memory(%x: tensor<?x256xf16>, %c: tensor<1024x32xi32>, %s: tensor<1024x2xf16>) -> tensor<?x1024xf16> {
  %w = qmlir.pack %c, %s : (tensor<1024x32xi32>, tensor<1024x2xf16>) -> !w
  // expected-error @+1 {{#qmlir.schedule<m = [1, 65535], warps = 32, tile_n = 1, tile_m = 8, unroll = 1, stages = 6, warps_m = 4> needs 221184 bytes of shared memory per block; sm_80 has at most 166912}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 32, tile_n = 1, tile_m = 8, unroll = 1, stages = 6, warps_m = 4>]} : tensor<?x256xf16>, !w -> tensor<?x1024xf16>
  return %y : tensor<?x1024xf16>
}

// -----

// A split-K schedule over mma_tile_linear stages activations in dynamic
// shared memory: 8 warps x 4 unroll x 4 tiles x 1 KiB, then 8 warps x 4
// tiles x 128 f32 partial sums; fine on sm_80, too much for sm_86.
!w = !qmlir.qtensor<16x2048, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @split_k_scratch(%x: tensor<?x2048xf16>, %c: tensor<16x256xi32>, %s: tensor<16x16xf16>) -> tensor<?x16xf16> {
  %w = qmlir.pack %c, %s : (tensor<16x256xi32>, tensor<16x16xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile_linear>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 8, tile_n = 1, tile_m = 4, unroll = 4>]} : tensor<?x2048xf16>, !w -> tensor<?x16xf16>
  return %y : tensor<?x16xf16>
}

// -----

// 4 blocks of 16 warps fill sm_80's 2048 threads.
!w = !qmlir.qtensor<16x2048, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @blocks_per_sm(%x: tensor<?x2048xf16>, %c: tensor<16x256xi32>, %s: tensor<16x16xf16>) -> tensor<?x16xf16> {
  %w = qmlir.pack %c, %s : (tensor<16x256xi32>, tensor<16x16xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], blocks_per_sm = 4, warps = 16, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x2048xf16>, !w -> tensor<?x16xf16>
  return %y : tensor<?x16xf16>
}
