"""Outputs: atomic writes, unusable output folders, inputs never overwritten.

A failure (a full disk, Ctrl-C) in the middle of a write leaves the earlier file as it was and
no temporary file behind; an unusable ``--out`` is one clear error.
"""

import contextlib
import errno
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from torchann import io
from torchann.errors import TorchannError


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return fig


WRITERS = {
    "npy": ("x.npy", lambda p: io.save_npy(p, np.arange(1000.0))),
    "json": ("x.json", lambda p: io.save_json(p, {"a": list(range(100))})),
    "text": ("x.html", lambda p: io.save_text(p, "<html>" + "x" * 1000 + "</html>")),
    "png": ("x.png", lambda p: io.save_figure(_figure(), p)),
    "bytes": ("x.pt", lambda p: io.save_bytes(p, b"\x00" * 1000)),
}


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files left in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if ".part" in p.name or p.name.startswith("."))


def failing_write(exc):
    """A Path.write_bytes that writes half of the data, then fails with ``exc``."""
    real = Path.write_bytes

    def write_bytes(self, data):
        real(self, bytes(data)[: len(data) // 2])
        raise exc

    return write_bytes


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize("exc", [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
                                 KeyboardInterrupt()], ids=["disk full", "Ctrl-C"])
def test_failure_mid_write_keeps_the_earlier_file(tmp_path, monkeypatch, kind, exc):
    name, write = WRITERS[kind]
    target = tmp_path / name
    target.write_bytes(b"earlier output")
    monkeypatch.setattr(Path, "write_bytes", failing_write(exc))
    expected = TorchannError if isinstance(exc, OSError) else KeyboardInterrupt
    with pytest.raises(expected) as info:
        write(target)
    monkeypatch.undo()
    if expected is TorchannError:
        assert "No space left" in str(info.value) and str(target) in str(info.value)
    assert target.read_bytes() == b"earlier output"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_failed_rename_leaves_nothing(tmp_path, monkeypatch, kind):
    name, write = WRITERS[kind]

    def replace(src, dst):
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(TorchannError, match="cannot write"):
        write(tmp_path / name)
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", WRITERS)
def test_writers_produce_the_file_with_ordinary_permissions(tmp_path, kind):
    name, write = WRITERS[kind]
    write(tmp_path / name)
    mask = os.umask(0o022)
    os.umask(mask)
    assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~mask
    assert leftovers(tmp_path) == []


def test_writing_over_a_folder_is_a_clear_error(tmp_path):
    (tmp_path / "model.pt").mkdir()
    with pytest.raises(TorchannError, match="is a folder"):
        io.save_bytes(tmp_path / "model.pt", b"x")
    assert leftovers(tmp_path) == []


def test_out_that_is_a_file_is_refused(tmp_path):
    existing = tmp_path / "results"
    existing.write_text("keep me")
    with pytest.raises(TorchannError, match="is a file"):
        io.prepare_out_dir(existing)
    assert existing.read_text() == "keep me"


def test_out_below_a_file_is_refused(tmp_path):
    (tmp_path / "results").write_text("keep me")
    with pytest.raises(TorchannError, match="cannot create"):
        io.prepare_out_dir(tmp_path / "results" / "sub")


@contextlib.contextmanager
def unwritable_folder(path: Path):
    """Make ``path`` a folder its user cannot write into, or skip the test.

    As root, permission bits do not stop writes, so the folder is made immutable
    (``chattr +i``), which stops root too; where that is impossible the test is skipped.
    """
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root, where permissions do not stop writes, and no chattr")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("running as root, where permissions do not stop writes, and this "
                    "file system cannot make a folder immutable")
    try:
        yield path
    finally:
        subprocess.run([chattr, "-i", str(path)], check=True)


def test_unwritable_out_is_a_clear_error(tmp_path):
    with unwritable_folder(tmp_path / "locked") as locked:
        with pytest.raises(TorchannError, match="not writable"):
            io.prepare_out_dir(locked)
        with pytest.raises(TorchannError, match="cannot create the output folder"):
            io.prepare_out_dir(locked / "sub")
        with pytest.raises(TorchannError, match="cannot write"):
            io.save_json(locked / "summary.json", {})
        assert list(locked.iterdir()) == []


def test_an_input_is_never_an_output(tmp_path):
    image = tmp_path / "restored.npy"
    image.write_bytes(b"input")
    with pytest.raises(TorchannError, match="overwrite an input"):
        io.check_not_input([tmp_path / "restored.npy"], [str(image)])
    # the same file reached through another spelling of its path
    with pytest.raises(TorchannError, match="overwrite an input"):
        io.check_not_input([tmp_path / "sub" / ".." / "restored.npy"], [image])
    assert image.read_bytes() == b"input"


@pytest.mark.parametrize("argv", [
    ["restore", "--steps", "2"],
    ["train", "--epochs", "2"],
], ids=["restore", "train"])
@pytest.mark.parametrize("sub", ["", "sub"], ids=["locked", "below locked"])
def test_commands_refuse_an_unwritable_out(tmp_path, monkeypatch, argv, sub):
    import hostile_inputs as h

    monkeypatch.chdir(tmp_path)
    with unwritable_folder(tmp_path / "locked") as locked:
        status, out, err, crash = h.run_in_process([*argv, "--out", str(locked / sub)])
        assert crash is None, crash
        assert status == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("torchann: error: ")
        assert "writ" in lines[0] or "cannot create" in lines[0]
        assert list(locked.iterdir()) == []


def test_predict_refuses_an_unwritable_output(tmp_path, monkeypatch):
    import hostile_inputs as h

    monkeypatch.chdir(tmp_path)
    model = h.write(tmp_path, "model.pt", h.torch_bytes(h.seed_state_dict()))
    rows = h.write(tmp_path, "rows.csv", b"a,b\n1,2\n")
    with unwritable_folder(tmp_path / "locked") as locked:
        status, out, err, crash = h.run_in_process(
            ["predict", "--model", str(model), "--csv", str(rows),
             "--output", str(locked / "p.csv")])
        assert crash is None, crash
        assert status == 2 and err.startswith("torchann: error: cannot write"), err
        assert list(locked.iterdir()) == []


SOURCE = Path(__file__).resolve().parents[1] / "src" / "torchann"
RAW_WRITE = re.compile(r"(?<!Image\.)(?<!webbrowser\.)open\(|write_text|write_bytes|"
                       r"savefig\(|np\.save\(|torch\.save\(|imsave|to_csv|json\.dump\(")
READ_MODE = re.compile(r"open\([^)]*, ['\"]rb?['\"]\)")


def test_every_output_goes_through_an_atomic_writer():
    """Outside io/writers.py, a file is only written into the temporary path of
    ``atomic_write``."""
    raw = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.relative_to(SOURCE).as_posix() == "io/writers.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RAW_WRITE.search(line) and "tmp" not in line and not READ_MODE.search(line):
                raw.append(f"{path.relative_to(SOURCE)}:{number}: {line.strip()}")
    assert raw == []


def _complete(path: Path) -> bool:
    """Whether ``path`` is a whole file of its kind."""
    import json

    data = path.read_bytes()
    if path.suffix == ".npy":
        return io.load_npy_array(data).size > 0
    if path.suffix == ".json":
        return isinstance(json.loads(data), dict)
    if path.suffix == ".png":
        return io.load_image_array(data).size > 0
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".pt":
        import torch

        return isinstance(torch.load(path, weights_only=True), dict)
    return True


@pytest.mark.parametrize("argv", [["restore", "--steps", "2"], ["train", "--epochs", "2"]],
                         ids=["restore", "train"])
@pytest.mark.slow
@pytest.mark.parametrize("nth", [1, 3])
def test_ctrl_c_between_output_files_leaves_only_whole_files(tmp_path, monkeypatch, argv, nth):
    """Ctrl-C while the outputs are being renamed into place: each file is the earlier
    one or a complete new one, never a part, and nothing temporary is left."""
    import hostile_inputs as h

    out = tmp_path / "out"
    status, _, err, crash = h.run_in_process([*argv, "--out", str(out)])
    assert status == 0, err + str(crash)
    earlier = {p.name: p.read_bytes() for p in out.iterdir()}
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == nth:
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    status, _, err, crash = h.run_in_process([*argv, "--out", str(out), "--seed", "7"])
    monkeypatch.undo()
    assert crash is None and status == 130, err
    said = err.strip().splitlines()[-1]  # after any warning about the result itself
    if nth == 1:
        assert said.startswith("torchann: interrupted") and "no files were written" in said
    else:
        assert said == ("torchann: interrupted while writing the outputs; "
                        f"{nth - 1} whole file(s) were written, no partial ones")
    assert leftovers(out) == []
    assert sorted(p.name for p in out.iterdir()) == sorted(earlier)
    for path in out.iterdir():
        assert path.read_bytes() == earlier[path.name] or _complete(path), path.name
