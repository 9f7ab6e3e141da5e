//===- Qmlir.h - The qmlir dialect ------------------------------*- C++ -*-===//

#ifndef QMLIR_DIALECT_QMLIR_H
#define QMLIR_DIALECT_QMLIR_H

#include "qmlir/Core/Format.h"

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

#define GET_OP_CLASSES
#include "Qmlir/QmlirOps.h.inc"

#endif // QMLIR_DIALECT_QMLIR_H
