#!/usr/bin/env bash
# The main job: set up, build, then for each example problem
#   - compile, run and check it on the CPU path;
#   - compile it to a bundle of cubins and run and check it on the GPU (a
#     skip where there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
bash scripts/setup.sh
bash scripts/build.sh

bundles="$build/examples"
mkdir -p "$bundles"
status=0
gpu_skipped=0
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
  set +e
  "$build/bin/qmlir-run" --target=gpu "$bundles/example$index" "$m_option"
  rc=$?
  set -e
  case $rc in
    0) ;;
    77) gpu_skipped=1 ;;
    *) status=1 ;;
  esac
  echo
done < examples/problems.txt
[ "$gpu_skipped" -eq 1 ] && echo "main: no GPU here: the GPU runs were skipped (bundles in $bundles)"
if [ "$status" -eq 0 ]; then echo "main: every example passed"; else echo "main: some examples FAILED"; fi
exit "$status"
