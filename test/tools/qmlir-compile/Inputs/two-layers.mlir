!o = !qmlir.qtensor<64x128, #qmlir.scheme<i4, group = 32, scale = f16>>
!m = !qmlir.qtensor<32x64, #qmlir.scheme<u8, group = channel, scale = bf16, zero = int>>
func.func @attention_out(%x: tensor<?x128xf16>, %c: tensor<64x16xi32>, %s: tensor<64x4xf16>) -> tensor<?x64xf16> {
  %w = qmlir.pack %c, %s : (tensor<64x16xi32>, tensor<64x4xf16>) -> !o
  %y = qmlir.matmul %x, %w : tensor<?x128xf16>, !o -> tensor<?x64xf16>
  return %y : tensor<?x64xf16>
}
func.func @mlp(%x: tensor<?x64xbf16>, %c: tensor<32x16xi32>, %s: tensor<32x1xbf16>, %z: tensor<32x1xi32>) -> tensor<?x32xbf16> {
  %w = qmlir.pack %c, %s, %z : (tensor<32x16xi32>, tensor<32x1xbf16>, tensor<32x1xi32>) -> !m
  %y = qmlir.matmul %x, %w : tensor<?x64xbf16>, !m -> tensor<?x32xbf16>
  return %y : tensor<?x32xbf16>
}
