// RUN: qmlir-opt %s --qmlir-lower-to-gpu-kernels | FileCheck %s
// RUN: qmlir-opt %s --qmlir-lower-to-gpu-kernels="chip=sm_80 features=+ptx70 block-size=64" | FileCheck %s --check-prefix=OPTS

// Each matmul becomes one kernel; the host functions are dropped because
// the runtime launches the kernels directly.

!w = !qmlir.qtensor<96x384, #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>>
!v = !qmlir.qtensor<32x128, #qmlir.scheme<i8, group = channel, scale = f16>>

// CHECK: module attributes {gpu.container_module}
// CHECK-NOT: func.func
// CHECK: gpu.module @qmlir_kernels [#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">]
// CHECK-LABEL: gpu.func @layer_matmul0
// CHECK-SAME: (%[[X:.*]]: memref<?x384xbf16>, %[[C:.*]]: memref<96x36xi32>, %[[S:.*]]: memref<96x6xbf16>, %[[Z:.*]]: memref<96x1xi32>, %[[OUT:.*]]: memref<?x96xbf16>) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: qmlir.block_size = 128 : i64
// CHECK-SAME: qmlir.op = "matmul"
// CHECK-SAME: qmlir.scheme = #qmlir.scheme<u3, group = 64, scale = bf16, zero = int>
// CHECK: %[[BX:.*]] = gpu.block_id x
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %c128
// CHECK: %[[TX:.*]] = gpu.thread_id x
// CHECK: %[[COL:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: %[[ROW:.*]] = gpu.block_id y
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[COL]], %c96
// CHECK: scf.if %[[IN]]
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = %{{.*}} to %c384 step %{{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (f32)
// CHECK: memref.load %[[C]][%[[COL]], %{{.*}}] : memref<96x36xi32>
// CHECK: memref.load %[[S]][%[[COL]], %{{.*}}] : memref<96x6xbf16>
// CHECK: memref.load %[[Z]][%[[COL]], %{{.*}}] : memref<96x1xi32>
// CHECK: %[[W:.*]] = arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: %[[XV:.*]] = memref.load %[[X]][%[[ROW]], %[[K]]] : memref<?x384xbf16>
// CHECK: %[[XF:.*]] = arith.extf %[[XV]] : bf16 to f32
// CHECK: %[[P:.*]] = arith.mulf %[[XF]], %[[W]] : f32
// CHECK: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[P]] : f32
// CHECK: scf.yield %[[NEXT]] : f32
// CHECK: %[[R:.*]] = arith.truncf %[[SUM]] : f32 to bf16
// CHECK: memref.store %[[R]], %[[OUT]][%[[ROW]], %[[COL]]] : memref<?x96xbf16>
// CHECK: gpu.return
func.func @layer(%x: tensor<?x384xbf16>, %c: tensor<96x36xi32>, %s: tensor<96x6xbf16>, %z: tensor<96x1xi32>) -> tensor<?x96xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<96x36xi32>, tensor<96x6xbf16>, tensor<96x1xi32>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x384xbf16>, !w -> tensor<?x96xbf16>
  return %y : tensor<?x96xbf16>
}

// Two matmuls in one function get numbered kernels; static M in the IR
// still gives a kernel for any M.
// CHECK-LABEL: gpu.func @two_matmul0
// CHECK-SAME: (%{{.*}}: memref<?x128xf16>, %{{.*}}: memref<32x32xi32>, %{{.*}}: memref<32x1xf16>, %{{.*}}: memref<?x32xf16>) kernel
// CHECK-LABEL: gpu.func @two_matmul1
// OPTS: gpu.module @qmlir_kernels [#nvvm.target<O = 3, chip = "sm_80", features = "+ptx70">]
// OPTS: known_block_size = array<i32: 64, 1, 1>
// OPTS-SAME: qmlir.block_size = 64 : i64
func.func @two(%x: tensor<4x128xf16>, %c: tensor<32x32xi32>, %s: tensor<32x1xf16>) -> (tensor<4x32xf16>, tensor<4x32xf16>) {
  %w = qmlir.pack %c, %s : (tensor<32x32xi32>, tensor<32x1xf16>) -> !v
  %y = qmlir.matmul %x, %w : tensor<4x128xf16>, !v -> tensor<4x32xf16>
  %y2 = qmlir.matmul %x, %w : tensor<4x128xf16>, !v -> tensor<4x32xf16>
  return %y, %y2 : tensor<4x32xf16>, tensor<4x32xf16>
}
