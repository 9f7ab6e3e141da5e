// RUN: qmlir-opt %s --qmlir-lower-dequant | FileCheck %s

// Blocks reading the same weights start one after another. Launch order is
// x fastest, so the kernels number their blocks linearly (L = block_id.y *
// grid_dim.x + block_id.x) and take their column and row blocks from L:
// split-K kernels take the row blocks of one column block in a row (column
// L / rows, row L % rows); staged kernels do so in groups of 8 row blocks,
// the last group holding what is left. A bucket whose M range fits one
// row block keeps the block ids.

!w = !qmlir.qtensor<64x256, #qmlir.scheme<i4, group = 128, scale = f16>>
// CHECK-LABEL: gpu.func @order_matmul0_b0(
// CHECK-NOT: gpu.grid_dim
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[BY:.*]] = gpu.block_id y
// CHECK: arith.muli %[[BX]], %c1
// CHECK: arith.muli %[[BY]], %c8

// CHECK-LABEL: gpu.func @order_matmul0_b1(
// CHECK: %[[GX:.*]] = gpu.grid_dim x
// CHECK: %[[GY:.*]] = gpu.grid_dim y
// CHECK: %[[BY:.*]] = gpu.block_id y
// CHECK: %[[YX:.*]] = arith.muli %[[BY]], %[[GX]] : index
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[L:.*]] = arith.addi %[[YX]], %[[BX]] : index
// CHECK: %[[COLUMN:.*]] = arith.divui %[[L]], %[[GY]] : index
// CHECK: %[[ROW:.*]] = arith.remui %[[L]], %[[GY]] : index
// CHECK: arith.muli %[[COLUMN]], %c1
// CHECK: arith.muli %[[ROW]], %c16

// CHECK-LABEL: gpu.func @order_matmul0_b2(
// CHECK: %[[GX:.*]] = gpu.grid_dim x
// CHECK: %[[GY:.*]] = gpu.grid_dim y
// CHECK: %[[BY:.*]] = gpu.block_id y
// CHECK: %[[YX:.*]] = arith.muli %[[BY]], %[[GX]] : index
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[L:.*]] = arith.addi %[[YX]], %[[BX]] : index
// CHECK: %[[PER_GROUP:.*]] = arith.muli %[[GX]], %c8{{.*}} : index
// CHECK: %[[GROUP:.*]] = arith.divui %[[L]], %[[PER_GROUP]] : index
// CHECK: %[[FIRST:.*]] = arith.muli %[[GROUP]], %c8{{.*}} : index
// CHECK: %[[LEFT:.*]] = arith.subi %[[GY]], %[[FIRST]] : index
// CHECK: %[[ROWS:.*]] = arith.minui %c8{{.*}}, %[[LEFT]] : index
// CHECK: %[[WITHIN:.*]] = arith.remui %[[L]], %[[PER_GROUP]] : index
// CHECK: %[[COLUMN:.*]] = arith.divui %[[WITHIN]], %[[ROWS]] : index
// CHECK: %[[IN_GROUP:.*]] = arith.remui %[[WITHIN]], %[[ROWS]] : index
// CHECK: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[IN_GROUP]] : index
// CHECK: arith.muli %[[COLUMN]], %c4
// CHECK: arith.muli %[[ROW]], %c16
func.func @order(%x: tensor<?x256xf16>, %c: tensor<64x32xi32>, %s: tensor<64x2xf16>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s : (tensor<64x32xi32>, tensor<64x2xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 2, tile_n = 1, tile_m = 1, unroll = 1>, #qmlir.schedule<m = [9, 128], warps = 2, tile_n = 1, tile_m = 2, unroll = 1>, #qmlir.schedule<m = [129, 65535], warps = 2, tile_n = 2, tile_m = 2, unroll = 1, stages = 3>]} : tensor<?x256xf16>, !w -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}
