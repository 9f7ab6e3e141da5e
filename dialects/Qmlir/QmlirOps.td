//===- QmlirOps.td - qmlir operations ----------------------*- tablegen -*-===//

#ifndef QMLIR_OPS_TD
#define QMLIR_OPS_TD

include "QmlirTypes.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Qmlir_ActivationTensor : TensorRankOf<[F16, BF16], [2]>;
def Qmlir_FloatMatrix : TensorRankOf<[F16, BF16, F32], [2]>;
def Qmlir_PartTensor : TensorRankOf<[I32, F16, BF16, F32, F8E8M0FNU, F8E4M3FN], [2]>;

def Qmlir_PackOp : Qmlir_Op<"pack", [Pure]> {
  let summary = "Ties packed codes, scales and zero points to a scheme";
  let description = [{
    Builds a quantized weight matrix from its parts, whose number, order and
    types must be the ones the result's scheme prescribes: the codes, then as
    the scheme has them the scales, the zero points, the codebook and the
    act-order g_idx (see `#qmlir.scheme`).

    ```mlir
    %w = qmlir.pack %codes, %scales, %zeros
        : (tensor<96x48xi32>, tensor<96x3xf16>, tensor<96x1xi32>)
        -> !qmlir.qtensor<96x384, #qmlir.scheme<u4, group = 128, scale = f16, zero = int>>
    ```
  }];
  let arguments = (ins Variadic<Qmlir_PartTensor>:$parts);
  let results = (outs Qmlir_QTensorType:$result);
  let assemblyFormat = [{
    $parts attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The part called `name` ("codes", "scales", ...), or null.
    ::mlir::Value getPart(::llvm::StringRef name);
  }];
  let hasVerifier = 1;
}

def Qmlir_UnpackOp : Qmlir_Op<"unpack", [Pure,
    DeclareOpInterfaceMethods<InferTypeOpInterface>]> {
  let summary = "Takes a quantized weight matrix apart";
  let description = [{
    Returns the parts of a quantized weight matrix (codes, then as the scheme
    has them scales, zero points, codebook, g_idx); their types follow from
    its type.

    ```mlir
    %codes, %scales = qmlir.unpack %w
        : !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
    ```
  }];
  let arguments = (ins Qmlir_QTensorType:$weights);
  let results = (outs Variadic<Qmlir_PartTensor>:$parts);
  let assemblyFormat = "$weights attr-dict `:` qualified(type($weights))";
}

def Qmlir_BiasTensor : TensorRankOf<[F16, BF16], [1]>;

def Qmlir_MatmulOp : Qmlir_Op<"matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "Activations times the transpose of quantized weights";
  let description = [{
    Computes `result[m, n] = sum_k input[m, k] * W[n, k] (+ bias[n])
    (+ residual[m, n])` where `W` is the dequantized weight matrix.
    Everything is computed in f32 (products accumulated, then the bias and
    the residual added) and rounded once to the activations' element type
    (f16 or bf16), which the result, the bias and the residual share. M may
    be dynamic.

    The optional epilogue operands are written `bias(%b)` (`tensor<N x T>`)
    and `residual(%r)` (the result's type); their types follow the weights'
    type in the same order.

    ```mlir
    %y = qmlir.matmul %x, %w : tensor<?x384xf16>,
        !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
        -> tensor<?x96xf16>
    %z = qmlir.matmul %x, %w bias(%b) residual(%r) : tensor<?x384xf16>,
        !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>,
        tensor<96xf16>, tensor<?x96xf16> -> tensor<?x96xf16>
    ```
  }];
  let arguments = (ins Qmlir_ActivationTensor:$input,
                       Qmlir_QTensorType:$weights,
                       Optional<Qmlir_BiasTensor>:$bias,
                       Optional<Qmlir_ActivationTensor>:$residual);
  let results = (outs Qmlir_ActivationTensor:$result);
  // Both epilogue types are optional and follow one another, so a custom
  // directive tells them apart by the operands that are present.
  let assemblyFormat = [{
    $input `,` $weights (`bias` `(` $bias^ `)`)?
    (`residual` `(` $residual^ `)`)? attr-dict `:` type($input) `,`
    custom<WeightsAndEpilogueTypes>(type($weights), ref($bias),
                                    ref($residual), type($bias),
                                    type($residual))
    `->` type($result)
  }];
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$input,
                   "::mlir::Value":$weights), [{
      build($_builder, $_state, result, input, weights, ::mlir::Value(),
            ::mlir::Value());
    }]>
  ];
  let hasVerifier = 1;
}

def Qmlir_SwigluOp : Qmlir_Op<"swiglu", [Pure]> {
  let summary = "SwiGLU of two quantized projections of the activations";
  let description = [{
    Computes `result[m, n] = silu(g) * u (+ residual[m, n])` with
    `g = sum_k input[m, k] * G[n, k]`, `u = sum_k input[m, k] * U[n, k]` and
    `silu(g) = g / (1 + exp(-g))`, where `G` (the gate) and `U` (the up
    projection) are dequantized weight matrices of the same shape whose
    schemes may differ. Everything is computed in f32 and rounded once to the
    activations' element type, which the result and the residual share.

    ```mlir
    %y = qmlir.swiglu %x, %gate, %up residual(%r) : tensor<?x384xf16>,
        !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>,
        !qmlir.qtensor<96x384, #qmlir.scheme<i8, group = channel, scale = f16>>,
        tensor<?x96xf16> -> tensor<?x96xf16>
    ```
  }];
  let arguments = (ins Qmlir_ActivationTensor:$input,
                       Qmlir_QTensorType:$gate,
                       Qmlir_QTensorType:$up,
                       Optional<Qmlir_ActivationTensor>:$residual);
  let results = (outs Qmlir_ActivationTensor:$result);
  let assemblyFormat = [{
    $input `,` $gate `,` $up (`residual` `(` $residual^ `)`)? attr-dict `:`
    type($input) `,` qualified(type($gate)) `,` qualified(type($up))
    (`,` type($residual)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Qmlir_QuantizeOp : Qmlir_Op<"quantize", [Pure]> {
  let summary = "Quantizes a float matrix with round to nearest";
  let description = [{
    Quantizes each group of the input to the result's scheme with round to
    nearest (ties to even), computing in f32: the scale maps the group's
    range onto the code range (the largest magnitude without zero points, the
    range extended to include 0 with them) and is rounded to its storage type
    before the codes are computed. The exact rules are those of
    `qmlir::core::quantize`, which the CPU lowering reproduces bit for bit.

    ```mlir
    %w = qmlir.quantize %f : tensor<96x384xf16>
        -> !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
    ```
  }];
  let arguments = (ins Qmlir_FloatMatrix:$input);
  let results = (outs Qmlir_QTensorType:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Qmlir_DequantizeOp : Qmlir_Op<"dequantize", [Pure]> {
  let summary = "Decodes a quantized matrix to floats";
  let description = [{
    Returns `W[n, k] = (q - z) * s` for every element, computed in f32 and
    rounded to the result's element type.

    ```mlir
    %f = qmlir.dequantize %w
        : !qmlir.qtensor<96x384, #qmlir.scheme<i4, group = 128, scale = f16>>
        -> tensor<96x384xf32>
    ```
  }];
  let arguments = (ins Qmlir_QTensorType:$input);
  let results = (outs Qmlir_FloatMatrix:$result);
  let assemblyFormat = "$input attr-dict `:` qualified(type($input)) `->` type($result)";
  let hasVerifier = 1;
}

#endif // QMLIR_OPS_TD
