#!/usr/bin/env bash
# Configures (once) and builds qmlir into ${QMLIR_BUILD_DIR:-build}: every
# target, or the targets given as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_USE_LINKER=lld -DMLIR_LINK_MLIR_DYLIB=ON >/dev/null
fi
start=$(date +%s)
ninja -C "$build" -j"${QMLIR_JOBS:-2}" "$@"
echo "build: done in $(( $(date +%s) - start )) s"
