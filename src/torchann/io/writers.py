"""Atomic writers for every output.

Every output goes through :func:`atomic_write`: written to a temporary file in the same
folder and renamed into place, so an interrupted run never leaves a truncated file over
a good one. An output never overwrites an input (:func:`check_not_input`).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from torchann.errors import TorchannError


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

    Raises
    ------
    TorchannError
        When the file cannot be written (a read-only folder, a full disk, ``path`` is a
        folder...); nothing is left behind.
    """
    path = Path(path)
    if path.is_dir():
        raise TorchannError(key="io.writers.write_folder_choose", path=path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part" + path.suffix,
                                   dir=path.parent)
    except OSError as err:
        raise TorchannError(key="io.writers.cannot_write", path=path,
                            reason=err.strerror or err) from None
    tmp = Path(tmp)
    try:
        try:
            # mkstemp makes the file private (0600); give it the mode a plain open() would
            os.fchmod(fd, 0o666 & ~_umask())
        finally:
            os.close(fd)
        yield tmp
        os.replace(tmp, path)
        _written.append(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise TorchannError(key="io.writers.cannot_write", path=path,
                                reason=exc.strerror or exc) from None
        raise


#: Every file this process has put in place, in order (see :func:`written_files`).
_written: list[Path] = []


def written_files() -> list[Path]:
    """The outputs written so far by this process, so that Ctrl-C can say what is there."""
    return list(_written)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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


def state_dict_bytes(state) -> bytes:
    """A ``state_dict`` serialised by ``torch.save`` into bytes (for a download or a file)."""
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def new_figure(**kwargs):
    """A new matplotlib Figure: through pyplot when pyplot is in use, else a bare one.

    In a notebook or a session that called ``plt.show()`` the figure joins pyplot's as
    ``plt.subplots`` would make it; a command that only saves it as a PNG does not load
    pyplot (half a second) for it. Both draw the same pixels.
    """
    import sys

    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        return plt.figure(**kwargs)
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def figure_png(fig, dpi: int = 100, close: bool = True) -> bytes:
    """Render a matplotlib figure to PNG bytes and close it (``close=False`` keeps it open,
    e.g. for ``plt.show()`` under ``--show``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    if close and getattr(fig.canvas, "manager", None) is not None:  # pyplot's: let it go
        import matplotlib.pyplot as plt

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
        raise TorchannError(key="io.writers.out_file_folder", out=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TorchannError(key="io.writers.create_output_folder", out=out,
                            strerror=err.strerror) from None
    effective = os.access in os.supports_effective_ids  # root may still be refused
    if not os.access(out, os.W_OK | os.X_OK, effective_ids=effective):
        raise TorchannError(key="io.writers.output_folder_writable", out=out)
    return out


def check_not_input(outputs, inputs) -> None:
    """Refuse to write any of ``outputs`` over one of ``inputs`` (inputs are never overwritten)."""
    ins = {Path(p).resolve() for p in inputs if p}
    for p in outputs:
        if Path(p).resolve() in ins:
            raise TorchannError(key="io.writers.would_overwrite", path=p)
