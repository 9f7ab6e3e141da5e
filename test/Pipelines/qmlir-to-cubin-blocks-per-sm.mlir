// RUN: qmlir-opt %s --qmlir-to-cubin=format=isa | FileCheck %s
// RUN: %if ptxas %{ qmlir-opt %s --qmlir-to-cubin=toolkit=%cuda_toolkit | FileCheck %s --check-prefix=CUBIN %}

// The rule asks for 3 blocks of 256 threads per SM at M <= 8 (K gives 8
// warps), 2 at M = 9..16 with two tiles and 1 at M = 17..32 with four, when
// N >= 8192: the PTX bounds those kernels with .minnctapersm, which ptxas
// turns into at most 85, 128 and 255 registers a thread. M = 33..96 carries
// none. The warp-specialized staged kernels ask for 2 blocks of 4 + 4 warps
// (M = 97..255) and 1 of 8 + 4 (M >= 256: two warpgroups of m64n128k16,
// 128 x 128 blocks), and move registers from the producers to the compute
// warps within that budget (224 and 232 a thread after setmaxnreg).

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
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .minnctapersm 2
// CHECK-SAME: setmaxnreg.inc.sync.aligned.u32 224;
// CHECK-SAME: .entry layer_matmul0_b5(
// CHECK-SAME: .maxntid 256, 1, 1
// CHECK-SAME: .minnctapersm 2
// CHECK-SAME: .entry layer_matmul0_b6(
// CHECK-SAME: .maxntid 384, 1, 1
// CHECK-SAME: .minnctapersm 1
// CHECK-SAME: setmaxnreg.inc.sync.aligned.u32 232;
// CHECK-SAME: wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16
// CHECK-SAME: setmaxnreg.dec.sync.aligned.u32 32;

// CUBIN: gpu.binary @qmlir_kernels
// CUBIN-SAME: bin = "\7FELF
