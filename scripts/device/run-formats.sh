#!/usr/bin/env bash
# Runs on the GPU machine: every problem of the format matrix (one bundle per
# line of PACK/formats/matrix.txt) through qmlir-run --target=gpu, several at
# a time; writes a summary per family (Markdown) and the full log into OUT.
#   bash scripts/device/run-formats.sh PACK OUT
set -uo pipefail
pack=$(cd "$1" && pwd)
out=$2
mkdir -p "$out/formats-runs"
log="$out/gpu-formats.log"
results="$out/gpu-formats.md"
export RUN="$pack/bin/qmlir-run" PACK="$pack" RUNS="$out/formats-runs"

awk '{ printf "%04d %s %s\n", NR, $2, $6 }' "$pack/formats/matrix.txt" |
  xargs -P "$(nproc)" -L 1 sh -c \
    '"$RUN" --target=gpu "$PACK/formats/$0" --m="$1" --seed="$2" > "$RUNS/$0.out" 2>&1; echo $? > "$RUNS/$0.rc"'

device=$(nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader 2>/dev/null | head -n1)
{
  echo "# GPU format matrix"
  echo
  echo "- device: ${device:-unknown}"
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- commit: ${QMLIR_COMMIT:-unknown}"
  echo "- problems: test/tools/qmlir-run/formats/matrix.txt (every format x granularity x zero kind"
  echo "  x (M, N, K) in {(1, 96, 384), (17, 4096, 4096), (33, 11008, 4096)}; integers with and"
  echo "  without act-order)"
  echo
  echo "| family | problems | passed | failed | largest rel_err | largest element/bound |"
  echo "|---|---|---|---|---|---|"
} >"$results"
: >"$log"
line=0
declare -A total passed maxrel maxelem
while read -r family rest; do
  line=$((line + 1))
  id=$(printf "%04d" "$line")
  {
    echo "== $id $family $rest (exit $(cat "$RUNS/$id.rc"))"
    cat "$RUNS/$id.out"
  } >>"$log"
  total[$family]=$(( ${total[$family]:-0} + 1 ))
  [ "$(cat "$RUNS/$id.rc")" = 0 ] && passed[$family]=$(( ${passed[$family]:-0} + 1 ))
  rel=$(grep -o 'rel_err=[0-9.e+-]*' "$RUNS/$id.out" | head -n1 | cut -d= -f2)
  elem=$(grep -o 'worst_elem=[0-9.e+-]*' "$RUNS/$id.out" | head -n1 | cut -d= -f2)
  maxrel[$family]=$(awk -v a="${maxrel[$family]:-0}" -v b="${rel:-0}" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
  maxelem[$family]=$(awk -v a="${maxelem[$family]:-0}" -v b="${elem:-0}" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
done <"$pack/formats/matrix.txt"
all=0
ok=0
for family in $(cut -d' ' -f1 "$pack/formats/matrix.txt" | uniq); do
  t=${total[$family]}; p=${passed[$family]:-0}
  all=$((all + t)); ok=$((ok + p))
  echo "| $family | $t | $p | $((t - p)) | ${maxrel[$family]} | ${maxelem[$family]} |" >>"$results"
done
# The planted fault (one flipped bit of the stored codes) must fail the check
# for every family: the first problem of each family, again, with the fault.
{
  echo
  echo "| planted fault in | problem | result |"
  echo "|---|---|---|"
} >>"$results"
for family in $(cut -d' ' -f1 "$pack/formats/matrix.txt" | uniq); do
  line=$(grep -n "^$family " "$pack/formats/matrix.txt" | head -n1 | cut -d: -f1)
  read -r _ m _ _ _ seed _ <<<"$(sed -n "${line}p" "$pack/formats/matrix.txt")"
  id=$(printf "%04d" "$line")
  text=$("$RUN" --target=gpu "$PACK/formats/$id" --m="$m" --seed="$seed" --plant-fault 2>&1); rc=$?
  echo "== planted fault $id $family (exit $rc)" >>"$log"; echo "$text" >>"$log"
  all=$((all + 1))
  if [ "$rc" = 1 ]; then
    ok=$((ok + 1)); echo "| $family | $id | fails as it must (exit 1) |" >>"$results"
  else
    echo "| $family | $id | NOT DETECTED (exit $rc) |" >>"$results"
  fi
done

{
  echo
  echo "$ok passed, $((all - ok)) failed"
} >>"$results"
rm -rf "$RUNS"
cat "$results"
[ "$ok" = "$all" ]
