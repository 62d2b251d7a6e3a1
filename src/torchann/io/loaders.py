"""Safe loaders for arrays and images.

:func:`load_array` reads a pickle (only through :class:`SafeArrayUnpickler`), a ``.npy``
(never with ``allow_pickle``) or a PNG/JPEG image, and returns a finite float64 array.
Nothing in a file can run code: a pickle may name nothing but numpy's array
reconstructor and ``numpy.dtype``, and even those are replaced by checked stand-ins.
"""

from __future__ import annotations

import contextlib
import io
import math
import pickle
from pathlib import Path

import numpy as np

from torchann.errors import TorchannError

#: The largest array a loader accepts (elements); larger ones are refused before allocation.
MAX_ELEMENTS = 50_000_000
#: The smallest image side :func:`as_image` accepts: SSIM's 7x7 window must fit.
MIN_IMAGE_SIDE = 7
_NUMERIC_KINDS = "biuf"  # bool, signed int, unsigned int, float
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
_PICKLE_SUFFIXES = {".p", ".pkl", ".pickle"}


class _CheckedArray:
    """Stand-in for numpy's ``_reconstruct``: builds the array itself from checked state."""

    def __init__(self, cls=None, shape=None, typecode=None):
        self.array = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise TorchannError("the pickle holds something other than a plain numpy array")
        _version, shape, dtype, fortran, raw = state
        self.array = _checked_array(raw, dtype, shape, "F" if fortran else "C")


def _checked_array(raw, dtype, shape, order) -> np.ndarray:
    """Build an array from a pickle's parts after checking every one of them."""
    if not isinstance(dtype, _DtypeSpec) or getattr(dtype, "dtype", None) is None:
        raise TorchannError("the pickled array is not numeric (allowed: bool, int, float)")
    dtype = dtype.dtype
    if not (isinstance(shape, tuple) and all(type(s) is int and s >= 0 for s in shape)):
        raise TorchannError("the pickled array has an invalid shape")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise TorchannError(f"the pickled array declares {count:,} elements, more than the "
                            f"{MAX_ELEMENTS:,} allowed; refusing to allocate it")
    if isinstance(raw, str):  # a Python 2 pickle read with encoding='latin1'
        raw = raw.encode("latin1")
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != count * dtype.itemsize:
        raise TorchannError("the pickled array's data does not match its shape")
    if order not in ("C", "F") or len(shape) > 32:
        raise TorchannError("the pickled array has an invalid layout")
    flat = np.frombuffer(bytes(raw), dtype=dtype)
    return flat.reshape(shape, order=order).copy()


class _DtypeSpec:
    """Stand-in for ``numpy.dtype`` in a pickle: a numeric type name and a byte order.

    numpy's own ``dtype.__setstate__`` never sees the file's data; the byte order is the
    only part of the pickled state that is used.
    """

    def __init__(self, spec=None, align=False, copy=True):
        dtype = None
        if isinstance(spec, str) and len(spec) <= 8:
            with contextlib.suppress(TypeError, ValueError):
                dtype = np.dtype(spec)
        if dtype is None or dtype.kind not in _NUMERIC_KINDS or dtype.shape or dtype.names:
            raise TorchannError(f"the pickle asks for dtype {str(spec)[:40]!r}; "
                                "only numeric arrays (bool, int, float) load")
        self.dtype = dtype

    def __setstate__(self, state):
        order = state[1] if isinstance(state, tuple) and len(state) > 1 else None
        if order not in ("<", ">", "|", "="):
            raise TorchannError("the pickled dtype has an invalid byte order")
        if getattr(self, "dtype", None) is not None and order != "|":
            self.dtype = self.dtype.newbyteorder(order)


def _checked_frombuffer(buf, dtype, shape, order):
    """Stand-in for numpy's ``_frombuffer`` (pickle protocol 5)."""
    result = _CheckedArray()
    result.array = _checked_array(buf, dtype, shape, order)
    return result


def _checked_encode(text, encoding="utf-8", errors="strict"):
    """Stand-in for ``_codecs.encode``, which Python 3 uses for bytes in protocol 2 pickles."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise TorchannError("the pickle calls _codecs.encode in a way no numpy array needs")
    return text.encode("latin1")


class SafeArrayUnpickler(pickle.Unpickler):
    """An unpickler that admits a plain numeric numpy array and nothing else.

    Only numpy's array reconstructors, ``numpy.ndarray``, ``numpy.dtype`` and the latin-1
    byte decoder of protocol 2 may be named, and each is replaced by a checked stand-in,
    so no callable from the file ever runs. Anything else (``os.system``, ``eval``,
    ``copyreg``, ``functools.partial``...) is refused.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _CheckedArray,
        ("numpy._core.multiarray", "_reconstruct"): _CheckedArray,
        ("numpy.core.numeric", "_frombuffer"): _checked_frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _checked_frombuffer,
        ("numpy", "ndarray"): _CheckedArray,  # only ever passed to _reconstruct
        ("numpy", "dtype"): _DtypeSpec,
        ("_codecs", "encode"): _checked_encode,
    }

    def find_class(self, module, name):
        try:
            return self._ALLOWED[(module, name)]
        except (KeyError, TypeError):
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
    """Read ``.npy`` bytes without pickle; refuse object arrays, huge shapes and short data.

    The header is checked against the bytes that follow it before anything is allocated.
    """
    import warnings

    buf = io.BytesIO(data)
    fmt = np.lib.format
    readers = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # odd escapes in a header would warn on stderr
            version = fmt.read_magic(buf)
            if version not in readers:  # 3.0 exists only for structured dtypes
                raise ValueError(version)
            shape, fortran, dtype = readers[version](buf)
    except Exception:
        raise TorchannError("the file is not a valid .npy array; check the file") from None
    if dtype.kind not in _NUMERIC_KINDS or dtype.shape or dtype.names:
        raise TorchannError(f"the .npy array has dtype {dtype}; only numeric arrays "
                            "(bool, int, float) load")
    count = math.prod(shape)
    if count > MAX_ELEMENTS:
        raise TorchannError(f"the .npy array declares shape {shape}, too large to load "
                            f"({MAX_ELEMENTS:,} values at most)")
    offset = buf.tell()
    if len(data) - offset < count * dtype.itemsize:
        raise TorchannError(f"the .npy file is truncated or corrupt: its header declares "
                            f"{count * dtype.itemsize:,} bytes of data, it holds "
                            f"{max(len(data) - offset, 0):,}; check the file")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran else "C").copy()


@contextlib.contextmanager
def open_image(data: bytes):
    """Open PNG/JPEG bytes with Pillow, safely, as a context manager yielding the image.

    Only Pillow's PNG and JPEG decoders are tried, whatever the bytes claim to be, and the
    size in the header is checked before any pixel is decoded. Decoding the pixels inside
    the ``with`` block is guarded too: a truncated or corrupt file, and Pillow's warnings,
    become one :class:`~torchann.errors.TorchannError`.

    Examples
    --------
    >>> with open_image(data) as im:  # doctest: +SKIP
    ...     pixels = np.asarray(im.convert("RGB"))
    """
    import warnings

    from PIL import Image

    if not data:
        raise TorchannError("the image file is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nothing but our own one line reaches stderr
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
            width, height = im.size  # read from the header; no pixel decoded yet
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TorchannError("the image declares more pixels than a loader accepts "
                                f"({MAX_ELEMENTS:,} at most); refusing to decode it") from None
        except Exception:
            raise TorchannError("the file is not a readable PNG or JPEG image") from None
        if width * height > MAX_ELEMENTS:
            raise TorchannError(f"the image is {width}x{height} pixels, more than the "
                                f"{MAX_ELEMENTS:,} a loader accepts; refusing to decode it")
        try:
            yield im
        except TorchannError:
            raise
        except Exception:
            raise TorchannError("the image is truncated or corrupt; check the file") from None


def load_image_array(data: bytes) -> np.ndarray:
    """Decode PNG/JPEG bytes to a grayscale float image in [0, 1] (see :func:`open_image`)."""
    from skimage import color, util

    with open_image(data) as im:
        if im.mode in ("1", "L", "I;16", "I;16B", "I;16L"):
            img = np.asarray(im)
        elif im.mode == "I":  # 16-bit PNG on older Pillow
            img = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
        elif im.mode == "LA":
            img = np.asarray(im.convert("L"))
        else:
            img = np.asarray(im.convert("RGB"))
    if img.ndim == 3:
        img = color.rgb2gray(img)
    if img.ndim != 2:
        raise TorchannError(f"the image has shape {img.shape}; expected a 2-D picture")
    return util.img_as_float64(img)


def read_input_bytes(path) -> bytes:
    """Read an input file's bytes after checking that it is a regular file of a sane size."""
    path = Path(path)
    if path.is_dir():
        raise TorchannError(key="file.folder", path=path)
    if path.exists() and not path.is_file():
        raise TorchannError(key="file.not_regular", path=path)
    if not path.is_file():
        raise TorchannError(key="file.missing", path=path)
    try:
        if path.stat().st_size > MAX_ELEMENTS * 8 + 2**20:
            raise TorchannError(f"{path}: the file is larger than any array a loader accepts "
                                f"({MAX_ELEMENTS:,} values); refusing to read it")
        return path.read_bytes()
    except OSError as err:
        raise TorchannError(key="file.unreadable", path=path, reason=err.strerror) from None


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
    data = read_input_bytes(path)
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


def as_image(array, shape=None, min_side=MIN_IMAGE_SIDE) -> np.ndarray:
    """Return ``array`` as a 2-D image.

    A flat vector becomes square when its length is a perfect square, or takes ``shape``.

    Parameters
    ----------
    array : ndarray
        1-D or 2-D.
    shape : (int, int), optional
        Height and width for a flat vector.
    min_side : int
        The smallest height and width accepted (default :data:`MIN_IMAGE_SIDE`): a smaller
        picture holds too little to restore or to compare with SSIM.

    Raises
    ------
    TorchannError
        When the shape does not fit, the data is neither 1-D nor 2-D, or the image is
        smaller than ``min_side`` on a side.
    """
    array = np.asarray(array)
    if shape is not None:
        if len(shape) != 2:
            raise TorchannError(f"`shape` takes two numbers, H and W, not {len(shape)}")
        h, w = (int(s) for s in shape)
        if h <= 0 or w <= 0:
            raise TorchannError(f"`shape={h} {w}`: both sizes must be positive")
        if array.size != h * w:
            raise TorchannError(f"`shape={h} {w}` needs {h * w} values but the data has "
                                f"{array.size}; give the right `shape`")
        image = array.reshape(h, w)
    elif array.ndim == 2:
        image = array
    elif array.ndim == 1:
        side = math.isqrt(array.size)
        if side * side != array.size:
            raise TorchannError(f"a flat vector of {array.size} values is not a square image; "
                                "give its size with `shape=H W`")
        image = array.reshape(side, side)
    else:
        raise TorchannError(f"the data has shape {array.shape}; "
                            "expected a 2-D image or a flat vector")
    if min(image.shape) < min_side:
        h, w = image.shape
        raise TorchannError(f"the image is {h}x{w} pixels; at least {min_side}x{min_side} "
                            "are needed to restore it")
    return image
