//===- QmlirAttrs.td - qmlir attributes --------------------*- tablegen -*-===//

#ifndef QMLIR_ATTRS_TD
#define QMLIR_ATTRS_TD

include "QmlirDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Qmlir_ElementKind : I32EnumAttr<"ElementKind", "kind of the stored codes", [
    I32EnumAttrCase<"SignedInt", 0, "signed">,
    I32EnumAttrCase<"UnsignedInt", 1, "unsigned">
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

def Qmlir_SchemeAttr : AttrDef<Qmlir_Dialect, "Scheme"> {
  let mnemonic = "scheme";
  let summary = "How a float weight matrix is stored in a low-bit format";
  let description = [{
    Describes the encoding of a logical `[N, K]` weight matrix (N output
    channels, K the reduction dimension):

    - the element format: `iB` for signed two's-complement codes of B bits,
      `uB` for unsigned ones, B in [2, 8];
    - `group`: how many consecutive elements along K share one scale (and
      zero point); `channel` means one group per row;
    - `scale`: the storage type of the scales, `f16`, `bf16` or `f32`;
    - `zero`: `none` (the default, may be omitted), `int` (an integer code of
      the same format per group, `w = (q - z) * s`) or `float` (a float of the
      scale type per group, `w = (q - z) * s` with z not rounded).

    Storage of a `!qmlir.qtensor` with this scheme: codes as
    `tensor<N x ceil(K * B / 32) x i32>` (each row a little-endian bit stream,
    code j at bits [j * B, (j + 1) * B)), scales as `tensor<N x G x scale>`
    with G = K / group, integer zeros packed like codes as
    `tensor<N x ceil(G * B / 32) x i32>`, float zeros as
    `tensor<N x G x scale>`.

    Example:

    ```mlir
    #qmlir.scheme<i4, group = 128, scale = f16, zero = int>
    #qmlir.scheme<u8, group = channel, scale = f32>
    ```
  }];
  let parameters = (ins
    EnumParameter<Qmlir_ElementKind>:$kind,
    "unsigned":$bits,
    "int64_t":$groupSize,
    "::mlir::Type":$scaleType,
    DefaultValuedParameter<"ZeroKind", "ZeroKind::None">:$zero
  );
  let assemblyFormat = [{
    `<` custom<ElementFormat>($kind, $bits) `,` `group` `=`
    custom<GroupSize>($groupSize) `,` `scale` `=` $scaleType
    (`,` `zero` `=` $zero^)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The same scheme as the MLIR-free core library describes it.
    ::qmlir::core::Scheme toCore() const;
    static SchemeAttr fromCore(::mlir::MLIRContext *context,
                               const ::qmlir::core::Scheme &scheme);
    bool isSigned() const { return getKind() == ElementKind::SignedInt; }
    bool isPerChannel() const { return getGroupSize() == 0; }
    /// Group size for rows of K elements.
    int64_t getGroupSizeFor(int64_t k) const {
      return isPerChannel() ? k : getGroupSize();
    }
    bool hasZero() const { return getZero() != ZeroKind::None; }
  }];
}

#endif // QMLIR_ATTRS_TD
