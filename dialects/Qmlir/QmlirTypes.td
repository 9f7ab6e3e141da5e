//===- QmlirTypes.td - qmlir types -------------------------*- tablegen -*-===//

#ifndef QMLIR_TYPES_TD
#define QMLIR_TYPES_TD

include "QmlirAttrs.td"

def Qmlir_QTensorType : TypeDef<Qmlir_Dialect, "QTensor"> {
  let mnemonic = "qtensor";
  let summary = "A quantized weight matrix: packed codes, scales and zeros";
  let description = [{
    A logical `[N, K]` float matrix stored as described by its scheme. The
    value stands for the packed codes, the scales and (if the scheme has
    them) the zero points together; `qmlir.pack` builds one from its parts
    and `qmlir.unpack` takes it apart. The shapes of the parts follow from
    N, K and the scheme (see `#qmlir.scheme`).

    Example:

    ```mlir
    !qmlir.qtensor<4096x11008, #qmlir.scheme<i4, group = 128, scale = f16>>
    ```
  }];
  let parameters = (ins
    ArrayRefParameter<"int64_t">:$shape,
    "SchemeAttr":$scheme
  );
  let assemblyFormat = "`<` custom<Shape>($shape) `,` custom<SchemeRef>($scheme) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    int64_t getRows() const { return getShape()[0]; }
    int64_t getCols() const { return getShape()[1]; }
    /// Number of scale groups per row.
    int64_t getGroupsPerRow() const {
      return getCols() / getScheme().getGroupSizeFor(getCols());
    }
    /// Types of the parts, as `qmlir.pack` takes them.
    ::mlir::RankedTensorType getCodesType() const;
    ::mlir::RankedTensorType getScalesType() const;
    /// Null if the scheme has no zero points.
    ::mlir::RankedTensorType getZerosType() const;
  }];
}

#endif // QMLIR_TYPES_TD
