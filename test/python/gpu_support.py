"""Shared pieces of the GPU tests: skipping, the bundles under test, and an
independent decoder of integer weight layouts (include/qmlir/Core/Format.h)
to check results against, written from the format's documentation."""

import json
import os
import re
import unittest

try:
    import torch
except ImportError:  # the tests skip
    torch = None


def require_gpu(test_case):
    if torch is None:
        raise unittest.SkipTest("torch is not installed")
    if not torch.cuda.is_available():
        raise unittest.SkipTest("no CUDA GPU")


def bundle_dirs():
    """QMLIR_TEST_BUNDLES: bundle directories separated by ':'."""
    return [d for d in os.environ.get("QMLIR_TEST_BUNDLES", "").split(":") if d]


_SCHEME = re.compile(r"#qmlir\.scheme<([iu])([1-8]), group = (\d+|channel)"
                     r"(?:, scale = (f16|bf16|f32))?(?:, zero = (int))?>$")


def decodable(scheme):
    """Whether decode_integer() understands `scheme`."""
    return _SCHEME.match(scheme) is not None


def unpack_codes(words, count, bits):
    """Codes of `bits` bits from rows of little-endian 32-bit words: code j
    at stream bits [j*bits, (j+1)*bits), stream bit i is bit i % 32 of word
    i / 32; codes may straddle words. Returns int64 [rows, count]."""
    words = words.to(torch.int64) & 0xFFFFFFFF
    j = torch.arange(count, device=words.device)
    first = (j * bits) // 32
    shift = (j * bits) % 32
    low = words[:, first] >> shift
    nxt = torch.clamp(first + 1, max=words.shape[1] - 1)
    high = torch.where(shift + bits > 32, words[:, nxt] << (32 - shift), 0)
    return (low | high) & ((1 << bits) - 1)


def decode_integer(scheme, n, k, parts):
    """W [n, k] in float64 for an integer scheme; `parts` maps part name to
    a tensor of the stored layout (codes i32, scales, zeros i32)."""
    signed, bits, group, _, zero = _SCHEME.match(scheme).groups()
    bits = int(bits)
    group = k if group == "channel" else int(group)
    q = unpack_codes(parts["codes"], k, bits)
    if signed == "i":
        q = torch.where(q >= 1 << (bits - 1), q - (1 << bits), q)
    groups = k // group
    scales = parts["scales"].to(torch.float64).reshape(n, groups)
    w = q.to(torch.float64)
    if zero:
        z = unpack_codes(parts["zeros"], groups, bits).to(torch.float64)
        w = w - z.repeat_interleave(group, dim=1)
    return w * scales.repeat_interleave(group, dim=1)


_DTYPES = {"i32": "int32", "f16": "float16", "bf16": "bfloat16", "f32": "float32"}


def read_weights(directory, layer_name):
    """The layer's manifest entry and its tensors from weights.bin (CPU),
    read directly from the files, not through the runtime."""
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    layer = next(l for l in manifest["layers"] if l["name"] == layer_name)
    with open(os.path.join(directory, manifest["weights"]["file"]), "rb") as f:
        blob = f.read()
    tensors = {}
    for weight in layer["weights"]:
        dtype = getattr(torch, _DTYPES[weight["element"]])
        rows, cols = weight["shape"]
        size = rows * cols * torch.tensor([], dtype=dtype).element_size()
        raw = bytearray(blob[weight["offset"]:weight["offset"] + size])
        tensors[weight["name"]] = torch.frombuffer(raw, dtype=dtype).reshape(rows, cols)
    return layer, tensors
