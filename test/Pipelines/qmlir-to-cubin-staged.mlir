// RUN: qmlir-opt %s "--qmlir-to-cubin=format=isa chip=sm_80" | FileCheck %s
// RUN: qmlir-opt %s --qmlir-to-cubin=format=isa | FileCheck %s --check-prefix=WGMMA
// RUN: qmlir-opt %s "--qmlir-to-cubin=format=isa linear-k=true" | FileCheck %s --check-prefix=LINEAR
// RUN: %if ptxas %{ qmlir-opt %s --qmlir-to-cubin=toolkit=%cuda_toolkit | FileCheck %s --check-prefix=CUBIN %}

// From M = 129 on the rule picks the staged kernel (buckets 4..6). On sm_80 its
// PTX fills
// dynamic shared memory with 16-byte cp.async that bypass L1 (.cg), waits
// for all but the two youngest of its groups, reads codes and activations
// back with 16-byte shared loads and feeds mma.sync. (The dynamic shared
// memory symbol is emitted as a 1-byte .shared variable that the kernel
// indexes past; the runtime therefore always opts in to the dynamic size.)

!w = !qmlir.qtensor<128x256, #qmlir.scheme<i4, group = 128, scale = f16>>
func.func @layer(%x: tensor<?x256xf16>, %c: tensor<128x32xi32>, %s: tensor<128x2xf16>) -> tensor<?x128xf16> {
  %w = qmlir.pack %c, %s : (tensor<128x32xi32>, tensor<128x2xf16>) -> !w
  %y = qmlir.matmul %x, %w : tensor<?x256xf16>, !w -> tensor<?x128xf16>
  return %y : tensor<?x128xf16>
}

// CHECK: gpu.binary @qmlir_kernels
// CHECK-SAME: .visible .entry layer_matmul0_b3(
// CHECK-SAME: .visible .entry layer_matmul0_b4(
// CHECK-SAME: .shared .align 16 .b8 __dynamic_shmem__0;
// CHECK-SAME: cp.async.cg.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16, %r{{[0-9]+}};
// CHECK-SAME: cp.async.commit_group;
// CHECK-SAME: cp.async.wait_group \092;
// CHECK-SAME: bar.sync \090;
// CHECK-SAME: ld.shared.v4.b32
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// CHECK-SAME: cp.async.wait_group \090;

// On sm_90a (the default chip) the staged kernel is warp-specialized: thread
// 0 sets up each stage's mbarriers; the compute warpgroup takes registers
// (setmaxnreg.inc), waits for a stage to fill, makes it visible to the
// async proxy, issues wgmma m64n64k16 with the weights' A registers, waits
// for them and frees the stage; the producer warpgroup gives registers back
// and copies activations in 4-byte pieces (into the weights' K order), at
// constant offsets from one address per thread where the block's rows all
// exist, then has the stage's "full" mbarrier count its copies' arrival.
// WGMMA: gpu.binary @qmlir_kernels
// WGMMA-SAME: .visible .entry layer_matmul0_b4(
// WGMMA-SAME: .maxntid 256, 1, 1
// WGMMA-SAME: .minnctapersm 2
// WGMMA-SAME: mbarrier.init.shared::cta.b64
// WGMMA-SAME: bar.sync \090;
// WGMMA-SAME: setmaxnreg.inc.sync.aligned.u32 224;
// WGMMA-SAME: mbarrier.try_wait.parity.shared::cta.b64
// WGMMA-SAME: fence.proxy.async.shared::cta;
// WGMMA-SAME: wgmma.fence.sync.aligned;
// WGMMA-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {%r{{[0-9]+}}, {{.*}}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}, %rd{{[0-9]+}}, p, 1, 1, 0;
// WGMMA-SAME: wgmma.commit_group.sync.aligned;
// WGMMA-SAME: wgmma.wait_group.sync.aligned 0;
// WGMMA-SAME: mbarrier.arrive.shared::cta.b64
// WGMMA-SAME: setmaxnreg.dec.sync.aligned.u32 32;
// WGMMA-SAME: mbarrier.try_wait.parity.shared::cta.b64
// WGMMA-SAME: cp.async.ca.shared.global [%r{{[0-9]+}}+64], [%rd{{[0-9]+}}+2048], 4;
// WGMMA-SAME: cp.async.mbarrier.arrive.noinc.shared::cta.b64
// WGMMA-SAME: cp.async.wait_all;

// With linear-k the weights are in mma_tile_linear: the split-K kernel of
// M = 9..16 (two 8-row tiles per warp) copies 16-byte pieces of activations
// into its scratch, waits for them, and reads B fragments with ldmatrix;
// the staged kernel's producers copy activations in 16-byte pieces that
// stay in L1.
// LINEAR: gpu.binary @qmlir_kernels
// LINEAR-SAME: .visible .entry layer_matmul0_b1(
// LINEAR-SAME: bar.warp.sync \09-1;
// LINEAR-SAME: cp.async.ca.shared.global [%rd{{[0-9]+}}], [%rd{{[0-9]+}}], 16;
// LINEAR-SAME: cp.async.wait_group \090;
// LINEAR-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// LINEAR-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// LINEAR-SAME: .visible .entry layer_matmul0_b4(
// LINEAR-SAME: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// LINEAR-SAME: cp.async.ca.shared.global [%r{{[0-9]+}}+{{[0-9]+}}], [%rd{{[0-9]+}}+{{[0-9]+}}], 16;

// CUBIN: gpu.binary @qmlir_kernels
// CUBIN-SAME: bin = "\7FELF
