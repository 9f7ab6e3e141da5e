//===- Cublas.h - cuBLAS, loaded at run time, for baselines -----*- C++ -*-===//
//
// The fp16 baseline next to which qmlir's layers are timed. Loaded with
// dlopen, like the driver, so that the tool starts on machines without CUDA.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_TOOLS_QMLIR_RUN_MODEL_CUBLAS_H
#define QMLIR_TOOLS_QMLIR_RUN_MODEL_CUBLAS_H

#include <cstdint>
#include <string>

namespace qmlir::run {

class Cublas {
public:
  /// Loads libcublas and creates a handle bound to `stream` (a CUstream) in
  /// the current context; null with `error` set if either fails.
  static Cublas *create(void *stream, std::string &error);
  ~Cublas();

  /// y[m, n] = x[m, k] W[n, k]^T, all row-major f16 (or bf16) device arrays,
  /// accumulating in f32.
  bool linear(bool bf16, int64_t m, int64_t n, int64_t k, const void *x,
              const void *w, void *y, std::string &error);

private:
  Cublas() = default;
  void *library = nullptr;
  void *handle = nullptr;
  int (*destroy)(void *) = nullptr;
  int (*gemmEx)(void *, int, int, int, int, int, const void *, const void *,
                int, int, const void *, int, int, const void *, void *, int,
                int, int, int) = nullptr;
};

} // namespace qmlir::run

#endif // QMLIR_TOOLS_QMLIR_RUN_MODEL_CUBLAS_H
