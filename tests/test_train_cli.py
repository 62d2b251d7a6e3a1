"""'torchann train' and 'torchann predict': the chapter's run, a user's CSV, and the errors."""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

from torchann import classify as clf
from torchann.classify import load_model
from torchann.cli import main

pytestmark = pytest.mark.slow

FAST = ["--preset", "fast", "--log-every", "0"]



def cli(*args):
    """Run the CLI in a subprocess; return (status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "torchann", *map(str, args)],
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_error(status, stderr, pattern):
    lines = stderr.strip().splitlines()
    assert status == 2
    assert len(lines) == 1 and lines[0].startswith("torchann: error:"), stderr
    assert "Traceback" not in stderr
    assert re.search(pattern, lines[0]), lines[0]


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """The chapter's run with every default, through the real command line."""
    out = tmp_path_factory.mktemp("train")
    status, stdout, stderr = cli("train", "--out", out)
    assert status == 0, stderr
    return out, stdout


def test_default_run_is_the_chapters(seed_run):
    out, stdout = seed_run
    logs = re.findall(r"^Train loss at (\d+) is ([0-9.e-]+)$", stdout, re.M)
    assert [int(e) for e, _ in logs] == list(range(0, 2000, 100))
    assert re.search(r"^Before training, test loss is", stdout, re.M)
    assert re.search(r"^Test accuracy: [0-9.]+% \(\d+/20\); confusion", stdout, re.M)
    for name in ("model.pt", "model.json", "data.png", "boundary.png", "loss.png",
                 "metrics.json"):
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_loss_after"] < metrics["test_loss_before"]
    assert metrics["epochs"] == 2000 and metrics["n_train"] == 80 and metrics["n_test"] == 20
    assert metrics["config"]["optimizer"] == "sgd" and metrics["config"]["lr"] == 0.03
    c = metrics["confusion"]
    assert metrics["test_accuracy"] == pytest.approx((c["tn"] + c["tp"]) / 20)
    # the chapter's own loading code reads model.pt
    model = clf.NeuralNet(2, 5)
    model.load_state_dict(torch.load(out / "model.pt"))


def test_predict_the_chapters_point(seed_run):
    out, _ = seed_run
    status, stdout, stderr = cli("predict", "--model", out / "model.pt", "-1", "1")
    assert status == 0, stderr
    assert float(stdout) > 0.9


def test_same_seed_same_metrics_other_seed_other_data(tmp_path, capsys):
    runs = []
    for i, seed in enumerate((3, 3, 4)):
        assert main(["train", "--seed", str(seed), "--epochs", "30", "--lr", "0.1",
                     "--log-every", "0", "--out", str(tmp_path / str(i))]) == 0
        metrics = json.loads((tmp_path / str(i) / "metrics.json").read_text())
        metrics.pop("seconds")
        runs.append(metrics)
    capsys.readouterr()
    assert runs[0] == runs[1]
    assert runs[0]["test_loss_before"] != runs[2]["test_loss_before"]


def test_interrupted_training_writes_nothing(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    import torchann.classify.train

    monkeypatch.setattr(torchann.classify.train, "fit", interrupted)
    assert main(["train", "--out", str(tmp_path / "o")]) == 130
    assert list((tmp_path / "o").iterdir()) == []
    assert "no files were written" in capsys.readouterr().err


def _write_csv(path, rng, n=60):
    """Two features on very different scales; the label depends on both."""
    height = rng.normal(170, 10, n)
    dose = rng.normal(0.02, 0.005, n)
    sick = np.where((height - 170) / 10 + (dose - 0.02) / 0.005 > 0, "yes", "no")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "height", "dose", "sick"])
        for i in range(n):
            w.writerow([f"p{i}", f"{height[i]:.2f}", f"{dose[i]:.5f}", sick[i]])
    return path


def test_csv_train_predict_applies_the_scaling(tmp_path, capsys):
    data = _write_csv(tmp_path / "people.csv", np.random.default_rng(0))
    out = tmp_path / "out"
    assert main(["train", "--data", str(data), "--label", "sick", "--out", str(out),
                 *FAST]) == 0
    assert "Data: id: skipped, text with more than 20 distinct values" in capsys.readouterr().out
    info = json.loads((out / "model.json").read_text())
    assert info["features"] == ["height", "dose"]
    assert info["label_map"] == {"no": 0, "yes": 1}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_test"] == 12 and metrics["test_accuracy"] >= 0.75

    loaded = load_model(out / "model.pt")
    point = [170.0, 0.02]  # near the boundary once scaled; far off it in raw units
    columns = info["encoder"]["columns"]
    mean, scale = np.array([c["mean"] for c in columns]), np.array([c["scale"] for c in columns])
    scaled = ((np.array([point]) - mean) / scale).astype(np.float32)
    want = clf.predict_proba(loaded.model, scaled)[0]
    raw = clf.predict_proba(loaded.model, np.array([point], dtype=np.float32))[0]
    assert main(["predict", "--model", str(out / "model.pt"), *map(str, point)]) == 0
    got = float(capsys.readouterr().out)
    assert got == pytest.approx(want, abs=1e-6)
    assert not math.isclose(want, raw, abs_tol=1e-3)  # the scaling matters for this point

    # predict --csv: every row, original columns kept, original label values
    result = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(out / "model.pt"), "--csv", str(data),
                 "--output", str(result)]) == 0
    rows = list(csv.DictReader(result.open()))
    assert list(rows[0]) == ["id", "height", "dose", "sick", "probability", "label"]
    assert len(rows) == 60
    assert {r["label"] for r in rows} <= {"yes", "no"}
    for r in rows:
        assert (float(r["probability"]) >= 0.5) == (r["label"] == "yes")
    assert np.mean([r["label"] == r["sick"] for r in rows]) >= 0.75
    status, stdout, stderr = cli("predict", "--model", out / "model.pt", "--csv", data)
    assert status == 0 and stdout.splitlines()[0].endswith("probability,label")
    status, _, stderr = cli("predict", "--model", out / "model.pt", "--csv", data,
                            "--output", data)
    assert_one_error(status, stderr, "would overwrite an input")


@pytest.mark.parametrize("text,pattern", [
    ("a,b,y\n1,2,0\n1,x,1\n", r"line 3, column 'b': 'x' is not a number"),
    ("a,b,y\n1,2,0\n1,3,\n", r"line 3, column 'y': missing label"),
    ("a,b,y\n1,2,0\n1,3,0\n2,2,0\n", r"1 distinct value"),
    ("", r"empty"),
    ("a,b,y\n1,2,0\n1,3,1\n2,2,1\n", r"too few rows"),
])
def test_bad_csv_exits_2_with_one_line(tmp_path, text, pattern):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    status, _, stderr = cli("train", "--data", path, "--label", "y", "--out", tmp_path / "o")
    assert_one_error(status, stderr, pattern)


def test_missing_label_column_lists_the_columns(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n")
    status, _, stderr = cli("train", "--data", path, "--label", "kind")
    assert_one_error(status, stderr, r"no label column 'kind'; the columns are a, b, y")


def test_wrong_shape_state_dict_exits_2(tmp_path):
    state = clf.NeuralNet(2, 5).state_dict()
    state["linear_2.weight"] = torch.zeros(1, 4)
    torch.save(state, tmp_path / "model.pt")
    status, _, stderr = cli("predict", "--model", tmp_path / "model.pt", "-1", "1")
    assert_one_error(status, stderr, r"linear_2\.weight has shape \[1, 4\].*needs \[1, 5\]")


@pytest.mark.parametrize("args,pattern", [
    (["train", "--epochs", "0"], r"--epochs 0: must be a positive number"),
    (["train", "--hidden", "-2"], r"--hidden -2: must be a positive number"),
    (["train", "--lr", "0"], r"--lr 0.0: must be a positive number"),
    (["train", "--batch-size", "0"], r"--batch-size 0: must be a positive number"),
    (["train", "--lr", "1000", "--epochs", "50"], r"diverged.*lower --lr"),
    (["train", "--data", "x.csv"], r"--data needs --label"),
])
def test_bad_options_exit_2(tmp_path, args, pattern):
    status, _, stderr = cli(*args, "--out", tmp_path / "o")
    assert_one_error(status, stderr, pattern)


def test_predict_needs_the_right_number_of_values(seed_run):
    out, _ = seed_run
    status, _, stderr = cli("predict", "--model", out / "model.pt", "1", "2", "3")
    assert_one_error(status, stderr, r"takes 2 feature values \(x1, x2\), got 3")
