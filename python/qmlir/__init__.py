"""qmlir: load bundles written by qmlir-compile and run their layers.

Pure Python over libqmlir_runtime.so (ctypes). Opening a bundle and reading
its layers needs neither torch nor a GPU; Bundle.load/run and qmlir.Linear
work on torch CUDA tensors. See docs/Python.md.
"""

from ._library import API_VERSION, Error, find_library, status_name
from .bundle import Bundle, Kernel, Layer, Weight

__all__ = ["API_VERSION", "Bundle", "Error", "Kernel", "Layer", "Linear", "Weight",
           "find_library", "library_path", "runtime_version", "status_name"]


def runtime_version():
    """qmlir_runtime_version() of the loaded library (loading it if needed)."""
    from ._library import library
    return library().qmlir_runtime_version()


def library_path():
    """The path of the loaded runtime library (loading it if needed)."""
    from ._library import library
    return library().qmlir_path


def __getattr__(name):
    # qmlir.Linear subclasses torch.nn.Module: import torch only when asked.
    if name == "Linear":
        from .linear import Linear
        return Linear
    raise AttributeError(f"module 'qmlir' has no attribute {name!r}")
