/* Prints the runtime's API version and the error for a missing bundle. */
#include <qmlir/Runtime/qmlir_runtime.h>

#include <stdio.h>

int main(int argc, char **argv) {
  qmlir_bundle *bundle = NULL;
  qmlir_status status =
      qmlir_bundle_open(argc > 1 ? argv[1] : "missing-bundle", &bundle);
  printf("C: runtime API %d, header %d\n", qmlir_runtime_version(),
         QMLIR_RUNTIME_API_VERSION);
  printf("C: %s: %s\n", qmlir_status_name(status), qmlir_last_error());
  qmlir_bundle_close(bundle);
  return qmlir_runtime_version() == QMLIR_RUNTIME_API_VERSION ? 0 : 1;
}
