"""3.3 classifier library: data, model, training, evaluation, model files, CSV reading."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from torchann import classify as clf
from torchann import classify as tabular
from torchann.errors import TorchannError


class SeedNeuralNet(nn.Module):
    """The chapter's own class, written as the chapter writes it."""

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.linear_1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.linear_2 = nn.Linear(hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, input_tensor):
        return self.sigmoid(self.linear_2(self.relu(self.linear_1(input_tensor))))



@pytest.fixture(scope="module")
def blobs():
    x_train, y_train = clf.make_blob_data(80, 0.3, random_state=0)
    x_test, y_test = clf.make_blob_data(20, 0.3, random_state=1)
    return x_train, y_train, x_test, y_test


def test_label_map_is_xor_layout():
    assert clf.label_map(np.array([0, 1, 2, 3, 2, 0])).tolist() == [0, 0, 1, 1, 1, 0]


def test_blob_data_labels_follow_the_quadrants(blobs):
    x, y = blobs[0], blobs[1]
    assert x.shape == (80, 2) and y.shape == (80,)
    # label 1 sits where the coordinates have opposite signs (centers (1,-1) and (-1,1))
    far = np.abs(x).min(axis=1) > 0.3 * 3  # points clearly inside their quadrant
    assert np.array_equal(y[far], (np.sign(x[far, 0]) != np.sign(x[far, 1])).astype(float))
    again = clf.make_blob_data(80, 0.3, random_state=0)
    assert np.array_equal(again[0], x)


def test_state_dict_keys_are_the_chapters():
    shapes = {k: list(v.shape) for k, v in clf.NeuralNet(2, 5).state_dict().items()}
    assert shapes == {"linear_1.weight": [5, 2], "linear_1.bias": [5],
                      "linear_2.weight": [1, 5], "linear_2.bias": [1]}


@pytest.mark.slow
def test_seed_configuration_trains_and_lowers_test_loss(blobs):
    x_train, y_train, x_test, y_test = blobs
    torch.manual_seed(0)
    model = clf.NeuralNet(2, 5)
    before = clf.evaluate(model, x_test, y_test).loss
    logged = []
    result = clf.fit(model, x_train, y_train, epochs=2000, lr=0.03, optimizer="sgd",
                     callback=lambda e, loss: logged.append(e))
    after = clf.evaluate(model, x_test, y_test)
    assert after.loss < before and after.loss < math.log(2) / 2
    assert result.train_loss[-1] < result.train_loss[0]
    assert logged == list(range(2000))
    assert after.accuracy >= 0.9


@pytest.mark.parametrize("optimizer,batch", [("adam", 16), ("lbfgs", None), ("sgd", 32)])
def test_other_optimizers_and_minibatches_lower_the_loss(blobs, optimizer, batch):
    x_train, y_train, x_test, y_test = blobs
    torch.manual_seed(1)
    model = clf.NeuralNet(2, 16)
    lr = {"adam": 0.05, "lbfgs": 1.0, "sgd": 0.3}[optimizer]
    result = clf.fit(model, x_train, y_train, epochs=30, lr=lr, optimizer=optimizer,
                     batch_size=batch, x_test=x_test, y_test=y_test, test_every=10,
                     generator=torch.Generator().manual_seed(0))
    assert result.train_loss[-1] < result.train_loss[0]
    assert [e for e, _ in result.test_loss] == [0, 10, 20, 29]


def _threshold_model():
    """NeuralNet(1, 1) with P = sigmoid(10 relu(x) - 5): label 1 exactly when x > 0.5."""
    model = clf.NeuralNet(1, 1)
    with torch.no_grad():
        model.linear_1.weight.fill_(1.0)
        model.linear_1.bias.fill_(0.0)
        model.linear_2.weight.fill_(10.0)
        model.linear_2.bias.fill_(-5.0)
    return model


def test_accuracy_confusion_and_loss_are_computed_correctly():
    x = np.array([[0.0], [1.0], [0.0], [1.0], [1.0]])
    y = np.array([0, 1, 1, 0, 1])
    ev = clf.evaluate(_threshold_model(), x, y)
    # predictions 0 1 0 1 1: right, right, wrong (fn), wrong (fp), right
    assert ev.accuracy == pytest.approx(3 / 5)
    assert ev.confusion == {"tn": 1, "fp": 1, "fn": 1, "tp": 2}
    p = 1 / (1 + np.exp(-(10 * x[:, 0] - 5)))
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert ev.loss == pytest.approx(bce, rel=1e-5)


@pytest.mark.parametrize("kwargs", [{"epochs": 0}, {"lr": 0.0}, {"lr": -1.0},
                                    {"batch_size": 0}, {"optimizer": "rmsprop"}])
def test_fit_rejects_bad_settings(blobs, kwargs):
    with pytest.raises(TorchannError):
        clf.fit(clf.NeuralNet(2, 5), blobs[0], blobs[1], **{"epochs": 5, **kwargs})


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_divergence_is_reported_with_advice(blobs, optimizer):
    torch.manual_seed(0)
    with pytest.raises(TorchannError, match=r"diverged.*lower `lr`"):
        clf.fit(clf.NeuralNet(2, 5), blobs[0], blobs[1], epochs=50, lr=1e3,
                optimizer=optimizer)


def test_non_finite_loss_names_the_epoch(blobs):
    model = clf.NeuralNet(2, 5)
    with torch.no_grad():
        model.linear_2.bias.fill_(float("nan"))
    with pytest.raises(TorchannError, match=r"epoch 0.*lower `lr`"):
        clf.fit(model, blobs[0], blobs[1], epochs=5, lr=0.03)


def test_figures_draw(blobs):
    import matplotlib

    matplotlib.use("Agg")
    x_train, y_train, x_test, y_test = blobs
    model = clf.NeuralNet(2, 5)
    result = clf.fit(model, x_train, y_train, epochs=3, x_test=x_test, y_test=y_test)
    for fig in (clf.data_figure(x_train, y_train, x_test, y_test),
                clf.boundary_figure(lambda p: clf.predict_proba(model, p), x_train, y_train,
                                    x_test, y_test),
                clf.loss_figure(result)):
        assert fig.axes and fig.axes[0].has_data()


# --------------------------------------------------------------------------- model files


def test_save_load_predict_round_trip(tmp_path, blobs):
    torch.manual_seed(0)
    model = clf.NeuralNet(2, 7)
    clf.fit(model, blobs[0], blobs[1], epochs=20, lr=0.1, optimizer="adam")
    scaler = tabular.Standardizer(np.array([0.5, -1.0]), np.array([2.0, 0.5]))
    tabular.save_model(tmp_path / "m.pt", model,
                       {"features": ["a", "b"], "label_map": {"no": 0, "yes": 1},
                        "standardize": scaler.to_json()})
    loaded = tabular.load_model(tmp_path / "m.pt")
    assert loaded.model.linear_1.out_features == 7
    assert loaded.features == ["a", "b"] and loaded.label_of(1) == "yes"
    x = blobs[2].astype(np.float64)
    expected = clf.predict_proba(model, scaler.transform(x))
    assert np.array_equal(clf.predict_proba(loaded.model, loaded.prepare(x)), expected)
    # the standardization is really applied: raw values give other probabilities
    assert not np.allclose(clf.predict_proba(loaded.model, x.astype(np.float32)), expected)
    assert not list(tmp_path.glob("*.part*"))  # atomic writes leave no temporaries


def test_the_chapters_model_file_loads_both_ways(tmp_path, blobs):
    torch.manual_seed(0)
    seed_model = SeedNeuralNet(2, 5)
    torch.save(seed_model.state_dict(), tmp_path / "model.pt")  # the chapter's own save
    loaded = tabular.load_model(tmp_path / "model.pt")
    x = blobs[2]
    with torch.no_grad():
        want = seed_model(torch.as_tensor(x)).squeeze(1).double().numpy()
    assert np.array_equal(clf.predict_proba(loaded.model, loaded.prepare(x)), want)
    assert loaded.standardizer is None and loaded.label_of(1) == 1

    # and the chapter's code loads ours
    tabular.save_model(tmp_path / "ours.pt", loaded.model, {"standardize": None})
    again = SeedNeuralNet(2, 5)
    again.load_state_dict(torch.load(tmp_path / "ours.pt"))
    with torch.no_grad():
        assert torch.equal(again(torch.as_tensor(x)), loaded.model(torch.as_tensor(x)))


@pytest.mark.parametrize("state,expected", [
    ({"linear_1.weight": torch.zeros(5, 2), "linear_1.bias": torch.zeros(4),
      "linear_2.weight": torch.zeros(1, 5), "linear_2.bias": torch.zeros(1)},
     r"linear_1\.bias has shape \[4\].*needs \[5\]"),
    ({"linear_1.weight": torch.zeros(5, 2), "linear_1.bias": torch.zeros(5),
      "linear_2.weight": torch.zeros(2, 5), "linear_2.bias": torch.zeros(1)},
     r"linear_2\.weight has shape \[2, 5\].*expected"),
    ({"fc.weight": torch.zeros(5, 2)}, r"missing linear_1\.bias.*expected"),
])
def test_wrong_state_dict_is_refused_naming_what_was_expected(tmp_path, state, expected):
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(TorchannError, match=expected):
        tabular.load_model(tmp_path / "bad.pt")


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_unsafe_or_broken_model_files_are_refused(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"linear_1.weight": _Payload(marker)}, tmp_path / "evil.pt")
    with pytest.raises(TorchannError, match="run code"):
        tabular.load_model(tmp_path / "evil.pt")
    assert not marker.exists()
    torch.save(clf.NeuralNet(2, 5).state_dict(), tmp_path / "good.pt")
    data = (tmp_path / "good.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(TorchannError, match="truncated"):
        tabular.load_model(tmp_path / "cut.pt")
    with pytest.raises(TorchannError, match="no such model"):
        tabular.load_model(tmp_path / "absent.pt")


def test_standardized_model_needs_its_sidecar(tmp_path):
    scaler = tabular.Standardizer(np.zeros(2), np.ones(2))
    tabular.save_model(tmp_path / "m.pt", clf.NeuralNet(2, 3),
                       {"standardize": scaler.to_json()})
    (tmp_path / "m.json").unlink()
    with pytest.raises(TorchannError, match="needs its description m.json"):
        tabular.load_model(tmp_path / "m.pt")
    (tmp_path / "m.json").write_text('{"standardize": {"mean": [0, 0]}}')
    with pytest.raises(TorchannError, match="mean and scale"):
        tabular.load_model(tmp_path / "m.pt")


# --------------------------------------------------------------------------- CSV


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_labelled_csv_maps_labels_and_skips_text_columns(tmp_path):
    path = _write(tmp_path / "d.csv", "name,a,b,kind\nx,1,2,cat\ny,3,4.5,dog\nz,5,6,cat\n")
    data = tabular.load_labelled_csv(path, "kind")
    assert data.features == ["a", "b"] and data.skipped == ["name"]
    assert data.label_map == {"cat": 0, "dog": 1}
    assert data.y.tolist() == [0, 1, 0]
    assert data.x.tolist() == [[1, 2], [3, 4.5], [5, 6]]
    picked = tabular.load_labelled_csv(path, "kind", features=["b"])
    assert picked.x.tolist() == [[2], [4.5], [6]]
    numeric = _write(tmp_path / "n.csv", "a,y\n1,10\n2,9\n")
    assert tabular.load_labelled_csv(numeric, "y").label_map == {"9": 0, "10": 1}


@pytest.mark.parametrize("text,message", [
    ("a,b,y\n1,2,0\n1,x,1\n", r"line 3, column 'b': 'x' is not a number"),
    ("a,b,y\n1,2,0\n1,3,\n", r"line 3, column 'y': missing label"),
    ("a,b,y\n1,2,0\n", r"no label column 'z'; the columns are a, b, y"),
    ("a,b,y\n1,2,0\n1,3,1\n2,2,2\n", r"has 3 distinct values \('0', '1', '2'\)"),
    ("a,b,y\n1,2,0\n1,3,0\n", r"has 1 distinct value \('0'\)"),
    ("", r"empty"),
    ("a,b,y\n", r"only a header"),
    ("a,a,y\n1,2,0\n", r"duplicate column names a"),
    (b"a,b,y\n1,2,\xff\n", r"not UTF-8"),
    ("a,b,y\n1,2\n", r"line 2 has 2 fields"),
])
def test_bad_csv_files_get_one_clear_error(tmp_path, text, message):
    path = _write(tmp_path / "bad.csv", text)
    label = "z" if "'z'" in message else "y"
    with pytest.raises(TorchannError, match=message):
        tabular.load_labelled_csv(path, label)


def test_labelled_csv_fills_a_gap_with_the_median_and_adds_an_indicator(tmp_path):
    path = _write(tmp_path / "d.csv", "a,b,y\n1,2,0\n1,,1\n3,6,1\n")
    data = tabular.load_labelled_csv(path, "y")
    assert data.features == ["a", "b", "b_missing"]
    assert data.x[:, 1].tolist() == [2, 4, 6] and data.x[:, 2].tolist() == [0, 1, 0]
    assert any("b: 1 missing value filled with the median 4" in d
               for d in data.encoder.decisions)


def test_split_needs_enough_rows():
    x = np.arange(6.0).reshape(3, 2)
    with pytest.raises(TorchannError, match="too few rows"):
        tabular.stratified_split(x, np.array([0, 1, 1]), 0.2)
    x = np.arange(20.0).reshape(10, 2)
    y = np.array([0, 1] * 5)
    x_train, x_test, y_train, y_test = tabular.stratified_split(x, y, 0.4, random_state=0)
    assert len(y_test) == 4 and sorted(y_test.tolist()) == [0, 0, 1, 1]


def test_fit_is_the_step_wise_trainer_run_to_the_end(blobs):
    from torchann.classify.train import Trainer

    torch.manual_seed(0)
    fitted = clf.NeuralNet(2, 5)
    losses = clf.fit(fitted, blobs[0], blobs[1], epochs=30, lr=0.1).train_loss
    torch.manual_seed(0)
    stepped = clf.NeuralNet(2, 5)
    trainer = Trainer(stepped, blobs[0], blobs[1], lr=0.1)
    assert [trainer.epoch() for _ in range(30)] == losses and trainer.epochs_done == 30
    for a, b in zip(fitted.state_dict().values(), stepped.state_dict().values()):
        assert torch.equal(a, b)


def test_an_l1_penalty_shrinks_the_weights_and_is_left_out_of_the_loss(blobs):
    from torchann.classify.mlp import MLP
    from torchann.classify.train import Trainer

    norms = {}
    for kind in (None, "l1"):
        torch.manual_seed(0)
        model = MLP(2, (8,), output_activation="sigmoid")
        trainer = Trainer(model, blobs[0], blobs[1], lr=0.1, optimizer="adam",
                          penalty_kind=kind, penalty_rate=0.01)
        for _ in range(200):
            loss = trainer.epoch()
        assert loss == pytest.approx(clf.evaluate(model, blobs[0], blobs[1]).loss, abs=0.05)
        norms[kind] = sum(layer.weight.abs().sum().item() for layer in model.linear_layers())
    assert norms["l1"] < 0.8 * norms[None]
