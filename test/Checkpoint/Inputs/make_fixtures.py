#!/usr/bin/env python3
"""Writes the checkpoint fixtures of test/Checkpoint with the official packages.

Tested with: numpy 2.4.6, safetensors 0.8.0, torch 2.15.0, compressed-tensors
0.20.0 (pip). CI does not run this script; its outputs are committed.

Each fixture is a checkpoint directory NAME/ plus NAME.expected.safetensors
holding, per linear, "<linear>.weight" (the dequantized [N, K] weights, F32)
and "<linear>.bias" (F32), computed here in numpy from the format's own rules
from the integer codes, zeros and scales before packing -- independent of
qmlir. GPTQ and AWQ are packed here following AutoGPTQ's and AutoAWQ's packers
(the packages need a GPU to install); compressed-tensors checkpoints are
written by the package's own compressor.

Usage: python3 make_fixtures.py [OUTPUT_DIR]  (default: this directory)
"""

import json
import os
import shutil
import sys

import numpy as np
import torch
from safetensors.numpy import save_file

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261121)


def fresh(name):
    path = os.path.join(OUT, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def quantize_asym(w, bits, group_of_col, groups):
    """Round-to-nearest asymmetric quantization per (row, group): codes q
    [N, K] in [0, 2^bits), zeros z [N, G] in [1, 2^bits - 1], scales [N, G]
    (float16)."""
    n, k = w.shape
    maxq = (1 << bits) - 1
    q = np.zeros((n, k), np.int64)
    z = np.zeros((n, groups), np.int64)
    s = np.zeros((n, groups), np.float16)
    for g in range(groups):
        cols = np.nonzero(group_of_col == g)[0]
        lo = np.minimum(w[:, cols].min(axis=1), 0)
        hi = np.maximum(w[:, cols].max(axis=1), 0)
        scale = ((hi - lo) / maxq).astype(np.float16)
        s[:, g] = scale
        sf = scale.astype(np.float32)
        # Zero points of at least 1 keep GPTQ v1's stored zero - 1 valid.
        z[:, g] = np.clip(np.round(-lo / sf), 1, maxq)
        q[:, cols] = np.clip(np.round(w[:, cols] / sf[:, None]) + z[:, g, None], 0, maxq)
    return q, z, s


def dequant(q, z, s, group_of_col):
    """w = float(q - z) * s in float32, column c using group group_of_col[c]."""
    zz = z[:, group_of_col]
    ss = s[:, group_of_col].astype(np.float32)
    return (q - zz).astype(np.float32) * ss


def pack_stream(values, bits):
    """Packs [count, cols] values along axis 0 as little-endian bit streams,
    as AutoGPTQ's packer does for 2, 3, 4 and 8 bits (3-bit codes straddle
    words): returns uint32 [count * bits / 32, cols]."""
    count, cols = values.shape
    assert (count * bits) % 32 == 0
    out = np.zeros((count * bits // 32, cols), np.uint64)
    for i in range(count):
        bit = i * bits
        word, off = bit // 32, bit % 32
        v = values[i].astype(np.uint64)
        out[word] |= (v << np.uint64(off)) & np.uint64(0xFFFFFFFF)
        if off + bits > 32:
            out[word + 1] |= v >> np.uint64(32 - off)
    return out.astype(np.uint32)


def gptq(name, layers, bits, group, act_order, v2=False, bf16=False, shards=1):
    """layers: list of (linear name, N, K, with bias)."""
    path = fresh(name)
    tensors, expected = {}, {}
    sdtype = np.float32 if False else None
    for lname, n, k, with_bias in layers:
        w = rng.standard_normal((n, k)).astype(np.float32) * 0.05
        glen = group if group > 0 else k
        groups = k // glen
        if act_order:
            perm = rng.permutation(k)
            g_idx = np.empty(k, np.int32)
            g_idx[perm] = np.arange(k) // glen
        else:
            g_idx = (np.arange(k) // glen).astype(np.int32)
        q, z, s = quantize_asym(w, bits, g_idx, groups)
        if bf16:
            s32 = torch.from_numpy(s.astype(np.float32)).to(torch.bfloat16)
            s = s32.to(torch.float32).numpy()
        expected[lname + ".weight"] = dequant(q, z, s, g_idx)
        stored_z = z if v2 else z - 1
        tensors[lname + ".qweight"] = pack_stream(q.T, bits).view(np.int32)
        tensors[lname + ".qzeros"] = pack_stream(stored_z, bits).T.copy().view(np.int32)
        scales = s.T.copy()
        tensors[lname + ".g_idx"] = g_idx
        if with_bias:
            b = (rng.standard_normal(n) * 0.1).astype(np.float16)
            tensors[lname + ".bias"] = b
            expected[lname + ".bias"] = b.astype(np.float32)
        if bf16:
            tensors[lname + ".scales"] = scales  # converted below
        else:
            tensors[lname + ".scales"] = scales.astype(np.float16)
    quant = {"bits": bits, "group_size": group, "desc_act": act_order, "sym": False,
             "quant_method": "gptq", "checkpoint_format": "gptq_v2" if v2 else "gptq"}
    write_json(os.path.join(path, "quantize_config.json"), quant)
    write_json(os.path.join(path, "config.json"),
               {"torch_dtype": "bfloat16" if bf16 else "float16", "model_type": "llama"})
    save_tensors(path, tensors, shards, bf16_keys=[t for t in tensors if bf16 and t.endswith(".scales")])
    save_file(expected, os.path.join(OUT, name + ".expected.safetensors"))


def save_tensors(path, tensors, shards, bf16_keys=()):
    """numpy has no bfloat16: tensors named in bf16_keys go through torch."""
    names = sorted(tensors)
    parts = [names[i::shards] for i in range(shards)]
    weight_map = {}
    for i, part in enumerate(parts):
        fname = "model.safetensors" if shards == 1 else f"model-{i + 1:05d}-of-{shards:05d}.safetensors"
        if any(t in bf16_keys for t in part):
            from safetensors.torch import save_file as save_torch
            save_torch({t: (torch.from_numpy(np.ascontiguousarray(tensors[t])).to(torch.bfloat16)
                            if t in bf16_keys else torch.from_numpy(np.ascontiguousarray(tensors[t])))
                        for t in part}, os.path.join(path, fname))
        else:
            save_file({t: np.ascontiguousarray(tensors[t]) for t in part}, os.path.join(path, fname))
        for t in part:
            weight_map[t] = fname
    if shards > 1:
        write_json(os.path.join(path, "model.safetensors.index.json"),
                   {"metadata": {}, "weight_map": weight_map})


AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def awq_pack(values):
    """[rows, N] 4-bit values -> int32 [rows, N / 8], AutoAWQ's GEMM order."""
    rows, n = values.shape
    out = np.zeros((rows, n // 8), np.uint32)
    for c in range(n // 8):
        for i in range(8):
            out[:, c] |= values[:, 8 * c + AWQ_ORDER[i]].astype(np.uint32) << np.uint32(4 * i)
    return out.view(np.int32)


def awq(name, layers, group):
    path = fresh(name)
    tensors, expected = {}, {}
    for lname, n, k, with_bias in layers:
        w = rng.standard_normal((n, k)).astype(np.float32) * 0.05
        g_of = np.arange(k) // group
        q, z, s = quantize_asym(w, 4, g_of, k // group)
        expected[lname + ".weight"] = dequant(q, z, s, g_of)
        tensors[lname + ".qweight"] = awq_pack(q.T)
        tensors[lname + ".qzeros"] = awq_pack(z.T)
        tensors[lname + ".scales"] = s.T.copy()
        if with_bias:
            b = (rng.standard_normal(n) * 0.1).astype(np.float16)
            tensors[lname + ".bias"] = b
            expected[lname + ".bias"] = b.astype(np.float32)
    write_json(os.path.join(path, "config.json"), {
        "torch_dtype": "float16",
        "quantization_config": {"quant_method": "awq", "bits": 4, "group_size": group,
                                "zero_point": True, "version": "gemm"}})
    save_tensors(path, tensors, 1)
    save_file(expected, os.path.join(OUT, name + ".expected.safetensors"))


def compressed(name, layers, bits, strategy, group, symmetric):
    """compressed-tensors pack-quantized through the package's compressor."""
    from compressed_tensors.compressors.pack_quantized.base import PackedQuantizationCompressor
    from compressed_tensors.quantization import (QuantizationArgs, QuantizationConfig,
                                                 QuantizationScheme)
    from compressed_tensors.quantization.lifecycle.forward import quantize
    args = QuantizationArgs(num_bits=bits, type="int", symmetric=symmetric, strategy=strategy,
                            group_size=group if strategy == "group" else None)
    scheme = QuantizationScheme(targets=["Linear"], weights=args)
    config = QuantizationConfig(config_groups={"group_0": scheme}, format="pack-quantized")
    path = fresh(name)
    tensors, expected = {}, {}
    qmin, qmax = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    for lname, n, k, with_bias in layers:
        w = torch.from_numpy(rng.standard_normal((n, k)).astype(np.float32) * 0.05).to(torch.float16)
        glen = group if strategy == "group" else k
        wg = w.float().reshape(n, k // glen, glen)
        if symmetric:
            scale = (wg.abs().amax(-1) / qmax).to(torch.float16)
            zp = None
        else:
            lo = torch.clamp(wg.amin(-1), max=0)
            hi = torch.clamp(wg.amax(-1), min=0)
            scale = ((hi - lo) / (qmax - qmin)).to(torch.float16)
            zp = torch.clamp(torch.round(qmin - lo / scale.float()), qmin, qmax).to(torch.int8)
        state = {"weight": w, "weight_scale": scale}
        if zp is not None:
            state["weight_zero_point"] = zp
        q = quantize(x=w, scale=scale, zero_point=zp, args=args, dtype=torch.int8)
        packed = PackedQuantizationCompressor.compress(state, scheme)
        for key, value in packed.items():
            tensors[lname + "." + key] = value.contiguous()
        # w = (q - zp) * s in float32, per the format's definition.
        g_of = np.arange(k) // glen
        zz = zp.numpy().astype(np.int64)[:, g_of] if zp is not None else 0
        ref = (q.numpy().astype(np.int64) - zz).astype(np.float32) * \
            scale.float().numpy()[:, g_of]
        expected[lname + ".weight"] = ref
        # The package's own decompression (in f16) agrees to f16 rounding.
        back = PackedQuantizationCompressor.decompress(
            {key: value for key, value in packed.items()}, scheme)["weight"].float().numpy()
        assert np.allclose(back, ref, rtol=2e-3, atol=1e-6), name
        if with_bias:
            b = torch.from_numpy((rng.standard_normal(n) * 0.1).astype(np.float32)).to(torch.float16)
            tensors[lname + ".bias"] = b
            expected[lname + ".bias"] = b.float().numpy()
    from safetensors.torch import save_file as save_torch
    save_torch(tensors, os.path.join(path, "model.safetensors"))
    write_json(os.path.join(path, "config.json"), {
        "torch_dtype": "float16", "quantization_config": config.model_dump(exclude_none=True)})
    save_file(expected, os.path.join(OUT, name + ".expected.safetensors"))


if __name__ == "__main__":
    gptq("gptq-4bit-actorder", [("model.layers.0.self_attn.q_proj", 64, 256, False),
                                ("model.layers.0.mlp.up_proj", 96, 256, True)],
         bits=4, group=64, act_order=True)
    gptq("gptq-3bit-v2-sharded", [("model.layers.0.mlp.down_proj", 64, 384, False),
                                  ("model.layers.1.mlp.down_proj", 96, 288, True)],
         bits=3, group=96, act_order=False, v2=True, shards=2)
    gptq("gptq-8bit-channel-bf16", [("lm_head_like", 48, 256, True)],
         bits=8, group=-1, act_order=False, bf16=True)
    awq("awq-4bit", [("model.layers.0.mlp.gate_proj", 72, 320, False),
                     ("model.layers.0.mlp.up_proj", 72, 320, True)], group=64)
    compressed("ct-int4-group", [("model.layers.0.self_attn.o_proj", 80, 256, False)],
               bits=4, strategy="group", group=64, symmetric=True)
    compressed("ct-int8-channel", [("model.layers.0.self_attn.k_proj", 56, 272, True)],
               bits=8, strategy="channel", group=None, symmetric=True)
    compressed("ct-int4-asym", [("model.layers.0.self_attn.v_proj", 72, 256, False)],
               bits=4, strategy="group", group=128, symmetric=False)
    compressed("ct-int3-asym", [("model.layers.0.mlp.down_proj", 50, 288, False)],
               bits=3, strategy="group", group=96, symmetric=False)
    print("fixtures written to", OUT)
