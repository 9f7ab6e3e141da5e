#!/usr/bin/env python3
"""Plots qmlir-bench JSON: qmlir's speed-up over cuBLAS fp16 and its fraction
of the floor against M, one line per layer shape.

  python3 scripts/bench/plot.py BENCH.json OUT.png   (needs matplotlib)
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    bench_path, out_path = sys.argv[1], sys.argv[2]
    with open(bench_path) as f:
        bench = json.load(f)
    shapes = {}
    for row in bench["results"]:
        shapes.setdefault(f"{row['n']} x {row['k']}", []).append(row)
    figure, (speed, floor) = plt.subplots(1, 2, figsize=(12, 4.5))
    for label, rows in shapes.items():
        rows.sort(key=lambda r: r["m"])
        ms = [r["m"] for r in rows]
        speed.plot(ms, [r["cublas_us"] / r["qmlir_us"] for r in rows], marker="o", label=label)
        floor.plot(ms, [100 * r["floor_us"] / r["qmlir_us"] for r in rows], marker="o", label=label)
    speed.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    speed.set(xscale="log", xlabel="M", ylabel="cuBLAS fp16 time / qmlir time",
              title="speed-up over cuBLAS fp16")
    floor.set(xscale="log", xlabel="M", ylabel="% of the floor", ylim=(0, 100),
              title="fraction of the floor (bandwidth or fp16 rate)")
    for axes in (speed, floor):
        axes.grid(True, which="both", alpha=0.3)
    speed.legend(fontsize=8)
    figure.suptitle(f"{bench['device']}, {bench['date']}, commit {bench['commit']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(out_path, dpi=120)


if __name__ == "__main__":
    main()
