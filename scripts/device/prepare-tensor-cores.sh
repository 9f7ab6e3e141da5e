#!/usr/bin/env bash
# Builds here and packs what the tensor-core checks need on the GPU machine
# into PACK (default .device-pack, ignored by git): the MLIR-free tools
# (qmlir-run, qmlir-run-model, qmlir-bench) and libraries, the random
# problems (random-problems.py), the compute-sanitizer bundles (one per
# kernel template and size) and the benchmark bundle (the five W4A16 group-128
# shapes of ../shared/targets.md). Then, on the device:
#   bash scripts/device/run-random.sh PACK OUT
#   bash scripts/bench/run.sh PACK OUT
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${QMLIR_BUILD_DIR:-build}
pack=${1:-.device-pack}
bundles=${QMLIR_RANDOM_BUNDLES:-100}
bash scripts/build.sh qmlir-compile qmlir-run qmlir-run-model qmlir-bench >/dev/null

rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib" "$pack/sanitize" "$pack/bench"
cp "$build/bin/qmlir-run" "$build/bin/qmlir-run-model" "$build/bin/qmlir-bench" "$pack/bin/"
cp "$build/lib/libqmlir_core.so" "$build/lib/libqmlir_runtime.so" "$pack/lib/"

python3 scripts/device/random-problems.py "$pack" --bundles="$bundles" \
  --seed="${QMLIR_RANDOM_SEED:-1}" --build="$build"

compile() { # compile DIR NAME ARGS...
  local dir=$1 name=$2; shift 2
  "$build/bin/qmlir-compile" "$@" --quiet -o "$pack/$dir/$name" >/dev/null
}
spec() { # spec FILE NAME ACT LAYERS-JSON
  printf '{"format": "qmlir-model-spec", "version": 1, "name": "%s", "activation": "%s", "layers": [%s]}\n' \
    "$2" "$3" "$4" >"$1"
}

# compute-sanitizer: every template (the four tensor-core buckets of a
# matmul and of a swiglu, 4- and 8-bit, f16 and bf16; the SIMT kernel) at a
# small and a large size. list.tsv: bundle, M list, what it covers.
list="$pack/sanitize/list.tsv"
: >"$list"
sanitize() { # sanitize NAME MS WHAT QMLIR-COMPILE-ARGS...
  local name=$1 ms=$2 what=$3; shift 3
  compile sanitize "$name" "$@"
  printf '%s\t%s\t%s\n' "$name" "$ms" "$what" >>"$list"
}
tc=1,9,17,40,200
sanitize tc-u4g32zp-bf16-small $tc "tensor cores, 4-bit, 96 x 384" --n=96 --k=384 --act=bf16 \
  "--scheme=#qmlir.scheme<u4, group = 32, scale = bf16, zero = int>"
sanitize tc-i4g128-f16-large $tc "tensor cores, 4-bit, 4096 x 4096" --n=4096 --k=4096 --act=f16 \
  "--scheme=#qmlir.scheme<i4, group = 128, scale = f16>"
sanitize tc-i8g64-f16-small $tc "tensor cores, 8-bit, 48 x 256" --n=48 --k=256 --act=f16 \
  "--scheme=#qmlir.scheme<i8, group = 64, scale = f32>"
sanitize tc-u8ch-bf16-large $tc "tensor cores, 8-bit, 2048 x 4096" --n=2048 --k=4096 --act=bf16 \
  "--scheme=#qmlir.scheme<u8, group = channel, scale = bf16, zero = int>"
spec "$pack/sanitize/swiglu-small.json" swiglu-small f16 \
  '{"name": "mlp", "op": "swiglu", "n": 64, "k": 256, "residual": true, "scheme": "#qmlir.scheme<u4, group = 64, scale = f16, zero = int>"}'
sanitize tc-swiglu-small $tc "tensor cores, swiglu + residual, 64 x 256" \
  "--model-spec=$pack/sanitize/swiglu-small.json"
spec "$pack/sanitize/swiglu-large.json" swiglu-large bf16 \
  '{"name": "mlp", "op": "swiglu", "n": 2048, "k": 4096, "scheme": "#qmlir.scheme<i4, group = 128, scale = bf16>"}'
sanitize tc-swiglu-large $tc "tensor cores, swiglu, 2048 x 4096" \
  "--model-spec=$pack/sanitize/swiglu-large.json"
sanitize simt-u3g64zp-small 1,7 "SIMT, 3-bit, 72 x 384" --n=72 --k=384 --act=f16 \
  "--scheme=#qmlir.scheme<u3, group = 64, scale = f16, zero = int>"
sanitize simt-i4ao-large 1,7 "SIMT, 4-bit act-order, 2048 x 4096" --n=2048 --k=4096 --act=f16 \
  "--scheme=#qmlir.scheme<u4, group = 128, scale = f16, zero = int, act_order>"

# The benchmark: W4A16 group 128 (symmetric int4, f16 scales) on the five
# shapes of the targets, each its own layer.
layers=""
for shape in "4096 4096" "28672 4096" "4096 14336" "8192 8192" "8192 28672"; do
  read -r n k <<<"$shape"
  layers+="${layers:+, }{\"name\": \"w4g128_${n}x${k}\", \"n\": $n, \"k\": $k, \"scheme\": \"w4\"}"
done
printf '{"format": "qmlir-model-spec", "version": 1, "name": "w4a16-targets", "activation": "f16", "schemes": {"w4": "#qmlir.scheme<i4, group = 128, scale = f16>"}, "layers": [%s]}\n' \
  "$layers" >"$pack/bench/targets.json"
"$build/bin/qmlir-compile" "--model-spec=$pack/bench/targets.json" --quiet -o "$pack/bench/targets"
du -sh "$pack"
