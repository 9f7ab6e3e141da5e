//===- QmlirAttrs.td - qmlir attributes --------------------*- tablegen -*-===//

#ifndef QMLIR_ATTRS_TD
#define QMLIR_ATTRS_TD

include "QmlirDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Qmlir_ElementKind : I32EnumAttr<"ElementKind", "kind of the stored codes", [
    I32EnumAttrCase<"SignedInt", 0, "signed">,
    I32EnumAttrCase<"UnsignedInt", 1, "unsigned">,
    I32EnumAttrCase<"Float", 2, "float">,
    I32EnumAttrCase<"NormalFloat", 3, "normal_float">,
    I32EnumAttrCase<"Codebook", 4, "codebook">,
    I32EnumAttrCase<"BinaryCoded", 5, "binary_coded">,
    I32EnumAttrCase<"Ternary", 6, "ternary">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_FloatFormat : I32EnumAttr<"FloatFormat", "small float format", [
    I32EnumAttrCase<"E2M1", 0, "e2m1">,
    I32EnumAttrCase<"E2M3", 1, "e2m3">,
    I32EnumAttrCase<"E3M2", 2, "e3m2">,
    I32EnumAttrCase<"E4M3", 3, "e4m3">,
    I32EnumAttrCase<"E5M2", 4, "e5m2">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_ZeroKind : I32EnumAttr<"ZeroKind", "kind of zero point", [
    I32EnumAttrCase<"None", 0, "none">,
    I32EnumAttrCase<"Int", 1, "int">,
    I32EnumAttrCase<"Float", 2, "float">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_CodebookScope : I32EnumAttr<"CodebookScope", "what a codebook covers", [
    I32EnumAttrCase<"Tensor", 0, "tensor">,
    I32EnumAttrCase<"Group", 1, "group">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_SchemeAttr : AttrDef<Qmlir_Dialect, "Scheme"> {
  let mnemonic = "scheme";
  let summary = "How a float weight matrix is stored in a low-bit format";
  let description = [{
    Describes the encoding of a logical `[N, K]` weight matrix (N output
    channels, K the reduction dimension). The syntax, the rules and the
    storage are those of the MLIR-free core library (`qmlir::core::Scheme`,
    `include/qmlir/Core/Format.h`), which parses this attribute's text, so
    the compiler, the runtime and the reference agree by construction.

    `#qmlir.scheme<FORMAT [, bits = [..]], group = G|channel|tensor
    [, scale = TYPE] [, zero = none|int|float] [, codebook = tensor|group]
    [, act_order]>`

    - FORMAT: `iB` / `uB` (signed / unsigned integer codes, B in 1..8;
      `w = (q - z) * s`), `i*` / `u*` with `bits = [..]` (a bit-width per
      group), `f4e2m1`, `f6e2m3`, `f6e3m2`, `f8e4m3`, `f8e5m2` (OCP small
      floats; `w = decode(q) * s`), `nf4` (NormalFloat-4), `lutB` (indices
      into a codebook of 2^B values of the scale type; `w = codebook[q]`),
      `bcqB` (B binary planes; `w = sum_i a_i * (+-1)`), `ternary`
      (`w = t * s`, t in {-1, 0, 1}, packed in base 3); aliases `mxfp4`
      (`f4e2m1, group = 32, scale = e8m0`) and `nvfp4`
      (`f4e2m1, group = 16, scale = f8e4m3`).
    - `group`: elements along K sharing a scale; `channel` is one group per
      row, `tensor` one scale for the whole matrix.
    - `scale`: `f16`, `bf16`, `f32`, `e8m0` or `f8e4m3` (the last two for
      small floats and nf4); for `lutB` the codebook's element type.
    - `zero`: `none` (default), `int` or `float` (integers; `float` for bcq).
    - `act_order`: GPTQ's act-order; column k belongs to group `g_idx[k]`,
      a runtime operand.

    The storage of a `!qmlir.qtensor` with this scheme is the list of parts
    `qmlir::core::Scheme::parts` gives (codes, then as the scheme has them
    scales, zeros, codebook, g_idx), each a 2-D tensor; Format.h documents
    every bit layout.

    Example:

    ```mlir
    #qmlir.scheme<i4, group = 128, scale = f16, zero = int>
    #qmlir.scheme<f4e2m1, group = 32, scale = e8m0>
    #qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = f16>
    ```
  }];
  let parameters = (ins
    EnumParameter<Qmlir_ElementKind>:$kind,
    "unsigned":$bits,
    EnumParameter<Qmlir_FloatFormat>:$floatFormat,
    ArrayRefParameter<"unsigned">:$mixedBits,
    "int64_t":$groupSize,
    "::mlir::Type":$scaleType,
    EnumParameter<Qmlir_ZeroKind>:$zero,
    EnumParameter<Qmlir_CodebookScope>:$codebook,
    "bool":$actOrder
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The same scheme as the MLIR-free core library describes it.
    ::qmlir::core::Scheme toCore() const;
    static SchemeAttr fromCore(::mlir::MLIRContext *context,
                               const ::qmlir::core::Scheme &scheme);
    bool isSigned() const { return getKind() == ElementKind::SignedInt; }
    bool isInteger() const {
      return getKind() == ElementKind::SignedInt ||
             getKind() == ElementKind::UnsignedInt;
    }
    bool isMixed() const { return !getMixedBits().empty(); }
    bool isPerTensor() const {
      return getGroupSize() == ::qmlir::core::kPerTensor;
    }
    /// Group size for rows of K elements (K for channel and tensor).
    int64_t getGroupSizeFor(int64_t k) const {
      return getGroupSize() > 0 ? getGroupSize() : k;
    }
    bool hasZero() const { return getZero() != ZeroKind::None; }
  }];
}

#endif // QMLIR_ATTRS_TD
