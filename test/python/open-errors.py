# Opening a bundle that is missing or corrupt raises qmlir.Error with the
# runtime's status and message; a closed bundle refuses further use.

# RUN: rm -rf %t && mkdir -p %t/corrupt %t/list
# RUN: printf '{"format": "qmlir-bundle",' > %t/corrupt/manifest.json
# RUN: printf '[1, 2]' > %t/list/manifest.json
# RUN: %qmlir_python %s %t | FileCheck %s

import sys

import qmlir

root = sys.argv[1]


def show(path):
    try:
        qmlir.Bundle(path)
    except qmlir.Error as error:
        print(f"{error.status_name} ({error.status}): {error.message}")
        assert str(error) == f"{error.status_name}: {error.message}"
        return
    print("opened", path)


# CHECK: QMLIR_ERROR_IO (2): qmlir_bundle_open: {{.*}}[[ROOT:.*]]/missing
show(f"{root}/missing")
# CHECK-NEXT: QMLIR_ERROR_IO (2): {{.*}}manifest.json
show(f"{root}")
# CHECK-NEXT: QMLIR_ERROR_BAD_MANIFEST (3): {{.*}}corrupt/manifest.json
show(f"{root}/corrupt")
# CHECK-NEXT: QMLIR_ERROR_BAD_MANIFEST (3): {{.*}}list/manifest.json
show(f"{root}/list")
# CHECK-NEXT: done
print("done")
