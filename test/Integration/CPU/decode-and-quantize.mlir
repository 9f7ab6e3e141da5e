// RUN: qmlir-opt %s --qmlir-cpu-pipeline \
// RUN: | mlir-runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_runner_utils%shlibext \
// RUN:     -shared-libs=%mlir_lib_dir/libmlir_c_runner_utils%shlibext \
// RUN: | FileCheck %s

// Executes the CPU path on packed words written by hand from the documented
// bit order (code j of a row at bits [j*B, (j+1)*B) of a little-endian
// stream of 32-bit words); the expected values are worked out by hand.

func.func private @printMemrefF32(memref<*xf32>) attributes {llvm.emit_c_interface}
func.func private @printMemrefF16(memref<*xf16>) attributes {llvm.emit_c_interface}
func.func private @printMemrefI32(memref<*xi32>) attributes {llvm.emit_c_interface}

!u4 = !qmlir.qtensor<1x16, #qmlir.scheme<u4, group = 16, scale = f16, zero = int>>
!i3 = !qmlir.qtensor<1x11, #qmlir.scheme<i3, group = channel, scale = f32>>
!i4 = !qmlir.qtensor<1x8, #qmlir.scheme<i4, group = 4, scale = f16>>
!mx = !qmlir.qtensor<1x32, #qmlir.scheme<mxfp4>>
!t = !qmlir.qtensor<1x4, #qmlir.scheme<ternary, group = channel, scale = f16>>

func.func @print_f32(%t: tensor<?x?xf32>) {
  %m = bufferization.to_buffer %t : tensor<?x?xf32> to memref<?x?xf32>
  %u = memref.cast %m : memref<?x?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}

func.func @main() {
  // u4 codes 0..15 (0x76543210, 0xFEDCBA98), zero point 8, scale 0.5:
  // w = (q - 8) * 0.5 = -4, -3.5, ..., 3.5.
  %c = arith.constant dense<[[1985229328, -19088744]]> : tensor<1x2xi32>
  %s = arith.constant dense<[[0.5]]> : tensor<1x1xf16>
  %z = arith.constant dense<[[8]]> : tensor<1x1xi32>
  %w = qmlir.pack %c, %s, %z : (tensor<1x2xi32>, tensor<1x1xf16>, tensor<1x1xi32>) -> !u4
  %d = qmlir.dequantize %w : !u4 -> tensor<1x16xf32>
  %dd = tensor.cast %d : tensor<1x16xf32> to tensor<?x?xf32>
  call @print_f32(%dd) : (tensor<?x?xf32>) -> ()
  // CHECK: [-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]

  // i3 codes -4..3, 0, 1, -3: the last code straddles the two words (its
  // top bit is bit 0 of word 1). Scale 1.
  %c3 = arith.constant dense<[[1214812076, 1]]> : tensor<1x2xi32>
  %s3 = arith.constant dense<[[1.0]]> : tensor<1x1xf32>
  %w3 = qmlir.pack %c3, %s3 : (tensor<1x2xi32>, tensor<1x1xf32>) -> !i3
  %d3 = qmlir.dequantize %w3 : !i3 -> tensor<1x11xf32>
  %dd3 = tensor.cast %d3 : tensor<1x11xf32> to tensor<?x?xf32>
  call @print_f32(%dd3) : (tensor<?x?xf32>) -> ()
  // CHECK: [-4, -3, -2, -1, 0, 1, 2, 3, 0, 1, -3]

  // MXFP4: e2m1 codes 0..15 twice (OCP: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their
  // negatives) times the e8m0 scale 2.0 of the group of 32.
  %cm = arith.constant dense<[[1985229328, -19088744, 1985229328, -19088744]]> : tensor<1x4xi32>
  %sm = arith.constant dense<[[2.0]]> : tensor<1x1xf8E8M0FNU>
  %wm = qmlir.pack %cm, %sm : (tensor<1x4xi32>, tensor<1x1xf8E8M0FNU>) -> !mx
  %dm = qmlir.dequantize %wm : !mx -> tensor<1x32xf32>
  %ddm = tensor.cast %dm : tensor<1x32xf32> to tensor<?x?xf32>
  call @print_f32(%ddm) : (tensor<?x?xf32>) -> ()
  // CHECK: [0, 1, 2, 3, 4, 6, 8, 12, -0, -1, -2, -3, -4, -6, -8, -12, 0, 1, 2, 3, 4, 6, 8, 12, -0, -1, -2, -3, -4, -6, -8, -12]

  // Ternary: trits 1, -1, 0, 1 are base-3 digits 2, 0, 1, 2 of one word,
  // 2 + 0 * 3 + 1 * 9 + 2 * 27 = 65; scale 0.5.
  %ct = arith.constant dense<[[65]]> : tensor<1x1xi32>
  %st = arith.constant dense<[[0.5]]> : tensor<1x1xf16>
  %wt = qmlir.pack %ct, %st : (tensor<1x1xi32>, tensor<1x1xf16>) -> !t
  %dt = qmlir.dequantize %wt : !t -> tensor<1x4xf32>
  %ddt = tensor.cast %dt : tensor<1x4xf32> to tensor<?x?xf32>
  call @print_f32(%ddt) : (tensor<?x?xf32>) -> ()
  // CHECK: [0.5, -0.5, 0, 0.5]

  // Matmul with the u4 weights: a row of ones sums them (-4), a unit
  // vector picks the last one (3.5); f16 output.
  %x = arith.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                             [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<2x16xf16>
  %y = qmlir.matmul %x, %w : tensor<2x16xf16>, !u4 -> tensor<2x1xf16>
  %ym = bufferization.to_buffer %y : tensor<2x1xf16> to memref<2x1xf16>
  %yu = memref.cast %ym : memref<2x1xf16> to memref<*xf16>
  call @printMemrefF16(%yu) : (memref<*xf16>) -> ()
  // CHECK: [-4]
  // CHECK-NEXT: [3.5]

  // Quantize two groups of four to i4: group 0 has max |w| = 7, so s = 1 and
  // the codes are -7, -4 (-3.5 rounds to even), 2 (2.5 rounds to even), 7,
  // i.e. nibbles 9, 12, 2, 7 = 0x72C9. Group 1 is all zeros: s = 0, codes 0.
  %f = arith.constant dense<[[-7.0, -3.5, 2.5, 7.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<1x8xf32>
  %q = qmlir.quantize %f : tensor<1x8xf32> -> !i4
  %qc, %qs = qmlir.unpack %q : !i4
  %qcm = bufferization.to_buffer %qc : tensor<1x1xi32> to memref<1x1xi32>
  %qcu = memref.cast %qcm : memref<1x1xi32> to memref<*xi32>
  call @printMemrefI32(%qcu) : (memref<*xi32>) -> ()
  // CHECK: [29385]
  %qsm = bufferization.to_buffer %qs : tensor<1x2xf16> to memref<1x2xf16>
  %qsu = memref.cast %qsm : memref<1x2xf16> to memref<*xf16>
  call @printMemrefF16(%qsu) : (memref<*xf16>) -> ()
  // CHECK: [1, 0]
  return
}
