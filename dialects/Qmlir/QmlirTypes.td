//===- QmlirTypes.td - qmlir types -------------------------*- tablegen -*-===//

#ifndef QMLIR_TYPES_TD
#define QMLIR_TYPES_TD

include "QmlirAttrs.td"

def Qmlir_QTensorType : TypeDef<Qmlir_Dialect, "QTensor"> {
  let mnemonic = "qtensor";
  let summary = "A quantized weight matrix: packed codes, scales and zeros";
  let description = [{
    A logical `[N, K]` float matrix stored as described by its scheme. The
    value stands for all the parts of its storage together (the packed
    codes and, as the scheme has them, scales, zero points, a codebook and
    act-order's g_idx); `qmlir.pack` builds one from its parts and
    `qmlir.unpack` takes it apart. The parts' names and types follow from
    N, K and the scheme (`qmlir::core::Scheme::parts`).

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
    /// The storage parts, in `qmlir.pack` operand order.
    ::llvm::SmallVector<::qmlir::core::Part> getParts() const;
    ::llvm::SmallVector<::mlir::Type> getPartTypes() const;
    /// The index of part `name` ("codes", "scales", ...), if present.
    ::std::optional<unsigned> getPartIndex(::llvm::StringRef name) const;
  }];
}

#endif // QMLIR_TYPES_TD
