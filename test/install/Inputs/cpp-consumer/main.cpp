// Prints the runtime's API version, then opens the bundle given (or a missing
// one) and prints the error, or its layers and weights and the errors of GPU
// calls on a bundle that is not loaded -- all through qmlir_runtime.hpp.
#include <qmlir/Runtime/qmlir_runtime.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {
template <typename Body> void expectError(const char *what, Body &&body) {
  try {
    body();
    std::printf("C++: %s: no error\n", what);
  } catch (const qmlir::Error &error) {
    std::printf("C++: %s: %s\n", what, error.what());
  }
}

std::string text(std::string_view view) { return std::string(view); }
} // namespace

int main(int argc, char **argv) {
  qmlir::checkRuntimeVersion();
  std::printf("C++: runtime API %d, package %d\n", qmlir::runtimeVersion(),
              QMLIR_RUNTIME_API_VERSION);
  try {
    qmlir::Bundle bundle =
        qmlir::Bundle::open(argc > 1 ? argv[1] : "missing-bundle");
    std::printf("C++: %zu kernels, %zu layers\n", bundle.kernelCount(),
                bundle.layerCount());
    for (std::string_view name : bundle.layerNames()) {
      qmlir::LayerInfo layer = bundle.layer(text(name));
      std::printf("C++: layer %s: %s n=%lld k=%lld %s bias=%d residual=%d "
                  "m_max=%lld workspace(7)=%zu layout=%s\n",
                  text(layer.name).c_str(), text(layer.op).c_str(),
                  (long long)layer.n, (long long)layer.k,
                  text(layer.activation).c_str(), layer.hasBias,
                  layer.hasResidual, (long long)layer.mMax,
                  bundle.workspaceSize(text(name), 7),
                  text(layer.layout).c_str());
      for (const qmlir::WeightInfo &w : bundle.weights(text(name))) {
        // A pattern arranged into the layer's layout and back: "moved" says
        // whether the stored order differs, "round trip" that nothing is lost.
        std::vector<uint8_t> canonical(w.bytes), stored(w.bytes), back(w.bytes);
        for (std::size_t i = 0; i < w.bytes; ++i)
          canonical[i] = uint8_t(i * 37 + i / 251);
        bundle.arrangeWeight(text(name), text(w.name), QMLIR_CANONICAL_TO_STORED,
                             canonical.data(), stored.data(), w.bytes);
        bundle.arrangeWeight(text(name), text(w.name), QMLIR_STORED_TO_CANONICAL,
                             stored.data(), back.data(), w.bytes);
        std::printf("C++:   %s %s [%lld, %lld] %zu bytes in_bundle=%d "
                    "moved=%d round_trip=%d\n",
                    text(w.name).c_str(), text(w.element).c_str(),
                    (long long)w.rows, (long long)w.cols, w.bytes, w.inBundle,
                    stored != canonical, back == canonical);
      }
    }
    if (bundle.layerCount() > 0) {
      std::string first = text(bundle.layerName(0));
      expectError("weight index", [&] { bundle.weight(first, 99); });
      expectError("layer index", [&] { bundle.layerName(99); });
      expectError("upload", [&] { bundle.uploadWeights(); });
      expectError("arrange size", [&] {
        std::vector<uint8_t> buffer(8);
        bundle.arrangeWeight(first, text(bundle.weight(first, 0).name),
                             QMLIR_CANONICAL_TO_STORED, buffer.data(),
                             buffer.data() + 4, 4);
      });
      expectError("arrange weight", [&] {
        std::vector<uint8_t> buffer(8);
        bundle.arrangeWeight(first, "nope", QMLIR_CANONICAL_TO_STORED,
                             buffer.data(), buffer.data() + 4, 4);
      });
      expectError("bind", [&] {
        bundle.bindWeight(first, text(bundle.weight(first, 0).name),
                          reinterpret_cast<void *>(0x10000));
      });
      expectError("run", [&] {
        bundle.runLayer(first, 1, reinterpret_cast<void *>(0x10000), nullptr,
                        reinterpret_cast<void *>(0x20000), nullptr, 0,
                        nullptr);
      });
    }
  } catch (const qmlir::Error &error) {
    std::printf("C++: %s\n", error.what());
  }
  return 0;
}
