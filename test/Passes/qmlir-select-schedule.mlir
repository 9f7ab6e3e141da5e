// RUN: qmlir-opt %s --qmlir-select-schedule | FileCheck %s
// RUN: qmlir-opt %s --qmlir-select-schedule=tensor-cores=false | FileCheck %s --check-prefix=OFF
// RUN: qmlir-opt %s --qmlir-select-schedule=chip=sm_75 | FileCheck %s --check-prefix=OFF
// RUN: qmlir-opt %s --qmlir-select-schedule=chip=sm_80 | FileCheck %s --check-prefix=SM80
// RUN: qmlir-opt %s --qmlir-select-schedule=linear-k=true | FileCheck %s --check-prefix=LINEAR

// The fixed rule: split-K buckets with 1, 2, 4 and 4 tiles of 8 rows; warps =
// min(8, K / 64); two 16-column tiles per block from tile_m = 4 when N is a
// multiple of 32 and the accumulators stay within 64 a thread, and for
// M <= 32 (one block row) N / 32 >= 256 blocks. From M = 129
// on a staged kernel (4 warps along N, 8 x 8 rows by 2 x 16 columns each, 1
// for a swiglu; 4 stages) when N is a multiple of its 128 (64) columns;
// otherwise the last split-K bucket runs to M = 65535 (N = 96 here).

// OFF-NOT: qmlir.schedules

!w4 = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 32, scale = bf16, zero = int>>
// CHECK-LABEL: func.func @w4_n96
// CHECK: qmlir.matmul
// CHECK-SAME: qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 6, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], warps = 6, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 6, tile_n = 1, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 65535], warps = 6, tile_n = 2, tile_m = 4, unroll = 1>]
func.func @w4_n96(%x: tensor<?x384xbf16>, %w: !w4) -> tensor<?x96xbf16> {
  %y = qmlir.matmul %x, %w : tensor<?x384xbf16>, !w4 -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

// N = 48 is a multiple of 16, not of 32: one tile per block; K = 1024 has
// 16 chunks: 16 warps for M <= 8 (few blocks), 8 above.
!w8 = !qmlir.qtensor<48x1024, #qmlir.scheme<i8, group = channel, scale = f32>>
// CHECK-LABEL: func.func @w8_n48
// CHECK: qmlir.matmul
// CHECK-SAME: qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 16, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], warps = 8, {{.*}}#qmlir.schedule<m = [33, 65535], warps = 8, tile_n = 1, tile_m = 4, unroll = 1>]
func.func @w8_n48(%x: tensor<?x1024xf16>, %w: !w8) -> tensor<?x48xf16> {
  %y = qmlir.matmul %x, %w : tensor<?x1024xf16>, !w8 -> tensor<?x48xf16>
  return %y : tensor<?x48xf16>
}

// N >= 16384: 8 chunks in flight per warp for M <= 8. N >= 8192 and one
// 4-bit projection: the wgmma kernel from M = 97 on (on sm_80 the staged
// kernel still starts at 129).
!wide = !qmlir.qtensor<16384x256, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: func.func @wide
// CHECK: qmlir.matmul
// CHECK-SAME: qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 8>, #qmlir.schedule<m = [9, 16], warps = 4, tile_n = 1, tile_m = 2, unroll = 4>
// CHECK-SAME: #qmlir.schedule<m = [33, 96], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [97, 255], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [256, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 4>]
// SM80-LABEL: func.func @wide
// SM80: #qmlir.schedule<m = [33, 128], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>]
func.func @wide(%x: tensor<?x256xf16>, %w: !wide) -> tensor<?x16384xf16> {
  %y = qmlir.matmul %x, %w : tensor<?x256xf16>, !wide -> tensor<?x16384xf16>
  return %y : tensor<?x16384xf16>
}

// A swiglu holds twice the accumulators: two tiles while that stays within
// 64; one per warp in the staged kernel.
!g = !qmlir.qtensor<64x256, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
// CHECK-LABEL: func.func @swiglu
// CHECK: qmlir.swiglu
// CHECK-SAME: #qmlir.schedule<m = [17, 32], warps = 4, tile_n = 1, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 128], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]
func.func @swiglu(%x: tensor<?x256xf16>, %g: !g, %u: !g) -> tensor<?x64xf16> {
  %y = qmlir.swiglu %x, %g, %u : tensor<?x256xf16>, !g, !g -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// 4-bit codes: M <= 8 states the occupancy of its registers (2 blocks of 16
// warps). N >= 8192 and 8 warps: two tiles at unroll 2 and 2 blocks per SM
// at M = 9..16, four tiles at unroll 2 and one block per SM at M = 17..32;
// N = 4096: one tile and 16 warps at unroll 2 at M = 9..16, two block rows
// of 16 at M = 17..32. 8-bit
// codes keep the general rule: 4 blocks per SM at M = 9..16 (registers
// bounded at 64), two tiles (N / 32 = 256 blocks) and no bound at 17..32.
// The 4-bit N = 8192 op gets the wgmma kernel from M = 97, the others from
// 129; with one tile per block while two would give at most 128 blocks
// (N = 8192: M <= 128; 4096: M <= 256; 8-bit, from 129: never). With
// linear-k the weights of ops with a wgmma schedule are in K order: of
// these rules only the M <= 8 bound applies, and only with N >= 8192. The
// wgmma kernels of 4-bit ops are warp-specialized (2 blocks of 4 + 4 warps)
// and from M = 256 (N = 8192) or 385 (N = 4096: 128 blocks) use 128 x 128
// blocks of 8 + 4 warps.
!big = !qmlir.qtensor<8192x4096, #qmlir.scheme<i4, group = 128, scale = f16>>
!mid = !qmlir.qtensor<4096x4096, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: func.func @occupancy
// CHECK: qmlir.matmul
// CHECK-SAME: [#qmlir.schedule<m = [1, 8], blocks_per_sm = 2, warps = 16, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], blocks_per_sm = 2, warps = 8, tile_n = 2, tile_m = 2, unroll = 2>, #qmlir.schedule<m = [17, 32], blocks_per_sm = 1, warps = 8, tile_n = 4, tile_m = 4, unroll = 2>, #qmlir.schedule<m = [33, 96], warps = 8, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [97, 128], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [129, 255], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [256, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 4>
// CHECK: qmlir.matmul
// CHECK-SAME: [#qmlir.schedule<m = [1, 8], blocks_per_sm = 2, warps = 16, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], warps = 16, tile_n = 1, tile_m = 2, unroll = 2>, #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 1, tile_m = 2, unroll = 2>, #qmlir.schedule<m = [33, 128], warps = 8, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 256], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [257, 384], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [385, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 4>
// LINEAR-LABEL: func.func @occupancy
// LINEAR: qmlir.matmul
// LINEAR-SAME: [#qmlir.schedule<m = [1, 8], blocks_per_sm = 2, warps = 16, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 2, tile_m = 4, unroll = 4>,
// LINEAR-NOT: blocks_per_sm = {{[0-9]+}}, warps
// LINEAR: qmlir.matmul
// LINEAR-SAME: #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 2, tile_m = 4, unroll = 4>,
// LINEAR-NOT: blocks_per_sm = {{[0-9]+}}, warps
// CHECK: qmlir.matmul
// CHECK-SAME: [#qmlir.schedule<m = [1, 8], warps = 16, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 2, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 128], warps = 8, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "wgmma",
// SM80-LABEL: func.func @occupancy
// SM80: #qmlir.schedule<m = [9, 16], blocks_per_sm = 2, warps = 8, tile_n = 2, tile_m = 2, unroll = 2>, #qmlir.schedule<m = [17, 32], blocks_per_sm = 1, warps = 8, tile_n = 4, tile_m = 4, unroll = 2>
!big8 = !qmlir.qtensor<8192x4096, #qmlir.scheme<i8, group = 128, scale = f16>>
func.func @occupancy(%x: tensor<?x4096xf16>, %a: !big, %b: !mid, %c: !big8) -> (tensor<?x8192xf16>, tensor<?x4096xf16>, tensor<?x8192xf16>) {
  %y = qmlir.matmul %x, %a : tensor<?x4096xf16>, !big -> tensor<?x8192xf16>
  %z = qmlir.matmul %x, %b : tensor<?x4096xf16>, !mid -> tensor<?x4096xf16>
  %u = qmlir.matmul %x, %c : tensor<?x4096xf16>, !big8 -> tensor<?x8192xf16>
  return %y, %z, %u : tensor<?x8192xf16>, tensor<?x4096xf16>, tensor<?x8192xf16>
}

// Where the M = 9..32 rules stop: four tiles need N >= 5120 in multiples of
// 64 (N = 5136 keeps the general 17..32 bucket, N = 5120 gets them; both
// keep one tile at 9..16, below N = 8192); fewer than 8 warps (K = 256)
// keep the general rule, as does a swiglu.
!n5120 = !qmlir.qtensor<5120x1024, #qmlir.scheme<u4, group = 64, scale = f16, zero = int>>
!n5136 = !qmlir.qtensor<5136x1024, #qmlir.scheme<i4, group = 128, scale = f16>>
!k256 = !qmlir.qtensor<8192x256, #qmlir.scheme<i4, group = 128, scale = f16>>
!g8192 = !qmlir.qtensor<8192x1024, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: func.func @few_rows
// LINEAR-LABEL: func.func @few_rows
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], blocks_per_sm = 1, warps = 8, tile_n = 4, tile_m = 4, unroll = 2>, #qmlir.schedule<m = [33, 128]
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 1, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 65535]
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 4, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 4, tile_n = 2, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 96]
// CHECK: qmlir.swiglu
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>, #qmlir.schedule<m = [17, 32], warps = 8, tile_n = 2, tile_m = 4, unroll = 4>, #qmlir.schedule<m = [33, 128]
func.func @few_rows(%x: tensor<?x1024xf16>, %x2: tensor<?x256xf16>, %a: !n5120, %b: !n5136, %c: !k256, %g: !g8192, %u: !g8192) -> (tensor<?x5120xf16>, tensor<?x5136xf16>, tensor<?x8192xf16>, tensor<?x8192xf16>) {
  %y = qmlir.matmul %x, %a : tensor<?x1024xf16>, !n5120 -> tensor<?x5120xf16>
  %z = qmlir.matmul %x, %b : tensor<?x1024xf16>, !n5136 -> tensor<?x5136xf16>
  %v = qmlir.matmul %x2, %c : tensor<?x256xf16>, !k256 -> tensor<?x8192xf16>
  %s = qmlir.swiglu %x, %g, %u : tensor<?x1024xf16>, !g8192, !g8192 -> tensor<?x8192xf16>
  return %y, %z, %v, %s : tensor<?x5120xf16>, tensor<?x5136xf16>, tensor<?x8192xf16>, tensor<?x8192xf16>
}

// 16 warps at M = 9..16 need N < 5120 and K >= 4096 (64 chunks): K = 2048
// keeps 8 warps; so do weights in K order (linear-k).
!n2048 = !qmlir.qtensor<2048x8192, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
!k2048 = !qmlir.qtensor<4096x2048, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: func.func @sixteen_warps
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 16, tile_n = 1, tile_m = 2, unroll = 2>
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>
// LINEAR-LABEL: func.func @sixteen_warps
// LINEAR: qmlir.matmul
// LINEAR-SAME: #qmlir.schedule<m = [9, 16], warps = 8, tile_n = 1, tile_m = 2, unroll = 4>
func.func @sixteen_warps(%x: tensor<?x8192xf16>, %x2: tensor<?x2048xf16>, %a: !n2048, %b: !k2048) -> (tensor<?x2048xf16>, tensor<?x4096xf16>) {
  %y = qmlir.matmul %x, %a : tensor<?x8192xf16>, !n2048 -> tensor<?x2048xf16>
  %z = qmlir.matmul %x2, %b : tensor<?x2048xf16>, !k2048 -> tensor<?x4096xf16>
  return %y, %z : tensor<?x2048xf16>, tensor<?x4096xf16>
}

// Left to SIMT: 3-bit codes, N not a multiple of 16, a swiglu whose gate and
// up permute K differently (groups 64 and 32).
!w3 = !qmlir.qtensor<96x384, #qmlir.scheme<i3, group = 64, scale = f16>>
!odd = !qmlir.qtensor<72x384, #qmlir.scheme<i4, group = 128, scale = f16>>
!g64 = !qmlir.qtensor<64x256, #qmlir.scheme<i4, group = 64, scale = f16>>
!u32 = !qmlir.qtensor<64x256, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: func.func @left_to_simt
// CHECK-NOT: qmlir.schedules
// CHECK: return
func.func @left_to_simt(%x: tensor<?x384xf16>, %x2: tensor<?x256xf16>, %a: !w3, %b: !odd, %g: !g64, %u: !u32) -> (tensor<?x96xf16>, tensor<?x72xf16>, tensor<?x64xf16>) {
  %y0 = qmlir.matmul %x, %a : tensor<?x384xf16>, !w3 -> tensor<?x96xf16>
  %y1 = qmlir.matmul %x, %b : tensor<?x384xf16>, !odd -> tensor<?x72xf16>
  %y2 = qmlir.swiglu %x2, %g, %u : tensor<?x256xf16>, !g64, !u32 -> tensor<?x64xf16>
  return %y0, %y1, %y2 : tensor<?x96xf16>, tensor<?x72xf16>, tensor<?x64xf16>
}

// Schedules already in the IR are kept.
// CHECK-LABEL: func.func @pinned
// CHECK: qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 3, unroll = 1>]
// OFF-LABEL: func.func @pinned
// OFF: qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 3, unroll = 1>]
func.func @pinned(%x: tensor<?x384xbf16>, %w: !w4) -> tensor<?x96xbf16> {
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 3, unroll = 1>]} : tensor<?x384xbf16>, !w4 -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

// More than 128 blocks of two 64-column tiles (N = 16512: 129): the wgmma
// kernel from M = 33 on; N = 16384 (128 blocks) keeps the split-K kernel up
// to M = 96. sm_80 has no wgmma: split-K up to M = 128 for both.
!many = !qmlir.qtensor<16512x256, #qmlir.scheme<i4, group = 128, scale = f16>>
!edge = !qmlir.qtensor<16384x256, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: func.func @many_blocks
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [33, 255], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>, #qmlir.schedule<m = [256, 65535], mma = "wgmma", blocks_per_sm = 1, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16, unroll = 1, stages = 4>]
// CHECK: qmlir.matmul
// CHECK-SAME: #qmlir.schedule<m = [33, 96], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [97, 255], mma = "wgmma", blocks_per_sm = 2, producer_warps = 4, warps = 4
// SM80-LABEL: func.func @many_blocks
// SM80: qmlir.matmul
// SM80-SAME: #qmlir.schedule<m = [33, 128], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>
// SM80: qmlir.matmul
// SM80-SAME: #qmlir.schedule<m = [33, 128], warps = 4, tile_n = 2, tile_m = 4, unroll = 1>
func.func @many_blocks(%x: tensor<?x256xf16>, %a: !many, %b: !edge) -> (tensor<?x16512xf16>, tensor<?x16384xf16>) {
  %y = qmlir.matmul %x, %a : tensor<?x256xf16>, !many -> tensor<?x16512xf16>
  %z = qmlir.matmul %x, %b : tensor<?x256xf16>, !edge -> tensor<?x16384xf16>
  return %y, %z : tensor<?x16512xf16>, tensor<?x16384xf16>
}
