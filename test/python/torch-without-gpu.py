# With torch but without a GPU: qmlir.Linear is built from a layer's
# description, and the GPU entry points fail with qmlir.Error, not a crash.

# REQUIRES: torch, ptxas
# UNSUPPORTED: gpu
# RUN: rm -rf %t && mkdir -p %t
# RUN: echo '{"format": "qmlir-model-spec", "version": 1, "name": "m", "layers": [ \
# RUN:   {"name": "proj", "n": 48, "k": 128, "scheme": "#qmlir.scheme<i4, group = 64, scale = f16>", "bias": true}, \
# RUN:   {"name": "res", "n": 48, "k": 128, "scheme": "#qmlir.scheme<i4, group = 64, scale = f16>", "residual": true}]}' > %t/m.json
# RUN: qmlir-compile --model-spec=%t/m.json --quiet --toolkit=%cuda_toolkit -o %t/m
# RUN: %qmlir_python %s %t/m | FileCheck %s

import sys

import torch

import qmlir

bundle = qmlir.Bundle(sys.argv[1])
linear = qmlir.Linear(bundle, "proj")
assert isinstance(linear, torch.nn.Module)
# CHECK: Linear(layer='proj', in_features=128, out_features=48, bias=True) torch.float16
print(linear, linear.dtype)


def fails(what, call):
    try:
        call()
    except qmlir.Error as error:
        print(f"{what}: {error}")
        return
    print(f"{what}: no error")


# CHECK-NEXT: residual layer: QMLIR_ERROR_INVALID_ARGUMENT: qmlir.Linear: layer res adds a residual; call bundle.run('res', x, residual) instead
fails("residual layer", lambda: qmlir.Linear(bundle, "res"))
# CHECK-NEXT: not a bundle: QMLIR_ERROR_INVALID_ARGUMENT: qmlir.Linear: expected a qmlir.Bundle, got str
fails("not a bundle", lambda: qmlir.Linear(sys.argv[1], "proj"))
# CHECK-NEXT: unknown layer: QMLIR_ERROR_NOT_FOUND: {{.*}}'nope'
fails("unknown layer", lambda: qmlir.Linear(bundle, "nope"))
# CHECK-NEXT: forward before load: QMLIR_ERROR_NOT_LOADED: run: bundle {{.*}} is not loaded
fails("forward before load", lambda: linear(torch.zeros(2, 128, dtype=torch.float16)))
# CHECK-NEXT: wrong features: QMLIR_ERROR_INVALID_ARGUMENT: qmlir.Linear(proj): input of shape [2, 64], expected [..., 128]
fails("wrong features", lambda: linear(torch.zeros(2, 64, dtype=torch.float16)))
# CHECK-NEXT: load: QMLIR_ERROR_NO_DEVICE: torch sees no CUDA device
fails("load", lambda: bundle.load())
# CHECK-NEXT: done
print("done")
