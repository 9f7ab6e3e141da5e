// RUN: qmlir-opt %s --qmlir-to-cubin=format=isa | FileCheck %s
// RUN: %if ptxas %{ qmlir-opt %s --qmlir-to-cubin=toolkit=%cuda_toolkit | FileCheck %s --check-prefix=CUBIN %}

// The rule asks for 3 blocks of 256 threads per SM at M <= 8 (K gives 8
// warps), 2 at M = 9..16 with two tiles and 1 at M = 17..32 with four, when
// N >= 8192: the PTX bounds those kernels with .minnctapersm, which ptxas
// turns into at most 85, 128 and 255 registers a thread. The others carry
// none.

!w = !qmlir.qtensor<8192x512, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @layer(%x: tensor<?x512xf16>, %c: tensor<8192x64xi32>, %s: tensor<8192x4xf16>) -> tensor<?x8192xf16> {
  %w = qmlir.pack %c, %s : (tensor<8192x64xi32>, tensor<8192x4xf16>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x512xf16>, !w -> tensor<?x8192xf16>
  return %y : tensor<?x8192xf16>
}

// CHECK: gpu.binary @qmlir_kernels
// CHECK-SAME: .entry layer_matmul0_b0(
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .minnctapersm 3
// CHECK-SAME: .entry layer_matmul0_b1(
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .minnctapersm 2
// CHECK-SAME: .entry layer_matmul0_b2(
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .minnctapersm 1
// CHECK-SAME: .entry layer_matmul0_b3(
// CHECK-NOT: .minnctapersm
// CHECK-SAME: .entry layer_matmul0_b4(
// CHECK-NOT: .minnctapersm

// CUBIN: gpu.binary @qmlir_kernels
// CUBIN-SAME: bin = "\7FELF
