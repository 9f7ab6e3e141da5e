//===- QmlirDialect.cpp - The qmlir dialect -------------------------------===//

#include "qmlir/Dialect/Qmlir.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qmlir;

#include "Qmlir/QmlirDialect.cpp.inc"
#include "Qmlir/QmlirEnums.cpp.inc"

void QmlirDialect::initialize() {
  registerAttributes();
  registerTypes();
  addOperations<
#define GET_OP_LIST
#include "Qmlir/QmlirOps.cpp.inc"
      >();
}
