//===- LowerToLoops.cpp - qmlir ops to scf loops (CPU path) ---------------===//
//
// The executable specification: plain loop nests whose numerics follow the
// reference (qmlir/Core/Reference.h) operation for operation, so that
// quantization is bit-exact and matmul differs from the reference only by
// the f32 accumulation.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Codegen/Decode.h"
#include "qmlir/Codegen/Epilogue.h"
#include "qmlir/Dialect/Qmlir.h"
#include "qmlir/Passes/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace qmlir {
#define GEN_PASS_DEF_QMLIRLOWERTOLOOPS
#include "QmlirPasses.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;

namespace {

Value constIndex(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

Value constF32(OpBuilder &b, Location loc, float value) {
  return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                        APFloat(value));
}

/// Emits `for iv in [lb, ub)` whose body is built by `body`.
void forLoop(OpBuilder &b, Location loc, Value lb, Value ub,
             function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, lb, ub, constIndex(b, loc, 1), ValueRange{},
                     [&](OpBuilder &nb, Location nl, Value iv, ValueRange) {
                       body(nb, nl, iv);
                       scf::YieldOp::create(nb, nl);
                     });
}

Value toBuffer(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  return bufferization::ToBufferOp::create(
      b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

Value toTensor(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(type.getShape(), type.getElementType()),
      buffer, /*restrict=*/true, /*writable=*/true);
}

/// Converts an f32 value to `type` (f16, bf16 or f32), rounding to nearest.
Value truncateTo(OpBuilder &b, Location loc, Value value, Type type) {
  if (type.isF32())
    return value;
  return arith::TruncFOp::create(b, loc, type, value);
}

/// Rounds an f32 value to the nearest value of `type`, as f32 again.
Value roundThrough(OpBuilder &b, Location loc, Value value, Type type) {
  if (type.isF32())
    return value;
  return arith::ExtFOp::create(b, loc, b.getF32Type(),
                               truncateTo(b, loc, value, type));
}

/// Finds the memref parts of a quantized operand built by qmlir.pack.
FailureOr<codegen::QuantizedMemrefs> getParts(OpBuilder &b, Location loc,
                                              Value weights) {
  auto pack = weights.getDefiningOp<PackOp>();
  if (!pack)
    return failure();
  codegen::QuantizedMemrefs parts;
  parts.type = pack.getResult().getType();
  for (Value part : pack.getParts())
    parts.parts.push_back(toBuffer(b, loc, part));
  return parts;
}

/// Computes the epilogue of output (row, col) from the f32 sums of the
/// projections, in f32.
using EpilogueFn = function_ref<Value(OpBuilder &, Location, ValueRange sums,
                                      Value row, Value col)>;

/// Emits the loops of `result[m, n] = epilogue(sum_k x[m, k] W_i[n, k], ...)`
/// for one or more weight matrices W_i of the same shape, and returns the
/// output buffer.
Value emitProjectionLoops(OpBuilder &rewriter, Location loc,
                          Value inputTensor,
                          ArrayRef<codegen::QuantizedMemrefs> weights,
                          EpilogueFn epilogue) {
  auto inputType = cast<RankedTensorType>(inputTensor.getType());
  Type elementType = inputType.getElementType();
  int64_t n = weights[0].type.getRows(), k = weights[0].type.getCols();

  Value input = toBuffer(rewriter, loc, inputTensor);
  Value zero = constIndex(rewriter, loc, 0);
  Value m = memref::DimOp::create(rewriter, loc, input, 0);
  SmallVector<Value> dynamicM;
  if (inputType.isDynamicDim(0))
    dynamicM.push_back(m);
  Value output = memref::AllocOp::create(
      rewriter, loc, MemRefType::get({inputType.getDimSize(0), n}, elementType),
      dynamicM);
  SmallVector<Value> accs;
  for (size_t i = 0; i < weights.size(); ++i)
    accs.push_back(memref::AllocaOp::create(
        rewriter, loc,
        MemRefType::get({inputType.getDimSize(0)}, rewriter.getF32Type()),
        dynamicM));
  // The activations, transposed to [K, M] and widened to f32 once, so that
  // the innermost loop over M reads contiguous memory and vectorizes. (The
  // buffer-deallocation pipeline frees the buffer.)
  Value inputT = memref::AllocOp::create(
      rewriter, loc,
      MemRefType::get({k, inputType.getDimSize(0)}, rewriter.getF32Type()),
      dynamicM);
  forLoop(rewriter, loc, zero, m, [&](OpBuilder &b, Location l, Value row) {
    forLoop(b, l, zero, constIndex(b, l, k),
            [&](OpBuilder &b, Location l, Value kk) {
              Value x = arith::ExtFOp::create(
                  b, l, b.getF32Type(),
                  memref::LoadOp::create(b, l, input, ValueRange{row, kk})
                      .getResult());
              memref::StoreOp::create(b, l, x, inputT, ValueRange{kk, row});
            });
  });

  // Each weight is decoded once and applied to all M rows; accumulation
  // runs in k order, as the reference's f32 mode does.
  forLoop(rewriter, loc, zero, constIndex(rewriter, loc, n),
          [&](OpBuilder &b, Location l, Value col) {
            forLoop(b, l, zero, m, [&](OpBuilder &b, Location l, Value row) {
              for (Value acc : accs)
                memref::StoreOp::create(b, l, constF32(b, l, 0.0f), acc, row);
            });
            forLoop(b, l, zero, constIndex(b, l, k),
                    [&](OpBuilder &b, Location l, Value kk) {
                      SmallVector<Value> ws;
                      for (const codegen::QuantizedMemrefs &w : weights)
                        ws.push_back(
                            codegen::emitDequantizedWeight(b, l, w, col, kk));
                      forLoop(b, l, zero, m,
                              [&](OpBuilder &b, Location l, Value row) {
                                Value x = memref::LoadOp::create(
                                    b, l, inputT, ValueRange{kk, row});
                                for (auto [w, acc] : llvm::zip(ws, accs)) {
                                  Value sum = arith::AddFOp::create(
                                      b, l,
                                      memref::LoadOp::create(b, l, acc, row),
                                      arith::MulFOp::create(b, l, x, w));
                                  memref::StoreOp::create(b, l, sum, acc, row);
                                }
                              });
                    });
            forLoop(b, l, zero, m, [&](OpBuilder &b, Location l, Value row) {
              SmallVector<Value> sums;
              for (Value acc : accs)
                sums.push_back(memref::LoadOp::create(b, l, acc, row));
              Value result = epilogue(b, l, sums, row, col);
              memref::StoreOp::create(b, l,
                                      truncateTo(b, l, result, elementType),
                                      output, ValueRange{row, col});
            });
          });
  return output;
}

struct LowerMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getWeights().getDefiningOp<PackOp>())
      return rewriter.notifyMatchFailure(op, "weights not built by qmlir.pack");
    Location loc = op.getLoc();
    codegen::QuantizedMemrefs weights =
        *getParts(rewriter, loc, op.getWeights());
    Value bias = op.getBias() ? toBuffer(rewriter, loc, op.getBias()) : Value();
    Value residual =
        op.getResidual() ? toBuffer(rewriter, loc, op.getResidual()) : Value();
    Value output = emitProjectionLoops(
        rewriter, loc, op.getInput(), weights,
        [&](OpBuilder &b, Location l, ValueRange sums, Value row, Value col) {
          return codegen::emitAddAll(
              b, l, sums[0],
              {bias ? memref::LoadOp::create(b, l, bias, col).getResult()
                    : Value(),
               residual ? memref::LoadOp::create(b, l, residual,
                                                 ValueRange{row, col})
                              .getResult()
                        : Value()});
        });
    rewriter.replaceOp(op, toTensor(rewriter, loc, output));
    return success();
  }
};

struct LowerSwiglu : OpRewritePattern<SwigluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SwigluOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getGate().getDefiningOp<PackOp>() ||
        !op.getUp().getDefiningOp<PackOp>())
      return rewriter.notifyMatchFailure(op, "weights not built by qmlir.pack");
    Location loc = op.getLoc();
    SmallVector<codegen::QuantizedMemrefs> weights = {
        *getParts(rewriter, loc, op.getGate()),
        *getParts(rewriter, loc, op.getUp())};
    Value residual =
        op.getResidual() ? toBuffer(rewriter, loc, op.getResidual()) : Value();
    Value output = emitProjectionLoops(
        rewriter, loc, op.getInput(), weights,
        [&](OpBuilder &b, Location l, ValueRange sums, Value row, Value col) {
          Value result = codegen::emitSwiglu(b, l, sums[0], sums[1]);
          if (!residual)
            return result;
          return codegen::emitAddAll(
              b, l, result,
              {memref::LoadOp::create(b, l, residual, ValueRange{row, col})
                   .getResult()});
        });
    rewriter.replaceOp(op, toTensor(rewriter, loc, output));
    return success();
  }
};

struct LowerDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getInput().getDefiningOp<PackOp>())
      return rewriter.notifyMatchFailure(op, "input not built by qmlir.pack");
    Location loc = op.getLoc();
    auto weights = *getParts(rewriter, loc, op.getInput());
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    Value output = memref::AllocOp::create(
        rewriter, loc,
        MemRefType::get(resultType.getShape(), resultType.getElementType()));
    Value zero = constIndex(rewriter, loc, 0);
    forLoop(rewriter, loc, zero, constIndex(rewriter, loc, weights.type.getRows()),
            [&](OpBuilder &b, Location l, Value row) {
              forLoop(b, l, zero, constIndex(b, l, weights.type.getCols()),
                      [&](OpBuilder &b, Location l, Value col) {
                        Value w = codegen::emitDequantizedWeight(b, l, weights,
                                                                 row, col);
                        memref::StoreOp::create(
                            b, l,
                            truncateTo(b, l, w, resultType.getElementType()),
                            output, ValueRange{row, col});
                      });
            });
    rewriter.replaceOp(op, toTensor(rewriter, loc, output));
    return success();
  }
};

/// Round to nearest (ties to even) and clamp to the code range, in f32, then
/// convert to i32 (exact: the value is an integer within the range).
Value roundAndClamp(OpBuilder &b, Location loc, Value value,
                    const core::Scheme &scheme) {
  Value rounded = math::RoundEvenOp::create(b, loc, value);
  Value clamped = arith::MinimumFOp::create(
      b, loc,
      arith::MaximumFOp::create(b, loc, rounded,
                                constF32(b, loc, scheme.minCode())),
      constF32(b, loc, scheme.maxCode()));
  return arith::FPToSIOp::create(b, loc, b.getI32Type(), clamped);
}

Value zeroFilledWords(OpBuilder &b, Location loc, int64_t rows,
                      int64_t words) {
  Value buffer =
      memref::AllocOp::create(b, loc, MemRefType::get({rows, words}, b.getI32Type()));
  Value zero = constIndex(b, loc, 0);
  Value zeroWord = arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0);
  forLoop(b, loc, zero, constIndex(b, loc, rows),
          [&](OpBuilder &b, Location l, Value r) {
            forLoop(b, l, zero, constIndex(b, l, words),
                    [&](OpBuilder &b, Location l, Value w) {
                      memref::StoreOp::create(b, l, zeroWord, buffer,
                                              ValueRange{r, w});
                    });
          });
  return buffer;
}

/// Mirrors core::quantize step for step (see Reference.h for the rules).
struct LowerQuantize : OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    QTensorType type = op.getResult().getType();
    SchemeAttr schemeAttr = type.getScheme();
    if (!isQuantizeLowered(schemeAttr.toCore()))
      return rewriter.notifyMatchFailure(op, "no lowering for this scheme");
    core::Scheme scheme = schemeAttr.toCore();
    Type scaleType = schemeAttr.getScaleType();
    Type f32 = rewriter.getF32Type();
    int64_t rows = type.getRows(), cols = type.getCols();
    int64_t groupSize = schemeAttr.getGroupSizeFor(cols);
    int64_t groups = type.getGroupsPerRow();
    unsigned bits = scheme.bits;

    Value input = toBuffer(rewriter, loc, op.getInput());
    Value codes = zeroFilledWords(rewriter, loc, rows,
                                  core::packedWords(cols, bits));
    Value scales = memref::AllocOp::create(
        rewriter, loc, MemRefType::get({rows, groups}, scaleType));
    Value zeros;
    if (scheme.zero == core::ZeroKind::Int)
      zeros = zeroFilledWords(rewriter, loc, rows,
                              core::packedWords(groups, bits));
    else if (scheme.zero == core::ZeroKind::Float)
      zeros = memref::AllocOp::create(
          rewriter, loc, MemRefType::get({rows, groups}, scaleType));

    Value zero = constIndex(rewriter, loc, 0);
    Value groupLen = constIndex(rewriter, loc, groupSize);
    auto loadF32 = [&](OpBuilder &b, Location l, Value r, Value c) -> Value {
      Value v = memref::LoadOp::create(b, l, input, ValueRange{r, c});
      return v.getType().isF32() ? v : arith::ExtFOp::create(b, l, f32, v);
    };

    forLoop(rewriter, loc, zero, constIndex(rewriter, loc, rows), [&](OpBuilder &b, Location l, Value r) {
      forLoop(b, l, zero, constIndex(b, l, groups), [&](OpBuilder &b, Location l, Value g) {
        Value begin = arith::MulIOp::create(b, l, g, groupLen);
        Value end = arith::AddIOp::create(b, l, begin, groupLen);
        // The group's range, starting from its first element.
        Value first = loadF32(b, l, r, begin);
        auto range = scf::ForOp::create(
            b, l, begin, end, constIndex(b, l, 1), ValueRange{first, first},
            [&](OpBuilder &b, Location l, Value c, ValueRange minMax) {
              Value v = loadF32(b, l, r, c);
              scf::YieldOp::create(
                  b, l,
                  ValueRange{arith::MinimumFOp::create(b, l, minMax[0], v),
                             arith::MaximumFOp::create(b, l, minMax[1], v)});
            });
        Value lo = range.getResult(0), hi = range.getResult(1);
        Value zeroF = constF32(b, l, 0.0f);

        Value scale;
        if (scheme.zero == core::ZeroKind::None) {
          Value amax = scheme.isSigned()
                           ? arith::MaximumFOp::create(
                                 b, l, math::AbsFOp::create(b, l, lo),
                                 math::AbsFOp::create(b, l, hi))
                           : arith::MaximumFOp::create(b, l, hi, zeroF).getResult();
          scale = arith::DivFOp::create(b, l, amax,
                                        constF32(b, l, scheme.maxCode()));
        } else {
          lo = arith::MinimumFOp::create(b, l, lo, zeroF);
          hi = arith::MaximumFOp::create(b, l, hi, zeroF);
          scale = arith::DivFOp::create(
              b, l, arith::SubFOp::create(b, l, hi, lo),
              constF32(b, l, scheme.maxCode() - scheme.minCode()));
        }
        scale = roundThrough(b, l, scale, scaleType);
        memref::StoreOp::create(b, l, truncateTo(b, l, scale, scaleType),
                                scales, ValueRange{r, g});

        // A zero scale (an all-zero group) gets codes that decode to 0; the
        // divisor is replaced by 1 so no NaN or Inf is ever computed.
        Value isZeroScale =
            arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, scale, zeroF);
        Value divisor =
            arith::SelectOp::create(b, l, isZeroScale, constF32(b, l, 1.0f), scale);
        Value minCode = constF32(b, l, scheme.minCode());

        Value intZero, floatZero;
        if (scheme.zero == core::ZeroKind::Int) {
          Value z = roundAndClamp(
              b, l,
              arith::SubFOp::create(b, l, minCode,
                                    arith::DivFOp::create(b, l, lo, divisor)),
              scheme);
          intZero = arith::SelectOp::create(
              b, l, isZeroScale,
              arith::ConstantIntOp::create(b, l, b.getI32Type(), 0), z);
          codegen::emitInsertCode(b, l, zeros, r, g, intZero, bits,
                                  core::packedWords(groups, bits));
        } else if (scheme.zero == core::ZeroKind::Float) {
          Value z = roundThrough(
              b, l,
              arith::SubFOp::create(b, l, minCode,
                                    arith::DivFOp::create(b, l, lo, divisor)),
              scaleType);
          floatZero = arith::SelectOp::create(b, l, isZeroScale, zeroF, z);
          memref::StoreOp::create(b, l, truncateTo(b, l, floatZero, scaleType),
                                  zeros, ValueRange{r, g});
        }

        forLoop(b, l, begin, end, [&](OpBuilder &b, Location l, Value c) {
          Value scaled = arith::DivFOp::create(b, l, loadF32(b, l, r, c), divisor);
          Value q;
          switch (scheme.zero) {
          case core::ZeroKind::None:
            q = roundAndClamp(b, l, scaled, scheme);
            break;
          case core::ZeroKind::Int: {
            Value shifted = arith::AddFOp::create(
                b, l, math::RoundEvenOp::create(b, l, scaled),
                arith::SIToFPOp::create(b, l, f32, intZero));
            q = roundAndClamp(b, l, shifted, scheme);
            break;
          }
          case core::ZeroKind::Float:
            q = roundAndClamp(
                b, l, arith::AddFOp::create(b, l, scaled, floatZero), scheme);
            break;
          }
          Value zeroCode =
              intZero ? intZero
                      : arith::ConstantIntOp::create(b, l, b.getI32Type(), 0);
          q = arith::SelectOp::create(b, l, isZeroScale, zeroCode, q);
          codegen::emitInsertCode(b, l, codes, r, c, q, bits,
                                  core::packedWords(cols, bits));
        });
      });
    });

    SmallVector<Value> parts = {toTensor(rewriter, loc, codes),
                                toTensor(rewriter, loc, scales)};
    if (zeros)
      parts.push_back(toTensor(rewriter, loc, zeros));
    rewriter.replaceOpWithNewOp<PackOp>(op, type, parts);
    return success();
  }
};

/// unpack(pack(parts)) is the parts.
struct FoldUnpackOfPack : OpRewritePattern<UnpackOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackOp op,
                                PatternRewriter &rewriter) const override {
    auto pack = op.getWeights().getDefiningOp<PackOp>();
    if (!pack)
      return rewriter.notifyMatchFailure(op, "weights not built by qmlir.pack");
    rewriter.replaceOp(op, pack.getOperands());
    return success();
  }
};

struct QmlirLowerToLoopsPass
    : qmlir::impl::QmlirLowerToLoopsBase<QmlirLowerToLoopsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQmlirToLoopsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns)))) {
      getOperation().emitError("qmlir-lower-to-loops did not converge");
      return signalPassFailure();
    }
    // Whatever still uses a quantized value could not be lowered: its
    // operand does not come from qmlir.pack or qmlir.quantize in the same
    // function (e.g. a function argument or result of !qmlir.qtensor type).
    bool failedToLower = false;
    getOperation().walk([&](QuantizeOp op) {
      op.emitError("cannot lower 'qmlir.quantize' for ")
          << op.getResult().getType().getScheme()
          << ": only integer codes of one width with per-group or per-channel "
             "scales are lowered; quantize other formats offline "
             "(qmlir::core::quantize)";
      failedToLower = true;
    });
    getOperation().walk([&](Operation *op) {
      if (isa<QuantizeOp>(op))
        return;
      for (Region &region : op->getRegions())
        for (Block &block : region)
          for (BlockArgument arg : block.getArguments())
            if (isa<QTensorType>(arg.getType())) {
              op->emitError("cannot lower a !qmlir.qtensor block argument: "
                            "pass its parts and rebuild it with qmlir.pack");
              failedToLower = true;
            }
      if (isa<PackOp>(op))
        return;
      // Uses of an unlowered qmlir.quantize were reported with it.
      auto unlowered = [](Value operand) {
        return isa<QTensorType>(operand.getType()) &&
               !operand.getDefiningOp<QuantizeOp>();
      };
      if (llvm::any_of(op->getOperands(), unlowered)) {
        op->emitError("cannot lower '")
            << op->getName()
            << "': its quantized operand must be built by qmlir.pack or "
               "qmlir.quantize in the same function";
        failedToLower = true;
      }
    });
    if (failedToLower)
      return signalPassFailure();
    // Packs are now unused: their parts were consumed directly.
    getOperation().walk([](PackOp pack) {
      if (pack->use_empty())
        pack->erase();
    });
  }
};

} // namespace

bool qmlir::isQuantizeLowered(const core::Scheme &scheme) {
  return scheme.isInteger() && !scheme.isMixed() && !scheme.actOrder &&
         scheme.groupSize != core::kPerTensor;
}

void qmlir::populateQmlirToLoopsPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerMatmul, LowerSwiglu, LowerDequantize, LowerQuantize, FoldUnpackOfPack>(
      patterns.getContext());
}
