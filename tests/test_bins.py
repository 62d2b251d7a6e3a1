"""Quantile bins per input: a piecewise-constant numeric embedding in the first hidden layer."""

import numpy as np
import pytest
import torch

from torchann.classify import presets
from torchann.classify.estimator import TorchannRegressor
from torchann.classify.files import load_model
from torchann.classify.mlp import MLP, build_model, check_network, from_architecture
from torchann.errors import TorchannError


def test_auto_bins_mid_sized_tables_only():
    assert presets.auto_preset(5000, 8, "regression")["bins"] == presets.AUTO_BINS
    assert presets.auto_preset(500, 8, "regression")["bins"] == 0
    assert presets.auto_preset(2000, 64, "multiclass")["bins"] == 0
    assert presets.auto_preset(20_000, 8, "binary")["bins"] == presets.AUTO_BINS
    assert presets.auto_preset(20_000, 8, "multiclass")["bins"] == 0  # they overfit there
    assert presets.auto_preset(500_000, 8, "binary")["bins"] == 0
    assert presets.auto_preset(5000, 8, "binary", streamed=True)["bins"] == 0
    assert "48 quantile bins" in presets.describe_auto(presets.auto_preset(5000, 8))
    assert presets.resolve_config("seed")["bins"] == 0  # the chapter's run has none


@pytest.mark.parametrize("bins", [1, -2, 2.5, presets.OPTIONS["bins"] + 10_000])
def test_impossible_bins_are_refused_by_name(bins):
    with pytest.raises(TorchannError, match="`bins="):
        check_network((8,), "relu", 0.0, bins)


def test_bins_need_a_hidden_layer():
    with pytest.raises(TorchannError, match="hidden layer"):
        check_network((), "relu", 0.0, 8)


def test_bins_never_build_the_chapters_network():
    assert isinstance(build_model(2, (5,), 1, "relu", 0.0, "binary", bins=8), MLP)


def test_edges_are_the_columns_quantiles_and_each_bin_has_its_own_vector():
    torch.manual_seed(0)
    x = torch.randn(1000, 3)
    model = MLP(3, (4,), 1, bins=4)
    model.fit_bins(x)
    expected = torch.quantile(x, torch.tensor([0.25, 0.5, 0.75]), dim=0).T
    assert torch.allclose(model.edges, expected)
    with torch.no_grad():  # a vector for bin 2 of input 1 moves only rows in that bin
        model.bin_embedding.weight[1 * 4 + 2] = 10.0
    inside = (x[:, 1] > expected[1, 1]) & (x[:, 1] <= expected[1, 2])
    plain = MLP(3, (4,), 1)
    plain.load_state_dict({k: v for k, v in model.state_dict().items()
                           if not k.startswith(("edges", "bin_"))})
    moved = (model.layer_outputs(x)[0] != plain.layer_outputs(x)[0]).any(dim=1)
    assert torch.equal(moved, inside)


def test_bins_let_the_network_follow_a_step_a_smooth_network_blurs():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3000, 1))
    y = np.where(np.sin(12 * x[:, 0]) > 0, 1.0, -1.0)  # eight steps across the range
    common = dict(hidden=(32,), epochs=60, lr=3e-3, batch_size=128, early_stopping=False,
                  random_state=0)
    with_bins = TorchannRegressor(bins=32, **common).fit(x, y).score(x, y)
    without = TorchannRegressor(bins=0, **common).fit(x, y).score(x, y)
    assert with_bins > without + 0.1, (with_bins, without)


def test_a_binned_model_saves_and_loads_with_its_edges(tmp_path):
    rng = np.random.default_rng(0)
    x = np.c_[rng.normal(size=(300, 2)), rng.integers(0, 2, 300)]
    y = x[:, 0] ** 2 + x[:, 2]
    estimator = TorchannRegressor(hidden=(8,), bins=6, epochs=3, random_state=0).fit(x, y)
    assert from_architecture(estimator.model_.architecture()).bins == 6
    path = tmp_path / "model.pt"
    estimator.save(path)
    loaded = load_model(path)
    assert loaded.model.bins == 6
    assert torch.equal(loaded.model.edges, estimator.model_.edges)
    x_new = torch.as_tensor(estimator.scaler_.transform(x[:50]), dtype=torch.float32)
    assert torch.allclose(loaded.model(x_new), estimator.model_(x_new))

