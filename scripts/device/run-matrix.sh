#!/usr/bin/env bash
# Runs on the GPU machine: checks every bundle of the pack with qmlir-run for
# M in {1, 7, 16, 33, 128}, the planted fault, and the bundles that must be
# refused; writes a results file (Markdown) and the full log into OUT.
#   bash scripts/device/run-matrix.sh PACK OUT
set -uo pipefail
pack=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
log="$out/gpu-matrix.log"
results="$out/gpu-matrix.md"
run="$pack/bin/qmlir-run"
ms=1,7,16,33,128
: >"$log"

device=$(nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader 2>/dev/null | head -n1)
{
  echo "# GPU path matrix"
  echo
  echo "- device: ${device:-unknown}"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: ${QMLIR_COMMIT:-unknown}"
  echo "- M: $ms; seed: 1"
  echo
  echo "| bundle | M | rel_err | worst element / bound | result |"
  echo "|---|---|---|---|---|"
} >"$results"

pass=0
fail=0
# One qmlir-run per bundle, several at a time: the reference is computed on
# the CPU and dominates the time.
export run ms
ls "$pack/bundles" | xargs -P "$(nproc)" -I{} sh -c \
  '"$run" --target=gpu "$0/bundles/{}" --m=$ms --seed=1 > "$1/{}.out" 2>&1; echo $? > "$1/{}.rc"' \
  "$pack" "$out"
for bundle in $(ls "$pack/bundles"); do
  cat "$out/$bundle.out" >>"$log"
  rc=$(cat "$out/$bundle.rc")
  # One row per M from the problem/matmul lines.
  awk -v b="$bundle" '
    /^problem:/ { for (i = 1; i <= NF; ++i) if ($i ~ /^M=/) m = substr($i, 3) }
    /^matmul:/ {
      rel = ""; worst = ""; verdict = $NF
      for (i = 1; i <= NF; ++i) {
        if ($i ~ /^rel_err=/) rel = substr($i, 9)
        if ($i ~ /^worst_elem=/) worst = substr($i, 12)
      }
      printf "| %s | %s | %s | %s | %s |\n", b, m, rel, worst, verdict
    }' "$out/$bundle.out" >>"$results"
  if [ "$rc" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $bundle (exit $rc)" >>"$results"; fi
  rm -f "$out/$bundle.out" "$out/$bundle.rc"
done

expect() { # expect NAME EXIT PATTERN -- ARGS: a run that must fail that way
  local name=$1 want=$2 pattern=$3; shift 4
  local text rc
  text=$("$run" "$@" 2>&1); rc=$?
  echo "== $name (exit $rc)" >>"$log"; echo "$text" >>"$log"
  if [ "$rc" = "$want" ] && grep -q -- "$pattern" <<<"$text"; then
    pass=$((pass + 1)); echo "| $name | - | - | - | refused as expected (exit $rc) |" >>"$results"
  else
    fail=$((fail + 1)); echo "| $name | - | - | - | FAIL: exit $rc, output: $(head -c 200 <<<"$text" | tr '\n|' ' /') |" >>"$results"
  fi
}
first=$(ls "$pack/bundles" | head -n1)
expect planted-fault 1 "FAIL" -- --target=gpu "$pack/bundles/$first" --m=7 --plant-fault
expect arch-mismatch 2 "sm_80" -- --target=gpu "$pack/broken/sm80" --m=1
expect corrupt-cubin 2 "checksum" -- --target=gpu "$pack/broken/corrupt" --m=1
expect wrong-arch-cubin 2 "cuModuleLoadData" -- --target=gpu "$pack/broken/wrong-arch-cubin" --m=1
expect missing-kernel 2 "layer_matmul7" -- --target=gpu "$pack/broken/missing-kernel" --m=1
expect m-zero 2 "M must be positive" -- --target=gpu "$pack/bundles/$first" --m=0

# Memory errors and races in the kernels, where compute-sanitizer works.
if command -v compute-sanitizer >/dev/null; then
  for bundle in int4-g128-zp-f16-4096x4096 int8-channel-bf16-11008x4096; do
    for tool in memcheck racecheck; do
      text=$(compute-sanitizer --tool "$tool" --error-exitcode 9 "$run" \
        --target=gpu "$pack/bundles/$bundle" --m=1,33 2>&1); rc=$?
      echo "== compute-sanitizer $tool $bundle (exit $rc)" >>"$log"; echo "$text" >>"$log"
      summary=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" <<<"$text" | head -n1)
      if [ "$rc" = 0 ]; then
        pass=$((pass + 1)); echo "| $tool $bundle | 1, 33 | - | - | clean: ${summary:-no report} |" >>"$results"
      else
        fail=$((fail + 1)); echo "| $tool $bundle | 1, 33 | - | - | FAIL (exit $rc): $summary |" >>"$results"
      fi
    done
  done
fi

{
  echo
  echo "$pass passed, $fail failed"
} >>"$results"
cat "$results"
[ "$fail" = 0 ]
