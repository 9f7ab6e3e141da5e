# Layer, weight and kernel descriptions of model bundles written by
# qmlir-compile, through the Python package: a checkpoint bundle (weights in
# weights.bin, a residual) and a spec-only bundle (swiglu and a biased
# matmul, no weights). Expected shapes follow the storage layouts of
# include/qmlir/Core/Format.h. GPU calls before load() are refused.

# REQUIRES: ptxas
# RUN: rm -rf %t && mkdir -p %t
# RUN: echo '{"format": "qmlir-model-spec", "version": 1, "name": "ct", "layers": [ \
# RUN:   {"name": "o", "source": "model.layers.0.self_attn.o_proj", "n": 80, "k": 256, "residual": true}]}' > %t/ct.json
# RUN: qmlir-compile --checkpoint %qmlir_src_root/test/Checkpoint/Inputs/ct-int4-group --model-spec=%t/ct.json --quiet --toolkit=%cuda_toolkit -o %t/ct
# RUN: echo '{"format": "qmlir-model-spec", "version": 1, "name": "shaped", "activation": "bf16", \
# RUN:   "schemes": {"w4": "#qmlir.scheme<u4, group = 128, scale = bf16, zero = int>"}, "layers": [ \
# RUN:   {"name": "l.{i}.up", "repeat": 2, "op": "swiglu", "n": 512, "k": 256, "scheme": "w4"}, \
# RUN:   {"name": "head", "n": 100, "k": 256, "scheme": "#qmlir.scheme<nf4, group = 64, scale = f16>", "bias": true}]}' > %t/shaped.json
# RUN: qmlir-compile --model-spec=%t/shaped.json --quiet --toolkit=%cuda_toolkit -o %t/shaped
# RUN: %qmlir_python %s %t | FileCheck %s

import sys

import qmlir

root = sys.argv[1]


def describe(path):
    bundle = qmlir.Bundle(path)
    print(f"bundle {path.rsplit('/', 1)[1]}: {len(bundle.kernels)} kernels, layers {bundle.layers}")
    for name in bundle.layers:
        layer = bundle.layer(name)
        print(f"layer {layer.name}: op={layer.op} n={layer.n} k={layer.k} act={layer.activation} "
              f"bias={layer.has_bias} residual={layer.has_residual} m_max={layer.m_max} "
              f"layout={layer.layout}")
        for w in bundle.weights(name):
            print(f"  {w.name}: {w.element} [{w.rows}, {w.cols}] {w.bytes} bytes in_bundle={w.in_bundle}")
    return bundle


# One kernel per M bucket, all reading the tensor-core layout.
# CHECK-LABEL: bundle ct: 4 kernels, layers ['o']
# CHECK-NEXT: layer o: op=matmul n=80 k=256 act=f16 bias=False residual=True m_max=65535 layout=mma_tile
# i4, group 64: 256 * 4 / 32 = 32 words per row, 4 scales per row.
# CHECK-NEXT:   codes: i32 [80, 32] 10240 bytes in_bundle=True
# CHECK-NEXT:   scales: f16 [80, 4] 640 bytes in_bundle=True
ct = describe(f"{root}/ct")
kernel = ct.kernel(ct.kernels[0])
# CHECK-NEXT: kernel: matmul #qmlir.scheme<i4, group = 64, scale = f16> residual=True args=5 m=[1, 8] layout=mma_tile
print(f"kernel: {kernel.op} {kernel.scheme} residual={kernel.has_residual} args={kernel.num_args} "
      f"m=[{kernel.m_min}, {kernel.m_max}] layout={kernel.layout}")

# Codes move between checkpoint order and the layout and back; scales do not.
codes = bytes((i * 37 + i // 251) % 256 for i in range(10240))
stored = ct.arrange_weight("o", "codes", codes)
# CHECK-NEXT: arranged codes: moved=True round_trip=True
print(f"arranged codes: moved={stored != codes} "
      f"round_trip={ct.arrange_weight('o', 'codes', stored, to_canonical=True) == codes}")
scales = bytes(range(256)) * 2 + bytes(128)
# CHECK-NEXT: arranged scales: moved=False
print(f"arranged scales: moved={ct.arrange_weight('o', 'scales', scales) != scales}")

# CHECK-LABEL: bundle shaped:
# CHECK-SAME: layers ['l.0.up', 'l.1.up', 'head']
# CHECK-NEXT: layer l.0.up: op=swiglu n=512 k=256 act=bf16 bias=False residual=False {{.*}} layout=mma_tile
# u4, group 128, int zeros: 32 words of codes, 2 scales, 2 * 4 bits of zeros in one word.
# CHECK-NEXT:   gate.codes: i32 [512, 32] 65536 bytes in_bundle=False
# CHECK-NEXT:   gate.scales: bf16 [512, 2] 2048 bytes in_bundle=False
# CHECK-NEXT:   gate.zeros: i32 [512, 1] 2048 bytes in_bundle=False
# CHECK-NEXT:   up.codes: i32 [512, 32]
# CHECK-NEXT:   up.scales: bf16 [512, 2]
# CHECK-NEXT:   up.zeros: i32 [512, 1]
# CHECK-NEXT: layer l.1.up: op=swiglu
# NF4 has no tensor-core layout yet (and N = 100 is no multiple of 16).
# CHECK: layer head: op=matmul n=100 k=256 act=bf16 bias=True residual=False {{.*}} layout=canonical
# CHECK-NEXT:   codes: i32 [100, 32] 12800 bytes in_bundle=False
# CHECK-NEXT:   scales: f16 [100, 4] 800 bytes in_bundle=False
# The bias is stored in the activation type.
# CHECK-NEXT:   bias: bf16 [1, 100] 200 bytes in_bundle=False
shaped = describe(f"{root}/shaped")


def fails(what, call):
    try:
        call()
    except qmlir.Error as error:
        print(f"{what}: {error}")
        return
    print(f"{what}: no error")


# CHECK: unknown layer: QMLIR_ERROR_NOT_FOUND: {{.*}}no.such.layer{{.*}}
fails("unknown layer", lambda: shaped.layer("no.such.layer"))
# CHECK: unknown layer weights: QMLIR_ERROR_NOT_FOUND: {{.*}}no.such.layer
fails("unknown layer weights", lambda: shaped.weights("no.such.layer"))
# CHECK: unknown kernel: QMLIR_ERROR_NOT_FOUND: {{.*}}no_such_kernel
fails("unknown kernel", lambda: shaped.kernel("no_such_kernel"))
# CHECK: arrange size: QMLIR_ERROR_INVALID_ARGUMENT: {{.*}}layer 'head', weight 'codes' has 12800 bytes, not 3
fails("arrange size", lambda: shaped.arrange_weight("head", "codes", b"abc"))
# CHECK: workspace M=0: QMLIR_ERROR_INVALID_ARGUMENT: {{.*}}layer 'head': M must be in [1, 65535], got 0
fails("workspace M=0", lambda: shaped.workspace_size("head", 0))
# CHECK: upload: QMLIR_ERROR_NOT_LOADED: upload_weights: bundle {{.*}}shaped is not loaded (call load() first)
fails("upload", lambda: shaped.upload_weights())
# CHECK: run: QMLIR_ERROR_NOT_LOADED: run: bundle {{.*}}shaped is not loaded
fails("run", lambda: shaped.run("head", None))
shaped.close()
# CHECK: closed: QMLIR_ERROR_INVALID_ARGUMENT: bundle {{.*}}shaped is closed
fails("closed", lambda: shaped.layers)
# CHECK: done
print("done")
