#!/usr/bin/env bash
# Runs on the GPU machine: every problem of PACK/random/problems.tsv (written
# by random-problems.py) through qmlir-run, then compute-sanitizer memcheck
# and racecheck on each kernel template at two sizes (PACK/sanitize, written
# by prepare-random.sh). Writes a Markdown results file and the log into OUT.
#   bash scripts/device/run-random.sh PACK OUT
set -uo pipefail
pack=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
log="$out/random-problems.log"
results="$out/random-problems.md"
run="$pack/bin/qmlir-run"
: >"$log"

device=$(nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader 2>/dev/null | head -n1)
{
  echo "# Random GPU problems"
  echo
  echo "- device: ${device:-unknown}"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: ${QMLIR_COMMIT:-unknown}"
  echo "- problems: scripts/device/random-problems.py (seed ${QMLIR_RANDOM_SEED:-1}); qmlir-run --seed=1"
  echo
  echo "| bundle | N x K | act | scheme | M | kernel | rel_err | worst element / bound | result |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$results"

# One qmlir-run per bundle, several at a time: the CPU reference dominates.
export run pack out
cut -f1,2 "$pack/random/problems.tsv" | xargs -P "$(nproc)" -L1 sh -c \
  '"$run" --target=gpu "$pack/random/$0" --m="$1" --seed=1 > "$out/$0.out" 2>&1; echo $? > "$out/$0.rc"'

pass=0
fail=0
bundles=0
while IFS=$'\t' read -r name ms n k act scheme; do
  bundles=$((bundles + 1))
  { echo "== $name $n x $k $act $scheme M=$ms"; cat "$out/$name.out"; } >>"$log"
  rc=$(cat "$out/$name.rc")
  awk -v b="$name" -v shape="$n x $k" -v act="$act" -v scheme="$scheme" '
    /^problem:/ { for (i = 1; i <= NF; ++i) {
        if ($i ~ /^M=/) m = substr($i, 3)
        if ($i ~ /^kernel=/) kernel = substr($i, 8) } }
    /^(matmul|swiglu):/ {
      rel = ""; worst = ""; verdict = $NF
      for (i = 1; i <= NF; ++i) {
        if ($i ~ /^rel_err=/) rel = substr($i, 9)
        if ($i ~ /^worst_elem=/) worst = substr($i, 12)
      }
      printf "| %s | %s | %s | `%s` | %s | %s | %s | %s | %s |\n", b, shape, act, scheme, m, kernel, rel, worst, verdict
    }' "$out/$name.out" >>"$results"
  passed=$(grep -cE '^(matmul|swiglu):.* PASS$' "$out/$name.out")
  total=$(grep -cE '^(matmul|swiglu):' "$out/$name.out")
  pass=$((pass + passed))
  fail=$((fail + total - passed))
  if [ "$rc" != 0 ] || [ "$total" != "$(tr ',' '\n' <<<"$ms" | wc -l)" ]; then
    fail=$((fail + 1))
    echo "| $name | $n x $k | $act | \`$scheme\` | $ms | - | - | - | FAILED (exit $rc): $(tail -n1 "$out/$name.out" | tr '|' '/') |" >>"$results"
  fi
  rm -f "$out/$name.out" "$out/$name.rc"
done <"$pack/random/problems.tsv"
problems=$((pass + fail))

# Kernel templates under compute-sanitizer: each bundle at the M of every
# bucket its kernels have.
sanitized=0
unclean=0
{
  echo
  echo "## compute-sanitizer"
  echo
  echo "| bundle | tool | M | result |"
  echo "|---|---|---|---|"
} >>"$results"
if command -v compute-sanitizer >/dev/null; then
  while IFS=$'\t' read -r name ms what; do
    for tool in memcheck racecheck; do
      text=$(compute-sanitizer --tool "$tool" --error-exitcode 9 "$run" \
        --target=gpu "$pack/sanitize/$name" --m="$ms" 2>&1); rc=$?
      echo "== compute-sanitizer $tool $name M=$ms (exit $rc)" >>"$log"; echo "$text" >>"$log"
      summary=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" <<<"$text" | head -n1)
      sanitized=$((sanitized + 1))
      if [ "$rc" = 0 ]; then
        echo "| $name ($what) | $tool | $ms | clean: ${summary:-no report} |" >>"$results"
      else
        unclean=$((unclean + 1))
        echo "| $name ($what) | $tool | $ms | FAIL (exit $rc): $summary |" >>"$results"
      fi
    done
  done <"$pack/sanitize/list.tsv"
else
  echo "| - | - | - | compute-sanitizer not found |" >>"$results"
  unclean=1
fi

{
  echo
  echo "$bundles bundles, $problems problems: $pass passed, $fail failed;" \
    "compute-sanitizer: $sanitized runs, $unclean not clean"
} >>"$results"
tail -n 3 "$results"
[ "$fail" = 0 ] && [ "$unclean" = 0 ]
