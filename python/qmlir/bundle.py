"""qmlir.Bundle: an opened bundle, its kernels, layers and weights.

Opening and describing a bundle needs neither torch nor a GPU. load(),
upload_weights(), bind_weight() and run() work on torch CUDA tensors (torch
is imported when they are first called).
"""

import ctypes
from dataclasses import dataclass
from typing import Optional

from . import _library
from ._library import Error, check, library


@dataclass(frozen=True)
class Kernel:
    name: str
    op: str
    n: int
    k: int
    scheme: str
    activation: str
    num_args: int
    m_min: int
    m_max: int
    up_scheme: Optional[str]
    has_bias: bool
    has_residual: bool
    layout: str  # how it reads codes: "canonical", "mma_tile" or "mma_tile_linear"


@dataclass(frozen=True)
class Layer:
    name: str
    op: str  # "matmul" or "swiglu"
    n: int  # output features
    k: int  # input features
    activation: str  # "f16" or "bf16"
    has_bias: bool
    has_residual: bool
    num_weights: int
    m_max: int  # the smallest M is 1
    layout: str  # of its codes weights: "canonical", "mma_tile" or "mma_tile_linear"


@dataclass(frozen=True)
class Weight:
    name: str
    element: str
    rows: int
    cols: int
    bytes: int
    in_bundle: bool


def _text(value):
    return None if value is None else value.decode()


def usage_error(message):
    """An Error for a wrong argument found on the Python side."""
    return Error(1, _library.STATUS_NAMES[1], message)


class Bundle:
    """A bundle written by qmlir-compile, opened and checked (no GPU needed).

    Closed by close(), by leaving a `with` block, or when collected."""

    def __init__(self, path):
        self.path = str(path)
        self._lib = library()
        self._handle = ctypes.c_void_p()
        check(self._lib.qmlir_bundle_open(self.path.encode(), ctypes.byref(self._handle)))
        self._layers = {}
        self._device = None  # torch device index once loaded
        self._context = None  # the CUDA context it was loaded into
        self._bound = {}  # (layer, weight) -> tensor, kept alive while bound

    # Lifetime.
    def close(self):
        if getattr(self, "_handle", None) and self._handle.value:
            self._lib.qmlir_bundle_close(self._handle)
            self._handle = ctypes.c_void_p()
            self._bound.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def _h(self):
        if not self._handle.value:
            raise usage_error(f"bundle {self.path} is closed")
        return self._handle

    def __repr__(self):
        return f"qmlir.Bundle({self.path!r}, layers={self.layers})"

    # Description (no GPU).
    @property
    def kernels(self):
        """Names of the bundle's kernels."""
        h = self._h()
        return [self._lib.qmlir_bundle_kernel_name(h, i).decode()
                for i in range(self._lib.qmlir_bundle_kernel_count(h))]

    def kernel(self, name):
        info = _library.KernelInfo()
        check(self._lib.qmlir_bundle_kernel_info(self._h(), name.encode(), ctypes.byref(info)))
        return Kernel(_text(info.name), _text(info.op), info.n, info.k, _text(info.scheme),
                      _text(info.activation), info.num_args, info.m_min, info.m_max,
                      _text(info.up_scheme), bool(info.has_bias), bool(info.has_residual),
                      _text(info.layout))

    @property
    def layers(self):
        """Names of the bundle's layers (empty for a bundle of single kernels)."""
        h = self._h()
        return [self._lib.qmlir_bundle_layer_name(h, i).decode()
                for i in range(self._lib.qmlir_bundle_layer_count(h))]

    def layer(self, name):
        """A Layer describing layer `name` (Error QMLIR_ERROR_NOT_FOUND if none)."""
        cached = self._layers.get(name)
        if cached is None:
            info = _library.LayerInfo()
            check(self._lib.qmlir_bundle_layer_info(self._h(), name.encode(), ctypes.byref(info)))
            cached = Layer(_text(info.name), _text(info.op), info.n, info.k,
                           _text(info.activation), bool(info.has_bias),
                           bool(info.has_residual), info.num_weights, info.m_max,
                           _text(info.layout))
            self._layers[name] = cached
        return cached

    def weights(self, layer):
        """The Weight tensors of `layer`, in the runtime's order."""
        result = []
        for index in range(self.layer(layer).num_weights):
            info = _library.WeightInfo()
            check(self._lib.qmlir_bundle_weight_info(self._h(), layer.encode(), index,
                                                     ctypes.byref(info)))
            result.append(Weight(_text(info.name), _text(info.element), info.rows,
                                 info.cols, info.bytes, bool(info.in_bundle)))
        return result

    def arrange_weight(self, layer, name, data, to_canonical=False):
        """Weight `name` of `layer` as bytes: `data` (bytes-like, the weight's
        size) converted from checkpoint order to the layer's layout, or back
        with to_canonical=True. Codes are rearranged; other weights come back
        unchanged. Needs no GPU."""
        source = bytes(data)
        out = ctypes.create_string_buffer(len(source))
        direction = 1 if to_canonical else 0
        check(self._lib.qmlir_bundle_arrange_weight(
            self._h(), layer.encode(), name.encode(), direction,
            ctypes.c_char_p(source), out, len(source)))
        return out.raw

    def workspace_size(self, layer, m):
        """Bytes of workspace run() needs for `m` rows."""
        size = ctypes.c_size_t()
        check(self._lib.qmlir_layer_workspace_size(self._h(), layer.encode(), m,
                                                   ctypes.byref(size)))
        return size.value

    # GPU, through torch.
    @property
    def device(self):
        """The torch device index the bundle was loaded on (None before load())."""
        return self._device

    def load(self, device=None):
        """Loads the cubins into torch's CUDA context (the primary context) of
        `device` (default: torch's current device)."""
        from . import _torch
        index, context = _torch.make_current(device)
        check(self._lib.qmlir_bundle_load(self._h()))
        self._device, self._context = index, context
        return self

    def _check_loaded(self, what):
        if self._device is None:
            raise Error(10, _library.STATUS_NAMES[10],
                        f"{what}: bundle {self.path} is not loaded (call load() first)")

    def upload_weights(self):
        """Copies the weights weights.bin holds to the GPU and binds them."""
        self._check_loaded("upload_weights")
        from . import _torch
        _torch.ensure_context(self._device, self._context)
        check(self._lib.qmlir_bundle_upload_weights(self._h()))

    def bind_weight(self, layer, name, tensor):
        """Binds a torch CUDA tensor as weight `name` of `layer`: its dtype and
        shape as weights(layer) describes (or uint8 of the same byte size),
        contiguous, 16-byte aligned. The bundle keeps a reference to it.

        Codes given as int32 [rows, cols] are in checkpoint order; when the
        layer's layout is not canonical they are rearranged into a copy the
        bundle owns. uint8 tensors are taken as the stored bytes."""
        self._check_loaded("bind_weight")
        from . import _torch
        weight = next((w for w in self.weights(layer) if w.name == name), None)
        if weight is None:
            names = ", ".join(w.name for w in self.weights(layer))
            raise Error(6, _library.STATUS_NAMES[6],
                        f"bind_weight: layer {layer} has no weight {name!r} (it has {names})")
        _torch.check_weight(tensor, self._device, layer, weight)
        if self.layer(layer).layout != "canonical":
            tensor = _torch.arranged(self, layer, weight, tensor)
        _torch.ensure_context(self._device, self._context)
        check(self._lib.qmlir_bundle_bind_weight(self._h(), layer.encode(), name.encode(),
                                                 ctypes.c_void_p(tensor.data_ptr())))
        self._bound[(layer, name)] = tensor

    def run(self, layer, x, residual=None, out=None):
        """out[M, n] = layer(x[M, k]) (+ residual), enqueued on torch's current
        stream without synchronising. `out` and the workspace are allocated
        with torch's caching allocator when not given, so runs may be captured
        in a CUDA graph. Returns out."""
        self._check_loaded("run")
        from . import _torch
        return _torch.run(self, layer, x, residual, out)
