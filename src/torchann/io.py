"""Files in and out: safe loaders for arrays and images, atomic writers for every output.

Loading
-------
:func:`load_array` reads a pickle (only through :class:`SafeArrayUnpickler`), a ``.npy``
(never with ``allow_pickle``) or a PNG/JPEG image, and returns a finite float64 array.
Nothing in a file can run code: a pickle may name nothing but numpy's array
reconstructor and ``numpy.dtype``, and even those are replaced by checked stand-ins.

Writing
-------
Every output goes through :func:`atomic_write`: written to a temporary file in the same
folder and renamed into place, so an interrupted run never leaves a truncated file over
a good one.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

from torchann.errors import TorchannError

#: The largest array a loader accepts (elements); larger ones are refused before allocation.
MAX_ELEMENTS = 50_000_000
_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
_PICKLE_SUFFIXES = {".p", ".pkl", ".pickle"}


# --------------------------------------------------------------------------- writing


@contextlib.contextmanager
def atomic_write(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    Parameters
    ----------
    path : str or Path
        Final destination. Its folder must exist.

    Yields
    ------
    Path
        Where to write. On an exception (Ctrl-C included) it is removed and ``path`` is
        left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def save_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def save_text(path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return save_bytes(path, text.encode("utf-8"))


def save_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return save_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def save_npy(path, array) -> Path:
    """Write a numpy array as ``.npy`` atomically."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return save_bytes(path, buf.getvalue())


def figure_png(fig, dpi: int = 100, close: bool = True) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (``close=False`` keeps it open,
    e.g. for ``plt.show()`` under ``--show``)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return buf.getvalue()


def save_figure(fig, path, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG atomically and close it."""
    return save_bytes(path, figure_png(fig, dpi=dpi))


def prepare_out_dir(out, inputs=()) -> Path:
    """Create the output folder, or explain why it cannot be used.

    Parameters
    ----------
    out : str or Path
        The folder to write into; created with its parents when missing.
    inputs : iterable of str or Path
        The run's input files. An input inside ``out`` is refused when a later write could
        replace it; see :func:`check_not_input`.

    Returns
    -------
    Path
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise TorchannError(f"--out {out} is a file, not a folder; choose a folder name")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TorchannError(f"cannot create the output folder {out}: {err.strerror}; "
                            "choose another --out") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise TorchannError(f"the output folder {out} is not writable; choose another --out")
    return out


def check_not_input(outputs, inputs) -> None:
    """Refuse to write any of ``outputs`` over one of ``inputs`` (inputs are never overwritten)."""
    ins = {Path(p).resolve() for p in inputs if p}
    for p in outputs:
        if Path(p).resolve() in ins:
            raise TorchannError(f"the output {p} would overwrite an input file; "
                                "choose another --out or --output")


# --------------------------------------------------------------------------- loading


class _CheckedArray:
    """Stand-in for numpy's ``_reconstruct``: builds the array itself from checked state."""

    def __init__(self, cls=None, shape=None, typecode=None):
        self.array = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise TorchannError("the pickle holds something other than a plain numpy array")
        _version, shape, dtype, fortran, raw = state
        if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS:
            raise TorchannError("the pickled array is not numeric (allowed: bool, int, float)")
        if not (isinstance(shape, tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise TorchannError("the pickled array has an invalid shape")
        count = math.prod(shape)
        if count > MAX_ELEMENTS:
            raise TorchannError(f"the pickled array declares {count:,} elements, more than the "
                                f"{MAX_ELEMENTS:,} allowed; refusing to allocate it")
        if isinstance(raw, str):  # a Python 2 pickle read with encoding='latin1'
            raw = raw.encode("latin1")
        if not isinstance(raw, (bytes, bytearray)) or len(raw) != count * dtype.itemsize:
            raise TorchannError("the pickled array's data does not match its shape")
        flat = np.frombuffer(bytes(raw), dtype=dtype)
        self.array = flat.reshape(shape, order="F" if fortran else "C").copy()


def _checked_dtype(spec, align=False, copy=True):
    dtype = np.dtype(spec) if isinstance(spec, str) else None
    if dtype is None or dtype.kind not in _NUMERIC_KINDS:
        raise TorchannError(f"the pickle asks for dtype {spec!r}; only numeric arrays load")
    return np.dtype(spec)


class SafeArrayUnpickler(pickle.Unpickler):
    """An unpickler that admits a plain numeric numpy array and nothing else.

    Only numpy's array reconstructor, ``numpy.ndarray`` and ``numpy.dtype`` may be named,
    and each is replaced by a checked stand-in, so no callable from the file ever runs.
    Anything else (``os.system``, ``eval``, ``copyreg``, ``functools.partial``...) is refused.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _CheckedArray,
        ("numpy._core.multiarray", "_reconstruct"): _CheckedArray,
        ("numpy", "ndarray"): _CheckedArray,  # only ever passed to _reconstruct
        ("numpy", "dtype"): _checked_dtype,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise TorchannError(
                f"the pickle names {module}.{name}, which is not part of a plain numpy array; "
                "refusing to load it (a pickle can run code). Save the array as .npy instead"
            ) from None

    def persistent_load(self, pid):
        raise TorchannError("the pickle uses persistent ids; only plain numpy arrays load")


def load_pickle_array(data: bytes) -> np.ndarray:
    """Unpickle ``data`` with :class:`SafeArrayUnpickler` and return the array.

    Raises
    ------
    TorchannError
        For anything that is not a plain numeric numpy array, or is not a pickle at all.
    """
    if not data:
        raise TorchannError("the pickle file is empty")
    try:
        obj = SafeArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
    except TorchannError:
        raise
    except RecursionError:
        raise TorchannError("the pickle is nested too deeply to be a numpy array") from None
    except Exception as err:  # truncated, random bytes, wrong opcodes...
        raise TorchannError(f"the file is not a readable pickle of a numpy array "
                            f"({type(err).__name__}); check the file") from None
    if isinstance(obj, _CheckedArray) and obj.array is not None:
        return obj.array
    raise TorchannError(f"the pickle holds a {type(obj).__name__}, not a numpy array")


def load_npy_array(data: bytes) -> np.ndarray:
    """Read ``.npy`` bytes without pickle; refuse object arrays and huge shapes."""
    buf = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buf)
        shape, _fortran, dtype = np.lib.format._read_array_header(buf, version)
    except Exception:
        raise TorchannError("the file is not a valid .npy array; check the file") from None
    if dtype.kind not in _NUMERIC_KINDS:
        raise TorchannError(f"the .npy array has dtype {dtype}; only numeric arrays load")
    if math.prod(shape) > MAX_ELEMENTS:
        raise TorchannError(f"the .npy array declares shape {shape}, too large to load")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:
        raise TorchannError("the .npy file is truncated or corrupt; check the file") from None


def load_image_array(data: bytes) -> np.ndarray:
    """Decode PNG/JPEG bytes to a grayscale float image in [0, 1]."""
    from skimage import color, util
    from skimage.io import imread

    if not data:
        raise TorchannError("the image file is empty")
    try:
        img = imread(io.BytesIO(data))
    except Exception:
        raise TorchannError("the file is not a readable PNG or JPEG image") from None
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[-1] in (2, 4):  # drop alpha
        img = img[..., :-1] if img.shape[-1] == 4 else img[..., 0]
    if img.ndim == 3 and img.shape[-1] == 3:
        img = color.rgb2gray(img)
    if img.ndim != 2:
        raise TorchannError(f"the image has shape {img.shape}; expected a 2-D picture")
    return util.img_as_float64(img)


def load_array(path) -> np.ndarray:
    """Load an array from a pickle, ``.npy`` or PNG/JPEG file, safely.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of float64
        Finite values. Images come back 2-D in [0, 1]; other files keep their shape.

    Raises
    ------
    TorchannError
        Missing or unreadable file, foreign content, non-numeric or non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise TorchannError(f"{path}: no such file; check the path")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TorchannError(f"{path}: cannot read it ({err.strerror})") from None
    suffix = path.suffix.lower()
    if suffix in _IMAGE_SUFFIXES:
        array = load_image_array(data)
    elif suffix == ".npy" or data[:6] == b"\x93NUMPY":
        array = load_npy_array(data)
    elif suffix in _PICKLE_SUFFIXES or data[:1] == b"\x80":
        array = load_pickle_array(data)
    else:
        raise TorchannError(f"{path}: unknown file type {suffix or '(none)'}; "
                            "use a .p/.pkl pickle, a .npy array, or a PNG/JPEG image")
    array = np.asarray(array, dtype=np.float64)
    if array.size == 0:
        raise TorchannError(f"{path}: the array is empty")
    if not np.isfinite(array).all():
        raise TorchannError(f"{path}: the array contains NaN or infinite values")
    return array


def as_image(array, shape=None) -> np.ndarray:
    """Return ``array`` as a 2-D image.

    A flat vector becomes square when its length is a perfect square, or takes ``shape``.

    Parameters
    ----------
    array : ndarray
        1-D or 2-D.
    shape : (int, int), optional
        Height and width for a flat vector.

    Raises
    ------
    TorchannError
        When the shape does not fit, or the data is neither 1-D nor 2-D.
    """
    array = np.asarray(array)
    if shape is not None:
        h, w = (int(s) for s in shape)
        if h <= 0 or w <= 0:
            raise TorchannError(f"--shape {h} {w}: both sizes must be positive")
        if array.size != h * w:
            raise TorchannError(f"--shape {h} {w} needs {h * w} values but the data has "
                                f"{array.size}; give the right --shape")
        return array.reshape(h, w)
    if array.ndim == 2:
        return array
    if array.ndim == 1:
        side = math.isqrt(array.size)
        if side * side == array.size:
            return array.reshape(side, side)
        raise TorchannError(f"a flat vector of {array.size} values is not a square image; "
                            "give its size with --shape H W")
    raise TorchannError(f"the data has shape {array.shape}; expected a 2-D image or a flat vector")
