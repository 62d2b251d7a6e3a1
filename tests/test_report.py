"""report.html: content, escaping, self-containment, and a real browser loading it."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from browser_check import CHROMIUM_MISSING, chromium, inspect_page, screenshot  # noqa: E402

from torchann.io import figure_png, save_text  # noqa: E402
from torchann.report import Image, Section, format_value, png_data_uri, render_report  # noqa: E402


def _png(kind: str) -> bytes:
    fig, ax = plt.subplots(figsize=(3, 2.5))
    if kind == "image":
        ax.imshow(np.random.default_rng(0).random((20, 20)), cmap="gray")
        ax.axis("off")
    else:
        ax.semilogy(np.arange(1, 50), 1 / np.arange(1, 50))
    ax.set_title(kind)
    return figure_png(fig)


@pytest.fixture(scope="module")
def sections():
    return [
        Section("3.2 Restoration", text="Broken <image> & friends.\n\nSecond paragraph.",
                numbers=[("PSNR gd (dB)", 44.1234), ("PSNR cg (dB)", 95.87)],
                images=[Image("broken", _png("image")), Image("loss", _png("curve"))]),
        Section("3.3 Classifier", numbers=[("test loss before", 0.693147),
                                           ("test accuracy after", "100.0%")],
                images=[Image("boundary", _png("image"))]),
        Section("Notes only", text="No numbers, no images.",
                code=">>> x.view(2, 4)\nRuntimeError: shape '[2, 4]' is invalid <size 9>"),
    ]


def test_format_value():
    assert format_value(0.693147) == "0.6931"
    assert format_value(44.1234) == "44.12"
    assert format_value(2000) == "2000"
    assert format_value("100.0%") == "100.0%"


def test_png_data_uri_round_trips_and_refuses_other_bytes():
    png = _png("curve")
    uri = png_data_uri(png)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == png
    with pytest.raises(ValueError):
        png_data_uri(b"GIF89a not a png")


def test_page_content_order_and_escaping(sections):
    page = render_report("Demo <run> & co", sections, subtitle="torchann demo --seed 0")
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Demo &lt;run&gt; &amp; co</title>" in page
    assert "Broken &lt;image&gt; &amp; friends." in page
    assert "<image>" not in page
    assert page.count('<p class="text">') == 3
    assert "<pre>&gt;&gt;&gt; x.view(2, 4)\nRuntimeError:" in page
    # numbers, formatted, in a table
    for shown in ("44.12", "95.87", "0.6931", "100.0%", "PSNR gd (dB)"):
        assert f">{shown}<" in page
    # sections in the given order
    heads = re.findall(r"<h2>(.*?)</h2>", page)
    assert heads == ["3.2 Restoration", "3.3 Classifier", "Notes only"]
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert captions == ["broken", "loss", "boundary"]


def test_page_is_self_contained(sections):
    page = render_report("Self-contained", sections)
    sources = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    assert len(sources) == 3
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "<script" not in page
    assert "<style>" in page


@pytest.mark.browser
@pytest.mark.skipif(chromium() is None, reason=CHROMIUM_MISSING)
def test_report_in_headless_chromium(sections, tmp_path):
    page = save_text(tmp_path / "report.html", render_report("Browser check", sections))
    seen = inspect_page(page, tmp_path / "browser")
    images = seen["images"]
    assert len(images) == 3
    for img in images:
        assert img["complete"] and img["naturalWidth"] > 0 and img["naturalHeight"] > 0, img
        assert img["scheme"] == "data"
    for shown in ("Browser check", "3.2 Restoration", "44.12", "95.87", "0.6931", "100.0%",
                  "Broken <image> & friends.", "is invalid <size 9>"):
        assert shown in seen["text"]

    shot = screenshot(page, tmp_path / "screenshot.png", height=1600)
    from skimage.io import imread

    pixels = imread(shot)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1000
    assert pixels.std() > 10  # not a blank page


@pytest.mark.slow
def test_restore_writes_its_report(tmp_path):
    """`torchann restore` writes a smaller report.html: its comparison, loss curve and numbers."""
    out = tmp_path / "restore"
    done = subprocess.run([sys.executable, "-m", "torchann", "restore", "--method", "cg",
                           "--quiet", "--out", str(out)], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 2
    summary = json.loads((out / "summary.json").read_text())
    assert f">{format_value(summary['psnr'])}<" in page
    assert ">cg<" in page


@pytest.mark.slow
def test_train_writes_its_report(tmp_path):
    """`torchann train` writes a smaller report.html: data, boundary, loss and test metrics."""
    out = tmp_path / "train"
    done = subprocess.run([sys.executable, "-m", "torchann", "train", "--epochs", "100",
                           "--log-every", "0", "--out", str(out)], capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg"}, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert re.findall(r"<figcaption>(.*?)</figcaption>", page) == ["data.png", "boundary.png",
                                                                   "loss.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    for name in ("test_loss_before", "test_loss_after"):
        assert f">{format_value(metrics[name])}<" in page
    assert f">{metrics['test_accuracy']:.1%}<" in page
