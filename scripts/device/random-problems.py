#!/usr/bin/env python3
"""Draws random GPU problems, compiles one bundle per problem with
qmlir-compile, and writes PACK/random/problems.tsv for run-random.sh.

  python3 scripts/device/random-problems.py PACK [--bundles=80] [--seed=1]

Each bundle is a matmul of a random scheme (every bit width of the integer
formats, group sizes 16-128 and per channel, no/int/float zeros, f16/bf16/f32
scales, act-order or not) on a random shape: the LLaMA shapes and odd ones
(N not a multiple of 16, K = 5120, ...). Each is run at three M drawn from
1..512, always including one M of the small buckets, so that every kernel
template (tensor-core M buckets and SIMT) is exercised. Shapes are capped so
that qmlir-run's CPU reference stays fast.

--staged draws only problems for the staged tensor-core kernel (M > 128):
4- and 8-bit integer codes without act-order or float zeros, N a multiple
of 64, K of 64, and three M from 129..512.
"""

import argparse
import os
import random
import subprocess
import sys

LLAMA = [(4096, 4096), (11008, 4096), (4096, 11008), (14336, 4096), (4096, 14336),
         (1024, 4096), (4096, 5120), (5120, 5120), (13824, 5120)]
# Work (N * K * sum of M) above which a problem gets small M only.
REFERENCE_BUDGET = 3e9


def draw_scheme(rng):
    bits = rng.choice([4, 4, 4, 4, 8, 8, 3, 2])
    signed = rng.random() < 0.5
    zero = rng.choice(["none", "none", "int", "int", "int", "float"])
    if zero != "none":
        signed = False  # zero points come with unsigned codes (GPTQ, AWQ)
    group = rng.choice([16, 32, 48, 64, 64, 128, 128, 128, "channel"])
    scale = rng.choice(["f16", "bf16", "f32"])
    act_order = group != "channel" and rng.random() < 0.12
    fields = [f"{'i' if signed else 'u'}{bits}", f"group = {group}", f"scale = {scale}"]
    if zero != "none":
        fields.append(f"zero = {zero}")
    if act_order:
        fields.append("act_order")
    return "#qmlir.scheme<" + ", ".join(fields) + ">", group


def draw_shape(rng, group):
    unit = 64 if group == "channel" else group
    if rng.random() < 0.3:
        n, k = rng.choice(LLAMA)
        if k % unit == 0:
            return n, k
    # Mostly multiples of 16 (the tensor-core kernels' N), some not.
    n = rng.choice([16 * rng.randrange(1, 5), 16 * rng.randrange(1, 96), 16 * rng.randrange(1, 96),
                    rng.randrange(1, 65), rng.randrange(1, 1500)])
    k = unit * rng.randrange(1, max(2, 3072 // unit))
    if rng.random() < 0.7:  # K a multiple of 64, as the tensor-core kernels need
        k = max(64, k // 64 * 64) if unit in (16, 32, 64) else k
    return n, k


def staged_problem(rng):
    """A scheme, shape and M list for the staged kernel, within the budget."""
    while True:
        scheme, group = draw_scheme(rng)
        if not scheme.startswith(("#qmlir.scheme<u4", "#qmlir.scheme<i4",
                                  "#qmlir.scheme<u8", "#qmlir.scheme<i8")):
            continue
        if "float" in scheme or "act_order" in scheme or group == 48:
            continue
        n, k = draw_shape(rng, group)
        if rng.random() < 0.7:
            n = 64 * rng.randrange(1, 24)
        if n % 64 or k % 64:
            continue
        ms = sorted({rng.randrange(129, 513) for _ in range(3)})
        if n * k * sum(ms) <= REFERENCE_BUDGET:
            return scheme, n, k, ms


def draw_ms(rng, n, k):
    small = rng.choice([1, 2, 5, 8, 9, 13, 16])
    ms = {small, rng.randrange(17, 33), rng.randrange(33, 513)}
    while n * k * sum(ms) > REFERENCE_BUDGET and max(ms) > 1:
        ms.remove(max(ms))
        ms.add(max(1, rng.randrange(1, 33)))
    return sorted(ms)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pack")
    parser.add_argument("--bundles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--build", default=os.environ.get("QMLIR_BUILD_DIR", "build"))
    parser.add_argument("--staged", action="store_true",
                        help="only problems for the staged kernel (M > 128)")
    parser.add_argument("--dir", default="random", help="folder in PACK")
    parser.add_argument("--compile-arg", action="append", default=[],
                        help="passed on to qmlir-compile (e.g. --compile-arg=--linear-k)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    compile_tool = os.path.join(args.build, "bin", "qmlir-compile")
    root = os.path.join(args.pack, args.dir)
    os.makedirs(root, exist_ok=True)
    rows = []
    rejected = 0
    while len(rows) < args.bundles:
        if args.staged:
            scheme, n, k, ms = staged_problem(rng)
        else:
            scheme, group = draw_scheme(rng)
            n, k = draw_shape(rng, group)
        act = rng.choice(["f16", "bf16"])
        name = f"p{len(rows):03d}"
        result = subprocess.run(
            [compile_tool, f"--n={n}", f"--k={k}", f"--act={act}", f"--scheme={scheme}",
             *args.compile_arg, "--force", "-o", os.path.join(root, name)],
            capture_output=True, text=True)
        if result.returncode != 0:
            # A scheme/shape the format rejects (e.g. packing alignment): draw again.
            rejected += 1
            if rejected > 10 * args.bundles:
                sys.exit(f"too many rejected draws; last: {result.stderr.strip()}")
            continue
        if not args.staged:
            ms = draw_ms(rng, n, k)
        rows.append((name, ",".join(map(str, ms)), n, k, act, scheme))
    with open(os.path.join(root, "problems.tsv"), "w") as f:
        for row in rows:
            f.write("\t".join(map(str, row)) + "\n")
    problems = sum(len(r[1].split(",")) for r in rows)
    print(f"{len(rows)} bundles, {problems} problems ({rejected} draws rejected by qmlir-compile)")


if __name__ == "__main__":
    main()
