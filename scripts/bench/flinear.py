#!/usr/bin/env python3
"""Cross-checks qmlir-bench's cuBLAS baseline against torch's F.linear.

  python3 scripts/bench/flinear.py BENCH.json [--out=FLINEAR.json]

For every (N, K, M) of the bench results: times torch.nn.functional.linear
with fp16 (or bf16) weights [N, K] under the same protocol as qmlir-bench
(CUDA events around back-to-back calls, median of the same number of batches,
warm-up first, weight copies >= 8x the L2 size the bench recorded) and
prints the bench's cuBLAS time over F.linear's. targets.md asks for agreement
within 5%; the exit status is 1 if any shape is further off.
"""

import argparse
import json
import math
import sys

import torch
import torch.nn.functional as F


def time_linear(n, k, m, dtype, l2_bytes, batches, calls):
    copies = max(2, math.ceil(8 * l2_bytes / (2 * n * k)))
    weights = [torch.randn(n, k, device="cuda", dtype=dtype) * 0.02 for _ in range(copies)]
    x = torch.randn(m, k, device="cuda", dtype=dtype)
    index = 0
    for _ in range(calls):  # warm-up
        F.linear(x, weights[index % copies])
        index += 1
    times = []
    for _ in range(batches):
        start = torch.cuda.Event(enable_timing=True)
        stop = torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            F.linear(x, weights[index % copies])
            index += 1
        stop.record()
        stop.synchronize()
        times.append(1000.0 * start.elapsed_time(stop) / calls)
    del weights
    torch.cuda.empty_cache()
    return sorted(times)[len(times) // 2], copies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench")
    parser.add_argument("--out")
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    with open(args.bench) as f:
        bench = json.load(f)
    if not torch.cuda.is_available():
        print("SKIPPED: torch sees no GPU")
        return 77
    rows = []
    worst = 0.0
    print(f"{'N x K':>14} {'M':>6} {'bench cuBLAS us':>16} {'F.linear us':>12} {'ratio':>7}")
    for row in bench["results"]:
        dtype = torch.bfloat16 if row["activation"] == "bf16" else torch.float16
        n = row["n"] * (2 if row.get("op") == "swiglu" else 1)
        flinear, copies = time_linear(n, row["k"], row["m"], dtype, bench["l2_bytes"],
                                      bench["batches"], bench["calls_per_batch"])
        ratio = row["cublas_us"] / flinear
        worst = max(worst, abs(ratio - 1))
        print(f"{row['n']:>6} x {row['k']:<6} {row['m']:>6} {row['cublas_us']:>16.1f} "
              f"{flinear:>12.1f} {ratio:>6.3f}")
        rows.append({"n": row["n"], "k": row["k"], "m": row["m"], "cublas_us": row["cublas_us"],
                     "flinear_us": flinear, "ratio": ratio, "weight_copies": copies})
    verdict = worst <= args.tolerance
    print(f"largest difference {100 * worst:.1f}% ({'within' if verdict else 'OUTSIDE'} "
          f"{100 * args.tolerance:.0f}%); torch {torch.__version__}, "
          f"{torch.cuda.get_device_name()}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"torch": torch.__version__, "device": torch.cuda.get_device_name(),
                       "tolerance": args.tolerance, "largest_difference": worst,
                       "rows": rows}, f, indent=2)
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
