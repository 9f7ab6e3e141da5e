# Everything but the GPU entry points works without torch: importing the
# package, the library, opening bundles. qmlir.Linear and Bundle.load need
# torch and say so. torch is hidden here even where it is installed.

# RUN: %qmlir_python %s | FileCheck %s

import sys

sys.modules["torch"] = None  # "import torch" now raises ImportError

import qmlir

# CHECK: version=3
print(f"version={qmlir.runtime_version()}")
try:
    qmlir.Bundle("/nonexistent/bundle")
except qmlir.Error as error:
    # CHECK-NEXT: QMLIR_ERROR_IO
    print(error.status_name)
try:
    qmlir.Linear
except ImportError as error:
    # CHECK-NEXT: Linear needs torch: {{.*}}torch
    print(f"Linear needs torch: {error}")
# CHECK-NEXT: done
print("done")
