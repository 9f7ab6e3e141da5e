//===- Qmlir.h - The qmlir dialect ------------------------------*- C++ -*-===//

#ifndef QMLIR_DIALECT_QMLIR_H
#define QMLIR_DIALECT_QMLIR_H

#include "qmlir/Core/Format.h"
#include "qmlir/Core/Layout.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "Qmlir/QmlirDialect.h.inc"
#include "Qmlir/QmlirEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "Qmlir/QmlirAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "Qmlir/QmlirTypes.h.inc"

namespace qmlir {
/// Discardable attributes of qmlir.matmul and qmlir.swiglu (see the
/// dialect's description): the tensor-core kernels' M buckets and the
/// layout of the weights' codes.
inline constexpr llvm::StringLiteral kSchedulesAttrName = "qmlir.schedules";
inline constexpr llvm::StringLiteral kLayoutAttrName = "qmlir.layout";
} // namespace qmlir

#define GET_OP_CLASSES
#include "Qmlir/QmlirOps.h.inc"

#endif // QMLIR_DIALECT_QMLIR_H
