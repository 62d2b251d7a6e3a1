"""`torchann demo`: the whole chapter in one command, its files, its summary and its report."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from browser_check import CHROMIUM_MISSING, chromium, inspect_page

pytestmark = pytest.mark.slow

FILES = ("tour.txt", "broken.png", "comparison.png", "restore-loss.png", "restored-gd.npy",
         "restored-cg.npy", "data.png", "boundary.png", "train-loss.png", "model.pt",
         "model.json", "summary.json", "report.html")


def _torchann(*args, cwd=None):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "torchann", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    done = _torchann("demo", "--out", str(out), "--seed", "0")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    return out, done.stdout, summary


def test_demo_writes_every_file(demo):
    out, _, _ = demo
    for name in FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not list(out.glob(".*.part*")), "temporary files left behind"


def test_demo_runs_each_section(demo):
    _, stdout, summary = demo
    # 3.1: the tour's facts, computed by torch
    assert summary["tensors"]["w_grad"] == 18.0
    assert "shape '[2, 4]' is invalid for input of size 9" in stdout
    # 3.2: the chapter's gd restores the picture; cg restores it better, side by side
    gd, cg = summary["restore"]["gd"], summary["restore"]["cg"]
    assert gd["steps"] == 20000
    assert gd["final_distance"] < 0.1 * 12  # far below the random start's distance
    assert cg["psnr"] > 60 and cg["psnr"] > gd["psnr"] > 10
    # 3.3: trained, saved, reloaded, asked about [-1, 1] (a label-1 blob)
    clf = summary["classifier"]
    assert clf["test_loss_after"] < clf["test_loss_before"]
    assert clf["test_accuracy_after"] >= 0.9
    assert clf["p_minus1_1"] > 0.5


def test_demo_summary_on_stdout(demo):
    out, stdout, summary = demo
    lines = stdout.strip().splitlines()
    assert len(lines) <= 20, "the summary should stay short"
    assert lines[0].startswith("torchann demo")
    assert f"PSNR {summary['restore']['cg']['psnr']:.1f} dB" in stdout
    assert f"P(label = 1 | [-1, 1]) = {summary['classifier']['p_minus1_1']:.4f}" in stdout
    assert str(out / "report.html") in stdout
    assert "Loss at" not in stdout  # no per-step log in the summary


def test_demo_model_loads_in_the_chapters_way(demo):
    import torch

    from torchann.classify import NeuralNet

    out, _, summary = demo
    model = NeuralNet(2, 5)
    model.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    model.eval()
    with torch.no_grad():
        p = model(torch.FloatTensor([-1, 1])).item()
    assert p == pytest.approx(summary["classifier"]["p_minus1_1"], abs=1e-6)


def test_demo_report_content(demo):
    out, _, summary = demo
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 6
    # in the order: broken, restored with PSNR, loss curves, data, boundary, test metrics
    order = ["The broken image", "PSNR against the original", "per step", "The data",
             "Decision boundary", "test loss before", "test accuracy after"]
    positions = [page.index(text) for text in order]
    assert positions == sorted(positions)


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason=CHROMIUM_MISSING)
def test_demo_report_in_headless_chromium(demo, tmp_path):
    out, _, summary = demo
    seen = inspect_page(out / "report.html", tmp_path)
    assert len(seen["images"]) == 6
    assert all(img["naturalWidth"] > 0 and img["scheme"] == "data" for img in seen["images"])
    clf = summary["classifier"]
    for number in (f"{summary['restore']['gd']['psnr']:.4g}",
                   f"{summary['restore']['cg']['psnr']:.4g}",
                   f"{clf['test_loss_before']:.4g}", f"{clf['test_loss_after']:.4g}",
                   f"{clf['test_accuracy_after']:.1%}", f"{clf['p_minus1_1']:.4g}"):
        assert number in seen["text"], number


def test_demo_out_is_a_file(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    done = _torchann("demo", "--out", str(target))
    assert done.returncode == 2
    assert done.stderr.startswith("torchann: error: ") and len(done.stderr.splitlines()) == 1
    assert target.read_text() == "not a folder"
