/*===- qmlir_runtime.h - The qmlir runtime C API ------------------*- C -*-===*
 *
 * Loads a bundle written by qmlir-compile (a manifest and cubins, see
 * docs/Bundle.md) and launches its kernels on the caller's CUDA stream.
 * The runtime loads the CUDA driver with dlopen, allocates no device memory
 * and never synchronises; every failure is a status code plus a message
 * from qmlir_last_error(). It does not depend on MLIR or LLVM.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QMLIR_RUNTIME_H
#define QMLIR_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this API; bump on any incompatible change. */
#define QMLIR_RUNTIME_API_VERSION 1
/* The bundle format and kernel-argument ABI this runtime reads. */
#define QMLIR_BUNDLE_FORMAT_VERSION 1
#define QMLIR_KERNEL_ABI_VERSION 1

typedef enum qmlir_status {
  QMLIR_SUCCESS = 0,
  QMLIR_ERROR_INVALID_ARGUMENT = 1, /* a null, out-of-range or misaligned argument */
  QMLIR_ERROR_IO = 2,               /* a file of the bundle cannot be read */
  QMLIR_ERROR_BAD_MANIFEST = 3,     /* manifest.json is malformed or inconsistent */
  QMLIR_ERROR_VERSION = 4,          /* bundle format or ABI version not supported */
  QMLIR_ERROR_BAD_CUBIN = 5,        /* a cubin is truncated, corrupt or not a cubin */
  QMLIR_ERROR_NOT_FOUND = 6,        /* no such kernel */
  QMLIR_ERROR_NO_DRIVER = 7,        /* libcuda cannot be loaded */
  QMLIR_ERROR_NO_DEVICE = 8,        /* no GPU, or no current CUDA context */
  QMLIR_ERROR_ARCH_MISMATCH = 9,    /* the cubins do not run on this GPU */
  QMLIR_ERROR_NOT_LOADED = 10,      /* qmlir_bundle_load has not succeeded */
  QMLIR_ERROR_CUDA = 11             /* a CUDA driver call failed */
} qmlir_status;

typedef struct qmlir_bundle qmlir_bundle;

/* Version of the runtime library (QMLIR_RUNTIME_API_VERSION it was built with). */
int qmlir_runtime_version(void);

/* A short name for a status, e.g. "QMLIR_ERROR_VERSION". */
const char *qmlir_status_name(qmlir_status status);

/* The message of the last failure on the calling thread ("" if none).
 * Successful calls leave it unchanged, like errno. The string stays valid
 * until the next failure on the same thread. */
const char *qmlir_last_error(void);

/* Reads and checks the bundle in `directory`: manifest, versions, every
 * cubin's size, checksum and ELF header. Needs no GPU. */
qmlir_status qmlir_bundle_open(const char *directory, qmlir_bundle **bundle);

/* Frees the bundle (and unloads its modules if they were loaded). The
 * modules are unloaded only if the context they were loaded into is current
 * on the calling thread; otherwise they go when that context is destroyed.
 * NULL is ignored. */
void qmlir_bundle_close(qmlir_bundle *bundle);

/* Loads the cubins into the calling thread's current CUDA context after
 * checking that the context's GPU can run them. A bundle lives in one
 * context: loading it again there does nothing, loading it in another fails
 * (open the bundle once per context). A failed load may be retried. */
qmlir_status qmlir_bundle_load(qmlir_bundle *bundle);

/* Number of kernels in the bundle, and the name of kernel `index` (NULL if
 * `index` is out of range). */
size_t qmlir_bundle_kernel_count(const qmlir_bundle *bundle);
const char *qmlir_bundle_kernel_name(const qmlir_bundle *bundle, size_t index);

/* What a kernel computes, as its manifest entry says. The strings belong to
 * the bundle and live until qmlir_bundle_close. */
typedef struct qmlir_kernel_info {
  const char *name;
  const char *op;         /* "matmul" */
  int64_t n;              /* output features */
  int64_t k;              /* reduction size */
  const char *scheme;     /* e.g. "#qmlir.scheme<i4, group = 128, scale = f16>" */
  const char *activation; /* "f16" or "bf16" */
  size_t num_args;        /* device pointers qmlir_launch takes */
  int64_t m_min;          /* the range of M the launch rule allows */
  int64_t m_max;
} qmlir_kernel_info;

/* Fills `info` for `kernel`; QMLIR_ERROR_NOT_FOUND if there is no such
 * kernel. Needs no GPU. */
qmlir_status qmlir_bundle_kernel_info(const qmlir_bundle *bundle,
                                      const char *kernel,
                                      qmlir_kernel_info *info);

/* Launches `kernel` for `m` rows on `stream` (a CUstream; NULL is the
 * legacy default stream). `args` holds one device pointer per argument of
 * the kernel, in the manifest's order (for a matmul: x, codes, scales,
 * zeros if the scheme has them, out). Pointers must be non-null and
 * 16-byte aligned; m must be within the kernel's launch rule. Arguments are
 * checked before anything is sent to the GPU. Returns without waiting.
 * The context the bundle was loaded into must be current on the calling
 * thread. Once the bundle is loaded, several threads may launch from it at
 * once; open, load and close must not overlap other calls on the bundle. */
qmlir_status qmlir_launch(qmlir_bundle *bundle, const char *kernel, int64_t m,
                          void *const *args, size_t num_args, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* QMLIR_RUNTIME_H */
