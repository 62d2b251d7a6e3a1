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


# =========================================================================== the CLI catalogue
# Each case writes its files into a fresh folder and returns the command line. The expected
# answer is always the same: exit status 2, one line ``torchann: error: ...`` on stderr, no
# traceback, no marker file, no partial file, no output written and no input changed.

MARKER = "MARKER"  # the file every payload in a case's folder would create


class Case:
    """One hostile or broken input, run through the real command line.

    Parameters
    ----------
    klass : str
        The input class (one line of the benchmark's summary).
    name : str
        What is tried.
    build : callable
        ``build(folder) -> argv`` writes the case's files into ``folder`` and returns the
        arguments after ``torchann``.
    words : tuple of str
        Words the error line must contain (case-insensitive).
    """

    def __init__(self, klass, name, build, words=()):
        self.klass, self.name, self.build, self.words = klass, name, build, tuple(words)

    @property
    def id(self) -> str:
        return f"{self.klass}: {self.name}"

    def __repr__(self):
        return f"Case({self.id!r})"


def _restore(file_name, data, *extra):
    def build(folder):
        path = write(folder, file_name, data(folder) if callable(data) else data)
        return ["restore", str(path), "--steps", "2", "--out", str(folder / "out"), *extra]
    return build


def _restore_demo(*extra):
    def build(folder):
        return ["restore", "--steps", "2", "--out", str(folder / "out"), *extra]
    return build


def _train(*extra):
    def build(folder):
        return ["train", "--epochs", "2", "--out", str(folder / "out"), *extra]
    return build


CORRUPTIONS = '''
import torch

def good(x):
    return 0.5 * x + 0.1 * torch.roll(x, 1)

def raises(x):
    raise ValueError("boom")

def wrong_shape(x):
    return x[:-1] * 2

def wrong_dtype(x):
    return (x * 100).to(torch.int64)

def complex_output(x):
    return x * (1 + 1j)

def detached(x):
    return (x * 2).detach()

def through_numpy(x):
    return torch.from_numpy(x.detach().numpy() * 2)

def nan(x):
    return x * float("nan")

def explodes(x):
    return torch.exp(x * 1000)

def returns_none(x):
    return None

def returns_list(x):
    return x.tolist()

def no_arguments():
    return torch.zeros(1)

not_a_function = 3
'''


def _corruption(spec, files=None):
    """restore on a small valid image with ``--corruption spec`` ({dir} is the folder)."""
    def build(folder):
        write(folder, "corr.py", CORRUPTIONS.encode())
        for name, text in (files or {}).items():
            write(folder, name, text.encode())
        image = write(folder, "image.npy", npy_bytes(good_array()))
        return ["restore", str(image), "--steps", "2", "--out", str(folder / "out"),
                "--corruption", spec.format(dir=folder)]
    return build


def _csv(text, *extra, encoding="utf-8"):
    def build(folder):
        path = write(folder, "data.csv", text.encode(encoding) if isinstance(text, str) else text)
        return ["train", "--data", str(path), "--label", "y", "--epochs", "2",
                "--out", str(folder / "out"), *extra]
    return build


def _parquet(damage, columns=None, *extra):
    """train on a Parquet file of ``_csv_rows``' table with ``columns`` replaced, its bytes
    passed through ``damage``."""
    def build(folder):
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = {"a": [i % 7 + 0.5 for i in range(20)], "b": [i * 0.3 for i in range(20)],
                 "y": [i % 2 for i in range(20)], **(columns or {})}
        buf = io.BytesIO()
        pq.write_table(pa.table(table), buf)
        data = buf.getvalue()
        path = write(folder, "data.parquet", damage(data) if damage else data)
        return ["train", "--data", str(path), "--label", "y", "--epochs", "2",
                "--out", str(folder / "out"), *extra]
    return build


def _csv_rows(n=20, header="a,b,y", row=lambda i: f"{i % 7}.5,{i * 0.3:.2f},{i % 2}"):
    return header + "\n" + "\n".join(row(i) for i in range(n)) + "\n"


def seed_state_dict(hidden=5, inputs=2):
    """A state_dict with the chapter's NeuralNet keys and shapes."""
    import torch

    gen = torch.Generator().manual_seed(0)
    return {"linear_1.weight": torch.randn(hidden, inputs, generator=gen),
            "linear_1.bias": torch.randn(hidden, generator=gen),
            "linear_2.weight": torch.randn(1, hidden, generator=gen),
            "linear_2.bias": torch.randn(1, generator=gen)}


def torch_bytes(obj, zipfile=True) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=zipfile)
    return buf.getvalue()


def broken_models(marker: Path) -> dict[str, bytes]:
    """``.pt`` files that must be refused; the payloads would create ``marker``."""
    import torch

    good = torch_bytes(seed_state_dict())
    state = seed_state_dict()
    touch = _SystemCall(_touch_cmd(marker))
    nan = dict(state, **{"linear_2.bias": torch.tensor([float("nan")])})
    return {
        "truncated .pt": good[: len(good) // 2],
        "empty .pt": b"",
        "random bytes": random.Random(1).randbytes(2048),
        "zip that is not a model": _zip({"hello.txt": b"hello"}),
        ".pt carrying a pickle payload": torch_bytes(dict(state, extra=touch)),
        "legacy .pt carrying a pickle payload": torch_bytes(dict(state, extra=touch),
                                                            zipfile=False),
        "plain pickle payload named .pt": payloads(marker)["os.system (opcodes)"],
        "a tensor, not a state_dict": torch_bytes(torch.zeros(3)),
        "a list, not a state_dict": torch_bytes([1, 2, 3]),
        "wrong keys": torch_bytes({k.replace("linear_", "fc"): v for k, v in state.items()}),
        "a key missing": torch_bytes({k: v for k, v in state.items() if k != "linear_2.bias"}),
        "wrong shapes": torch_bytes(dict(state, **{"linear_2.weight": torch.zeros(1, 4)})),
        "3-D weight": torch_bytes(dict(state, **{"linear_1.weight": torch.zeros(5, 2, 1)})),
        "integer weights": torch_bytes(dict(state, **{"linear_1.bias": torch.zeros(5,
                                                                               dtype=torch.int64)})),
        "NaN weights": torch_bytes(nan),
        "values that are not tensors": torch_bytes({k: v.tolist() for k, v in state.items()}),
    }


def _zip(files: dict) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _predict(model_bytes, *args, point=("-1", "1")):
    """predict ``point`` with ``model_bytes`` (bytes, ``f(folder)`` or None: a valid model)."""
    def build(folder):
        data = model_bytes(folder) if callable(model_bytes) else model_bytes
        path = write(folder, "model.pt",
                     torch_bytes(seed_state_dict()) if data is None else data)
        return ["predict", "--model", str(path), *point, *args]
    return build


def _predict_csv(text, *args):
    def build(folder):
        model = write(folder, "model.pt", torch_bytes(seed_state_dict()))
        rows = write(folder, "rows.csv", text.encode() if isinstance(text, str) else text)
        return ["predict", "--model", str(model), "--csv", str(rows), *args]
    return build


def _predict_trained(damage):
    """predict with a model trained on a CSV, after ``damage(sidecar_path)``."""
    def build(folder):
        data = write(folder, "train.csv", _csv_rows(n=40).encode())
        status, _, err, crash = run_in_process(["train", "--data", str(data), "--label", "y",
                                                "--preset", "seed", "--epochs", "2",
                                                "--out", str(folder / "m")])
        if status != 0:
            raise RuntimeError(f"could not train the model the case needs: {err} {crash}")
        for extra in ("data.png", "boundary.png", "loss.png", "metrics.json"):
            (folder / "m" / extra).unlink(missing_ok=True)
        damage(folder / "m" / "model.json")
        return ["predict", "--model", str(folder / "m" / "model.pt"), "1", "2"]
    return build


def broken_psfs(marker: Path) -> dict[str, bytes]:
    """Blur kernels (``--psf``) that must be refused; the payload would create ``marker``."""
    return {
        "pickle payload": payloads(marker)["os.system (opcodes)"],
        "NaN": npy_bytes(np.full((3, 3), np.nan)),
        "3-D": npy_bytes(np.ones((3, 3, 3))),
        "1-D": npy_bytes(np.ones(9)),
        "even size": npy_bytes(np.ones((4, 4))),
        "zero sum": npy_bytes(np.array([[1.0, 0, -1.0]] * 3)),
        "negative sum": npy_bytes(-np.ones((3, 3))),
        "all zeros": npy_bytes(np.zeros((3, 3))),
        "infinite": npy_bytes(np.full((3, 3), np.inf)),
    }


def _blur(args):
    """restore a small valid image with a blur given by ``args(folder)``."""
    def build(folder):
        image = write(folder, "image.npy", npy_bytes(good_array(256)))
        return ["restore", str(image), "--steps", "2", "--out", str(folder / "out"),
                *args(folder)]
    return build


def _sparse_input(folder):
    path = folder / "huge.npy"
    with open(path, "wb") as f:
        f.write(npy_header((2**27,), data=b""))
        f.truncate(2**30)  # sparse: takes no disk space
    return ["restore", str(path), "--steps", "2", "--out", str(folder / "out")]


def _linked_output(folder):
    image = write(folder, "image.npy", npy_bytes(good_array()))
    (folder / "out").mkdir()
    (folder / "out" / "restored.npy").symlink_to(image)
    return ["restore", str(image), "--steps", "2", "--out", str(folder / "out")]


def _cli_catalogue() -> list[Case]:
    cases = []
    add = cases.append
    for name in payloads(Path(MARKER)):
        add(Case("pickle payloads", name,
                 _restore("image.p", lambda folder, name=name: payloads(folder / MARKER)[name]),
                 ["pickle"]))
    for name, data in broken_pickles().items():
        add(Case("broken pickles", name, _restore("image.p", data)))
    for name in broken_npys(Path(MARKER)):
        add(Case(".npy arrays", name, _restore(
            "image.npy", lambda folder, name=name: broken_npys(folder / MARKER)[name])))
    for name, (data, shape) in shape_mismatches().items():
        extra = ("--shape", *map(str, shape)) if shape else ()
        add(Case("arrays that are not an image", name, _restore("image.npy", data, *extra)))
    add(Case("arrays that are not an image", "--reference of another size",
             lambda folder: _restore("image.npy", npy_bytes(good_array()), "--reference",
                                     str(write(folder, "ref.npy", npy_bytes(np.zeros(81)))))(
                                         folder), ["reference"]))
    for name, (suffix, data) in broken_images().items():
        add(Case("images", name, _restore("image" + suffix, data)))
    add(Case("images", "a device instead of a file (/dev/zero)",
             lambda folder: ["restore", "/dev/zero", "--out", str(folder / "out")],
             ["regular file"]))
    add(Case("images", "a 1 GB (sparse) file", _sparse_input, ["larger"]))

    corr = "corruption functions"
    add(Case(corr, "module does not exist", _corruption("no_such_module_xyz:f"), ["no module"]))
    add(Case(corr, "function does not exist", _corruption("{dir}/corr.py:missing"),
             ["no function"]))
    add(Case(corr, "file does not exist", _corruption("{dir}/absent.py:f"), ["no such file"]))
    add(Case(corr, "not a module:function spec", _corruption("{dir}/corr.py"), ["expected"]))
    add(Case(corr, "not callable", _corruption("{dir}/corr.py:not_a_function"),
             ["not callable"]))
    add(Case(corr, "file with a syntax error",
             _corruption("{dir}/bad.py:f", {"bad.py": "def f(x:\n"}), ["SyntaxError"]))
    add(Case(corr, "file that raises on import",
             _corruption("{dir}/bad.py:f", {"bad.py": "raise RuntimeError('no')\n"}),
             ["RuntimeError"]))
    for func, words in [("raises", ["ValueError"]), ("wrong_shape", ["shape"]),
                        ("wrong_dtype", ["int64"]), ("complex_output", ["complex"]),
                        ("detached", ["differentiable"]), ("through_numpy", ["differentiable"]),
                        ("nan", ["NaN"]), ("explodes", ["infinite"]),
                        ("returns_none", ["NoneType"]), ("returns_list", ["list"]),
                        ("no_arguments", ["failed"])]:
        add(Case(corr, func.replace("_", " "), _corruption("{dir}/corr.py:" + func), words))
    add(Case(corr, "a library function that is not a corruption", _corruption("json:loads"),
             ["failed"]))

    blur = "blur models"
    for name in broken_psfs(Path(MARKER)):
        add(Case(blur, "--psf " + name, _blur(lambda folder, name=name: [
            "--psf", str(write(folder, "psf.npy" if "pickle" not in name else "psf.p",
                               broken_psfs(folder / MARKER)[name]))]),
                 ["pickle" if "pickle" in name else "psf"]))
    gauss = ["--corruption", "blur:gaussian,sigma=2"]
    for args, words in [(["--corruption", "blur:unknown"], ["unknown"]),
                        (["--corruption", "blur:gaussian,sigma=-1"], ["sigma"]),
                        (["--corruption", "blur:gaussian,sigma=abc"], ["sigma"]),
                        (["--corruption", "blur:gaussian,sigma=nan"], ["sigma"]),
                        (["--corruption", "blur:gaussian,colour=3"], ["colour"]),
                        (["--corruption", "blur:box,size=0"], ["size"]),
                        (["--corruption", "blur:box,size=100001"], ["size"]),
                        (["--corruption", "blur:gaussian,sigma=1e9"], ["size"]),
                        (["--corruption", "blur:motion,length=1e9"], ["length"]),
                        (["--corruption", "blur:motion,length=-3"], ["length"]),
                        (gauss + ["--noise", "-1"], ["--noise"]),
                        (gauss + ["--noise", "nan"], ["noise"]),
                        (gauss + ["--prior", "tv", "--weight", "-1"], ["--weight"]),
                        (gauss + ["--prior", "tv", "--weight", "abc"], ["--weight"]),
                        (gauss + ["--prior", "tv", "--weight", "auto", "--noise-level", "-1"],
                         ["--noise-level"]),
                        (gauss + ["--clip", "1,0"], ["--clip"]),
                        (gauss + ["--clip", "abc"], ["--clip"]),
                        (gauss + ["--prior", "wavelet"], ["--prior"]),
                        (gauss + ["--boundary", "wrap"], ["--boundary"])]:
        add(Case(blur, " ".join(args).replace("--corruption ", ""), _blur(lambda folder,
                                                                              args=args: args),
                 words))
    add(Case(blur, "--psf together with blur:gaussian", _blur(lambda folder: [
        "--psf", str(write(folder, "psf.npy", npy_bytes(np.ones((3, 3))))),
        "--corruption", "blur:gaussian"]), ["--psf"]))

    hyper = "hyperparameters"
    add(Case(hyper, "restore --lr 1e3 (diverges)",
             lambda folder: ["restore", "--lr", "1e3", "--steps", "200",
                             "--out", str(folder / "out")], ["diverged", "lr"]))
    for args, words in [(["--steps", "0"], ["--steps"]), (["--steps", "-5"], ["--steps"]),
                        (["--lr", "0"], ["--lr"]), (["--lr", "-1"], ["--lr"]),
                        (["--lr", "nan"], ["lr"]), (["--lr", "inf"], ["lr"]),
                        (["--tol", "-1"], ["--tol"]), (["--method", "newton"], ["--method"]),
                        (["--device", "tpu"], ["--device"]), (["--threads", "0"], ["thread"]),
                        (["--shape", "10"], ["--shape"]), (["--steps", "many"], ["--steps"])]:
        add(Case(hyper, "restore " + " ".join(args), _restore_demo(*args), words))
    add(Case(hyper, "train --lr 1e3 (diverges)",
             lambda folder: ["train", "--lr", "1e3", "--epochs", "200",
                             "--out", str(folder / "out")], ["diverged"]))
    for args, words in [(["--epochs", "0"], ["--epochs"]), (["--epochs", "-3"], ["--epochs"]),
                        (["--hidden", "0"], ["--hidden"]), (["--hidden", "-2"], ["--hidden"]),
                        (["--lr", "0"], ["--lr"]), (["--lr", "nan"], ["lr"]),
                        (["--lr", "inf"], ["lr"]),
                        (["--batch-size", "0"], ["--batch-size"]),
                        (["--optimizer", "rmsprop"], ["--optimizer"]),
                        (["--n-train", "0"], ["--n-train"]), (["--n-test", "-1"], ["--n-test"]),
                        (["--cluster-std", "-1"], ["--cluster-std"]),
                        (["--cluster-std", "nan"], ["cluster-std"]),
                        (["--log-every", "-1"], ["--log-every"]),
                        (["--threads", "0"], ["thread"]),
                        (["--optimizer", "lbfgs", "--batch-size", "8"], ["lbfgs"]),
                        (["--label", "y"], ["--data"])]:
        add(Case(hyper, "train " + " ".join(args), _train(*args), words))

    csv = "CSVs"
    # an empty or NaN feature cell is imputed (median and indicator); a label cell is not
    add(Case(csv, "empty label cell", _csv(_csv_rows().replace(",1\n", ",\n", 1)),
             ["missing"]))
    add(Case(csv, "NaN label cell", _csv(_csv_rows().replace(",1\n", ",nan\n", 1)), ["line"]))
    add(Case(csv, "inf cell", _csv(_csv_rows().replace("3.5,", "inf,", 1)), ["line"]))
    add(Case(csv, "text in a numeric column",
             _csv(_csv_rows().replace("3.5,", "three,", 1), "--features", "a,b"), ["three"]))
    add(Case(csv, "single class", _csv(_csv_rows(row=lambda i: f"{i},{i},1")), ["distinct"]))
    add(Case(csv, "three classes, --task binary",
             _csv(_csv_rows(row=lambda i: f"{i},{i},{i % 3}"), "--task", "binary"),
             ["3 distinct"]))
    add(Case(csv, "missing label column", _csv(_csv_rows(header="a,b,c")), ["label"]))
    add(Case(csv, "header only", _csv("a,b,y\n"), ["no data rows"]))
    add(Case(csv, "empty file", _csv(""), ["empty"]))
    add(Case(csv, "not UTF-8", _csv(_csv_rows(header="ä,b,y"), encoding="latin-1"),
             ["UTF-8"]))
    add(Case(csv, "duplicate column names", _csv(_csv_rows(header="a,a,y")), ["duplicate"]))
    add(Case(csv, "ragged row", _csv(_csv_rows() + "1,2\n"), ["fields"]))
    add(Case(csv, "too few rows to split", _csv(_csv_rows(n=3)), ["rows"]))
    add(Case(csv, "no feature columns", _csv(_csv_rows(header="a,b,y",
                                                       row=lambda i: f"x,z,{i % 2}")),
             ["numeric"]))
    add(Case(csv, "unknown --features", _csv(_csv_rows(), "--features", "a,zz"), ["zz"]))
    add(Case(csv, "--features names the label", _csv(_csv_rows(), "--features", "a,y"),
             ["label"]))
    add(Case(csv, "--test-size 1.5", _csv(_csv_rows(), "--test-size", "1.5"), ["--test-size"]))
    add(Case(csv, "a 200,000-character field",
             _csv(_csv_rows() + "1," + "2" * 200_000 + ",1\n"), ["field"]))
    add(Case(csv, "semicolons instead of commas", _csv(_csv_rows().replace(",", ";")),
             ["label"]))
    add(Case(csv, "binary file named .csv", _csv(b"\x00\x01\x02PK\x03\x04" * 50), []))
    add(Case(csv, "truncated Parquet", _parquet(lambda data: data[:len(data) // 2]),
             ["Parquet"]))
    add(Case(csv, "Parquet with a list column as a feature",
             _parquet(None, {"v": [[1, 2]] * 20}, "--features", "a,v"), ["v"]))
    add(Case(csv, "Parquet whose label holds one value",
             _parquet(None, {"y": [1] * 20}), ["distinct"]))
    add(Case(csv, "no such file",
             lambda folder: ["train", "--data", str(folder / "absent.csv"), "--label", "y",
                             "--out", str(folder / "out")], ["no such file"]))

    model = "model files"
    for name in broken_models(Path(MARKER)):
        add(Case(model, name, _predict(lambda folder, name=name:
                                       broken_models(folder / MARKER)[name]), ["model"]))
    add(Case(model, "CSV-trained model without its scaling file",
             _predict_trained(lambda side: side.unlink()), ["model.json"]))
    add(Case(model, "unreadable scaling file",
             _predict_trained(lambda side: side.write_bytes(b"{not json")), ["model.json"]))
    add(Case(model, "scaling file without the scaling",
             _predict_trained(lambda side: side.write_text('{"features": ["a", "b"]}')),
             ["standardiz"]))
    add(Case(model, "scaling file of another model",
             _predict_trained(lambda side: side.write_text(
                 '{"standardize": {"mean": [0, 0, 0], "scale": [1, 1, 1]}}')), ["model.json"]))
    add(Case(model, "no such model file",
             lambda folder: ["predict", "--model", str(folder / "absent.pt"), "-1", "1"],
             ["no such"]))
    add(Case(model, "model is a folder",
             lambda folder: ["predict", "--model", str(folder), "-1", "1"]))

    pred = "predict arguments"
    for args, words in [(["-1"], ["2 feature"]), (["-1", "1", "1"], ["2 feature"]),
                        ([], ["feature values"]), (["-1", "abc"], ["abc"]),
                        (["--", "nan", "1"], ["nan"]), (["--", "-1", "inf"], ["inf"]),
                        (["-1", "1", "--threshold", "2"], ["--threshold"]),
                        (["-1", "1", "--output", "x.csv"], ["--output"])]:
        add(Case(pred, "predict " + (" ".join(args) or "(no values)"),
                 _predict(None, *args, point=()), words))
    add(Case(pred, "--csv with a missing column",
             _predict_csv("a,c\n1,2\n", "--features", "a,b"), ["b"]))
    add(Case(pred, "--csv with text in a feature",
             _predict_csv("a,b\n1,two\n"), ["two"]))
    add(Case(pred, "--csv with a missing value", _predict_csv("a,b\n1,\n"), ["missing"]))
    add(Case(pred, "--csv header only", _predict_csv("a,b\n"), ["no data rows"]))
    add(Case(pred, "--csv not UTF-8", _predict_csv("ä,b\n1,2\n".encode("latin-1")),
             ["UTF-8"]))

    out = "outputs"
    add(Case(out, "restore --out is an existing file",
             lambda folder: ["restore", "--steps", "2",
                             "--out", str(write(folder, "results", b"keep me"))], ["file"]))
    add(Case(out, "train --out is an existing file",
             lambda folder: ["train", "--epochs", "2",
                             "--out", str(write(folder, "results", b"keep me"))], ["file"]))
    add(Case(out, "restore --out below a file",
             lambda folder: ["restore", "--steps", "2",
                             "--out", str(write(folder, "results", b"keep me") / "sub")]))
    add(Case(out, "restore would overwrite its input",
             lambda folder: ["restore", str(write(folder, "restored.npy",
                                                  npy_bytes(good_array()))),
                             "--steps", "2", "--out", str(folder)], ["overwrite"]))
    add(Case(out, "restore --out holds a link to its input", _linked_output, ["overwrite"]))
    add(Case(out, "restore would overwrite its --reference",
             lambda folder: ["restore", str(write(folder, "image.npy", npy_bytes(good_array()))),
                             "--reference", str(write(folder, "restored.npy",
                                                      npy_bytes(good_array()))),
                             "--steps", "2", "--out", str(folder)], ["overwrite"]))
    add(Case(out, "train would overwrite its CSV",
             lambda folder: ["train", "--data", str(write(folder, "metrics.json",
                                                          _csv_rows().encode())),
                             "--label", "y", "--epochs", "2", "--out", str(folder)],
             ["overwrite"]))
    add(Case(out, "predict --output is its --csv",
             lambda folder: _predict_csv("a,b\n1,2\n", "--output",
                                         str(folder / "rows.csv"))(folder), ["overwrite"]))
    add(Case(out, "predict --output is its model",
             lambda folder: _predict_csv("a,b\n1,2\n", "--output",
                                         str(folder / "model.pt"))(folder), ["overwrite"]))
    add(Case(out, "predict --output is a folder",
             lambda folder: _predict_csv("a,b\n1,2\n", "--output", str(folder))(folder),
             ["folder"]))
    return cases


def catalogue() -> list[Case]:
    """Every case of the CLI catalogue, in a stable order."""
    return _cli_catalogue()


# --------------------------------------------------------------------------- running a case


class Outcome:
    """What came back from one case, judged against the promise."""

    def __init__(self, case, argv, status, stdout, stderr, crash, before, after, folder):
        self.case, self.argv, self.status = case, argv, status
        self.stdout, self.stderr, self.crash = stdout, stderr, crash
        lines = stderr.strip().splitlines()
        self.line = lines[0] if len(lines) == 1 else stderr.strip()
        self.traceback = bool(crash) or "Traceback" in stdout + stderr
        self.foreign = any(p.name == MARKER for p in folder.rglob("*"))
        self.partial = sorted(name for name in after
                              if ".part" in name or Path(name).name.startswith("."))
        self.written = sorted(set(after) - set(before))
        self.changed = sorted(name for name in before if after.get(name) != before[name])
        self.missing_words = [w for w in case.words if w.lower() not in self.line.lower()]
        self.clear = (status == 2 and len(lines) == 1 and lines[0].startswith("torchann: error: ")
                      and not self.traceback and not self.missing_words)

    @property
    def ok(self) -> bool:
        return (self.clear and not self.foreign and not self.partial and not self.written
                and not self.changed)

    def explain(self) -> str:
        return (f"{self.case.id}\n  argv: {self.argv}\n  status: {self.status}\n"
                f"  stderr: {self.stderr.strip()[-3000:]}\n  missing words: {self.missing_words}"
                f"\n  foreign code ran: {self.foreign}\n  partial files: {self.partial}\n"
                f"  files written: {self.written}\n  inputs changed: {self.changed}\n"
                f"  crash: {self.crash}")


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` and a hash of its content."""
    import hashlib

    def fingerprint(path: Path) -> str:
        info = path.stat()
        if info.st_size > 2**26:  # a large (sparse) input: its size and time will do
            return f"{info.st_size}:{info.st_mtime_ns}"
        return hashlib.sha256(path.read_bytes()).hexdigest()

    return {str(p.relative_to(folder)): fingerprint(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def run_in_process(argv):
    """Run ``torchann argv`` in this process; return (status, stdout, stderr, crash)."""
    import contextlib
    import traceback

    from torchann.cli import main

    out, err = io.StringIO(), io.StringIO()
    crash = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 1
        except Exception:
            status, crash = None, traceback.format_exc()
    return status, out.getvalue(), err.getvalue(), crash


def run_subprocess(argv, cwd=None, timeout=300):
    """Run ``python -m torchann argv`` as a real process; return (status, stdout, stderr, None).

    The process speaks English (``TORCHANN_LANG=en``), whatever the locale: the judge reads
    the English ``torchann: error:`` line."""
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "torchann", *argv], capture_output=True,
                          text=True, cwd=cwd, timeout=timeout,
                          env={**os.environ, "TORCHANN_LANG": "en"})
    return proc.returncode, proc.stdout, proc.stderr, None


def prepare_case(case: Case, folder: Path):
    """Build ``case`` in ``folder`` (created); return its argv and the folder's snapshot."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    argv = case.build(folder)
    return argv, snapshot(folder)


def judge_case(case: Case, folder: Path, argv, before, result) -> Outcome:
    """Judge ``result`` = (status, stdout, stderr, crash) of a case prepared in ``folder``."""
    status, stdout, stderr, crash = result
    return Outcome(case, argv, status, stdout, stderr, crash, before, snapshot(folder),
                   Path(folder))


def run_case(case: Case, folder: Path, runner=run_in_process) -> Outcome:
    """Build ``case`` in ``folder`` (created), run it with ``runner`` and judge the outcome."""
    argv, before = prepare_case(case, folder)
    return judge_case(case, folder, argv, before, runner(argv))


# --------------------------------------------------------------------------- Ctrl-C

#: Long runs to interrupt: name -> (argv before --out, first log line's prefix, message pattern)
#: The signal goes after the log line of step 50, so the message must name a step >= 50.
INTERRUPTS = {
    "restore (gd)": (["restore", "--method", "gd", "--steps", "100000000", "--log-every", "25"],
                     "Loss at 50 ", r"interrupted at step ([5-9]\d|\d{3,})\b"),
    "train": (["train", "--epochs", "100000000", "--log-every", "25"],
              "Train loss at 50 ", r"interrupted at epoch ([5-9]\d|\d{3,})\b"),
}

#: What an earlier run left in --out; an interrupted run must leave it byte for byte.
EARLIER_OUTPUTS = {"restored.npy": b"earlier run", "model.pt": b"earlier model",
                   "summary.json": b"{}", "notes.txt": b"mine"}


class Interrupted:
    """The result of :func:`interrupt_run`."""

    def __init__(self, status, stderr, started, out_files, stray):
        self.status, self.stderr, self.started = status, stderr, started
        self.lines = stderr.strip().splitlines()
        self.out_files, self.stray = out_files, stray

    def problems(self, pattern) -> list[str]:
        """What broke the promise (an empty list when nothing did)."""
        import re

        found = []
        if not self.started:
            found.append("the loop never started")
        if self.status != 130:
            found.append(f"exit status {self.status}, not 130")
        if "Traceback" in self.stderr:
            found.append("a traceback")
        if len(self.lines) != 1 or not self.lines[0].startswith("torchann: interrupted"):
            found.append(f"stderr is not one 'torchann: interrupted' line: {self.stderr!r}")
        elif not re.search(pattern, self.lines[0]) or "no files were written" not in self.lines[0]:
            found.append(f"the line does not name the step and the files: {self.lines[0]!r}")
        if self.out_files != EARLIER_OUTPUTS:
            found.append(f"--out changed: {sorted(self.out_files)}")
        if self.stray:
            found.append(f"files written elsewhere: {self.stray}")
        return found


def terminal_signals():
    """In a child process: take Ctrl-C as a terminal's foreground job does.

    A test run started in the background by a shell inherits SIGINT ignored, and Python then
    keeps ignoring it, so the child would never see the Ctrl-C the test sends.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def interrupt_run(argv, prefix, folder: Path, limit=120.0) -> Interrupted:
    """Start ``torchann argv --out folder/out`` as a real process, wait until it logs a line
    starting with ``prefix``, send SIGINT as a terminal's Ctrl-C would, and collect the result.
    """
    import os
    import select
    import signal
    import subprocess
    import sys
    import time

    folder = Path(folder)
    out = folder / "out"
    out.mkdir(parents=True)
    for name, data in EARLIER_OUTPUTS.items():
        (out / name).write_bytes(data)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "torchann", *argv, "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=folder,
                            preexec_fn=terminal_signals)
    started, buf = False, b""
    try:
        end = time.monotonic() + limit
        while not started and time.monotonic() < end and proc.poll() is None:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                buf += chunk
                started = any(line.startswith(prefix.encode()) for line in buf.split(b"\n"))
        if started:
            proc.send_signal(signal.SIGINT)
        else:
            proc.kill()
        _, err = proc.communicate(timeout=limit)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    files = {p.name: p.read_bytes() for p in out.iterdir()}
    stray = sorted(p.name for p in folder.iterdir() if p.name != "out")
    return Interrupted(proc.returncode, err.decode(errors="replace"), started, files, stray)
