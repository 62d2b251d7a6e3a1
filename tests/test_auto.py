"""``preset=auto``: a configuration chosen from the table, the default for a user's table."""

import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from torchann.classify import presets
from torchann.classify.experiment import Experiment, run_experiment
from torchann.classify.mlp import MLP
from torchann.classify.tasks import Task
from torchann.classify.trainer import Trainer, training_loss, warmup_cosine
from torchann.cli import main


def _customers():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "customers.py"
    spec = importlib.util.spec_from_file_location("customers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_small_table_gets_a_smaller_more_regularized_network():
    config = presets.auto_preset(500, 8, "binary")
    assert config["hidden"] == (128, 128) and config["batch_size"] == 64
    assert config["optimizer"] == "adamw" and config["lr_schedule"] == "warmup_cosine"
    assert config["dropout"] == 0.15 and config["weight_decay"] == 0.1
    assert config["epochs"] == presets.AUTO_EPOCHS[1]  # few steps per epoch: the most epochs
    assert config["early_stopping"] >= 8 and config["label_smoothing"] == 0.1


def test_a_mid_sized_table_gets_three_layers_of_256():
    config = presets.auto_preset(2400, 9, "binary")
    assert config["hidden"] == (256, 256, 256) and config["batch_size"] == 128
    assert config["lr"] == 2e-3
    steps = math.ceil(2400 * 0.9 / 128)
    assert config["epochs"] == min(round(presets.AUTO_STEPS / steps), presets.AUTO_EPOCHS[1])


def test_a_large_table_gets_big_batches_and_few_epochs():
    config = presets.auto_preset(800_000, 20, "binary")
    assert config["hidden"] == (64, 64) and config["batch_size"] == 2048
    assert config["lr"] == 1e-2
    assert config["epochs"] == presets.AUTO_EPOCHS[0]
    assert presets.auto_preset(800_000, 20, "binary", streamed=True)["early_stopping"] is None


def test_multiclass_smooths_labels_and_regression_does_not():
    assert presets.auto_preset(3000, 64, "multiclass")["label_smoothing"] == 0.1
    assert presets.auto_preset(3000, 10, "regression")["label_smoothing"] == 0.0


def test_given_values_override_auto():
    config = presets.resolve_config("auto", (3000, 5, "binary"), epochs=3, dropout=0.0)
    assert config["epochs"] == 3 and config["dropout"] == 0.0
    assert config["hidden"] == (256, 256, 256)


def test_the_decisions_in_one_line():
    line = presets.describe_auto(presets.auto_preset(2400, 9, "binary"))
    assert line.startswith("auto: 3 hidden layers of 256, AdamW lr 0.002, weight decay 0.01, "
                           "dropout 0.1, label smoothing 0.1, warm-up + cosine, ")
    assert "epochs of batch 128" in line and "early stopping" in line


def test_warmup_then_cosine():
    factor = warmup_cosine(100, warmup=0.1)
    assert factor(0) == pytest.approx(0.1) and factor(9) == pytest.approx(1.0)
    assert factor(10) == pytest.approx(1.0)
    assert factor(55) == pytest.approx(0.5)
    assert factor(100) == pytest.approx(0.0, abs=1e-12)


def test_label_smoothing_moves_binary_targets_towards_a_half():
    loss = training_loss(Task("binary", ["0", "1"]), 0.2)
    out, y = torch.tensor([0.9, 0.1]), torch.tensor([1.0, 0.0])
    expected = torch.nn.functional.binary_cross_entropy(out, torch.tensor([0.9, 0.1]))
    assert loss(out, y).item() == pytest.approx(expected.item())
    multi = training_loss(Task("multiclass", ["a", "b", "c"]), 0.1)
    assert multi.label_smoothing == 0.1
    assert isinstance(training_loss(Task("regression"), 0.1), torch.nn.MSELoss)


def test_the_trainer_steps_adamw_with_the_schedule():
    torch.manual_seed(0)
    model = MLP(2, (4,), 1, output_activation="sigmoid")
    x, y = torch.randn(40, 2), (torch.rand(40) > 0.5).float()
    trainer = Trainer(model, x, y, lr=0.01, optimizer="adamw", batch_size=10,
                      lr_schedule="warmup_cosine", epochs=5, weight_decay=0.01,
                      label_smoothing=0.1, generator=torch.Generator().manual_seed(0))
    assert isinstance(trainer.opt, torch.optim.AdamW)
    for _ in range(5):
        assert math.isfinite(trainer.epoch())
    assert trainer.opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-9)


def test_a_table_defaults_to_auto_and_the_blobs_to_the_chapter(tmp_path):
    assert Experiment().preset == "seed" and Experiment().config["hidden"] == (5,)
    path = _customers().write_csv(tmp_path / "customers.csv", rows=300)
    said = []
    experiment = Experiment(data=str(path), label="churn", epochs=2, log_every=0).load(
        said.append)
    assert experiment.preset == "auto" and experiment.config["epochs"] == 2
    assert experiment.config["optimizer"] == "adamw"
    assert any(line.startswith("auto: ") for line in said)
    seeded = Experiment(data=str(path), label="churn", preset="seed").load()
    assert seeded.config["hidden"] == (5,) and seeded.auto is None


@pytest.mark.slow
def test_the_customer_table_is_learned_by_default(tmp_path, capsys):
    path = _customers().write_csv(tmp_path / "customers.csv")
    out = tmp_path / "out"
    assert main(["train", "--data", str(path), "--label", "churn", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "\nauto: 3 hidden layers of 256, AdamW" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["config"]["preset"] == "auto" and metrics["auto"]["line"] in printed
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["baseline"]["linear"]["accuracy"] < 0.8
    assert "baseline_warning" not in metrics


def test_a_run_records_what_auto_saw(tmp_path):
    path = _customers().write_csv(tmp_path / "customers.csv", rows=200)
    result = run_experiment(data=str(path), label="churn", epochs=1, log_every=0)
    assert result.metrics["auto"]["rows"] == 160
    assert result.config["preset"] == "auto"


def test_a_tiny_table_trains_without_a_validation_split(tmp_path):
    assert presets.auto_preset(150, 4, "multiclass")["early_stopping"] is None
    path = _customers().write_csv(tmp_path / "tiny.csv", rows=30)
    result = run_experiment(data=str(path), label="churn", log_every=0)
    assert result.config["early_stopping"] is None and result.history.epochs > 1
