//===- QmlirDialect.td - The qmlir dialect -----------------*- tablegen -*-===//

#ifndef QMLIR_DIALECT_TD
#define QMLIR_DIALECT_TD

include "mlir/IR/OpBase.td"

def Qmlir_Dialect : Dialect {
  let name = "qmlir";
  let cppNamespace = "::qmlir";
  let summary = "Low-bit quantized matrix multiplication";
  let description = [{
    The qmlir dialect describes matrix multiplications whose weights are
    stored in low-bit formats. A `#qmlir.scheme` attribute says how a logical
    float weight matrix is encoded (element format, group size, scale storage
    type, zero-point kind); a `!qmlir.qtensor` value ties the packed codes,
    scales and zero points of one weight matrix to its scheme; `qmlir.matmul`,
    `qmlir.quantize` and `qmlir.dequantize` compute on such values.

    The storage rules (bit order of packed codes, shapes of the scale and
    zero tensors) are those of the MLIR-free core library
    (`include/qmlir/Core/Format.h`), which the reference numerics, the weight
    packer and the runtime share with the compiler.

    Two discardable attributes carry the decisions of the GPU lowering on
    `qmlir.matmul` and `qmlir.swiglu`: `qmlir.schedules`, an array of
    `#qmlir.schedule` whose M ranges cover 1..m_max without gaps or overlaps
    (one tensor-core kernel per range), and `qmlir.layout`, the
    `#qmlir.layout` its weights' codes are stored in, which every weight's
    scheme and shape must allow.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
    void registerTypes();
  }];
}

class Qmlir_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qmlir_Dialect, mnemonic, traits>;

#endif // QMLIR_DIALECT_TD
