"""``torchann restore`` with several photos or a folder: one folder each, one table."""

import json
import os

import numpy as np
import pytest
from PIL import Image

from torchann import cli
from torchann.commands import _restore_many as many

SPEC = "blur:gaussian,sigma=1.5"


def save_photo(path, seed):
    from scipy.ndimage import gaussian_filter
    from skimage import data

    rng = np.random.default_rng(seed)
    photo = data.astronaut()[seed * 40:seed * 40 + 48, 100:148] / 255.0
    blurred = np.stack([gaussian_filter(photo[..., c], 1.5) for c in range(3)], -1)
    noisy = np.clip(blurred + 0.01 * rng.standard_normal(blurred.shape), 0, 1)
    Image.fromarray((noisy * 255).round().astype(np.uint8)).save(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    save_photo(root / "a.png", 0)
    save_photo(root / "b.jpg", 1)
    (root / "broken.png").write_bytes(b"not a png at all")
    (root / "notes.txt").write_text("not a photo")
    return root


def test_a_failing_photo_among_many_is_reported_and_the_others_finish(folder, tmp_path,
                                                                       capsys):
    out = tmp_path / "out"
    status = cli.main(["restore", str(folder), "--corruption", SPEC, "--out", str(out)])
    captured = capsys.readouterr()
    assert status == many.FAILED_STATUS == 1
    record = json.loads((out / "photos.json").read_text())
    rows = record["photos"]
    cpus = len(os.sched_getaffinity(0))
    assert record["jobs"] == min(3, cpus) and record["threads_per_job"] >= 1
    assert [r["status"] for r in rows] == ["ok", "ok", "failed"]  # a, b, broken; no .txt
    for name in ("a", "b"):
        restored = np.load(out / name / "restored.npy")
        assert restored.shape == (48, 48, 3)  # colour, each in its own folder
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["prior"] == "tv" and summary["colour"] is True
    assert not (out / "broken").exists()
    table = captured.out.splitlines()
    assert table[0].split()[:2] == ["photo", "status"]
    assert any(line.startswith("broken.png") and "failed" in line for line in table)
    assert "2 of 3 photos restored" in captured.out
    assert "broken.png" in captured.err and "Traceback" not in captured.err


def test_files_with_the_same_name_get_folders_of_their_own(folder, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    save_photo(other / "a.png", 2)
    out = tmp_path / "out"
    status = cli.main(["restore", str(folder / "a.png"), str(other / "a.png"), "--corruption",
                       SPEC, "--out", str(out), "--quiet"])
    assert status == 0
    first, second = np.load(out / "a" / "restored.npy"), np.load(out / "a-2" / "restored.npy")
    assert first.shape == second.shape == (48, 48, 3) and not np.allclose(first, second)
    assert "2 of 2 photos restored" in capsys.readouterr().out


def test_out_names_and_photo_paths(folder):
    assert many.out_names([folder / "x.png", folder / "x.jpg", folder / "y.png"]) == [
        "x", "x-2", "y"]
    assert [p.name for p in many.photo_paths([str(folder)])] == ["a.png", "b.jpg",
                                                                 "broken.png"]
    assert many.is_many([str(folder)]) and many.is_many(["a", "b"])
    assert not many.is_many(["a.png"]) and not many.is_many([])


@pytest.mark.parametrize("extra, words", [(["--reference", "r.png"], "--reference"),
                                          (["--shape", "4", "4"], "--shape")])
def test_options_for_one_image_are_refused_with_many(folder, tmp_path, capsys, extra, words):
    status = cli.main(["restore", str(folder), "--corruption", SPEC, "--out",
                       str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("torchann: error:") and words in err


def test_an_empty_folder_is_a_users_mistake(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    status = cli.main(["restore", str(tmp_path / "empty"), "--corruption", SPEC])
    assert status == 2 and "holds no photo" in capsys.readouterr().err
