// Prints the runtime's API version and the error for a missing bundle.
#include <qmlir/Runtime/qmlir_runtime.hpp>

#include <cstdio>

int main(int argc, char **argv) {
  qmlir::checkRuntimeVersion();
  std::printf("C++: runtime API %d, package %d\n", qmlir::runtimeVersion(),
              QMLIR_RUNTIME_API_VERSION);
  try {
    qmlir::Bundle bundle =
        qmlir::Bundle::open(argc > 1 ? argv[1] : "missing-bundle");
    std::printf("C++: opened, %zu layers\n", bundle.layerCount());
  } catch (const qmlir::Error &error) {
    std::printf("C++: %s\n", error.what());
  }
  return 0;
}
