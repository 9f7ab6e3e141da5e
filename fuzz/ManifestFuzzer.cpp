//===- ManifestFuzzer.cpp - libFuzzer target for parseManifest ------------===//
//
// Feeds arbitrary bytes to the runtime's manifest parser. It must never
// crash, throw or trip a sanitizer; a failure must carry a status and a
// message; and what it accepts must satisfy what the loader and launcher
// rely on without checking again (the checks below).
//
//===----------------------------------------------------------------------===//

#include "Manifest.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace qmlir::runtime;

namespace {
void require(bool condition) {
  if (!condition)
    abort(); // reported by libFuzzer as a crash, with the input saved
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Manifest manifest;
  Status status = parseManifest(
      std::string_view(reinterpret_cast<const char *>(data), size),
      "manifest.json", manifest);
  if (!status.ok()) {
    require(!status.message.empty());
    require(status.message.find("manifest.json") != std::string::npos);
    return 0;
  }
  require(manifest.formatVersion == QMLIR_BUNDLE_FORMAT_VERSION);
  require(manifest.abiVersion == QMLIR_KERNEL_ABI_VERSION);
  for (const KernelSpec &kernel : manifest.kernels) {
    require(kernel.module < manifest.modules.size());
    require(kernel.n > 0 && kernel.k > 0);
    require(kernel.arguments.size() <= kMaxKernelArguments);
    require(kernel.launch.mMin >= 1 && kernel.launch.mMin <= kernel.launch.mMax);
    for (const ArgumentSpec &argument : kernel.arguments)
      for (const Dim &dim : argument.shape)
        require(dim.isM || dim.value > 0);
  }
  return 0;
}
