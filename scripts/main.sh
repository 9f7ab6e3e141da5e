#!/usr/bin/env bash
# The main job: set up, build, then
#   - compile the LLaMA-3-8B-shaped example model (examples/llama-3-8b-w4.json)
#     to a bundle and, on a GPU, run one decode step (M = 1) and one prefill
#     chunk (M = 512) through all its linear layers, checked against the
#     reference and timed next to cuBLAS fp16;
#   - for each example problem (examples/problems.txt): compile, run and check
#     it on the CPU path, compile it to a bundle and run and check it on the
#     GPU.
# Without a GPU the GPU runs are skipped (exit 77 from the runners).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
bash scripts/setup.sh
bash scripts/build.sh

bundles="$build/examples"
mkdir -p "$bundles"
status=0
gpu_skipped=0

# Runs a GPU runner; exit 77 (no GPU) is a skip, anything else non-zero a
# failure.
gpu_run() {
  local rc=0
  "$@" || rc=$?
  case $rc in
    0) ;;
    77) gpu_skipped=1 ;;
    *) status=1 ;;
  esac
}

echo "== the LLaMA-3-8B-shaped model"
start=$(date +%s%N)
"$build/bin/qmlir-compile" --force --model-spec=examples/llama-3-8b-w4.json \
  -o "$bundles/llama-3-8b-w4" || status=1
echo "main: compiled the model in $(( ($(date +%s%N) - start) / 1000000 )) ms"
# One timed pass after a warm-up: a pass at M = 512 takes seconds with
# the SIMT kernels.
gpu_run "$build/bin/qmlir-run-model" "$bundles/llama-3-8b-w4" --m=1,512 --iterations=1
echo

echo "== example problems"
index=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  index=$((index + 1))
  # Each line is: --m=.. --n=.. --k=.. --act=.. --scheme=<scheme text>
  options=${line%%--scheme=*}
  scheme=${line#*--scheme=}
  # shellcheck disable=SC2086
  "$build/bin/qmlir-run" --target=cpu $options --scheme="$scheme" || status=1
  m_option=$(grep -o -- '--m=[0-9,]*' <<<"$options")
  compile_options=${options/$m_option/}
  # shellcheck disable=SC2086
  "$build/bin/qmlir-compile" --force $compile_options --scheme="$scheme" \
    -o "$bundles/example$index" || status=1
  gpu_run "$build/bin/qmlir-run" --target=gpu "$bundles/example$index" "$m_option"
  echo
done < examples/problems.txt
[ "$gpu_skipped" -eq 1 ] && echo "main: no GPU here: the GPU runs were skipped (bundles in $bundles)"
if [ "$status" -eq 0 ]; then echo "main: every example passed"; else echo "main: some examples FAILED"; fi
exit "$status"
