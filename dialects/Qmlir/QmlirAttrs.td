//===- QmlirAttrs.td - qmlir attributes --------------------*- tablegen -*-===//

#ifndef QMLIR_ATTRS_TD
#define QMLIR_ATTRS_TD

include "QmlirDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Qmlir_ElementKind : I32EnumAttr<"ElementKind", "kind of the stored codes", [
    I32EnumAttrCase<"SignedInt", 0, "signed">,
    I32EnumAttrCase<"UnsignedInt", 1, "unsigned">,
    I32EnumAttrCase<"Float", 2, "float">,
    I32EnumAttrCase<"NormalFloat", 3, "normal_float">,
    I32EnumAttrCase<"Codebook", 4, "codebook">,
    I32EnumAttrCase<"BinaryCoded", 5, "binary_coded">,
    I32EnumAttrCase<"Ternary", 6, "ternary">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_FloatFormat : I32EnumAttr<"FloatFormat", "small float format", [
    I32EnumAttrCase<"E2M1", 0, "e2m1">,
    I32EnumAttrCase<"E2M3", 1, "e2m3">,
    I32EnumAttrCase<"E3M2", 2, "e3m2">,
    I32EnumAttrCase<"E4M3", 3, "e4m3">,
    I32EnumAttrCase<"E5M2", 4, "e5m2">
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

def Qmlir_CodebookScope : I32EnumAttr<"CodebookScope", "what a codebook covers", [
    I32EnumAttrCase<"Tensor", 0, "tensor">,
    I32EnumAttrCase<"Group", 1, "group">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_SchemeAttr : AttrDef<Qmlir_Dialect, "Scheme"> {
  let mnemonic = "scheme";
  let summary = "How a float weight matrix is stored in a low-bit format";
  let description = [{
    Describes the encoding of a logical `[N, K]` weight matrix (N output
    channels, K the reduction dimension). The syntax, the rules and the
    storage are those of the MLIR-free core library (`qmlir::core::Scheme`,
    `include/qmlir/Core/Format.h`), which parses this attribute's text, so
    the compiler, the runtime and the reference agree by construction.

    `#qmlir.scheme<FORMAT [, bits = [..]], group = G|channel|tensor
    [, scale = TYPE] [, zero = none|int|float] [, codebook = tensor|group]
    [, act_order]>`

    - FORMAT: `iB` / `uB` (signed / unsigned integer codes, B in 1..8;
      `w = (q - z) * s`), `i*` / `u*` with `bits = [..]` (a bit-width per
      group), `f4e2m1`, `f6e2m3`, `f6e3m2`, `f8e4m3`, `f8e5m2` (OCP small
      floats; `w = decode(q) * s`), `nf4` (NormalFloat-4), `lutB` (indices
      into a codebook of 2^B values of the scale type; `w = codebook[q]`),
      `bcqB` (B binary planes; `w = sum_i a_i * (+-1)`), `ternary`
      (`w = t * s`, t in {-1, 0, 1}, packed in base 3); aliases `mxfp4`
      (`f4e2m1, group = 32, scale = e8m0`) and `nvfp4`
      (`f4e2m1, group = 16, scale = f8e4m3`).
    - `group`: elements along K sharing a scale; `channel` is one group per
      row, `tensor` one scale for the whole matrix.
    - `scale`: `f16`, `bf16`, `f32`, `e8m0` or `f8e4m3` (the last two for
      small floats and nf4); for `lutB` the codebook's element type.
    - `zero`: `none` (default), `int` or `float` (integers; `float` for bcq).
    - `act_order`: GPTQ's act-order; column k belongs to group `g_idx[k]`,
      a runtime operand.

    The storage of a `!qmlir.qtensor` with this scheme is the list of parts
    `qmlir::core::Scheme::parts` gives (codes, then as the scheme has them
    scales, zeros, codebook, g_idx), each a 2-D tensor; Format.h documents
    every bit layout.

    Example:

    ```mlir
    #qmlir.scheme<i4, group = 128, scale = f16, zero = int>
    #qmlir.scheme<f4e2m1, group = 32, scale = e8m0>
    #qmlir.scheme<u*, bits = [4, 2, 3, 4], group = 128, scale = f16>
    ```
  }];
  let parameters = (ins
    EnumParameter<Qmlir_ElementKind>:$kind,
    "unsigned":$bits,
    EnumParameter<Qmlir_FloatFormat>:$floatFormat,
    ArrayRefParameter<"unsigned">:$mixedBits,
    "int64_t":$groupSize,
    "::mlir::Type":$scaleType,
    EnumParameter<Qmlir_ZeroKind>:$zero,
    EnumParameter<Qmlir_CodebookScope>:$codebook,
    "bool":$actOrder
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The same scheme as the MLIR-free core library describes it.
    ::qmlir::core::Scheme toCore() const;
    static SchemeAttr fromCore(::mlir::MLIRContext *context,
                               const ::qmlir::core::Scheme &scheme);
    bool isSigned() const { return getKind() == ElementKind::SignedInt; }
    bool isInteger() const {
      return getKind() == ElementKind::SignedInt ||
             getKind() == ElementKind::UnsignedInt;
    }
    bool isMixed() const { return !getMixedBits().empty(); }
    bool isPerTensor() const {
      return getGroupSize() == ::qmlir::core::kPerTensor;
    }
    /// Group size for rows of K elements (K for channel and tensor).
    int64_t getGroupSizeFor(int64_t k) const {
      return getGroupSize() > 0 ? getGroupSize() : k;
    }
    bool hasZero() const { return getZero() != ZeroKind::None; }
  }];
}

def Qmlir_Layout : I32EnumAttr<"Layout", "physical arrangement of packed codes", [
    I32EnumAttrCase<"Canonical", 0, "canonical">,
    I32EnumAttrCase<"MmaTile", 1, "mma_tile">,
    I32EnumAttrCase<"MmaTileLinear", 2, "mma_tile_linear">
  ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::qmlir";
}

def Qmlir_LayoutAttr : EnumAttr<Qmlir_Dialect, Qmlir_Layout, "layout"> {
  let summary = "Where each code of a weight's codes part lives in memory";
  let description = [{
    `#qmlir.layout<canonical>` is the row-major bit stream of Format.h;
    `#qmlir.layout<mma_tile>` arranges 4- and 8-bit integer codes in tiles of
    16 rows by 64 columns so that each lane of a warp loads the mma.sync
    m16n8k16 A fragments of four 16-column sub-tiles with one 16-byte load
    per 4 bits of code width, already in register order
    (`include/qmlir/Core/Layout.h` defines it; the offline packer and the
    kernel generator both read that definition), K permuted within spans so
    that a lane's activations are contiguous too. `#qmlir.layout<
    mma_tile_linear>` is the same arrangement with K in its own order, which
    wgmma needs (it reads activations as 16-byte rows of consecutive K); the
    layout pass chooses it, with `linear-k`, for weights that a wgmma kernel
    reads. The shape
    of the codes part does not change, only the order of its words.
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Qmlir_ScheduleAttr : AttrDef<Qmlir_Dialect, "Schedule"> {
  let mnemonic = "schedule";
  let summary = "A tensor-core kernel's tiling for one range of M";
  let description = [{
    One M bucket of a `qmlir.matmul` or `qmlir.swiglu` lowered by
    `qmlir-lower-dequant`: the kernel serves calls with `m_min <= M <= m_max`.
    Every warp computes `tile_n` x 16 output columns for `tile_m` x 8 rows.

    Without `stages` (or `stages = 0`) a block is one warp tile whose
    `warps` warps split K (in chunks of 64 columns, `unroll` chunks loaded
    straight into registers per warp) and add their partial sums in shared
    memory; `warps_m` must be 1. This suits small M, where every weight is
    read once and the loads in flight decide the speed.

    With `stages = S` (2..8) the warps tile the output instead: `warps_m`
    warps along M times `warps / warps_m` along N, so a block computes
    `16 tile_n warps / warps_m` columns for `8 tile_m warps_m` rows, and the
    block's activations and codes pass through S buffers of dynamic shared
    memory filled by `cp.async` S - 1 chunks ahead of the mma. This suits
    large M, where each loaded activation must serve many columns.

    With `mma = "wgmma"` (sm_90a; needs stages) the staged kernel issues
    warpgroup mmas instead of mma.sync: each group of four consecutive
    warps along N is one warpgroup, whose `tile_n` wgmma m64nNk16 each
    cover 64 columns (warp w of the group holds rows 16 w of each) by
    N = 8 `tile_m` rows (so `tile_m` may go up to 32, and `warps /
    warps_m` must be a multiple of 4). The default, `"mma_sync"`, is
    mma.sync m16n8k16.

    The grid is `(N / columns, ceil(M / rows), 1)`. Where a bucket spans
    more than one block of rows, the kernel numbers its blocks in launch
    order and gives consecutive ones the row blocks of one column block
    (split-K: all of them; staged: 8 at a time), so that blocks reading the
    same weights run together and share them through L2.

    With `producer_warps = 4` (wgmma only) the block has one more
    warpgroup that issues every copy of the stages and signals each full
    stage on an mbarrier, while the `warps` compute warps only wait for the
    stage they need, decode and issue wgmma, and free the stage on a second
    mbarrier; the producers hand registers to the compute warps
    (setmaxnreg), within what `blocks_per_sm` (required) blocks leave each
    thread.

    `blocks_per_sm = B` (default 0: no bound) asks ptxas to keep B blocks
    resident on a multiprocessor (`.minnctapersm`), i.e. to fit each thread
    in 65536 / (B x threads) registers, spilling if it must: where a kernel
    is bound by the latency of its loads, more warps in flight can be worth
    a few spilled registers.

    ```mlir
    #qmlir.schedule<m = [1, 8], warps = 8, tile_n = 2, tile_m = 1, unroll = 4>
    #qmlir.schedule<m = [129, 65535], warps = 8, tile_n = 2, tile_m = 4,
                    unroll = 1, stages = 3, warps_m = 4>
    #qmlir.schedule<m = [129, 65535], mma = "wgmma", warps = 8, tile_n = 2,
                    tile_m = 8, unroll = 1, stages = 4, warps_m = 2>
    #qmlir.schedule<m = [9, 16], blocks_per_sm = 4, warps = 8, tile_n = 1,
                    tile_m = 2, unroll = 4>
    #qmlir.schedule<m = [256, 65535], mma = "wgmma", blocks_per_sm = 1,
                    producer_warps = 4, warps = 8, tile_n = 1, tile_m = 16,
                    unroll = 1, stages = 4>
    ```
  }];
  let parameters = (ins "int64_t":$mMin, "int64_t":$mMax, "int64_t":$warps,
                        "int64_t":$tileN, "int64_t":$tileM, "int64_t":$unroll,
                        DefaultValuedParameter<"int64_t", "1">:$warpsM,
                        DefaultValuedParameter<"int64_t", "0">:$stages,
                        StringRefParameter<"tensor-core instruction family",
                                           "\"mma_sync\"">:$mma,
                        DefaultValuedParameter<"int64_t", "0">:$blocksPerSm,
                        DefaultValuedParameter<"int64_t", "0">:$producerWarps);
  let assemblyFormat = [{
    `<` `m` `=` `[` $mMin `,` $mMax `]` `,` (`mma` `=` $mma^ `,`)?
    (`blocks_per_sm` `=` $blocksPerSm^ `,`)?
    (`producer_warps` `=` $producerWarps^ `,`)?
    `warps` `=` $warps `,`
    `tile_n` `=` $tileN `,` `tile_m` `=` $tileM `,` `unroll` `=` $unroll
    (`,` `stages` `=` $stages^ (`,` `warps_m` `=` $warpsM^)?)? `>`
  }];
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Every thread of a block: the mma warps and the producer warps.
    int64_t getThreads() const { return 32 * (getWarps() + getProducerWarps()); }
    /// Whether a warpgroup of producers fills the stages while the other
    /// warps only compute.
    bool isWarpSpecialized() const { return getProducerWarps() > 0; }
    /// Whether the warps tile the output through shared-memory stages
    /// (rather than split K).
    bool isStaged() const { return getStages() > 0; }
    /// Whether the staged kernel issues wgmma (sm_90a) rather than mma.sync.
    bool isWgmma() const { return getMma() == "wgmma"; }
    /// Warps along N: all of them when staged; none split N otherwise.
    int64_t getWarpsN() const {
      return isStaged() ? getWarps() / getWarpsM() : 1;
    }
    int64_t getRowsPerBlock() const { return 8 * getTileM() * getWarpsM(); }
    int64_t getColumnsPerBlock() const {
      return 16 * getTileN() * getWarpsN();
    }
  }];
}

#endif // QMLIR_ATTRS_TD
