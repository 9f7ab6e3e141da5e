"""Checks bundles compiled from quantized checkpoints against the checkpoints'
own dequantized weights, through the Python package on torch tensors.

  python3 scripts/device/check-checkpoints.py BUNDLE=EXPECTED.safetensors ...

EXPECTED holds, per linear layer, "<layer>.weight" (the dequantized [n, k]
weights, computed by test/Checkpoint/Inputs/make_fixtures.py from each
format's own rules with numpy, independently of qmlir) and "<layer>.bias".
For every matmul layer of each bundle: qmlir.Linear(x) must match
F.linear(x, W, bias) in fp64 under the numerics contract (relative Frobenius
error and a per-element bound: one ulp of the output type plus
8 sqrt(K) 2^-24 sum_k |x w|) for several M; and one forward captured in a
CUDA graph and replayed must give the eager result bit for bit.
Exit status: 0 pass, 1 mismatch, 77 no torch/GPU.
"""

import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("SKIPPED: no torch")
    sys.exit(77)
if not torch.cuda.is_available():
    print("SKIPPED: no GPU")
    sys.exit(77)

import qmlir  # noqa: E402

RELATIVE_TOLERANCE = {torch.float16: 2e-3, torch.bfloat16: 1e-2}
MANTISSA_BITS = {torch.float16: 10, torch.bfloat16: 7}


def read_safetensors(path):
    """The official format: an 8-byte header length, a JSON header, data."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        tensors[name] = torch.frombuffer(raw, dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
    return tensors


def check(out, x, w, bias):
    """The numerics contract against an fp64 reference."""
    ref = x.double() @ w.double().t()
    if bias is not None:
        ref += bias.double()
    magnitudes = x.double().abs() @ w.double().abs().t()
    k = x.shape[-1]
    ulp = torch.clamp(ref.abs(), min=2.0 ** -14)
    ulp = torch.exp2(torch.floor(torch.log2(ulp)) - MANTISSA_BITS[out.dtype])
    bound = ulp + 8 * math.sqrt(k) * 2.0 ** -24 * magnitudes
    diff = (out.double() - ref).abs()
    rel = (torch.linalg.norm(out.double() - ref) / torch.linalg.norm(ref)).item()
    worst = (diff / bound).max().item()
    finite = bool(torch.isfinite(out).all())
    return finite and rel <= RELATIVE_TOLERANCE[out.dtype] and worst <= 1.0, rel, worst


def main(pairs):
    failures = 0
    torch.manual_seed(0)
    for pair in pairs:
        directory, expected_path = pair.split("=")
        expected = read_safetensors(expected_path)
        bundle = qmlir.Bundle(directory)
        bundle.load()
        bundle.upload_weights()
        for name in bundle.layers:
            info = bundle.layer(name)
            if info.op != "matmul" or info.has_residual:
                continue
            layer = qmlir.Linear(bundle, name)
            w = expected[name + ".weight"].cuda()
            bias = expected.get(name + ".bias")
            # The model holds its bias in the activation type (as a bf16
            # nn.Linear would): that is the bias the layer must add.
            bias = bias.cuda().to(layer.dtype) if bias is not None else None
            if (bias is not None) != info.has_bias:
                print(f"FAIL {directory} {name}: bias in checkpoint {bias is not None}, "
                      f"in bundle {info.has_bias}")
                failures += 1
                continue
            for m in (1, 7, 64, 513):
                x = (torch.rand(m, info.k, device="cuda") * 2 - 1).to(layer.dtype)
                out = layer(x)
                torch.cuda.synchronize()
                passed, rel, worst = check(out, x, w, bias)
                failures += not passed
                print(f"{'PASS' if passed else 'FAIL'} {os.path.basename(directory)} {name} "
                      f"M={m} {info.activation} bias={info.has_bias} rel_err={rel:.2e} "
                      f"worst/bound={worst:.3f}")
            # A CUDA graph replays the layer to the eager result bit for bit.
            x = (torch.rand(33, info.k, device="cuda") * 2 - 1).to(layer.dtype)
            eager = layer(x).clone()
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                layer(x)  # warm-up outside the capture
            torch.cuda.current_stream().wait_stream(stream)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                captured = layer(x)
            x.copy_((torch.rand(33, info.k, device="cuda") * 2 - 1).to(layer.dtype))
            graph.replay()
            fresh = layer(x).clone()
            torch.cuda.synchronize()
            same = torch.equal(captured, fresh) and not torch.equal(eager, fresh)
            failures += not same
            print(f"{'PASS' if same else 'FAIL'} {os.path.basename(directory)} {name} "
                  f"CUDA graph replay on new inputs equals the eager run")
    print("PASS" if failures == 0 else f"FAIL ({failures} failures)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
