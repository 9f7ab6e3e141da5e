"""Finds and loads libqmlir_runtime.so and declares its C API for ctypes.

The declarations mirror runtime/include/qmlir/Runtime/qmlir_runtime.h (API
version 3); a library of another version is refused, since ctypes cannot
check signatures.
"""

import ctypes
import os
import threading

API_VERSION = 3
LIBRARY_NAME = "libqmlir_runtime.so"

STATUS_NAMES = {
    0: "QMLIR_SUCCESS",
    1: "QMLIR_ERROR_INVALID_ARGUMENT",
    2: "QMLIR_ERROR_IO",
    3: "QMLIR_ERROR_BAD_MANIFEST",
    4: "QMLIR_ERROR_VERSION",
    5: "QMLIR_ERROR_BAD_CUBIN",
    6: "QMLIR_ERROR_NOT_FOUND",
    7: "QMLIR_ERROR_NO_DRIVER",
    8: "QMLIR_ERROR_NO_DEVICE",
    9: "QMLIR_ERROR_ARCH_MISMATCH",
    10: "QMLIR_ERROR_NOT_LOADED",
    11: "QMLIR_ERROR_CUDA",
    12: "QMLIR_ERROR_NOT_BOUND",
}
# Python-side failures that are not a runtime status.
LIBRARY_ERROR = "QMLIR_ERROR_LIBRARY"


class Error(RuntimeError):
    """A failed qmlir call: `status` (the C status code, or None for a
    failure of the Python layer itself), `status_name` and `message`."""

    def __init__(self, status, status_name, message):
        super().__init__(f"{status_name}: {message}")
        self.status = status
        self.status_name = status_name
        self.message = message


class KernelInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("op", ctypes.c_char_p),
        ("n", ctypes.c_int64),
        ("k", ctypes.c_int64),
        ("scheme", ctypes.c_char_p),
        ("activation", ctypes.c_char_p),
        ("num_args", ctypes.c_size_t),
        ("m_min", ctypes.c_int64),
        ("m_max", ctypes.c_int64),
        ("up_scheme", ctypes.c_char_p),
        ("has_bias", ctypes.c_int),
        ("has_residual", ctypes.c_int),
        ("layout", ctypes.c_char_p),
    ]


class LayerInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("op", ctypes.c_char_p),
        ("n", ctypes.c_int64),
        ("k", ctypes.c_int64),
        ("activation", ctypes.c_char_p),
        ("has_bias", ctypes.c_int),
        ("has_residual", ctypes.c_int),
        ("num_weights", ctypes.c_size_t),
        ("m_max", ctypes.c_int64),
        ("layout", ctypes.c_char_p),
    ]


class WeightInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("element", ctypes.c_char_p),
        ("rows", ctypes.c_int64),
        ("cols", ctypes.c_int64),
        ("bytes", ctypes.c_size_t),
        ("in_bundle", ctypes.c_int),
    ]


_p = ctypes.c_void_p
_s = ctypes.c_char_p
_i64 = ctypes.c_int64
_size = ctypes.c_size_t
_status = ctypes.c_int
# name: (result type, argument types)
_PROTOTYPES = {
    "qmlir_runtime_version": (ctypes.c_int, []),
    "qmlir_status_name": (_s, [ctypes.c_int]),
    "qmlir_last_error": (_s, []),
    "qmlir_bundle_open": (_status, [_s, ctypes.POINTER(_p)]),
    "qmlir_bundle_close": (None, [_p]),
    "qmlir_bundle_load": (_status, [_p]),
    "qmlir_bundle_kernel_count": (_size, [_p]),
    "qmlir_bundle_kernel_name": (_s, [_p, _size]),
    "qmlir_bundle_kernel_info": (_status, [_p, _s, ctypes.POINTER(KernelInfo)]),
    "qmlir_launch": (_status, [_p, _s, _i64, ctypes.POINTER(_p), _size, _p]),
    "qmlir_bundle_layer_count": (_size, [_p]),
    "qmlir_bundle_layer_name": (_s, [_p, _size]),
    "qmlir_bundle_layer_info": (_status, [_p, _s, ctypes.POINTER(LayerInfo)]),
    "qmlir_bundle_weight_info": (_status, [_p, _s, _size, ctypes.POINTER(WeightInfo)]),
    "qmlir_bundle_upload_weights": (_status, [_p]),
    "qmlir_bundle_bind_weight": (_status, [_p, _s, _s, _p]),
    "qmlir_bundle_arrange_weight": (_status, [_p, _s, _s, ctypes.c_int, _p, _p, _size]),
    "qmlir_layer_workspace_size": (_status, [_p, _s, _i64, ctypes.POINTER(_size)]),
    "qmlir_run_layer": (_status, [_p, _s, _i64, _p, _p, _p, _p, _size, _p]),
}


def candidates():
    """Where the library is looked for, in order (the first that exists
    wins): the install tree around this package (PREFIX/lib next to
    PREFIX/lib/python3/site-packages or PREFIX/share/qmlir/python), a build
    tree holding this package's copy (BUILD/python/qmlir), and the build
    directory of the source tree ($QMLIR_BUILD_DIR, else build/)."""
    here = os.path.dirname(os.path.abspath(__file__))
    paths = []
    parent = here
    for _ in range(5):
        parent = os.path.dirname(parent)
        paths.append(os.path.join(parent, "lib", LIBRARY_NAME))
    source_root = os.path.dirname(os.path.dirname(here))
    build = os.environ.get("QMLIR_BUILD_DIR", "build")
    paths.append(os.path.join(source_root, build, "lib", LIBRARY_NAME))
    return paths


def find_library():
    """The path of libqmlir_runtime.so: $QMLIR_RUNTIME_LIBRARY if set (and
    then nothing else), else the first of candidates() that exists, else the
    bare name for the dynamic loader's own search (LD_LIBRARY_PATH)."""
    explicit = os.environ.get("QMLIR_RUNTIME_LIBRARY")
    if explicit:
        if not os.path.isfile(explicit):
            raise Error(None, LIBRARY_ERROR,
                        f"QMLIR_RUNTIME_LIBRARY names {explicit}, which is not a file")
        return explicit
    for path in candidates():
        if os.path.isfile(path):
            return path
    return LIBRARY_NAME


_lock = threading.Lock()
_library = None


def library():
    """The loaded, version-checked runtime (loaded on first use)."""
    global _library
    if _library is not None:
        return _library
    with _lock:
        if _library is None:
            _library = _load(find_library())
    return _library


def _load(path):
    try:
        lib = ctypes.CDLL(path)
    except OSError as error:
        raise Error(None, LIBRARY_ERROR,
                    f"cannot load the qmlir runtime {path}: {error} (set "
                    f"QMLIR_RUNTIME_LIBRARY to the path of {LIBRARY_NAME})") from None
    try:
        version_function = lib.qmlir_runtime_version
    except AttributeError:
        raise Error(None, LIBRARY_ERROR,
                    f"{path} is not the qmlir runtime (no qmlir_runtime_version)") from None
    version_function.restype = ctypes.c_int
    version_function.argtypes = []
    version = version_function()
    if version != API_VERSION:
        raise Error(4, STATUS_NAMES[4],
                    f"{path} implements runtime API version {version}; this "
                    f"package speaks version {API_VERSION}")
    missing = [name for name in _PROTOTYPES if not hasattr(lib, name)]
    if missing:
        raise Error(4, STATUS_NAMES[4],
                    f"{path} reports API version {version} but lacks {', '.join(missing)}")
    for name, (restype, argtypes) in _PROTOTYPES.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    lib.qmlir_path = path
    return lib


def status_name(status):
    """The runtime's name for `status`."""
    return library().qmlir_status_name(status).decode()


def check(status):
    """Raises Error for a failed status, with the runtime's last message."""
    if status != 0:
        lib = library()
        raise Error(status, lib.qmlir_status_name(status).decode(),
                    lib.qmlir_last_error().decode(errors="replace"))
