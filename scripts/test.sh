#!/usr/bin/env bash
# Sets up, builds and runs every test: lit (dialect, passes, CPU execution,
# tools) and the GoogleTest unit tests. Prints the counts of each and a
# closing "N passed, N failed" line; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
bash scripts/setup.sh || exit 1
bash scripts/build.sh || exit 1

lit_log=$(mktemp)
unit_log=$(mktemp)
trap 'rm -f "$lit_log" "$unit_log"' EXIT

echo "== lit tests"
/usr/lib/llvm-22/bin/lit "$build/test" -sv -j"${QMLIR_JOBS:-2}" 2>&1 | tee "$lit_log"
lit_status=${PIPESTATUS[0]}

echo "== unit tests (GoogleTest)"
unit_status=0
: >"$unit_log"
for suite in QmlirCoreTests QmlirRuntimeTests QmlirCheckpointTests QmlirCppWrapperTests; do
  "$build/bin/$suite" 2>&1 | tee -a "$unit_log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || unit_status=1
done

count() { # count FILE REGEX: the sum of the numbers after each match
  grep -Eo "$2" "$1" | grep -Eo '[0-9]+' | awk '{ s += $1 } END { print s + 0 }'
}
lit_passed=$(count "$lit_log" 'Passed *: *[0-9]+')
lit_failed=$(( $(count "$lit_log" 'Failed *: *[0-9]+') + $(count "$lit_log" 'Unresolved *: *[0-9]+') ))
lit_unsupported=$(count "$lit_log" 'Unsupported *: *[0-9]+')
unit_passed=$(count "$unit_log" '\[  PASSED  \] [0-9]+')
unit_failed=$(count "$unit_log" '\[  FAILED  \] [0-9]+ test')
unit_skipped=$(count "$unit_log" '\[  SKIPPED \] [0-9]+')
if [ "$unit_status" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi
if [ "$lit_status" -ne 0 ] && [ "$lit_failed" -eq 0 ]; then lit_failed=1; fi

echo "== summary"
echo "lit: $lit_passed passed, $lit_failed failed, $lit_unsupported skipped"
echo "unit: $unit_passed passed, $unit_failed failed, $unit_skipped skipped"
echo "total: $((lit_passed + unit_passed)) passed, $((lit_failed + unit_failed)) failed, $((lit_unsupported + unit_skipped)) skipped"
[ "$lit_status" -eq 0 ] && [ "$unit_status" -eq 0 ]
