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
#define QMLIR_RUNTIME_API_VERSION 3
/* The bundle format and kernel-argument ABI this runtime reads. */
#define QMLIR_BUNDLE_FORMAT_VERSION 3
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
  QMLIR_ERROR_CUDA = 11,            /* a CUDA driver call failed */
  QMLIR_ERROR_NOT_BOUND = 12        /* a layer's weights are neither uploaded nor bound */
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
  const char *op;         /* "matmul" or "swiglu" */
  int64_t n;              /* output features */
  int64_t k;              /* reduction size */
  const char *scheme;     /* e.g. "#qmlir.scheme<i4, group = 128, scale = f16>";
                             for swiglu the gate weights' scheme */
  const char *activation; /* "f16" or "bf16" */
  size_t num_args;        /* device pointers qmlir_launch takes */
  int64_t m_min;          /* the range of M the launch rule allows */
  int64_t m_max;
  const char *up_scheme;  /* swiglu: the up weights' scheme; NULL otherwise */
  int has_bias;           /* matmul: takes a "bias" [1, n] before "out" */
  int has_residual;       /* takes a "residual" [M, n] before "out" */
  const char *layout;     /* how it reads "codes" parts: "canonical" (the
                             row-major bit streams of the scheme),
                             "mma_tile" or "mma_tile_linear"
                             (qmlir/Core/Layout.h) */
} qmlir_kernel_info;

/* Fills `info` for `kernel`; QMLIR_ERROR_NOT_FOUND if there is no such
 * kernel. Needs no GPU. */
qmlir_status qmlir_bundle_kernel_info(const qmlir_bundle *bundle,
                                      const char *kernel,
                                      qmlir_kernel_info *info);

/* Launches `kernel` for `m` rows on `stream` (a CUstream; NULL is the
 * legacy default stream). `args` holds one device pointer per argument of
 * the kernel, in the manifest's order (for a matmul: x, codes, scales,
 * zeros if the scheme has them, bias, residual if it has them, out; for a
 * swiglu: x, the gate's parts, the up's parts, residual if any, out). Pointers must be non-null and
 * 16-byte aligned; m must be within the kernel's launch rule. Arguments are
 * checked before anything is sent to the GPU. Returns without waiting.
 * The context the bundle was loaded into must be current on the calling
 * thread. Once the bundle is loaded, several threads may launch from it at
 * once; open, load and close must not overlap other calls on the bundle. */
qmlir_status qmlir_launch(qmlir_bundle *bundle, const char *kernel, int64_t m,
                          void *const *args, size_t num_args, void *stream);

/*===----------------------------------------------------------------------===*
 * Layers: what a model bundle (qmlir-compile --model) adds to its kernels.
 *
 * A layer is one linear layer of the model: its weights (in the bundle's
 * weights.bin, or bound by the caller) and the kernels that compute it, one
 * per range of M. Serving code runs layers by name and never picks kernels.
 *===----------------------------------------------------------------------===*/

/* Number of layers, and the name of layer `index` (NULL if out of range). */
size_t qmlir_bundle_layer_count(const qmlir_bundle *bundle);
const char *qmlir_bundle_layer_name(const qmlir_bundle *bundle, size_t index);

typedef struct qmlir_layer_info {
  const char *name;
  const char *op;         /* "matmul": out = x W^T (+ bias) (+ residual);
                             "swiglu": out = silu(x G^T) * (x U^T) (+ residual) */
  int64_t n;              /* output features */
  int64_t k;              /* input features */
  const char *activation; /* "f16" or "bf16": x, residual, bias and out */
  int has_bias;           /* 1 if the layer adds its "bias" weight */
  int has_residual;       /* 1 if qmlir_run_layer takes a residual [M, n] */
  size_t num_weights;     /* tensors in qmlir_bundle_weight_info */
  int64_t m_max;          /* largest M the layer accepts (the smallest is 1) */
  const char *layout;     /* the layout of its "codes" weights, as for
                             kernels; weights.bin holds them in it, and a
                             weight bound with qmlir_bundle_bind_weight must
                             be in it too */
} qmlir_layer_info;

/* Fills `info` for `layer`; QMLIR_ERROR_NOT_FOUND if there is no such layer.
 * Needs no GPU. Strings live until qmlir_bundle_close. */
qmlir_status qmlir_bundle_layer_info(const qmlir_bundle *bundle,
                                     const char *layer,
                                     qmlir_layer_info *info);

/* One weight tensor of a layer, row-major in device memory. */
typedef struct qmlir_weight_info {
  const char *name;    /* "codes", "scales", ..., "bias"; for swiglu
                          "gate.codes", ..., "up.codes", ... */
  const char *element; /* "i32", "f16", "bf16", "f32", "f8E8M0FNU", "f8E4M3FN" */
  int64_t rows;
  int64_t cols;
  size_t bytes;
  int in_bundle;       /* 1 if weights.bin holds it (qmlir_bundle_upload_weights) */
} qmlir_weight_info;

/* Fills `info` for weight `index` (< num_weights) of `layer`. */
qmlir_status qmlir_bundle_weight_info(const qmlir_bundle *bundle,
                                      const char *layer, size_t index,
                                      qmlir_weight_info *info);

/* Allocates device memory in the bundle's context for every weight the
 * bundle holds, copies them there (synchronously) and binds them. The memory
 * is freed by qmlir_bundle_close. Needs a loaded bundle. Calling it again
 * does nothing. */
qmlir_status qmlir_bundle_upload_weights(qmlir_bundle *bundle);

/* Binds caller-owned device memory as weight `weight` of `layer`, replacing
 * any earlier binding. The memory must hold the tensor as qmlir_weight_info
 * describes it, in the layer's layout (qmlir_bundle_arrange_weight converts
 * canonical codes), be 16-byte aligned and outlive every run that uses it. */
qmlir_status qmlir_bundle_bind_weight(qmlir_bundle *bundle, const char *layer,
                                      const char *weight,
                                      const void *device_pointer);

/* Which way qmlir_bundle_arrange_weight converts. */
typedef enum qmlir_arrangement {
  QMLIR_CANONICAL_TO_STORED = 0, /* checkpoint order -> the layer's layout */
  QMLIR_STORED_TO_CANONICAL = 1  /* the layer's layout -> checkpoint order */
} qmlir_arrangement;

/* Converts weight `weight` of `layer` in host memory between its canonical
 * form (the row-major bit streams a checkpoint holds) and the form the
 * layer's kernels read (qmlir_layer_info.layout): "codes" parts are
 * rearranged, every other weight is copied unchanged. `in` and `out` hold
 * `bytes` bytes, the weight's size, and must not overlap. Needs no GPU. */
qmlir_status qmlir_bundle_arrange_weight(const qmlir_bundle *bundle,
                                         const char *layer, const char *weight,
                                         qmlir_arrangement direction,
                                         const void *in, void *out,
                                         size_t bytes);

/* Bytes of workspace qmlir_run_layer needs for `m` rows (0: none). */
qmlir_status qmlir_layer_workspace_size(const qmlir_bundle *bundle,
                                        const char *layer, int64_t m,
                                        size_t *bytes);

/* Runs `layer` on `m` rows: x is [m, k], residual [m, n] (NULL unless the
 * layer has one), out [m, n], all device pointers of the layer's activation
 * type, 16-byte aligned. `workspace` holds `workspace_bytes` bytes of device
 * memory (at least qmlir_layer_workspace_size; may be NULL when that is 0).
 * The kernel is chosen by m. Enqueued on `stream` without allocating or
 * synchronising, so runs may be captured in a CUDA graph. Every weight of
 * the layer must be uploaded or bound (QMLIR_ERROR_NOT_BOUND). */
qmlir_status qmlir_run_layer(qmlir_bundle *bundle, const char *layer,
                             int64_t m, const void *x, const void *residual,
                             void *out, void *workspace,
                             size_t workspace_bytes, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* QMLIR_RUNTIME_H */
