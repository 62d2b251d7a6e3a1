"""Baselines in every run: a constant and a linear model on the same split and features."""

import json

import numpy as np
import pytest

from torchann.classify import baselines
from torchann.classify.experiment import run_experiment
from torchann.classify.tasks import Task
from torchann.cli import main


def _linear_csv(path, n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    rows = "\n".join(f"{a:.5f},{b:.5f},{c}" for (a, b), c in zip(x, y))
    path.write_text("x1,x2,y\n" + rows + "\n")
    return path


def test_classification_baselines_are_the_majority_and_a_logistic_regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] > 0.3).astype(np.float32)
    task = Task("binary", ["0", "1"])
    result = baselines.fit_baselines(task, x[:200], y[:200], x[200:], y[200:])
    majority = float(np.mean(y[200:] == 0))
    assert result["metric"] == "accuracy"
    assert result["constant"]["accuracy"] == pytest.approx(majority)
    assert result["linear"]["accuracy"] > 0.95
    assert result["linear"]["model"] == "logistic regression"
    assert result["linear"]["rows"] == 200


def test_regression_baselines_use_r2():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 2))
    y = (2 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=300)).astype(np.float32)
    task = Task("regression")
    result = baselines.fit_baselines(task, x[:200], y[:200], x[200:], y[200:])
    assert result["metric"] == "r2"
    assert result["constant"]["r2"] < 0.05
    assert result["linear"]["r2"] > 0.98 and result["linear"]["model"] == "ridge regression"


def test_the_linear_fit_is_subsampled_above_the_row_cap(monkeypatch):
    monkeypatch.setattr(baselines, "LINEAR_ROWS", 50)
    x = np.arange(240, dtype=float).reshape(-1, 2)
    y = (x[:, 0] > 100).astype(np.float32)
    result = baselines.fit_baselines(Task("binary", ["0", "1"]), x, y, x, y)
    assert result["linear"]["rows"] <= 50 and result["linear"]["of_rows"] == 120
    assert " on 40 of the 120 training rows (the network: " in baselines.baseline_line(result, 1)


def test_the_line_and_the_warning():
    baseline = {"metric": "accuracy", "constant": {"accuracy": 0.52},
                "linear": {"accuracy": 0.713, "model": "logistic regression", "rows": 10}}
    assert (baselines.baseline_line(baseline, 0.991)
            == "Baselines: constant 52.0%, linear 71.3% (the network: 99.1%)")
    assert baselines.baseline_warning(baseline, 0.991) is None
    warning = baselines.baseline_warning(baseline, 0.70)
    assert warning.startswith("warning: the network's test accuracy 70.0% does not beat the "
                              "logistic regression's 71.3%")
    assert "`preset=auto`" in warning
    perfect = {**baseline, "linear": {**baseline["linear"], "accuracy": 1.0}}
    assert baselines.baseline_warning(perfect, 1.0) is None
    r2 = {"metric": "r2", "constant": {"r2": -0.01},
          "linear": {"r2": 0.5, "model": "ridge regression", "rows": 10}}
    assert baselines.baseline_line(r2, 0.6) == ("Baselines: R² constant -0.010, linear 0.500 "
                                                "(the network: 0.600)")


def test_every_run_records_its_baselines():
    said = []
    result = run_experiment(preset="fast", log_every=0, say=said.append)
    baseline = result.metrics["baseline"]
    assert baseline["metric"] == "accuracy"
    assert set(baseline) >= {"constant", "linear"}
    assert any(line.startswith("Baselines: constant ") for line in said)
    assert any(name.startswith("baseline: linear") for name, _ in result.numbers)
    assert result.baseline_warning is None and "baseline_warning" not in result.metrics


def test_a_network_that_loses_to_the_linear_model_is_warned(tmp_path, capsys):
    path = _linear_csv(tmp_path / "linear.csv")
    result = run_experiment(data=str(path), label="y", preset="seed", epochs=1, lr=1e-4,
                            log_every=0)
    assert result.baseline_warning and "does not beat" in result.baseline_warning
    assert result.metrics["baseline_warning"] == result.baseline_warning
    assert ("warning", result.baseline_warning) in result.numbers
    out = tmp_path / "out"
    status = main(["train", "--data", str(path), "--label", "y", "--preset", "seed",
                   "--epochs", "1", "--lr", "1e-4", "--log-every", "0", "--out", str(out)])
    assert status == 0
    err = capsys.readouterr().err
    assert "torchann: warning: the network's test accuracy" in err and "--preset auto" in err
    metrics = json.loads((out / "metrics.json").read_text())
    assert "--preset auto" in metrics["baseline_warning"]
    assert "does not beat" in (out / "report.html").read_text()


def test_the_advice_does_not_suggest_auto_to_an_auto_run():
    baseline = {"metric": "r2", "constant": {"r2": 0.0},
                "linear": {"r2": 0.5, "model": "ridge regression", "rows": 10}}
    warning = baselines.baseline_warning(baseline, 0.4, preset="auto")
    assert "`preset=auto`" not in warning and "`epochs`" in warning


def test_a_streamed_table_says_why_it_has_no_baselines(tmp_path):
    path = _linear_csv(tmp_path / "linear.csv")
    said = []
    result = run_experiment(data=str(path), label="y", stream=True, epochs=2, log_every=0,
                            say=said.append)
    assert result.metrics["baseline"] == baselines.STREAMED and result.baseline is None
    assert any(line.startswith("Baselines: not fitted; a streamed table") for line in said)
