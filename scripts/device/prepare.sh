#!/usr/bin/env bash
# Builds here and packs what the GPU machine needs into a folder that the
# device tool carries (default .device-pack, ignored by git): the MLIR-free
# binaries (qmlir-run, the runtime, the core library), the bundles of the
# test matrix, and the script that runs it there (scripts/device/run-matrix.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${QMLIR_BUILD_DIR:-build}
pack=${1:-.device-pack}
bash scripts/build.sh qmlir-compile qmlir-run >/dev/null

rm -rf "$pack"
mkdir -p "$pack/bin" "$pack/lib" "$pack/bundles" "$pack/broken"
cp "$build/bin/qmlir-run" "$pack/bin/"
cp "$build/lib/libqmlir_core.so" "$build/lib/libqmlir_runtime.so" "$pack/lib/"

compile() { # compile NAME ARGS...: one bundle of the matrix
  local name=$1; shift
  "$build/bin/qmlir-compile" "$@" -o "$pack/bundles/$name" >/dev/null
}
shapes=("4096 4096" "11008 4096" "4096 11008")
for act in f16 bf16; do
  for shape in "${shapes[@]}"; do
    read -r n k <<<"$shape"
    compile "int4-g128-sym-$act-${n}x$k" --n="$n" --k="$k" --act="$act" \
      --scheme="#qmlir.scheme<i4, group = 128, scale = $act>"
    compile "int4-g128-zp-$act-${n}x$k" --n="$n" --k="$k" --act="$act" \
      --scheme="#qmlir.scheme<u4, group = 128, scale = $act, zero = int>"
    compile "int8-channel-$act-${n}x$k" --n="$n" --k="$k" --act="$act" \
      --scheme="#qmlir.scheme<i8, group = channel, scale = $act>"
  done
done

# Bundles that must be refused on the GPU, with a clear message.
small=(--n=96 --k=384 "--scheme=#qmlir.scheme<i4, group = 128, scale = f16>")
compile ../broken/sm80 "${small[@]}" --chip=sm_80
compile ../broken/corrupt "${small[@]}"
cubin="$pack/broken/corrupt/qmlir_kernels.cubin"
# Flip the bits of one byte in the middle of the cubin.
offset=$(( $(stat -c %s "$cubin") / 2 ))
byte=$(od -An -tu1 -j "$offset" -N1 "$cubin" | tr -d ' ')
printf "$(printf '\\%03o' $(( byte ^ 255 )))" |
  dd of="$cubin" bs=1 seek="$offset" conv=notrunc status=none

# A manifest that lies about its cubin: it says sm_90a, the cubin is sm_80.
# Every check that needs no GPU passes; the driver must refuse the image.
compile ../broken/wrong-arch-cubin "${small[@]}" --chip=sm_80
sed -i -e 's/"arch": "sm_80"/"arch": "sm_90a"/' \
  -e '/"compute_capability"/,/]/ s/^\( *\)8,$/\19,/' \
  "$pack/broken/wrong-arch-cubin/manifest.json"

# A manifest naming a kernel the cubin does not have.
compile ../broken/missing-kernel "${small[@]}"
sed -i 's/"name": "layer_matmul0"/"name": "layer_matmul7"/' \
  "$pack/broken/missing-kernel/manifest.json"

# The format matrix (test/tools/qmlir-run/formats/matrix.txt): one bundle per
# problem, named by its line number, for run-formats.sh.
python3 scripts/device/compile-formats.py test/tools/qmlir-run/formats/matrix.txt \
  "$pack" "$build/bin/qmlir-compile"

echo "prepare: packed $(ls "$pack/bundles" | wc -l) bundles and $(ls -d "$pack"/formats/*/ | wc -l) format bundles into $pack ($(du -sh "$pack" | cut -f1))"
