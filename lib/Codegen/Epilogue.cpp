//===- Epilogue.cpp - Fused epilogues, emitted as IR ----------------------===//

#include "qmlir/Codegen/Epilogue.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;

namespace qmlir::codegen {

Value emitSwiglu(OpBuilder &b, Location loc, Value g, Value u) {
  // The reference's formula, operation for operation (no fast-math flags):
  // for very negative g, exp(-g) overflows to +inf and silu(g) is -0.
  Value one = arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                             APFloat(1.0f));
  Value expNeg = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, g));
  Value silu = arith::DivFOp::create(
      b, loc, g, arith::AddFOp::create(b, loc, expNeg, one));
  return arith::MulFOp::create(b, loc, silu, u);
}

Value emitAddAll(OpBuilder &b, Location loc, Value sum,
                 ArrayRef<Value> addends) {
  for (Value addend : addends) {
    if (!addend)
      continue;
    if (!addend.getType().isF32())
      addend = arith::ExtFOp::create(b, loc, b.getF32Type(), addend);
    sum = arith::AddFOp::create(b, loc, sum, addend);
  }
  return sum;
}

} // namespace qmlir::codegen
