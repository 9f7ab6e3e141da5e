#!/usr/bin/env python3
"""Compiles one bundle per problem of the format matrix into PACK/formats/NNNN
(NNNN = the problem's line number in matrix.txt), a few at a time.
    python3 scripts/device/compile-formats.py MATRIX PACK QMLIR_COMPILE"""
import concurrent.futures
import os
import shutil
import subprocess
import sys


def compile_one(job):
    number, line, pack, compiler = job
    family, m, n, k, act, seed, scheme = line.split(" ", 6)
    result = subprocess.run(
        [compiler, f"--n={n}", f"--k={k}", f"--act={act}", f"--scheme={scheme}",
         "-o", os.path.join(pack, "formats", f"{number:04d}")],
        capture_output=True, text=True)
    return number, result.returncode, result.stderr.strip()


def main():
    matrix, pack, compiler = sys.argv[1:4]
    lines = [line.rstrip("\n") for line in open(matrix) if line.strip()]
    os.makedirs(os.path.join(pack, "formats"), exist_ok=True)
    shutil.copy(matrix, os.path.join(pack, "formats", "matrix.txt"))
    jobs = [(i + 1, line, pack, compiler) for i, line in enumerate(lines)]
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        for number, code, error in pool.map(compile_one, jobs):
            if code != 0:
                failures += 1
                print(f"compile-formats: line {number}: {error}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
