#!/usr/bin/env bash
# The main job: set up, build, then compile each example problem through the
# CPU path, run it on random inputs and check it against the reference.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
bash scripts/setup.sh
bash scripts/build.sh

status=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  # Each line is: --m=.. --n=.. --k=.. --act=.. --scheme=<scheme text>
  options=${line%%--scheme=*}
  scheme=${line#*--scheme=}
  # shellcheck disable=SC2086
  "$build/bin/qmlir-run" --target=cpu $options --scheme="$scheme" || status=1
  echo
done < examples/cpu-problems.txt
[ "$status" -eq 0 ] && echo "main: every example passed" || echo "main: some examples FAILED"
exit "$status"
