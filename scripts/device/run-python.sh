#!/usr/bin/env bash
# Runs the Python package's GPU tests (test/python/gpu_*.py, unittest) on a
# machine with torch and CUDA, with QMLIR_TEST_BUNDLES set to the bundles
# given. (The GPU-free tests of test/python run under lit.)
#   bash scripts/device/run-python.sh BUNDLE_DIR...
# The runtime is $QMLIR_RUNTIME_LIBRARY, else ${QMLIR_BUILD_DIR:-build}/lib's
# (carry that folder with the bundles; nothing here needs MLIR).
# Exit status: 0 all passed, 1 a failure, 77 skipped (no torch or no GPU).
set -uo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
  echo "usage: $0 BUNDLE_DIR..." >&2
  exit 2
fi
build=${QMLIR_BUILD_DIR:-build}
export QMLIR_RUNTIME_LIBRARY=${QMLIR_RUNTIME_LIBRARY:-$PWD/$build/lib/libqmlir_runtime.so}
export PYTHONPATH=$PWD/python${PYTHONPATH:+:$PYTHONPATH}
export PYTHONDONTWRITEBYTECODE=1
# Absolute paths: the tests run from test/python.
bundles=$(for b in "$@"; do printf '%s:' "$(realpath "$b")"; done)
export QMLIR_TEST_BUNDLES=${bundles%:}

if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "SKIPPED: no torch with a CUDA GPU"
  exit 77
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n1
python3 -c 'import torch, qmlir; print("torch", torch.__version__, "| runtime", qmlir.library_path(), "API", qmlir.runtime_version())'

status=0
cd test/python
for test in gpu_*.py; do
  [ "$test" = gpu_support.py ] && continue
  echo "== $test"
  python3 -m unittest -v "${test%.py}" || status=1
done
exit $status
