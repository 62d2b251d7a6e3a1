"""Tasks beyond the chapter's binary one: multi-class, regression, deeper networks, options."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

from torchann.classify import mlp
from torchann.classify.chapter import NeuralNet
from torchann.classify.files import load_model
from torchann.classify.tasks import decide_task
from torchann.cli import main
from torchann.errors import TorchannError

QUICK = ["--preset", "fast", "--epochs", "60", "--log-every", "0"]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    from sklearn.datasets import load_iris

    data = load_iris()
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    rows = [",".join(f"{v:g}" for v in x) + f",{data.target_names[t]}"
            for x, t in zip(data.data, data.target)]
    path.write_text("sl,sw,pl,pw,species\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def diabetes_csv(tmp_path_factory):
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    path = tmp_path_factory.mktemp("diabetes") / "diabetes.csv"
    names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "progression"]
    rows = [",".join(f"{v:g}" for v in (*x, t)) for x, t in zip(data.data, data.target)]
    path.write_text(",".join(names) + "\n" + "\n".join(rows) + "\n")
    return path


def _run(capsys, *args):
    try:
        status = main([str(a) for a in args])
    except SystemExit as stop:  # argparse's own refusals
        status = stop.code
    out = capsys.readouterr()
    return status, out.out, out.err


# --------------------------------------------------------------------------- the auto rule


@pytest.mark.parametrize("values,kind", [
    (["a", "b"] * 10, "binary"),
    (["setosa", "versicolor", "virginica"] * 10, "multiclass"),
    ([0, 1, 2, 3] * 10, "multiclass"),
    ([0.0, 1.0, 2.0] * 10, "multiclass"),
    ([1.5, 2.5] * 10, "binary"),
    (list(np.linspace(0, 1, 40)), "regression"),
    (list(range(40)), "regression"),      # 40 distinct whole numbers: more than 20
    ([0, 1, 2, 3, 4, 5] * 2, "regression"),  # 2 rows per value: too few for classes
])
def test_auto_rule(values, kind):
    assert decide_task(np.array(values, dtype=object)).kind == kind


def test_explicit_tasks_and_their_refusals():
    assert decide_task(["0", "1", "2"] * 5, "regression").kind == "regression"
    with pytest.raises(TorchannError, match="3 distinct values.*exactly two"):
        decide_task(["0", "1", "2"], "binary")
    with pytest.raises(TorchannError, match="'cat', not a number"):
        decide_task(["cat", "dog"], "regression")
    with pytest.raises(TorchannError, match="1 distinct value"):
        decide_task(["x", "x", "x"])


def test_too_many_classes_points_to_regression_only_for_numbers():
    with pytest.raises(TorchannError, match=r"1001 distinct values, more .*try `task` regression"):
        decide_task([str(i) for i in range(1001)], "multiclass")
    ids = [f"C{i:05d}" for i in range(1001)]
    with pytest.raises(TorchannError) as err:
        decide_task(ids, label="id")
    assert "such as 'C00000'" in str(err.value) and "choose another `label`" in str(err.value)
    assert "regression" not in str(err.value)


# --------------------------------------------------------------------------- the network


def test_mlp_keys_explain_themselves_and_chapter_shape_is_neuralnet():
    net = mlp.MLP(4, (8, 6), 3, "tanh", 0.1)
    assert list(net.state_dict()) == ["hidden.0.linear.weight", "hidden.0.linear.bias",
                                      "hidden.1.linear.weight", "hidden.1.linear.bias",
                                      "output.weight", "output.bias"]
    assert net(torch.zeros(5, 4)).shape == (5, 3)
    assert isinstance(mlp.build_model(2, (5,), task="binary"), NeuralNet)
    assert isinstance(mlp.build_model(2, (5,), activation="tanh"), mlp.MLP)
    rebuilt = mlp.from_architecture(mlp.architecture(net))
    assert {k: v.shape for k, v in rebuilt.state_dict().items()} == \
        {k: v.shape for k, v in net.state_dict().items()}
    assert mlp.parse_hidden("64, 32") == (64, 32)


# --------------------------------------------------------------------------- CLI, each task


def test_iris_multiclass_reports_per_class_metrics_and_predicts_names(tmp_path, capsys,
                                                                      iris_csv):
    out = tmp_path / "o"
    status, stdout, _ = _run(capsys, "train", "--data", iris_csv, "--label", "species",
                             *QUICK, "--out", out)
    assert status == 0
    assert re.search(r"^Task: multiclass, 3 classes .*the label holds text", stdout, re.M)
    assert "Confusion matrix" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "multiclass"
    assert metrics["classes"] == ["setosa", "versicolor", "virginica"]
    matrix = np.array(metrics["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == metrics["n_test"] == 30
    assert metrics["test_accuracy"] == pytest.approx(np.trace(matrix) / 30)
    assert metrics["test_accuracy"] >= 0.8
    assert set(metrics["per_class"]) == {"setosa", "versicolor", "virginica"}
    # the file keeps the MLP's own keys and loads weights-only
    state = torch.load(out / "model.pt", weights_only=True)
    assert state["output.weight"].shape[0] == 3
    status, stdout, _ = _run(capsys, "predict", "--model", out / "model.pt", "--csv", iris_csv)
    assert status == 0
    lines = stdout.splitlines()
    assert lines[0].endswith("species,probability,label")
    right = [ln.split(",")[-1] == ln.split(",")[-3] for ln in lines[1:]]
    assert len(right) == 150 and np.mean(right) >= 0.8
    status, stdout, _ = _run(capsys, "predict", "--model", out / "model.pt",
                             "5.1", "3.5", "1.4", "0.2")
    assert status == 0 and stdout.startswith("setosa (probability")


def test_regression_predicts_in_original_units(tmp_path, capsys, diabetes_csv):
    out = tmp_path / "o"
    status, stdout, _ = _run(capsys, "train", "--data", diabetes_csv, "--label", "progression",
                             "--preset", "fast", "--epochs", "100", "--lr", "0.01",
                             "--weight-decay", "0.001", "--log-every", "0", "--out", out)
    assert status == 0 and "Task: regression" in stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "regression"
    assert metrics["test_r2"] > 0.2  # the mean scores 0; least squares 0.33 on this split
    assert metrics["test_rmse"] > 10  # in the label's units (25..346), not standardized ones
    info = json.loads((out / "model.json").read_text())
    assert info["target"]["mean"] > 100
    status, stdout, _ = _run(capsys, "predict", "--model", out / "model.pt", "--csv",
                             diabetes_csv)
    lines = stdout.splitlines()
    assert status == 0 and lines[0].endswith("progression,prediction")
    truth = np.array([float(ln.split(",")[-2]) for ln in lines[1:]])
    pred = np.array([float(ln.split(",")[-1]) for ln in lines[1:]])
    assert 0.25 < np.corrcoef(truth, pred)[0, 1] ** 2
    assert abs(pred.mean() - truth.mean()) < 0.2 * truth.std()


def test_chapter_shape_model_loads_into_the_chapters_neuralnet(tmp_path, capsys, iris_csv):
    csv = tmp_path / "two.csv"
    lines = iris_csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0]] + [ln for ln in lines[1:]
                                           if not ln.endswith("virginica")]) + "\n")
    out = tmp_path / "o"
    status, stdout, _ = _run(capsys, "train", "--data", csv, "--label", "species", *QUICK,
                             "--out", out)
    assert status == 0 and "Task: binary" in stdout
    net = NeuralNet(4, 32)
    net.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    assert load_model(out / "model.pt").task.kind == "binary"


def test_deeper_network_options_reach_the_model_and_its_description(tmp_path, capsys, iris_csv):
    out = tmp_path / "o"
    status, stdout, _ = _run(capsys, "train", "--data", iris_csv, "--label", "species",
                             *QUICK, "--hidden", "16,8", "--activation", "gelu",
                             "--dropout", "0.1", "--weight-decay", "0.0001",
                             "--lr-schedule", "cosine", "--early-stopping", "5", "--out", out)
    assert status == 0
    assert re.search(r"^Early stopping: best validation loss [0-9.e-]+ at epoch \d+", stdout,
                     re.M)
    info = json.loads((out / "model.json").read_text())
    assert info["architecture"] == {"kind": "MLP", "n_in": 4, "hidden": [16, 8], "n_out": 3,
                                    "activation": "gelu", "dropout": 0.1,
                                    "output_activation": None}
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["best_epoch"] <= metrics["epochs"] - 1
    assert len(metrics["validation_loss"]) == metrics["epochs"]
    assert metrics["validation_loss"][metrics["best_epoch"]] == min(metrics["validation_loss"])
    loaded = load_model(out / "model.pt")
    assert isinstance(loaded.model, mlp.MLP) and loaded.model.widths == (16, 8)


@pytest.mark.parametrize("args,pattern", [
    (["--hidden", "64,x"], r"--hidden 64,x: give layer widths as whole numbers"),
    (["--hidden", "0"], r"--hidden 0: must be a positive number"),
    (["--activation", "swish"], r"invalid choice: 'swish'"),
    (["--dropout", "1"], r"--dropout 1.0: must be at least 0 and below 1"),
    (["--weight-decay", "-1"], r"--weight-decay -1.0: must be 0 or a positive number"),
    (["--weight-decay", "0.1", "--optimizer", "lbfgs"], r"not lbfgs"),
    (["--early-stopping", "0"], r"--early-stopping 0: the patience must be a positive"),
    (["--task", "regression"], r"--task regression needs --data"),
    (["--lr-schedule", "step"], r"invalid choice: 'step'"),
])
def test_bad_network_options_give_one_line(tmp_path, capsys, args, pattern):
    status, _, err = _run(capsys, "train", *args, "--out", tmp_path / "o")
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1 and lines[0].startswith("torchann: error:")
    assert re.search(pattern, lines[0]), lines[0]
    assert not (tmp_path / "o" / "model.pt").exists()


def test_task_errors_on_a_csv(tmp_path, capsys, iris_csv):
    status, _, err = _run(capsys, "train", "--data", iris_csv, "--label", "species",
                          "--task", "regression", "--out", tmp_path / "o")
    assert status == 2 and "not a number" in err
    status, _, err = _run(capsys, "train", "--data", iris_csv, "--label", "species",
                          "--task", "binary", "--out", tmp_path / "o")
    assert status == 2 and "3 distinct values" in err


def test_a_model_file_without_its_description_is_refused(tmp_path, capsys, iris_csv):
    out = tmp_path / "o"
    assert _run(capsys, "train", "--data", iris_csv, "--label", "species", *QUICK,
                "--out", out)[0] == 0
    (out / "model.json").unlink()
    status, _, err = _run(capsys, "predict", "--model", out / "model.pt", "1", "2", "3", "4")
    assert status == 2 and "needs its description model.json" in err
