// RUN: qmlir-opt %s -split-input-file -verify-diagnostics

// The #qmlir.schedule verifier and the discardable qmlir.schedules and
// qmlir.layout attributes on matmul and swiglu.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @empty_range(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule M range [4, 2] must satisfy 1 <= m_min <= m_max}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [4, 2], warps = 4, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @too_many_warps(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule warps = 33 must be in 1..32 (at most 1024 threads)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 33, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @tile_n(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule tile_n = 0 must be in 1..8}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 0, tile_m = 1, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @tile_m(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule tile_m = 9 must be in 1..8}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 9, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @blocks_per_sm_threads(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule blocks_per_sm = 5 must be in 0..4 (no multiprocessor holds more than 2048 threads)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], blocks_per_sm = 5, warps = 16, tile_n = 1, tile_m = 1, unroll = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @blocks_per_sm_negative(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule blocks_per_sm = -1 must be in 0..8 (no multiprocessor holds more than 2048 threads)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], blocks_per_sm = -1, warps = 8, tile_n = 1, tile_m = 1, unroll = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @unroll(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule unroll = 0 must be in 1..8}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 0>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @not_an_array(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.schedules' must be a non-empty array of #qmlir.schedule}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = #qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 2>} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @empty_array(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.schedules' must be a non-empty array of #qmlir.schedule}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = []} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @not_a_schedule(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.schedules' entry 1 is not a #qmlir.schedule: 3 : i64}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 2>, 3]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @gap(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.schedules' entry 1 starts at M = 10; the ranges must be sorted and cover M from 1 without gaps or overlaps (expected 9)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 2>, #qmlir.schedule<m = [10, 64], warps = 4, tile_n = 1, tile_m = 8, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @not_from_one(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.schedules' entry 0 starts at M = 2}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [2, 8], warps = 4, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

func.func @on_another_op() -> i32 {
  // expected-error @+1 {{'qmlir.layout' is only valid on qmlir.matmul and qmlir.swiglu}}
  %c = arith.constant {qmlir.layout = #qmlir.layout<mma_tile>} 0 : i32
  return %c : i32
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @layout_not_a_layout(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{'qmlir.layout' must be a #qmlir.layout, got "mma_tile"}}
  %y = qmlir.matmul %x, %w {qmlir.layout = "mma_tile"} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i3, group = 128, scale = f16>>
func.func @layout_3bit(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{cannot use #qmlir.layout<mma_tile>: the mma_tile layout holds 4- or 8-bit codes, not 3-bit}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<72x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @layout_rows(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x72xf16> {
  // expected-error @+1 {{N = 72 is not a multiple of 16}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>} : tensor<?x384xf16>, !w -> tensor<?x72xf16>
  return %y : tensor<?x72xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @stages(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule stages = 1 must be 0 (no shared-memory stages) or in 2..8}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [129, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 1>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @stages_many(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule stages = 9 must be 0 (no shared-memory stages) or in 2..8}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [129, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 9>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @warps_m(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule warps_m = 4 must divide warps = 6}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [129, 65535], warps = 6, tile_n = 1, tile_m = 8, unroll = 1, stages = 3, warps_m = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @warps_m_split_k(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule warps_m = 2 needs stages: without them the warps split K}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [129, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 0, warps_m = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @staged_unroll(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule unroll = 2 must be 1 with stages (the stages keep chunks in flight)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [129, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 2, stages = 3>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @unknown_mma(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule mma = "hmma" must be "mma_sync" or "wgmma"}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 128], warps = 4, tile_n = 1, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "hmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @wgmma_without_stages(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule mma = "wgmma" needs stages (its activations are read from shared memory)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 128], warps = 4, tile_n = 1, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @wgmma_partial_warpgroup(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule mma = "wgmma" needs warps / warps_m = 2 to be a multiple of 4 (whole warpgroups along N)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 128], warps = 4, tile_n = 1, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4, warps_m = 2>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @wgmma_tile_m(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule tile_m = 33 must be in 1..32}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 128], warps = 4, tile_n = 1, tile_m = 4, unroll = 1>, #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 33, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!g = !qmlir.qtensor<64x256, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
!u = !qmlir.qtensor<64x256, #qmlir.scheme<u4, group = 128, scale = f16, zero = float>>
func.func @layout_swiglu_up(%x: tensor<?x256xf16>, %g: !g, %u: !u) -> tensor<?x64xf16> {
  // expected-error @+1 {{the mma_tile layout takes integer zero points or none}}
  %y = qmlir.swiglu %x, %g, %u {qmlir.layout = #qmlir.layout<mma_tile>} : tensor<?x256xf16>, !g, !u -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @producer_warps_count(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule producer_warps = 2 must be 0 or 4 (one warpgroup)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", producer_warps = 2, warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @producer_warps_mma_sync(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule producer_warps = 4 needs mma = "wgmma" (only its stages are filled by producers)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], producer_warps = 4, warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @producer_warps_too_many(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule warps = 32 and producer_warps = 4 exceed 32 warps (1024 threads)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", producer_warps = 4, warps = 32, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @producer_warps_blocks_per_sm(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule blocks_per_sm = 6 must be in 0..5 (no multiprocessor holds more than 2048 threads)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", blocks_per_sm = 6, producer_warps = 4, warps = 8, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}

// -----

!w = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @producer_warps_unbounded(%x: tensor<?x384xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{schedule producer_warps = 4 needs blocks_per_sm >= 1 (the registers the producers give back are shared out within it)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", producer_warps = 4, warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x384xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}
