// RUN: qmlir-opt %s --qmlir-lower-to-loops --split-input-file | FileCheck %s

// 3-bit codes straddle 32-bit words: the decoder reads the next word (its
// index clamped to the row) and keeps its bits only when shift + 3 > 32.
// Integer zero points are decoded the same way and subtracted before the
// conversion to f32; the scale is applied last.

!w = !qmlir.qtensor<8x64, #qmlir.scheme<u3, group = 32, scale = bf16, zero = int>>
// CHECK-LABEL: func.func @matmul_u3_int_zero
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xbf16>, %[[C:.*]]: tensor<8x6xi32>, %[[S:.*]]: tensor<8x2xbf16>, %[[Z:.*]]: tensor<8x1xi32>)
// CHECK-DAG: %[[CODES:.*]] = bufferization.to_buffer %[[C]] read_only : tensor<8x6xi32> to memref<8x6xi32>
// CHECK-DAG: %[[SCALES:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK-DAG: %[[ZEROS:.*]] = bufferization.to_buffer %[[Z]] read_only
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK: %[[M:.*]] = memref.dim %[[XB]]
// CHECK: %[[OUT:.*]] = memref.alloc(%[[M]]) : memref<?x8xbf16>
// CHECK: %[[ACC:.*]] = memref.alloca(%[[M]]) : memref<?xf32>
// The activations are transposed to [K, M] in f32 once.
// CHECK: %[[XT:.*]] = memref.alloc(%[[M]]) : memref<64x?xf32>
// CHECK: scf.for %[[R:.*]] =
// CHECK: scf.for %[[C:.*]] =
// CHECK: %[[XV:.*]] = memref.load %[[XB]][%[[R]], %[[C]]]
// CHECK: %[[XF:.*]] = arith.extf %[[XV]] : bf16 to f32
// CHECK: memref.store %[[XF]], %[[XT]][%[[C]], %[[R]]]
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[K:.*]] =
// CHECK: %[[G:.*]] = arith.divui %[[K]], %c32 : index
// CHECK: %[[LOW:.*]] = memref.load %[[CODES]][%[[N]], %{{.*}}] : memref<8x6xi32>
// CHECK: %[[NEXT:.*]] = arith.minui %{{.*}}, %c5 : index
// CHECK: memref.load %[[CODES]][%[[N]], %[[NEXT]]]
// CHECK: %[[STRADDLES:.*]] = arith.cmpi ugt, %{{.*}}, %c32_i32 : i32
// CHECK: arith.select %[[STRADDLES]]
// CHECK: %[[Q:.*]] = arith.andi %{{.*}}, %c7_i32 : i32
// CHECK: %[[SCALE:.*]] = memref.load %[[SCALES]][%[[N]], %[[G]]]
// CHECK: %[[SCALEF:.*]] = arith.extf %[[SCALE]] : bf16 to f32
// CHECK: memref.load %[[ZEROS]]
// CHECK: %[[ZP:.*]] = arith.andi %{{.*}}, %c7_i32 : i32
// CHECK: %[[DIFF:.*]] = arith.subi %[[Q]], %[[ZP]] : i32
// CHECK: %[[DIFFF:.*]] = arith.sitofp %[[DIFF]] : i32 to f32
// CHECK: %[[W:.*]] = arith.mulf %[[DIFFF]], %[[SCALEF]] : f32
// CHECK: scf.for %[[ROW:.*]] =
// CHECK: %[[X:.*]] = memref.load %[[XT]][%[[K]], %[[ROW]]] : memref<64x?xf32>
// CHECK: %[[PROD:.*]] = arith.mulf %[[X]], %[[W]] : f32
// CHECK: arith.addf %{{.*}}, %[[PROD]] : f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[RES:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK: return %[[RES]]
// CHECK-NOT: qmlir.
func.func @matmul_u3_int_zero(%x: tensor<?x64xbf16>, %c: tensor<8x6xi32>, %s: tensor<8x2xbf16>, %z: tensor<8x1xi32>) -> tensor<?x8xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<8x6xi32>, tensor<8x2xbf16>, tensor<8x1xi32>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x64xbf16>, !w -> tensor<?x8xbf16>
  return %y : tensor<?x8xbf16>
}

// -----

// Signed 4-bit codes never straddle words: no second load. They are
// sign-extended with a shift pair; float zeros are subtracted in f32.

!w = !qmlir.qtensor<4x64, #qmlir.scheme<i4, group = channel, scale = f32, zero = float>>
// CHECK-LABEL: func.func @dequantize_i4_float_zero
// CHECK: scf.for %[[R:.*]] =
// CHECK: scf.for %[[C:.*]] =
// CHECK: memref.load
// CHECK-NOT: arith.minui
// CHECK: %[[RAW:.*]] = arith.andi %{{.*}}, %c15_i32 : i32
// CHECK: %[[UP:.*]] = arith.shli %[[RAW]], %c28_i32 : i32
// CHECK: %[[Q:.*]] = arith.shrsi %[[UP]], %c28_i32 : i32
// CHECK: %[[QF:.*]] = arith.sitofp %[[Q]] : i32 to f32
// CHECK: %[[ZF:.*]] = memref.load %{{.*}} : memref<4x1xf32>
// CHECK: %[[CENTERED:.*]] = arith.subf %[[QF]], %[[ZF]] : f32
// CHECK: arith.mulf %[[CENTERED]], %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
func.func @dequantize_i4_float_zero(%c: tensor<4x8xi32>, %s: tensor<4x1xf32>, %z: tensor<4x1xf32>) -> tensor<4x64xf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<4x8xi32>, tensor<4x1xf32>, tensor<4x1xf32>) -> !w
  %d = qmlir.dequantize %w : !w -> tensor<4x64xf16>
  return %d : tensor<4x64xf16>
}

// -----

// Quantize: per group the range, the scale rounded through its storage
// type, then round-to-nearest-even codes ORed into zero-filled words.
// unpack of the result folds to the new buffers.

!w = !qmlir.qtensor<2x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: func.func @quantize_i4
// CHECK: %[[CODES:.*]] = memref.alloc() : memref<2x8xi32>
// CHECK: %[[SCALES:.*]] = memref.alloc() : memref<2x2xf16>
// CHECK: scf.for {{.*}} iter_args
// CHECK: arith.minimumf
// CHECK: arith.maximumf
// CHECK: math.absf
// CHECK: %[[S:.*]] = arith.divf %{{.*}}, %cst{{.*}} : f32
// CHECK: %[[SH:.*]] = arith.truncf %[[S]] : f32 to f16
// CHECK: %[[SR:.*]] = arith.extf %[[SH]] : f16 to f32
// CHECK: math.roundeven
// CHECK: arith.fptosi
// CHECK: arith.ori
// CHECK: memref.store %{{.*}}, %[[CODES]]
// CHECK-DAG: %[[CT:.*]] = bufferization.to_tensor %[[CODES]]
// CHECK-DAG: %[[ST:.*]] = bufferization.to_tensor %[[SCALES]]
// CHECK: return %[[CT]], %[[ST]]
func.func @quantize_i4(%f: tensor<2x64xf32>) -> (tensor<2x8xi32>, tensor<2x2xf16>) {
  %w = qmlir.quantize %f : tensor<2x64xf32> -> !w
  %c, %s = qmlir.unpack %w : !w
  return %c, %s : tensor<2x8xi32>, tensor<2x2xf16>
}
