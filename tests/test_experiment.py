"""The experiment in the library: the same numbers as 'torchann train', in the library's words."""

import json
import math

import numpy as np
import pytest

from torchann.classify import presets
from torchann.classify.experiment import POOR_ADVICE, Experiment, run_experiment
from torchann.cli import main
from torchann.errors import TorchannError, as_flags

FAST = {"preset": "fast", "log_every": 0}


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    return value


def test_run_experiment_gives_the_numbers_the_cli_writes(tmp_path):
    said = []
    result = run_experiment(FAST, say=said.append)
    assert main(["train", "--preset", "fast", "--log-every", "0", "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert result.metrics["test_accuracy"] == written["test_accuracy"] > 0.9
    assert _without_seconds(result.metrics) == _without_seconds(written)
    assert said[0].startswith("Before training, test loss is ")
    assert said[1].startswith("After training, test loss is ")
    assert said[2].startswith("Test accuracy: ") and "tn " in said[2]
    assert sorted(result.figures) == ["boundary.png", "data.png", "loss.png"]
    assert result.title == "NeuralNet(2, 32) on blobs"
    assert result.model_info["task"] == "binary" and result.model_info["config"]["lr"] == 0.1


def test_binary_metrics_agree_with_evaluate():
    from torchann.classify import evaluate

    experiment = Experiment(FAST).load().train()
    result = experiment.evaluate()
    data = experiment.data
    check = evaluate(result.model, data.x_test, data.y_test)
    assert result.test["confusion"] == check.confusion == result.metrics["confusion"]
    assert result.test["accuracy"] == check.accuracy
    assert sum(result.test["confusion"].values()) == len(data.y_test)


def test_a_regression_table_reports_r2(tmp_path):
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    rows = [",".join(f"{v:g}" for v in x) + f",{t:g}" for x, t in zip(data.data, data.target)]
    path = tmp_path / "diabetes.csv"
    path.write_text(",".join(data.feature_names) + ",target\n" + "\n".join(rows) + "\n")
    from sklearn.metrics import r2_score

    from torchann.classify.evaluation import predict_scores

    said = []
    experiment = Experiment(data=str(path), label="target", epochs=80, lr=0.01, **FAST)
    result = experiment.load(say=said.append).train().evaluate()
    assert result.task.kind == "regression"
    assert said[0].startswith("Task: regression")
    metrics = result.metrics
    assert {"test_r2", "test_rmse", "test_mae", "train_r2"} <= set(metrics)
    assert 0.2 < metrics["test_r2"] < 1 and math.isfinite(metrics["test_rmse"])
    data = experiment.data
    truth = data.y_test * result.task.target_scale + result.task.target_mean
    predicted = result.task.scores_to_output(predict_scores(result.model, data.x_test))
    assert metrics["test_r2"] == pytest.approx(r2_score(truth, predicted))
    assert "test_accuracy" not in metrics and "data.png" not in result.figures
    assert "binary" in result.figures_note
    assert result.numbers[3] == ("test R²", f"{metrics['test_r2']:.4f}")


def test_a_poor_result_is_found_and_advised_in_the_library_words():
    result = run_experiment(epochs=1, lr=0.0001, hidden=3, log_every=0)
    assert result.finding.startswith("the test accuracy 50.0% is no better than")
    assert result.warning == f"warning: {result.finding}; {POOR_ADVICE}"
    assert "--" not in result.warning and result.metrics["warning"] == result.warning


@pytest.mark.parametrize("parameters,said,flags", [
    ({"lr": 0}, "`lr=0`: must be a positive number", "--lr 0: must be a positive number"),
    ({"batch_size": -3}, "`batch_size=-3`: must", "--batch-size -3: must"),
    ({"weight_decay": 0.1, "optimizer": "lbfgs"},
     "`weight_decay` works with `optimizer` sgd or adam",
     "--weight-decay works with --optimizer sgd or adam"),
    ({"task": "multiclass"}, "`task=multiclass` needs `data` FILE.csv",
     "--task multiclass needs --data FILE.csv"),
    ({"early_stopping": 0}, "`early_stopping=0`: the patience",
     "--early-stopping 0: the patience"),
])
def test_bad_parameters_are_named_as_the_library_names_them(parameters, said, flags):
    with pytest.raises(TorchannError) as caught:
        Experiment(parameters)
    assert str(caught.value).startswith(said)
    assert as_flags(str(caught.value)).startswith(flags)


def test_an_unknown_parameter_is_refused():
    with pytest.raises(TorchannError, match="unknown parameter `learning_rate`"):
        Experiment(learning_rate=0.1)


def test_presets_override_and_the_estimator_defaults():
    from torchann.classify.estimator import TorchannClassifier, TorchannRegressor

    config = presets.resolve_config("large", lr=0.5, hidden="8,4")
    assert config["lr"] == 0.5 and config["hidden"] == (8, 4)
    assert config["batch_size"] == presets.PRESETS["large"]["batch_size"] == 2048
    for cls in (TorchannClassifier, TorchannRegressor):
        params = cls().get_params()
        assert params["preset"] == presets.ESTIMATOR_PRESET == "auto"
        assert params["hidden"] is params["lr"] is params["epochs"] is None


def test_task_formats_predictions():
    from torchann.classify.tasks import Task

    multi = Task("multiclass", ["a", "b", "c"])
    out = np.array([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]])
    assert multi.format_prediction(out[0]) == "b (probability 0.700000)"
    columns = multi.prediction_columns(out)
    assert columns["label"] == ["b", "a"] and columns["probability"].tolist() == [0.7, 0.5]
    binary = Task("binary", ["no", "yes"])
    assert binary.prediction_columns(np.array([0.2, 0.6]), 0.5,
                                     {0: "no", 1: "yes"}.get)["label"] == ["no", "yes"]
    assert Task("regression", None, 0.0, 1.0).format_prediction(3.14159265358) == "3.1415927"
