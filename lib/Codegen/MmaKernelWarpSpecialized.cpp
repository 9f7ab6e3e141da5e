//===- MmaKernelWarpSpecialized.cpp - Producers fill, warpgroups compute --===//
//
// The staged wgmma body with `producer_warps = 4`: one warpgroup of
// producers issues every cp.async of the stages, and the other warps only
// decode, issue wgmma and scale. In the plain staged body every warp copies
// its share of the next chunk (16 four-byte copies per chunk and lane with
// mma_tile's K permutation, and their addresses) and all of them meet at a
// block barrier per chunk; here the compute warps wait only for the chunk
// they need.
//
// Each stage has two mbarriers. "full" completes once each producer's
// copies into the stage have landed (cp.async.mbarrier.arrive.noinc: one
// arrival per producer thread); "empty" once every compute thread is done
// with the stage, i.e. after its wgmmas have completed. Chunk c uses stage
// c % S in round c / S, and waits for the phase of that round's parity; a
// producer's first round finds "empty" in its (complete) phase before the
// first, so it starts without waiting.
//
// Registers: producers need few, the compute warps all they can get, so
// the producers give theirs back (setmaxnreg) to the compute warpgroups.
//
//===----------------------------------------------------------------------===//

#include "StagedEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::codegen;

namespace {

/// Registers per producer thread after setmaxnreg: a copy is one
/// instruction at a constant offset from two addresses (32 is the fewest
/// at which ptxas spilled nothing, with 232-240 left per compute thread).
constexpr int64_t kProducerRegisters = 32;

} // namespace

Value StagedEmitter::barrierAddress(int64_t index, Value slot) {
  return arith::IndexCastOp::create(
      b, loc, b.getI32Type(),
      add(barrierBase, mul(add(idx(index), slot), idx(8))));
}

void StagedEmitter::emitWarpSpecialized() {
  const int64_t stages = schedule.getStages();
  const int64_t computeWarps = schedule.getWarps();
  const int64_t producerThreads = 32 * schedule.getProducerWarps();
  const int64_t computeThreads = 32 * computeWarps;
  auto i32Of = [&](Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
  };
  // Parity of the round in which `chunk` uses its stage.
  auto roundParity = [&](Value chunk, int64_t flip) {
    Value round = arith::DivUIOp::create(b, loc, chunk, idx(stages));
    return i32Of(arith::XOrIOp::create(
        b, loc, arith::RemUIOp::create(b, loc, round, idx(2)), idx(flip)));
  };
  auto wait = [&](Value address, Value parity) {
    inlinePtx("{\n.reg .pred ready;\nwaitLoop${:uid}:\n"
              "mbarrier.try_wait.parity.shared::cta.b64 ready, [$0], $1;\n"
              "@!ready bra waitLoop${:uid};\n}",
              {address, parity});
  };
  const int64_t full = 0, empty = stages;

  {
    OpBuilder::InsertionGuard guard(b);
    auto first = scf::IfOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, idx(0)),
        /*withElseRegion=*/false);
    b.setInsertionPointToStart(&first.getThenRegion().front());
    for (int64_t s = 0; s < stages; ++s) {
      inlinePtx("mbarrier.init.shared::cta.b64 [$0], $1;",
                {barrierAddress(full, idx(s)), i32(producerThreads)});
      inlinePtx("mbarrier.init.shared::cta.b64 [$0], $1;",
                {barrierAddress(empty, idx(s)), i32(computeThreads)});
    }
  }
  gpu::BarrierOp::create(b, loc);

  auto roles =
      scf::IfOp::create(b, loc,
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                              warp, idx(computeWarps)),
                        /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);

  // The compute warpgroups.
  b.setInsertionPointToStart(&roles.getThenRegion().front());
  // setmaxnreg moves registers within what the block got at launch: every
  // thread the most that blocks_per_sm blocks leave (a multiple of 8, which
  // ptxas gives a kernel with setmaxnreg). What the producers give back is
  // shared out among the compute threads.
  const int64_t threads = schedule.getThreads();
  const int64_t launchRegisters = std::min<int64_t>(
      255, 65536 / (std::max<int64_t>(1, schedule.getBlocksPerSm()) * threads) /
               8 * 8);
  const int64_t computeRegisters =
      (launchRegisters * threads - kProducerRegisters * producerThreads) /
      computeThreads / 8 * 8;
  inlinePtx("setmaxnreg.inc.sync.aligned.u32 " +
            std::to_string(std::min<int64_t>(computeRegisters, 256)) + ";");
  SmallVector<Value> accs = mainLoop(
      [&](Value chunk) {
        Value slot = arith::RemUIOp::create(b, loc, chunk, idx(stages));
        wait(barrierAddress(full, slot), roundParity(chunk, 0));
        // cp.async wrote through the generic proxy; wgmma reads through
        // the async one.
        inlinePtx("fence.proxy.async.shared::cta;");
      },
      [&](Value slot) {
        inlinePtx("{\n.reg .b64 state;\n"
                  "mbarrier.arrive.shared::cta.b64 state, [$0];\n}",
                  {barrierAddress(empty, slot)});
      });
  storeSums(accs);

  // The producers.
  b.setInsertionPointToStart(&roles.getElseRegion().front());
  inlinePtx("setmaxnreg.dec.sync.aligned.u32 " +
            std::to_string(kProducerRegisters) + ";");
  copyThreads = producerThreads;
  // tid - computeThreads, as a remainder: the known range lets each
  // copy's address fold into one base plus constants.
  copyTid = arith::RemUIOp::create(b, loc, tid, idx(producerThreads));
  Value always = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1);
  auto produce = [&](bool clampRows) {
    scf::ForOp::create(
        b, loc, idx(0), idx(chunks), idx(1), ValueRange{},
        [&](OpBuilder &, Location, Value chunk, ValueRange) {
          Value slot = arith::RemUIOp::create(b, loc, chunk, idx(stages));
          wait(barrierAddress(empty, slot), roundParity(chunk, 1));
          issueCopies(chunk, always, slot, clampRows);
          inlinePtx("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [$0];",
                    {barrierAddress(full, slot)});
          scf::YieldOp::create(b, loc);
        });
  };
  // Where the block's rows all exist (every block but the last row block),
  // a thread's copies are one address plus constants: no clamping, and few
  // registers.
  auto wholeBlock =
      scf::IfOp::create(b, loc,
                        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule,
                                              add(mBlock, idx(rows)), m),
                        /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard inner(b);
    b.setInsertionPointToStart(&wholeBlock.getThenRegion().front());
    produce(/*clampRows=*/false);
    b.setInsertionPointToStart(&wholeBlock.getElseRegion().front());
    produce(/*clampRows=*/true);
  }
  // The producers leave once their copies have landed, so that no path
  // joins the compute warps' code at the producers' register budget.
  inlinePtx("cp.async.wait_all;\nexit;");
  copyThreads = 0;
}
