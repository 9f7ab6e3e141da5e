// RUN: qmlir-opt %s --split-input-file --qmlir-reorder-layout --verify-diagnostics | FileCheck %s
// RUN: qmlir-opt %s --split-input-file "--qmlir-reorder-layout=linear-k=true" --verify-diagnostics | FileCheck %s --check-prefix=LINEAR

// Scheduled ops get the mma_tile layout (with linear-k, mma_tile_linear
// where a schedule issues wgmma); others and ops that have a layout already
// are left alone.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 32, scale = bf16, zero = int>>
// CHECK-LABEL: func.func @layouts
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<canonical>, qmlir.schedules
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} :
func.func @layouts(%x: tensor<?x384xbf16>, %w: !w) -> (tensor<?x96xbf16>, tensor<?x96xbf16>, tensor<?x96xbf16>) {
  %a = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 6, tile_n = 1, tile_m = 1, unroll = 4>]} : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  %b = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<canonical>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 6, tile_n = 1, tile_m = 1, unroll = 4>]} : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  %c = qmlir.matmul %x, %w : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  return %a, %b, %c : tensor<?x96xbf16>, tensor<?x96xbf16>, tensor<?x96xbf16>
}

// -----

!w = !qmlir.qtensor<128x256, #qmlir.scheme<u4, group = 32, scale = f16, zero = int>>
// CHECK-LABEL: func.func @wgmma_linear
// CHECK: qmlir.matmul %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules
// CHECK: qmlir.swiglu %{{.*}}, %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules
// LINEAR-LABEL: func.func @wgmma_linear
// LINEAR: qmlir.matmul %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile_linear>, qmlir.schedules
// LINEAR: qmlir.swiglu %{{.*}}, %{{.*}}, %{{.*}} {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules
func.func @wgmma_linear(%x: tensor<?x256xf16>, %w: !w) -> (tensor<?x128xf16>, tensor<?x128xf16>) {
  %a = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 128], warps = 4, tile_n = 1, tile_m = 1, unroll = 4>, #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 4, tile_n = 2, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x256xf16>, !w -> tensor<?x128xf16>
  %b = qmlir.swiglu %x, %w, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x256xf16>, !w, !w -> tensor<?x128xf16>
  return %a, %b : tensor<?x128xf16>, tensor<?x128xf16>
}

// -----

// Schedules pinned on weights the layout cannot hold: an error naming why.
!w = !qmlir.qtensor<96x336, #qmlir.scheme<i4, group = 48, scale = f16>>
func.func @k_not_tiled(%x: tensor<?x336xf16>, %w: !w) -> tensor<?x96xf16> {
  // expected-error @+1 {{K = 336 is not a multiple of 64}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 4, tile_n = 1, tile_m = 1, unroll = 4>]} : tensor<?x336xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}
