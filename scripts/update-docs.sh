#!/usr/bin/env bash
# Regenerates the dialect and pass references in docs/reference from the .td
# files.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${QMLIR_BUILD_DIR:-build}
ninja -C "$build" mlir-doc
cp "$build/docs/Dialects/Qmlir.md" docs/reference/QmlirDialect.md
cp "$build/docs/Passes/QmlirPasses.md" docs/reference/QmlirPasses.md
