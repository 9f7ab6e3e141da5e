//===- Cublas.cpp - cuBLAS, loaded at run time, for baselines -------------===//

#include "Cublas.h"

#include <dlfcn.h>

using namespace qmlir::run;

namespace {

// The values of cublas_api.h and library_types.h this file uses.
constexpr int kOpN = 0, kOpT = 1;
constexpr int kR16F = 2, kR16BF = 14;
constexpr int kCompute32F = 68;
constexpr int kGemmDefault = -1;

} // namespace

Cublas *Cublas::create(void *stream, std::string &error) {
  const char *names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so",
                         "/usr/local/cuda/lib64/libcublas.so"};
  void *library = nullptr;
  for (const char *name : names)
    if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL)))
      break;
  if (!library) {
    error = "cannot load libcublas (tried libcublas.so.13, .12, libcublas.so "
            "and /usr/local/cuda/lib64)";
    return nullptr;
  }
  auto *create = reinterpret_cast<int (*)(void **)>(
      dlsym(library, "cublasCreate_v2"));
  auto *setStream = reinterpret_cast<int (*)(void *, void *)>(
      dlsym(library, "cublasSetStream_v2"));
  Cublas *cublas = new Cublas();
  cublas->library = library;
  cublas->destroy =
      reinterpret_cast<int (*)(void *)>(dlsym(library, "cublasDestroy_v2"));
  cublas->gemmEx = reinterpret_cast<decltype(cublas->gemmEx)>(
      dlsym(library, "cublasGemmEx"));
  if (!create || !setStream || !cublas->destroy || !cublas->gemmEx) {
    error = "libcublas lacks cublasCreate_v2, cublasSetStream_v2, "
            "cublasDestroy_v2 or cublasGemmEx";
    delete cublas;
    return nullptr;
  }
  if (int status = create(&cublas->handle); status != 0) {
    error = "cublasCreate failed with status " + std::to_string(status);
    cublas->handle = nullptr;
    delete cublas;
    return nullptr;
  }
  if (int status = setStream(cublas->handle, stream); status != 0) {
    error = "cublasSetStream failed with status " + std::to_string(status);
    delete cublas;
    return nullptr;
  }
  return cublas;
}

Cublas::~Cublas() {
  if (handle)
    destroy(handle);
  if (library)
    dlclose(library);
}

bool Cublas::linear(bool bf16, int64_t m, int64_t n, int64_t k, const void *x,
                    const void *w, void *y, std::string &error) {
  // Column-major view: y^T [n, m] = W [n, k] (stored as W^T, k x n) x^T.
  const float alpha = 1.0f, beta = 0.0f;
  int type = bf16 ? kR16BF : kR16F;
  int status = gemmEx(handle, kOpT, kOpN, int(n), int(m), int(k), &alpha, w,
                      type, int(k), x, type, int(k), &beta, y, type, int(n),
                      kCompute32F, kGemmDefault);
  if (status != 0) {
    error = "cublasGemmEx failed with status " + std::to_string(status);
    return false;
  }
  return true;
}
