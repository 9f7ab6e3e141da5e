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

//===----------------------------------------------------------------------===//
// Discardable attributes: qmlir.schedules and qmlir.layout
//===----------------------------------------------------------------------===//

/// The quantized weights of a matmul or swiglu (empty for other ops).
static SmallVector<QTensorType> weightTypes(Operation *op) {
  if (auto matmul = dyn_cast<MatmulOp>(op))
    return {matmul.getWeights().getType()};
  if (auto swiglu = dyn_cast<SwigluOp>(op))
    return {swiglu.getGate().getType(), swiglu.getUp().getType()};
  return {};
}

static LogicalResult verifySchedules(Operation *op, Attribute value) {
  auto schedules = dyn_cast<ArrayAttr>(value);
  if (!schedules || schedules.empty())
    return op->emitOpError("'")
           << kSchedulesAttrName
           << "' must be a non-empty array of #qmlir.schedule";
  int64_t next = 1;
  for (auto [index, attr] : llvm::enumerate(schedules)) {
    auto schedule = dyn_cast<ScheduleAttr>(attr);
    if (!schedule)
      return op->emitOpError("'")
             << kSchedulesAttrName << "' entry " << index
             << " is not a #qmlir.schedule: " << attr;
    if (schedule.getMMin() != next)
      return op->emitOpError("'")
             << kSchedulesAttrName << "' entry " << index << " starts at M = "
             << schedule.getMMin() << "; the ranges must be sorted and cover M "
             << "from 1 without gaps or overlaps (expected " << next << ")";
    next = schedule.getMMax() + 1;
  }
  return success();
}

// The dialect's layout enum mirrors the core's, value for value.
static_assert(static_cast<int>(Layout::MmaTileLinear) ==
              static_cast<int>(core::Layout::MmaTileLinear));

static LogicalResult verifyLayout(Operation *op, Attribute value) {
  auto layout = dyn_cast<LayoutAttr>(value);
  if (!layout)
    return op->emitOpError("'")
           << kLayoutAttrName << "' must be a #qmlir.layout, got " << value;
  auto coreLayout = static_cast<core::Layout>(layout.getValue());
  for (QTensorType type : weightTypes(op)) {
    std::string why = core::layoutSupport(
        coreLayout, type.getScheme().toCore(), type.getRows(), type.getCols());
    if (!why.empty())
      return op->emitOpError("weights ")
             << type << " cannot use " << layout << ": " << why;
  }
  return success();
}

LogicalResult QmlirDialect::verifyOperationAttribute(Operation *op,
                                                     NamedAttribute attr) {
  // Other qmlir.* attributes (those the GPU lowering leaves on kernels for
  // the bundle writer) are checked by their readers.
  if (attr.getName() != kSchedulesAttrName && attr.getName() != kLayoutAttrName)
    return success();
  if (!isa<MatmulOp, SwigluOp>(op))
    return op->emitError("'")
           << attr.getName().getValue()
           << "' is only valid on qmlir.matmul and qmlir.swiglu";
  return attr.getName() == kSchedulesAttrName
             ? verifySchedules(op, attr.getValue())
             : verifyLayout(op, attr.getValue());
}
