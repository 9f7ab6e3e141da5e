// RUN: qmlir-opt %s --qmlir-lower-to-gpu-kernels | FileCheck %s

// Kernel arguments (ABI v1, every argument 2-D): x, the weights' parts (for
// swiglu the gate's, then the up's), the bias as [1, N], the residual, out.
// The attributes tell qmlir-compile what each kernel computes.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
!g = !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = bf16>>
!u = !qmlir.qtensor<96x384, #qmlir.scheme<nf4, group = 64, scale = bf16>>

// CHECK-LABEL: gpu.func @layer_matmul0
// CHECK-SAME: (%[[X:.*]]: memref<?x384xf16>, %{{.*}}: memref<96x48xi32>, %{{.*}}: memref<96x3xf16>, %{{.*}}: memref<96x1xi32>, %[[B:.*]]: memref<1x96xf16>, %[[R:.*]]: memref<?x96xf16>, %[[OUT:.*]]: memref<?x96xf16>) kernel
// CHECK-SAME: qmlir.bias
// CHECK-SAME: qmlir.op = "matmul"
// CHECK-SAME: qmlir.residual
// CHECK-SAME: qmlir.scheme = #qmlir.scheme<u4, group = 128, scale = f16, zero = int>
// CHECK-NOT: qmlir.up_scheme
// CHECK: %[[COL:.*]] = arith.addi
// CHECK: %[[ROW:.*]] = gpu.block_id y
// CHECK: %[[SUM:.*]] = scf.for
// CHECK: %[[BV:.*]] = memref.load %[[B]][%{{.*}}, %[[COL]]] : memref<1x96xf16>
// CHECK: %[[RV:.*]] = memref.load %[[R]][%[[ROW]], %[[COL]]] : memref<?x96xf16>
// CHECK: %[[BF:.*]] = arith.extf %[[BV]] : f16 to f32
// CHECK: %[[S1:.*]] = arith.addf %[[SUM]], %[[BF]] : f32
// CHECK: %[[RF:.*]] = arith.extf %[[RV]] : f16 to f32
// CHECK: %[[S2:.*]] = arith.addf %[[S1]], %[[RF]] : f32
// CHECK: %[[T:.*]] = arith.truncf %[[S2]] : f32 to f16
// CHECK: memref.store %[[T]], %[[OUT]][%[[ROW]], %[[COL]]]

// A residual alone: no bias argument and no qmlir.bias.
// CHECK-LABEL: gpu.func @layer_matmul1
// CHECK-SAME: (%{{.*}}: memref<?x384xf16>, %{{.*}}: memref<96x48xi32>, %{{.*}}: memref<96x3xf16>, %{{.*}}: memref<96x1xi32>, %{{.*}}: memref<?x96xf16>, %{{.*}}: memref<?x96xf16>) kernel
// CHECK-NOT: qmlir.bias
// CHECK-SAME: qmlir.residual
func.func @layer(%x: tensor<?x384xf16>, %c: tensor<96x48xi32>, %s: tensor<96x3xf16>, %z: tensor<96x1xi32>, %b: tensor<96xf16>, %r: tensor<?x96xf16>) -> (tensor<?x96xf16>, tensor<?x96xf16>) {
  %w = qmlir.pack %c, %s, %z : (tensor<96x48xi32>, tensor<96x3xf16>, tensor<96x1xi32>) -> !w
  %y = qmlir.matmul %x, %w bias(%b) residual(%r) : tensor<?x384xf16>, !w, tensor<96xf16>, tensor<?x96xf16> -> tensor<?x96xf16>
  %y2 = qmlir.matmul %x, %w residual(%r) : tensor<?x384xf16>, !w, tensor<?x96xf16> -> tensor<?x96xf16>
  return %y, %y2 : tensor<?x96xf16>, tensor<?x96xf16>
}

// CHECK-LABEL: gpu.func @mlp_swiglu0
// CHECK-SAME: (%[[X:.*]]: memref<?x384xbf16>, %[[GC:.*]]: memref<96x48xi32>, %[[GS:.*]]: memref<96x3xbf16>, %[[UC:.*]]: memref<96x48xi32>, %[[US:.*]]: memref<96x6xbf16>, %[[R:.*]]: memref<?x96xbf16>, %[[OUT:.*]]: memref<?x96xbf16>) kernel
// CHECK-NOT: qmlir.bias
// CHECK-SAME: qmlir.op = "swiglu"
// CHECK-SAME: qmlir.residual
// CHECK-SAME: qmlir.scheme = #qmlir.scheme<i4, group = 128, scale = bf16>
// CHECK-SAME: qmlir.up_scheme = #qmlir.scheme<nf4, group = 64, scale = bf16>
// CHECK: %[[COL:.*]] = arith.addi
// CHECK: %[[ROW:.*]] = gpu.block_id y
// CHECK: %[[SUMS:.*]]:2 = scf.for %[[K:.*]] = {{.*}} iter_args(%[[G:.*]] = %{{.*}}, %[[U:.*]] = %{{.*}}) -> (f32, f32)
// CHECK: memref.load %[[GC]][%[[COL]], %{{.*}}]
// CHECK: %[[WG:.*]] = arith.mulf %{{.*}} : f32
// CHECK: memref.load %[[UC]][%[[COL]], %{{.*}}]
// CHECK: %[[WU:.*]] = arith.mulf %{{.*}} : f32
// CHECK: %[[XF:.*]] = arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[PG:.*]] = arith.mulf %[[XF]], %[[WG]] : f32
// CHECK: %[[NG:.*]] = arith.addf %[[G]], %[[PG]] : f32
// CHECK: %[[PU:.*]] = arith.mulf %[[XF]], %[[WU]] : f32
// CHECK: %[[NU:.*]] = arith.addf %[[U]], %[[PU]] : f32
// CHECK: scf.yield %[[NG]], %[[NU]] : f32, f32
// CHECK: %[[NEG:.*]] = arith.negf %[[SUMS]]#0 : f32
// CHECK: %[[E:.*]] = math.exp %[[NEG]] : f32
// CHECK: %[[DEN:.*]] = arith.addf %[[E]], %{{.*}} : f32
// CHECK: %[[SILU:.*]] = arith.divf %[[SUMS]]#0, %[[DEN]] : f32
// CHECK: %[[PROD:.*]] = arith.mulf %[[SILU]], %[[SUMS]]#1 : f32
// CHECK: %[[RV:.*]] = memref.load %[[R]][%[[ROW]], %[[COL]]]
// CHECK: %[[RF:.*]] = arith.extf %[[RV]] : bf16 to f32
// CHECK: %[[S:.*]] = arith.addf %[[PROD]], %[[RF]] : f32
// CHECK: %[[T:.*]] = arith.truncf %[[S]] : f32 to bf16
// CHECK: memref.store %[[T]], %[[OUT]][%[[ROW]], %[[COL]]]

// Kernels are numbered per function and op.
// CHECK-LABEL: gpu.func @mlp_matmul0
// CHECK-SAME: qmlir.op = "matmul"
// CHECK-LABEL: gpu.func @mlp_swiglu1
// CHECK-SAME: (%{{.*}}: memref<?x384xbf16>, %{{.*}}: memref<96x48xi32>, %{{.*}}: memref<96x3xbf16>, %{{.*}}: memref<96x48xi32>, %{{.*}}: memref<96x6xbf16>, %{{.*}}: memref<?x96xbf16>) kernel
// CHECK-NOT: qmlir.residual
// CHECK-SAME: qmlir.up_scheme
func.func @mlp(%x: tensor<?x384xbf16>, %gc: tensor<96x48xi32>, %gs: tensor<96x3xbf16>, %uc: tensor<96x48xi32>, %us: tensor<96x6xbf16>, %r: tensor<?x96xbf16>) -> (tensor<?x96xbf16>, tensor<?x96xbf16>, tensor<?x96xbf16>) {
  %g = qmlir.pack %gc, %gs : (tensor<96x48xi32>, tensor<96x3xbf16>) -> !g
  %u = qmlir.pack %uc, %us : (tensor<96x48xi32>, tensor<96x6xbf16>) -> !u
  %y = qmlir.swiglu %x, %g, %u residual(%r) : tensor<?x384xbf16>, !g, !u, tensor<?x96xbf16> -> tensor<?x96xbf16>
  %y1 = qmlir.matmul %x, %g : tensor<?x384xbf16>, !g -> tensor<?x96xbf16>
  %y2 = qmlir.swiglu %x, %g, %u : tensor<?x384xbf16>, !g, !u -> tensor<?x96xbf16>
  return %y, %y1, %y2 : tensor<?x96xbf16>, tensor<?x96xbf16>, tensor<?x96xbf16>
}
