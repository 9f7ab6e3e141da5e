// RUN: qmlir-opt %s --qmlir-lower-to-loops --split-input-file | FileCheck %s

// The bias and the residual are added to the f32 sum, in that order, and the
// result is rounded once.

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: func.func @matmul_bias_residual
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf16>, %{{.*}}: tensor<8x8xi32>, %{{.*}}: tensor<8x2xf16>, %[[B:.*]]: tensor<8xf16>, %[[R:.*]]: tensor<?x8xf16>)
// CHECK-DAG: %[[BB:.*]] = bufferization.to_buffer %[[B]] read_only : tensor<8xf16> to memref<8xf16>
// CHECK-DAG: %[[RB:.*]] = bufferization.to_buffer %[[R]] read_only : tensor<?x8xf16> to memref<?x8xf16>
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) : memref<?x8xf16>
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[ROW:.*]] =
// CHECK: %[[SUM:.*]] = memref.load %[[ACC:.*]][%[[ROW]]] : memref<?xf32>
// CHECK: %[[BV:.*]] = memref.load %[[BB]][%[[N]]] : memref<8xf16>
// CHECK: %[[RV:.*]] = memref.load %[[RB]][%[[ROW]], %[[N]]] : memref<?x8xf16>
// CHECK: %[[BF:.*]] = arith.extf %[[BV]] : f16 to f32
// CHECK: %[[S1:.*]] = arith.addf %[[SUM]], %[[BF]] : f32
// CHECK: %[[RF:.*]] = arith.extf %[[RV]] : f16 to f32
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[RF]] : f32
// CHECK: %[[T:.*]] = arith.truncf %[[S2]] : f32 to f16
// CHECK: memref.store %[[T]], %[[OUT]][%[[ROW]], %[[N]]]
// CHECK-NOT: qmlir.
func.func @matmul_bias_residual(%x: tensor<?x64xf16>, %c: tensor<8x8xi32>, %s: tensor<8x2xf16>, %b: tensor<8xf16>, %r: tensor<?x8xf16>) -> tensor<?x8xf16> {
  %w = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !w
  %y = qmlir.matmul %x, %w bias(%b) residual(%r) : tensor<?x64xf16>, !w, tensor<8xf16>, tensor<?x8xf16> -> tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}

// -----

// A bias alone: no residual is read.

!w = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: func.func @matmul_bias
// CHECK: %[[BV:.*]] = memref.load %{{.*}} : memref<8xbf16>
// CHECK-NEXT: %[[BF:.*]] = arith.extf %[[BV]] : bf16 to f32
// CHECK-NEXT: %[[S1:.*]] = arith.addf %{{.*}}, %[[BF]] : f32
// CHECK-NEXT: arith.truncf %[[S1]] : f32 to bf16
func.func @matmul_bias(%x: tensor<3x64xbf16>, %c: tensor<8x8xi32>, %s: tensor<8x2xf16>, %b: tensor<8xbf16>) -> tensor<3x8xbf16> {
  %w = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !w
  %y = qmlir.matmul %x, %w bias(%b) : tensor<3x64xbf16>, !w, tensor<8xbf16> -> tensor<3x8xbf16>
  return %y : tensor<3x8xbf16>
}

// -----

// SwiGLU: both weights are decoded once per (n, k) and accumulated into two
// f32 accumulators; then silu(g) * u = g / (1 + exp(-g)) * u, plus the
// residual, rounded once.

!g = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
!u = !qmlir.qtensor<8x64, #qmlir.scheme<i8, group = channel, scale = f16>>
// CHECK-LABEL: func.func @swiglu_residual
// CHECK-SAME: (%[[X:.*]]: tensor<?x64xf16>, %[[GC:.*]]: tensor<8x8xi32>, %[[GS:.*]]: tensor<8x2xf16>, %[[UC:.*]]: tensor<8x16xi32>, %[[US:.*]]: tensor<8x1xf16>, %[[R:.*]]: tensor<?x8xf16>)
// CHECK-DAG: %[[GCB:.*]] = bufferization.to_buffer %[[GC]]
// CHECK-DAG: %[[UCB:.*]] = bufferization.to_buffer %[[UC]]
// CHECK-DAG: %[[RB:.*]] = bufferization.to_buffer %[[R]] read_only : tensor<?x8xf16> to memref<?x8xf16>
// CHECK: %[[ACCG:.*]] = memref.alloca(%{{.*}}) : memref<?xf32>
// CHECK: %[[ACCU:.*]] = memref.alloca(%{{.*}}) : memref<?xf32>
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[K:.*]] =
// CHECK: memref.load %[[GCB]][%[[N]], %{{.*}}] : memref<8x8xi32>
// CHECK: %[[WG:.*]] = arith.mulf %{{.*}} : f32
// CHECK: memref.load %[[UCB]][%[[N]], %{{.*}}] : memref<8x16xi32>
// CHECK: %[[WU:.*]] = arith.mulf %{{.*}} : f32
// CHECK: scf.for %[[ROW:.*]] =
// CHECK: %[[XV:.*]] = memref.load
// CHECK: arith.mulf %[[XV]], %[[WG]] : f32
// CHECK: memref.store %{{.*}}, %[[ACCG]][%[[ROW]]]
// CHECK: arith.mulf %[[XV]], %[[WU]] : f32
// CHECK: memref.store %{{.*}}, %[[ACCU]][%[[ROW]]]
// CHECK: scf.for %[[ROW2:.*]] =
// CHECK: %[[G:.*]] = memref.load %[[ACCG]][%[[ROW2]]]
// CHECK: %[[U:.*]] = memref.load %[[ACCU]][%[[ROW2]]]
// CHECK: %[[NEG:.*]] = arith.negf %[[G]] : f32
// CHECK: %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK: %[[DEN:.*]] = arith.addf %[[E]], %{{.*}} : f32
// CHECK: %[[SILU:.*]] = arith.divf %[[G]], %[[DEN]] : f32
// CHECK: %[[PROD:.*]] = arith.mulf %[[SILU]], %[[U]] : f32
// CHECK: %[[RV:.*]] = memref.load %[[RB]][%[[ROW2]], %[[N]]]
// CHECK: %[[RF:.*]] = arith.extf %[[RV]] : f16 to f32
// CHECK: %[[SUM:.*]] = arith.addf %[[PROD]], %[[RF]] : f32
// CHECK: arith.truncf %[[SUM]] : f32 to f16
// CHECK-NOT: qmlir.
func.func @swiglu_residual(%x: tensor<?x64xf16>, %gc: tensor<8x8xi32>, %gs: tensor<8x2xf16>, %uc: tensor<8x16xi32>, %us: tensor<8x1xf16>, %r: tensor<?x8xf16>) -> tensor<?x8xf16> {
  %g = qmlir.pack %gc, %gs : (tensor<8x8xi32>, tensor<8x2xf16>) -> !g
  %u = qmlir.pack %uc, %us : (tensor<8x16xi32>, tensor<8x1xf16>) -> !u
  %y = qmlir.swiglu %x, %g, %u residual(%r) : tensor<?x64xf16>, !g, !u, tensor<?x8xf16> -> tensor<?x8xf16>
  return %y : tensor<?x8xf16>
}

// -----

// Without a residual the product is rounded directly.

!g = !qmlir.qtensor<8x64, #qmlir.scheme<i4, group = 32, scale = f16>>
// CHECK-LABEL: func.func @swiglu_plain
// CHECK: %[[SILU:.*]] = arith.divf
// CHECK: %[[PROD:.*]] = arith.mulf %[[SILU]], %{{.*}} : f32
// CHECK-NEXT: arith.truncf %[[PROD]] : f32 to bf16
func.func @swiglu_plain(%x: tensor<2x64xbf16>, %c: tensor<8x8xi32>, %s: tensor<8x2xf16>) -> tensor<2x8xbf16> {
  %g = qmlir.pack %c, %s : (tensor<8x8xi32>, tensor<8x2xf16>) -> !g
  %y = qmlir.swiglu %x, %g, %g : tensor<2x64xbf16>, !g, !g -> tensor<2x8xbf16>
  return %y : tensor<2x8xbf16>
}
