"""The torch side of qmlir.Bundle: contexts, tensor checks, run().

torch uses each device's primary CUDA context, and the runtime loads into
and launches from whatever context is current on the calling thread; a
thread that has not yet touched CUDA through torch may have none current.
So the primary context is made current (through the driver, which torch has
already loaded) before every runtime call that needs one. That is a
cuCtxGetCurrent per call: no allocation, no synchronisation, allowed under
CUDA graph capture.
"""

import ctypes

import torch

from . import _library
from ._library import Error, check

_ACTIVATIONS = {"f16": torch.float16, "bf16": torch.bfloat16}


def _weight_dtype(element):
    table = {"i32": torch.int32, "f16": torch.float16, "bf16": torch.bfloat16,
             "f32": torch.float32,
             "f8E4M3FN": getattr(torch, "float8_e4m3fn", None),
             "f8E8M0FNU": getattr(torch, "float8_e8m0fnu", None)}
    return table.get(element)


def _error(status, message):
    return Error(status, _library.STATUS_NAMES[status], message)


_driver = None


def _cuda():
    global _driver
    if _driver is None:
        try:
            driver = ctypes.CDLL("libcuda.so.1")
        except OSError as error:
            raise _error(7, f"cannot load libcuda.so.1: {error}") from None
        for name, args in (("cuCtxGetCurrent", [ctypes.POINTER(ctypes.c_void_p)]),
                           ("cuCtxSetCurrent", [ctypes.c_void_p]),
                           ("cuDeviceGet", [ctypes.POINTER(ctypes.c_int), ctypes.c_int]),
                           ("cuDevicePrimaryCtxRetain",
                            [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int])):
            function = getattr(driver, name)
            function.restype = ctypes.c_int
            function.argtypes = args
        _driver = driver
    return _driver


def _call(name, *args):
    result = getattr(_cuda(), name)(*args)
    if result != 0:
        raise _error(11, f"{name} failed with CUDA error {result}")


def make_current(device):
    """Initialises torch's CUDA state on `device` (an index, torch.device or
    None for the current device), makes its primary context current on this
    thread and returns (index, context)."""
    if not torch.cuda.is_available():
        raise _error(8, "torch sees no CUDA device")
    if device is None:
        index = torch.cuda.current_device()
    elif isinstance(device, int):
        index = device
    else:
        index = torch.device(device).index
        if index is None:
            index = torch.cuda.current_device()
    with torch.cuda.device(index):
        # A tiny allocation makes torch create (and retain) the primary context.
        torch.empty(1, device=f"cuda:{index}")
    dev = ctypes.c_int()
    _call("cuDeviceGet", ctypes.byref(dev), index)
    primary = ctypes.c_void_p()
    # Retained once for the life of the process, like torch does.
    _call("cuDevicePrimaryCtxRetain", ctypes.byref(primary), dev)
    ensure_context(index, primary.value)
    return index, primary.value


def ensure_context(index, context):
    """Makes `context` (device `index`'s primary context) current on this thread."""
    current = ctypes.c_void_p()
    _call("cuCtxGetCurrent", ctypes.byref(current))
    if current.value != context:
        _call("cuCtxSetCurrent", ctypes.c_void_p(context))


def _check_tensor(what, tensor, device, dtype, shape):
    if not isinstance(tensor, torch.Tensor):
        raise _error(1, f"{what}: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.device.type != "cuda" or tensor.device.index != device:
        raise _error(1, f"{what}: on {tensor.device}, the bundle is loaded on cuda:{device}")
    if dtype is not None and tensor.dtype != dtype:
        raise _error(1, f"{what}: dtype {tensor.dtype}, expected {dtype}")
    if shape is not None and tuple(tensor.shape) != tuple(shape):
        raise _error(1, f"{what}: shape {list(tensor.shape)}, expected {list(shape)}")
    if not tensor.is_contiguous():
        raise _error(1, f"{what}: not contiguous")
    if tensor.data_ptr() % 16 != 0:
        raise _error(1, f"{what}: data pointer {tensor.data_ptr():#x} is not 16-byte aligned")


def check_weight(tensor, device, layer, weight):
    what = f"bind_weight({layer}, {weight.name})"
    dtype = _weight_dtype(weight.element)
    if isinstance(tensor, torch.Tensor) and tensor.dtype == torch.uint8 and dtype != torch.uint8:
        # Raw bytes of the stored layout.
        _check_tensor(what, tensor, device, None, None)
        if tensor.numel() != weight.bytes:
            raise _error(1, f"{what}: {tensor.numel()} bytes, expected {weight.bytes}")
        return
    _check_tensor(what, tensor, device, dtype, (weight.rows, weight.cols))


def arranged(bundle, layer, weight, tensor):
    """`tensor` (checked by check_weight) as the layer's kernels read it: a
    logical-dtype codes tensor is rearranged into a new tensor on its device;
    anything else is returned as is."""
    if tensor.dtype == torch.uint8 or not weight.name.endswith("codes"):
        return tensor
    host = tensor.detach().cpu().contiguous()
    stored = bundle.arrange_weight(layer, weight.name,
                                   ctypes.string_at(host.data_ptr(), weight.bytes))
    result = torch.frombuffer(bytearray(stored), dtype=torch.uint8).view(tensor.dtype)
    return result.reshape(tensor.shape).to(tensor.device)


def run(bundle, name, x, residual, out):
    layer = bundle.layer(name)
    dtype = _ACTIVATIONS.get(layer.activation)
    if dtype is None:
        raise _error(1, f"run({name}): unknown activation type {layer.activation}")
    device = bundle.device
    if not isinstance(x, torch.Tensor) or x.dim() != 2:
        shape = list(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise _error(1, f"run({name}): x must be a 2-D tensor [M, {layer.k}], got {shape}")
    m = x.shape[0]
    _check_tensor(f"run({name}): x", x, device, dtype, (m, layer.k))
    if m > layer.m_max:
        raise _error(1, f"run({name}): M = {m} is above the layer's largest M {layer.m_max}")
    if residual is not None and not layer.has_residual:
        raise _error(1, f"run({name}): the layer takes no residual")
    if residual is None and layer.has_residual:
        raise _error(1, f"run({name}): the layer takes a residual [M, {layer.n}]")
    if residual is not None:
        _check_tensor(f"run({name}): residual", residual, device, dtype, (m, layer.n))
    if out is None:
        out = torch.empty((m, layer.n), dtype=dtype, device=x.device)
    else:
        _check_tensor(f"run({name}): out", out, device, dtype, (m, layer.n))
    if m == 0:
        return out
    lib = bundle._lib
    size = ctypes.c_size_t()
    check(lib.qmlir_layer_workspace_size(bundle._h(), name.encode(), m, ctypes.byref(size)))
    workspace = None
    if size.value:
        # The caching allocator hands out 512-byte aligned blocks and records
        # this allocation in a graph being captured.
        workspace = torch.empty(size.value, dtype=torch.uint8, device=x.device)
    ensure_context(device, bundle._context)
    stream = torch.cuda.current_stream(device).cuda_stream
    check(lib.qmlir_run_layer(
        bundle._h(), name.encode(), m, ctypes.c_void_p(x.data_ptr()),
        ctypes.c_void_p(residual.data_ptr()) if residual is not None else None,
        ctypes.c_void_p(out.data_ptr()),
        ctypes.c_void_p(workspace.data_ptr()) if workspace is not None else None,
        size.value, ctypes.c_void_p(stream)))
    return out
