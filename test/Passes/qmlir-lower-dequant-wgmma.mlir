// RUN: qmlir-opt %s --split-input-file --qmlir-lower-dequant | FileCheck %s

// A wgmma schedule: one warpgroup (64 columns) over 2 x 8 = 16 rows, 3
// stages. Activations go to shared memory as core matrices in the weights'
// permuted K order (4-byte copies at 1152 bytes per 8-row group); each chunk
// decodes the A registers, fences them, issues one wgmma m64n16k16 per
// k-step through a shared-memory descriptor, and waits; a group of 128 spans
// two chunks, after which the partial sums are scaled into the sums.
!w = !qmlir.qtensor<64x256, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
// CHECK-LABEL: gpu.func @wgmma_matmul0_b0(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x256xf16>
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: qmlir.columns_per_block = 64
// CHECK-SAME: qmlir.rows_per_block = 16
// CHECK-SAME: qmlir.shared_memory_bytes = 13056
// CHECK: %[[BYTES:.*]] = gpu.dynamic_shared_memory
// CHECK: %[[XS:.*]] = memref.view %[[BYTES]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<3456xf16, #gpu.address_space<workgroup>>
// CHECK: memref.extract_aligned_pointer_as_index %[[XS]]
// CHECK: nvgpu.device_async_copy %[[X]][%{{.*}}, %{{.*}}], %[[XS]][%{{.*}}], 2 :
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %[[TWO:[^ ]*]] iter_args
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK-NEXT: llvm.inline_asm has_side_effects "fence.proxy.async.shared::cta;"
// CHECK-NEXT: gpu.barrier
// CHECK: llvm.inline_asm has_side_effects "wgmma.fence.sync.aligned;"
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
// CHECK: "wgmma.commit_group.sync.aligned;\0Awgmma.wait_group.sync.aligned 0;"
// CHECK-NOT: llvm.intr.fma
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK: wgmma.mma_async
// CHECK: "wgmma.commit_group.sync.aligned;\0Awgmma.wait_group.sync.aligned 0;"
// CHECK: llvm.intr.fma
// CHECK: scf.yield
func.func @wgmma(%x: tensor<?x256xf16>, %c: tensor<64x32xi32>, %s: tensor<64x2xf16>, %z: tensor<64x1xi32>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<64x32xi32>, tensor<64x2xf16>, tensor<64x1xi32>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 2, unroll = 1, stages = 3>]} : tensor<?x256xf16>, !w -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// -----

// With #qmlir.layout<mma_tile_linear> K is in order: 16-byte copies, lane
// l % 8 taking piece l % 8 of a row (K 8 (l % 8)) into core matrix l % 8
// (72 values, 144 bytes, apart), through L1 (no bypassL1: blocks along N
// that share an SM read the same rows).
!w = !qmlir.qtensor<64x256, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: gpu.func @linear_matmul0_b0(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x256xf16>
// CHECK: %[[TID:.*]] = gpu.thread_id x
// CHECK: %[[LANE:.*]] = arith.remui %[[TID]], %c32
// CHECK: %[[PIECE:.*]] = arith.remui %[[LANE]], %c8
// CHECK: %[[COLUMN:.*]] = arith.muli %[[PIECE]], %c8
// CHECK: %[[OFFSET:.*]] = arith.muli %[[PIECE]], %c72
// CHECK: arith.addi %{{.*}}, %[[OFFSET]]
// CHECK: %[[K:.*]] = arith.addi %{{.*}}, %[[COLUMN]]
// CHECK: nvgpu.device_async_copy %[[X]][%{{.*}}, %[[K]]], %{{.*}}[%{{.*}}], 8 :
// CHECK: scf.for
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
func.func @linear(%x: tensor<?x256xf16>, %c: tensor<64x32xi32>, %s: tensor<64x8xf16>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s : (tensor<64x32xi32>, tensor<64x8xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile_linear>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], mma = "wgmma", warps = 4, tile_n = 1, tile_m = 2, unroll = 1, stages = 3>]} : tensor<?x256xf16>, !w -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}
