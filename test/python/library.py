# The package finds and checks the runtime library: the version, the status
# names, and clear errors for a missing library, a library that is not the
# runtime and a runtime of another API version.

# RUN: %qmlir_python %s | FileCheck %s
# Without QMLIR_RUNTIME_LIBRARY, the source tree's package finds the build's.
# RUN: test "$(env -u QMLIR_RUNTIME_LIBRARY QMLIR_BUILD_DIR=%qmlir_obj_root %qmlir_python -c 'import qmlir; print(qmlir.library_path())')" = "%qmlir_lib_dir/libqmlir_runtime.so"
# RUN: env QMLIR_RUNTIME_LIBRARY=%t.missing.so not %qmlir_python %s missing 2>&1 | FileCheck %s --check-prefix=MISSING
# RUN: env QMLIR_RUNTIME_LIBRARY=%qmlir_lib_dir/libqmlir_core.so not %qmlir_python %s load 2>&1 | FileCheck %s --check-prefix=FOREIGN
# RUN: printf 'int qmlir_runtime_version(void) { return 2; }\n' > %t.c
# RUN: clang-22 -shared -fPIC %t.c -o %t.v1.so
# RUN: env QMLIR_RUNTIME_LIBRARY=%t.v1.so not %qmlir_python %s load 2>&1 | FileCheck %s --check-prefix=OLD
# RUN: printf 'int qmlir_runtime_version(void) { return 3; }\n' > %t.c
# RUN: clang-22 -shared -fPIC %t.c -o %t.v2.so
# RUN: env QMLIR_RUNTIME_LIBRARY=%t.v2.so not %qmlir_python %s load 2>&1 | FileCheck %s --check-prefix=PARTIAL

import os
import sys

import qmlir

if len(sys.argv) > 1:
    # Importing never loads the library; the first use does, and fails.
    try:
        qmlir.runtime_version()
    except qmlir.Error as error:
        print(f"status={error.status} name={error.status_name}")
        print(f"message={error.message}")
        sys.exit(1)
    sys.exit(0)

# CHECK: version=3 api=3
print(f"version={qmlir.runtime_version()} api={qmlir.API_VERSION}")
assert qmlir.library_path() == os.environ["QMLIR_RUNTIME_LIBRARY"]
# CHECK-NEXT: QMLIR_SUCCESS QMLIR_ERROR_BAD_MANIFEST QMLIR_ERROR_NOT_BOUND
print(qmlir.status_name(0), qmlir.status_name(3), qmlir.status_name(12))
# CHECK-NEXT: done
print("done")

# MISSING: status=None name=QMLIR_ERROR_LIBRARY
# MISSING-NEXT: message=QMLIR_RUNTIME_LIBRARY names {{.*}}.missing.so, which is not a file

# FOREIGN: status=None name=QMLIR_ERROR_LIBRARY
# FOREIGN-NEXT: message={{.*}}libqmlir_core.so is not the qmlir runtime (no qmlir_runtime_version)

# OLD: status=4 name=QMLIR_ERROR_VERSION
# OLD-NEXT: message={{.*}}v1.so implements runtime API version 2; this package speaks version 3

# PARTIAL: status=4 name=QMLIR_ERROR_VERSION
# PARTIAL-NEXT: message={{.*}}v2.so reports API version 3 but lacks qmlir_status_name, qmlir_last_error, qmlir_bundle_open,
