#!/usr/bin/env bash
# Runs on the GPU machine: qmlir-bench on the targets bundle that
# scripts/device/prepare-tensor-cores.sh packed, then the F.linear
# cross-check of its cuBLAS baseline. Writes bench.json, bench.txt,
# flinear.json and flinear.txt into OUT; plot with scripts/bench/plot.py.
#   bash scripts/bench/run.sh PACK OUT [qmlir-bench options]
set -uo pipefail
pack=$(cd "$1" && pwd)
out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export LD_LIBRARY_PATH="$pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,clocks.max.sm --format=csv >"$out/clocks.txt" 2>&1
"$pack/bin/qmlir-bench" "$pack/bench/targets" --commit="${QMLIR_COMMIT:-unknown}" \
  --json="$out/bench.json" "$@" | tee "$out/bench.txt"
status=${PIPESTATUS[0]}
python3 "$here/flinear.py" "$out/bench.json" --out="$out/flinear.json" | tee "$out/flinear.txt"
exit "$status"
