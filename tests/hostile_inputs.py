"""Hostile and broken input files, built in one place.

``tests/test_hostile_*.py``, ``tests/test_fuzz.py`` and ``benchmarks/robustness.py`` all take
their inputs from here, so the catalogue the tests check is the catalogue the benchmark counts.

Every payload pickle is *live*: loaded with a plain ``pickle.loads`` it creates the marker file
it is given (``tests/test_hostile_io.py`` proves it in a child process). Loaded through torchann
it must be refused, and the marker must not appear.
"""

from __future__ import annotations

import io
import pickle
import random
import shlex
import struct
import zlib
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------- pickle opcodes
# A tiny assembler for protocol-2 pickles, so that a payload can chain calls exactly as an
# attacker would write it by hand, independent of how this Python pickles anything.


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _str(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def _call(func: bytes, *args: bytes) -> bytes:
    """``func(*args)``: push the callable, a tuple of the arguments, and REDUCE."""
    return func + (b"(" + b"".join(args) + b"t" if args else b")") + b"R"


def _list(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"l"


def _tuple(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def _pickle(ops: bytes) -> bytes:
    return b"\x80\x02" + ops + b"."


def _touch_cmd(marker: Path) -> str:
    return f"touch {shlex.quote(str(marker))}"


class _SystemCall:
    """Pickles as ``os.system(cmd)``, the way a payload made with ``__reduce__`` looks."""

    def __init__(self, cmd: str):
        self.cmd = cmd

    def __reduce__(self):
        import os

        return (os.system, (self.cmd,))


def payloads(marker: Path) -> dict[str, bytes]:
    """Pickles that create ``marker`` when loaded by an unrestricted unpickler.

    Parameters
    ----------
    marker : Path
        The file each payload would create. It must not exist after torchann reads them.

    Returns
    -------
    dict of str to bytes
        Payload name to pickle bytes.
    """
    m = str(marker)
    touch = _touch_cmd(marker)

    def wait(popen_ops: bytes) -> bytes:  # getattr(Popen(...), "wait")(): synchronous
        return _call(_call(_global("builtins", "getattr"), popen_ops, _str("wait")))

    popen = _call(_global("subprocess", "Popen"), _list(_str("touch"), _str(m)))
    return {
        "os.system (__reduce__)": pickle.dumps(_SystemCall(touch), protocol=4),
        "os.system (opcodes)": _pickle(_call(_global("os", "system"), _str(touch))),
        "subprocess.Popen": _pickle(wait(popen)),
        "builtins.eval": _pickle(_call(_global("builtins", "eval"),
                                       _str(f"open({m!r}, 'w').close()"))),
        "builtins.exec": _pickle(_call(_global("builtins", "exec"),
                                       _str(f"import pathlib; pathlib.Path({m!r}).touch()"))),
        "copyreg._reconstructor": _pickle(wait(_call(
            _global("copyreg", "_reconstructor"), _global("subprocess", "Popen"),
            _global("subprocess", "Popen"), _list(_str("touch"), _str(m))))),
        "functools.partial": _pickle(_call(_call(_global("functools", "partial"),
                                                 _global("os", "system"), _str(touch)))),
        "inside a numpy array pickle": _pickle(_call(
            _global("numpy.core.multiarray", "_reconstruct"), _global("numpy", "ndarray"),
            _tuple(b"K\x00"), _call(_global("os", "system"), _str(touch)))),
        "numpy object array": pickle.dumps(
            np.array([_SystemCall(touch), 1.0], dtype=object), protocol=4),
    }


# --------------------------------------------------------------------------- arrays as pickles


class _CraftedArray:
    """Pickles exactly like a numpy array, but with whatever shape, dtype and data we say."""

    def __init__(self, shape, dtype, raw, fortran=False):
        self.state = (1, tuple(shape), np.dtype(dtype), fortran, raw)

    def __reduce__(self):
        from numpy._core.multiarray import _reconstruct

        return (_reconstruct, (np.ndarray, (0,), b"b"), self.state)


def array_pickle(shape, dtype="f8", raw=b"", fortran=False, protocol=4) -> bytes:
    """A numpy-array pickle whose header declares ``shape`` and ``dtype`` over ``raw`` bytes."""
    return pickle.dumps(_CraftedArray(shape, dtype, raw, fortran), protocol=protocol)


def good_array(n=64, seed=0) -> np.ndarray:
    """A small valid image-shaped vector (``n`` must be a square)."""
    return np.random.default_rng(seed).random(n)


def broken_pickles() -> dict[str, bytes]:
    """Pickles that are not a plain numeric array, or not a pickle at all."""
    good = pickle.dumps(good_array(), protocol=4)
    rng = random.Random(0)
    return {
        "list": pickle.dumps([1.0, 2.0, 3.0, 4.0]),
        "dict": pickle.dumps({"image": [1.0, 2.0]}),
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "random bytes": rng.randbytes(512),
        "random bytes after a pickle header": b"\x80\x04" + rng.randbytes(512),
        "huge declared shape (10**12,)": array_pickle((10**12,), "f8", b"\x00" * 8),
        "huge declared shape (2**40, 2**40)": array_pickle((2**40, 2**40), "f8", b"\x00" * 8),
        "negative shape": array_pickle((-1,), "f8", b"\x00" * 8),
        "data shorter than shape": array_pickle((100,), "f8", b"\x00" * 8),
        "complex dtype": pickle.dumps(np.array([1j, 2j, 3j, 4j]), protocol=4),
        "string dtype": pickle.dumps(np.array(["a", "b", "c", "d"]), protocol=4),
        "bytes dtype": pickle.dumps(np.array([b"a", b"b"]), protocol=4),
        "datetime dtype": pickle.dumps(np.array(["2020-01-01"], dtype="M8[D]"), protocol=4),
        "structured dtype": pickle.dumps(np.zeros(4, dtype=[("a", "f8"), ("b", "i4")]),
                                         protocol=4),
        "object dtype of numbers": pickle.dumps(np.array([1.0, 2.0], dtype=object), protocol=4),
        "numpy scalar": pickle.dumps(np.float64(1.0), protocol=4),
        "deeply nested lists": b"\x80\x02" + b"]" * 100_000 + b".",
        "NaN values": pickle.dumps(np.array([1.0, np.nan, 0.0, 1.0]), protocol=4),
        "inf values": pickle.dumps(np.array([1.0, np.inf, 0.0, -np.inf]), protocol=4),
        "persistent id": b"\x80\x02X\x01\x00\x00\x00aQ.",
    }


# --------------------------------------------------------------------------- .npy files


def npy_bytes(array, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def npy_header(shape, descr="<f8", data=b"\x00" * 8) -> bytes:
    """A ``.npy`` file whose header declares ``shape`` over a few bytes of data."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": tuple(shape)})
    return buf.getvalue() + data


def broken_npys(marker: Path) -> dict[str, bytes]:
    """``.npy`` files that must be refused; the object one would create ``marker``."""
    good = npy_bytes(good_array())
    return {
        "object dtype with a payload": npy_bytes(
            np.array([_SystemCall(_touch_cmd(marker)), 1.0], dtype=object), allow_pickle=True),
        "object dtype of numbers": npy_bytes(np.array([1.0, 2.0], dtype=object),
                                             allow_pickle=True),
        "huge declared shape": npy_header((10**12,)),
        "large declared shape over 8 bytes": npy_header((40_000_000,)),
        "truncated": good[: len(good) - 100],
        "header only": good[:128],
        "bad magic": b"\x93NUMPZ" + good[6:],
        "complex dtype": npy_bytes(np.array([1j, 2j])),
        "string dtype": npy_bytes(np.array(["a", "b"])),
        "structured dtype": npy_bytes(np.zeros(4, dtype=[("a", "f8"), ("b", "i4")])),
        "NaN values": npy_bytes(np.array([0.0, np.nan, 1.0, 1.0])),
        "inf values": npy_bytes(np.array([0.0, np.inf, 1.0, 1.0])),
        "empty array": npy_bytes(np.zeros(0)),
    }


def shape_mismatches() -> dict[str, tuple[bytes, tuple | None]]:
    """Valid ``.npy`` arrays that cannot be an image: (bytes, --shape or None)."""
    return {
        "3-D data": (npy_bytes(np.zeros((8, 8, 3))), None),
        "flat vector that is not a square": (npy_bytes(np.zeros(50)), None),
        "wrong --shape length": (npy_bytes(np.zeros(64)), (9, 9)),
        "non-positive --shape": (npy_bytes(np.zeros(64)), (-8, -8)),
        "1x1 array": (npy_bytes(np.zeros((1, 1))), None),
        "too small (5x5)": (npy_bytes(np.zeros(25)), None),
    }


# --------------------------------------------------------------------------- images


def png_bytes(width, height, mode="L") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (width, height)).save(buf, format="PNG")
    return buf.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_declaring(width, height) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` over a tiny compressed stream."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + _png_chunk(b"IEND", b""))


def broken_images() -> dict[str, tuple[str, bytes]]:
    """Image files that must be refused: name to (suffix, bytes)."""
    good = png_bytes(32, 32)
    from PIL import Image

    gif = io.BytesIO()
    Image.new("L", (16, 16)).save(gif, format="GIF")
    jpg = io.BytesIO()
    Image.new("RGB", (32, 32)).save(jpg, format="JPEG")
    return {
        "text file named .png": (".png", b"this is not an image\n"),
        "PNG signature then garbage": (".png", b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20),
        "zero-byte image": (".png", b""),
        "1x1 image": (".png", png_bytes(1, 1)),
        "truncated PNG": (".png", good[: len(good) // 2]),
        "truncated JPEG": (".jpg", jpg.getvalue()[:200]),
        "GIF named .png": (".png", gif.getvalue()),
        "PostScript named .png": (".png", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
                                  b"(x) print\n"),
        "decompression bomb (20000x20000)": (".png", png_declaring(20000, 20000)),
        "decompression bomb (10000x10000)": (".png", png_declaring(10000, 10000)),
    }


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/name`` and return the path."""
    path = Path(folder) / name
    path.write_bytes(data)
    return path


def slug(text: str) -> str:
    """A file-name-safe version of a case name."""
    return "".join(c if c.isalnum() else "_" for c in text).strip("_")[:60]


def python2_style_pickle(values) -> bytes:
    """A float64 array pickled the way Python 2's numpy did: its data as a ``str`` (BINSTRING).

    Python 3 reads it only with ``encoding='latin1'``; the seed's era of files looks like this.
    """
    raw = np.asarray(values, dtype="<f8").tobytes()
    dtype = (_call(_global("numpy", "dtype"), b"U\x02f8", b"K\x00", b"K\x01")
             + _tuple(b"K\x03", b"U\x01<", b"N", b"N", b"N", b"J\xff\xff\xff\xff",
                      b"J\xff\xff\xff\xff", b"K\x00") + b"b")
    state = _tuple(b"K\x01", _tuple(b"M" + struct.pack("<H", len(values))), dtype,
                   b"\x89", b"T" + struct.pack("<i", len(raw)) + raw)
    ops = (_call(_global("numpy.core.multiarray", "_reconstruct"), _global("numpy", "ndarray"),
                 _tuple(b"K\x00"), b"U\x01b") + state + b"b")
    return _pickle(ops)
