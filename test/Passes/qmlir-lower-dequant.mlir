// RUN: qmlir-opt %s --split-input-file --qmlir-lower-dequant --verify-diagnostics | FileCheck %s

// One kernel per #qmlir.schedule, named by its bucket, with the launch rule
// and layout recorded for the bundle writer. In the loop: one 16-byte load
// of codes per lane and 64 columns, 16-byte activation loads, int4 pairs
// turned into f16x2 by mask (0x000F000F), OR with the exponent of 1024
// (0x64006400) and one subtraction of (1024 + zero) (i4: the sign is
// flipped first by xor, 0x00080008); the next register's pair is masked in
// place (0x00F000F0, sign 0x00800080), i.e. 1024 + 16 q, and finished by one
// fma with 1/16 and -(64 + zero) of its row half (register 1: rows g + 8);
// mma.sync m16n8k16, and the group's f32 partial sum scaled into the
// accumulator by fma. Warps meet in shared memory. A schedule's
// blocks_per_sm becomes the kernel's nvvm.minctasm (PTX .minnctapersm),
// none where it is 0.

!w = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 64, scale = f16>>
// CHECK-LABEL: gpu.module @qmlir_kernels
// CHECK: gpu.func @proj_matmul0_b0(%[[X:.*]]: memref<?x128xf16>, %[[C:.*]]: memref<32x16xi32>, %[[S:.*]]: memref<32x2xf16>, %[[OUT:.*]]: memref<?x32xf16>) workgroup(%[[SMEM:.*]] : memref<256xf32, #gpu.address_space<workgroup>>) kernel
// CHECK-SAME: known_block_size = array<i32: 64, 1, 1>, qmlir.block_size = 64
// CHECK-SAME: qmlir.columns_per_block = 16
// CHECK-SAME: qmlir.m_range = array<i64: 1, 8>
// CHECK-SAME: qmlir.rows_per_block = 8
// CHECK-SAME: qmlir.weights_layout = "mma_tile"
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %[[C]] {{\[\[}}0, 1]] : memref<32x16xi32> into memref<512xi32>
// CHECK: scf.for
// CHECK: %[[CODES:.*]] = vector.load %[[FLAT]][%{{.*}}] {alignment = 16 : i64} : memref<512xi32>, vector<4xi32>
// CHECK: memref.load %[[S]]
// CHECK: %[[HIGH_OFFSET:.*]] = arith.addi %c8_i32{{.*}}, %c64_i32{{.*}} : i32
// CHECK: %[[HIGH_OFFSET_F:.*]] = arith.uitofp %[[HIGH_OFFSET]] : i32 to f32
// CHECK: %[[NEG_HIGH:.*]] = arith.negf %[[HIGH_OFFSET_F]] : f32
// CHECK: %[[NEG_HIGH_H:.*]] = arith.truncf %[[NEG_HIGH]] : f32 to f16
// CHECK: vector.broadcast %[[NEG_HIGH_H]] : f16 to vector<2xf16>
// CHECK: %[[HIGH_OFFSET8:.*]] = arith.addi %c8_i32{{.*}}, %c64_i32{{.*}} : i32
// CHECK: %[[HIGH_OFFSET8_F:.*]] = arith.uitofp %[[HIGH_OFFSET8]] : i32 to f32
// CHECK: %[[NEG_HIGH8:.*]] = arith.negf %[[HIGH_OFFSET8_F]] : f32
// CHECK: %[[NEG_HIGH8_H:.*]] = arith.truncf %[[NEG_HIGH8]] : f32 to f16
// CHECK: %[[NEG_HIGH8_PAIR:.*]] = vector.broadcast %[[NEG_HIGH8_H]] : f16 to vector<2xf16>
// CHECK: vector.load %[[X]][%{{.*}}, %{{.*}}] {alignment = 16 : i64} : memref<?x128xf16>, vector<8xf16>
// CHECK: vector.extract %[[CODES]][0]
// CHECK: arith.constant 983055 : i32
// CHECK: arith.constant 1677747200 : i32
// CHECK: arith.xori
// CHECK: arith.andi
// CHECK: arith.ori
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK: %[[HIGH:.*]] = arith.andi %{{.*}}, %c15728880_i32{{.*}} : i32
// CHECK: arith.xori %[[HIGH]], %c8388736_i32{{.*}} : i32
// CHECK: %[[SIXTEENTH:.*]] = arith.constant dense<6.250000e-02> : vector<2xf16>
// CHECK: llvm.intr.fma(%{{.*}}, %[[SIXTEENTH]], %[[NEG_HIGH8_PAIR]]) : (vector<2xf16>, vector<2xf16>, vector<2xf16>) -> vector<2xf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>{{.*}} : (vector<2xf16>, vector<2xf16>, f32)
// CHECK: llvm.intr.fma
// CHECK: memref.store %{{.*}}, %[[SMEM]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: gpu.func @proj_matmul0_b1(
// CHECK-SAME: known_block_size = array<i32: 32, 1, 1>, nvvm.minctasm = 3 : i32
// CHECK-SAME: qmlir.columns_per_block = 32
// CHECK-SAME: qmlir.m_range = array<i64: 9, 65535>
// CHECK-SAME: qmlir.rows_per_block = 16
func.func @proj(%x: tensor<?x128xf16>, %c: tensor<32x16xi32>, %s: tensor<32x2xf16>) -> tensor<?x32xf16> {
  %w = qmlir.pack %c, %s : (tensor<32x16xi32>, tensor<32x2xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>, #qmlir.schedule<m = [9, 65535], blocks_per_sm = 3, warps = 1, tile_n = 2, tile_m = 2, unroll = 1>]} : tensor<?x128xf16>, !w -> tensor<?x32xf16>
  return %y : tensor<?x32xf16>
}

// -----

// bf16's 7 mantissa bits cannot hold 16 q: every register's pair is shifted
// down (by 4 for register 1) and subtracted, with the exponent of 128.
!w = !qmlir.qtensor<32x128, #qmlir.scheme<u4, group = 64, scale = bf16, zero = int>>
// CHECK-LABEL: gpu.func @proj_bf16_matmul0_b0(
// CHECK: scf.for
// CHECK: arith.andi %{{.*}}, %c983055_i32{{.*}} : i32
// CHECK: arith.ori %{{.*}}, %c1124090624_i32{{.*}} : i32
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<2xbf16>
// CHECK: %[[SHIFTED:.*]] = arith.shrui %{{.*}}, %c4_i32{{.*}} : i32
// CHECK: arith.andi %[[SHIFTED]], %c983055_i32{{.*}} : i32
// CHECK-NOT: 6.250000e-02
// CHECK: nvvm.mma.sync
func.func @proj_bf16(%x: tensor<?x128xbf16>, %c: tensor<32x16xi32>, %s: tensor<32x2xbf16>, %z: tensor<32x1xi32>) -> tensor<?x32xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<32x16xi32>, tensor<32x2xbf16>, tensor<32x1xi32>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x128xbf16>, !w -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}

// -----

// mma_tile_linear: with one 8-row tile per warp the lanes load their B
// fragment words (4 bytes, 16 bytes apart); with two, each lane copies
// 16-byte pieces of activations (8 values) into its warp's slot of dynamic
// shared memory (2 warps x 2 unroll slots x 2 tiles x 512 values = 8 KiB,
// then the partial sums: 2 warps x 2 tiles x 512 bytes), the warp waits
// and syncs, and ldmatrix.x4 reads the fragments back.
!w = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 64, scale = f16>>
// CHECK-LABEL: gpu.func @linear_matmul0_b0(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x128xf16>
// CHECK-NOT: qmlir.shared_memory_bytes
// CHECK-SAME: qmlir.weights_layout = "mma_tile_linear"
// CHECK: scf.for
// CHECK: vector.load %[[X]][%{{.*}}, %{{.*}}] {alignment = 4 : i64} : memref<?x128xf16>, vector<2xf16>
// CHECK-NOT: nvgpu.ldmatrix
// CHECK: nvvm.mma.sync
// CHECK: gpu.func @linear_matmul0_b1(
// CHECK-SAME: %[[X1:[^:]*]]: memref<?x128xf16>
// CHECK-NOT: workgroup(
// CHECK-SAME: qmlir.shared_memory_bytes = 10240
// CHECK: %[[BYTES:.*]] = gpu.dynamic_shared_memory
// CHECK: %[[SCRATCH:.*]] = memref.view %[[BYTES]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<4096xf16, #gpu.address_space<workgroup>>
// CHECK: scf.for
// CHECK: nvvm.bar.warp.sync
// CHECK: nvgpu.device_async_copy %[[X1]][%{{.*}}, %{{.*}}], %[[SCRATCH]][%{{.*}}], 8 :
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK: nvvm.bar.warp.sync
// CHECK: nvgpu.ldmatrix %[[SCRATCH]][%{{.*}}] {numTiles = 4 : i32, transpose = false} : memref<4096xf16, #gpu.address_space<workgroup>> -> vector<4x2xf16>
// CHECK: nvvm.mma.sync
// CHECK: %[[PARTIALS:.*]] = memref.view %[[BYTES]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<512xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
func.func @linear(%x: tensor<?x128xf16>, %c: tensor<32x16xi32>, %s: tensor<32x2xf16>) -> tensor<?x32xf16> {
  %w = qmlir.pack %c, %s : (tensor<32x16xi32>, tensor<32x2xf16>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile_linear>, qmlir.schedules = [#qmlir.schedule<m = [1, 8], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>, #qmlir.schedule<m = [9, 65535], warps = 2, tile_n = 1, tile_m = 2, unroll = 2>]} : tensor<?x128xf16>, !w -> tensor<?x32xf16>
  return %y : tensor<?x32xf16>
}

// -----

!w = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 64, scale = f16>>
func.func @no_layout(%x: tensor<?x128xf16>, %c: tensor<32x16xi32>, %s: tensor<32x2xf16>) -> tensor<?x32xf16> {
  %w = qmlir.pack %c, %s : (tensor<32x16xi32>, tensor<32x2xf16>) -> !w
  // expected-error @+1 {{cannot lower to tensor-core kernels: the weights must be in #qmlir.layout<mma_tile> or <mma_tile_linear> (run qmlir-reorder-layout)}}
  %y = qmlir.matmul %x, %w {qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x128xf16>, !w -> tensor<?x32xf16>
  return %y : tensor<?x32xf16>
}

// -----

!g = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 64, scale = f16>>
!u = !qmlir.qtensor<32x128, #qmlir.scheme<i4, group = 32, scale = f16>>
func.func @spans(%x: tensor<?x128xf16>, %gc: tensor<32x16xi32>, %gs: tensor<32x2xf16>, %uc: tensor<32x16xi32>, %us: tensor<32x4xf16>) -> tensor<?x32xf16> {
  %g = qmlir.pack %gc, %gs : (tensor<32x16xi32>, tensor<32x2xf16>) -> !g
  %u = qmlir.pack %uc, %us : (tensor<32x16xi32>, tensor<32x4xf16>) -> !u
  // expected-error @+1 {{the gate's and the up's group sizes (64, 32) permute K differently in the mma_tile layout}}
  %y = qmlir.swiglu %x, %g, %u {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 1, tile_m = 1, unroll = 2>]} : tensor<?x128xf16>, !g, !u -> tensor<?x32xf16>
  return %y : tensor<?x32xf16>
}

// -----

// A staged schedule: 2 warps side by side along N (columns = 2 x 16 x 2 =
// 64) over 8 x 2 = 16 rows; dynamic shared memory for 3 stages of 16 rows
// of 64 activations (2 KiB) and the block's four 16 x 64 tiles of 4-bit codes
// (2 KiB), recorded for the manifest. The prologue starts 2 chunks; each
// iteration waits until at most 1 group is in flight, synchronises, starts
// the next chunk's copies (16 bytes, L1 bypassed, zero-filled past M and
// past K) and reads codes and activations back from shared memory.
!w = !qmlir.qtensor<64x256, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
// CHECK-LABEL: gpu.func @staged_matmul0_b0(
// CHECK-SAME: %[[X:[^:]*]]: memref<?x256xf16>
// CHECK-SAME: known_block_size = array<i32: 64, 1, 1>
// CHECK-SAME: qmlir.columns_per_block = 64
// CHECK-SAME: qmlir.rows_per_block = 16
// CHECK-SAME: qmlir.shared_memory_bytes = 12288
// CHECK: %[[BYTES:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[XS:.*]] = memref.view %[[BYTES]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<3072xf16, #gpu.address_space<workgroup>>
// CHECK: %[[CS:.*]] = memref.view %[[BYTES]][%{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1536xi32, #gpu.address_space<workgroup>>
// CHECK: nvgpu.device_async_copy %[[X]][%{{.*}}, %{{.*}}], %[[XS]][%{{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_copy %{{.*}}[%{{.*}}], %[[CS]][%{{.*}}], 4, %{{.*}} {bypassL1}
// CHECK: %[[GROUP:.*]] = nvgpu.device_async_create_group
// CHECK: nvgpu.device_async_create_group
// CHECK: scf.for
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 1 : i32}
// CHECK-NEXT: gpu.barrier
// CHECK: nvgpu.device_async_copy %[[X]]
// CHECK: nvgpu.device_async_create_group
// CHECK: vector.load %[[CS]][%{{.*}}] {alignment = 16 : i64} : memref<1536xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// CHECK: vector.load %[[XS]][%{{.*}}] {alignment = 16 : i64} : memref<3072xf16, #gpu.address_space<workgroup>>, vector<8xf16>
// CHECK: nvvm.mma.sync
// CHECK: scf.yield
// CHECK: nvgpu.device_async_wait %{{.*}} {numGroups = 0 : i32}
// CHECK: scf.if
// CHECK: memref.store
func.func @staged(%x: tensor<?x256xf16>, %c: tensor<64x32xi32>, %s: tensor<64x2xf16>, %z: tensor<64x1xi32>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<64x32xi32>, tensor<64x2xf16>, tensor<64x1xi32>) -> !w
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 2, tile_n = 2, tile_m = 2, unroll = 1, stages = 3>]} : tensor<?x256xf16>, !w -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}

// -----

!w = !qmlir.qtensor<1024x256, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @too_much_shared_memory(%x: tensor<?x256xf16>, %c: tensor<1024x32xi32>, %s: tensor<1024x2xf16>) -> tensor<?x1024xf16> {
  %w = qmlir.pack %c, %s : (tensor<1024x32xi32>, tensor<1024x2xf16>) -> !w
  // expected-error @+1 {{#qmlir.schedule<m = [1, 65535], warps = 32, tile_n = 1, tile_m = 8, unroll = 1, stages = 8, warps_m = 4> needs 294912 bytes of shared memory per block; sm_90a has at most 232448}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 32, tile_n = 1, tile_m = 8, unroll = 1, stages = 8, warps_m = 4>]} : tensor<?x256xf16>, !w -> tensor<?x1024xf16>
  return %y : tensor<?x1024xf16>
}

// -----

!w = !qmlir.qtensor<96x256, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @columns(%x: tensor<?x256xf16>, %c: tensor<96x32xi32>, %s: tensor<96x2xf16>) -> tensor<?x96xf16> {
  %w = qmlir.pack %c, %s : (tensor<96x32xi32>, tensor<96x2xf16>) -> !w
  // expected-error @+1 {{N = 96 is not a multiple of the 64 columns of #qmlir.schedule<m = [1, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>}}
  %y = qmlir.matmul %x, %w {qmlir.layout = #qmlir.layout<mma_tile>, qmlir.schedules = [#qmlir.schedule<m = [1, 65535], warps = 4, tile_n = 1, tile_m = 8, unroll = 1, stages = 4>]} : tensor<?x256xf16>, !w -> tensor<?x96xf16>
  return %y : tensor<?x96xf16>
}
