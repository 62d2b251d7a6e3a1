"""The scikit-learn-style estimators: sklearn's own checks, cross_val_score, Pipeline, files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from torchann.classify.estimator import TorchannClassifier, TorchannRegressor

#: sklearn checks that test something these estimators do not offer, with the reason
#: (``{"check_name": "why"}`` per class name). Every check passes today.
UNSUPPORTED = {"TorchannClassifier": {}, "TorchannRegressor": {}}


@parametrize_with_checks([TorchannClassifier(epochs=50, lr=0.05),
                          TorchannRegressor(epochs=50, lr=0.05)],
                         expected_failed_checks=lambda est: UNSUPPORTED[type(est).__name__])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris_frame():
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    y = data.target.map(dict(enumerate(data.target_names)))
    return data.data, y


def test_cross_val_score_and_pipeline_with_pandas(iris_frame):
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = iris_frame
    pipe = make_pipeline(StandardScaler(), TorchannClassifier(hidden=(16,), random_state=0))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and scores.mean() >= 0.85
    clf = TorchannClassifier(hidden=(16, 8), activation="tanh", lr=0.01, random_state=0).fit(x, y)
    assert list(clf.feature_names_in_) == list(x.columns)
    assert set(clf.predict(x.iloc[:5])) <= {"setosa", "versicolor", "virginica"}
    proba = clf.predict_proba(x)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1)
    assert clf.score(x, y) >= 0.9


def test_save_load_round_trip_and_predict_reads_it(tmp_path, iris_frame, capsys):
    from torchann.cli import main

    x, y = iris_frame
    clf = TorchannClassifier(hidden=(8,), random_state=1).fit(x, y)
    clf.save(tmp_path / "model.pt")
    again = TorchannClassifier.load(tmp_path / "model.pt")
    assert again.get_params()["hidden"] == (8,)
    assert np.array_equal(again.predict(x), clf.predict(x))
    assert np.allclose(again.predict_proba(x), clf.predict_proba(x))
    assert main(["predict", "--model", str(tmp_path / "model.pt"), "5.1", "3.5", "1.4",
                 "0.2"]) == 0
    assert capsys.readouterr().out.startswith(str(clf.predict(x.iloc[:1])[0]))
    with pytest.raises(Exception, match="TorchannClassifier"):
        TorchannRegressor.load(tmp_path / "model.pt")


def test_regressor_and_chapter_shape(tmp_path):
    from sklearn.datasets import load_diabetes, make_blobs

    from torchann.classify.chapter import NeuralNet

    x, y = load_diabetes(return_X_y=True)
    reg = TorchannRegressor(hidden=(32,), weight_decay=1e-3, early_stopping=10,
                            random_state=0).fit(x, y)
    assert reg.score(x, y) > 0.4 and abs(reg.predict(x).mean() - y.mean()) < 0.2 * y.std()
    reg.save(tmp_path / "r.pt")
    assert np.allclose(TorchannRegressor.load(tmp_path / "r.pt").predict(x), reg.predict(x))
    xb, yb = make_blobs(60, centers=2, random_state=0)
    clf = TorchannClassifier(hidden=5, dropout=0.0, random_state=0).fit(xb, yb)
    assert isinstance(clf.model_, NeuralNet)


def test_a_model_trained_by_the_cli_loads_as_an_estimator(tmp_path, iris_frame, capsys):
    from torchann.cli import main

    x, y = iris_frame
    csv = tmp_path / "iris.csv"
    x.assign(species=y).to_csv(csv, index=False)
    assert main(["train", "--data", str(csv), "--label", "species", "--preset", "fast",
                 "--epochs", "60", "--log-every", "0", "--out", str(tmp_path / "o")]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", str(tmp_path / "o" / "model.pt"), "--csv", str(csv)]) == 0
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    cli_labels = [row["label"] for row in rows]
    clf = TorchannClassifier.load(tmp_path / "o" / "model.pt")
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(clf.predict(x)) == cli_labels


def _penguin_like(n=240, seed=0):
    """A small frame like the penguins table: a text column, a number with blanks."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], size=n)
    island = np.where(species == "Gentoo", "Biscoe", rng.choice(["Dream", "Torgersen"], n))
    bill = np.where(species == "Adelie", 38.0, np.where(species == "Gentoo", 47.0, 49.0))
    flipper = np.where(species == "Gentoo", 217.0, 192.0)
    frame = pd.DataFrame({"island": island,
                          "bill_length_mm": bill + rng.normal(0, 1.5, n),
                          "flipper_length_mm": flipper + rng.normal(0, 4, n),
                          "sex": rng.choice(["male", "female", None], size=n)})
    frame.loc[::17, "bill_length_mm"] = np.nan
    return frame, species


def test_the_defaults_are_auto():
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    clf = TorchannClassifier(random_state=0).fit(x, y)
    assert clf.config_["optimizer"] == "adamw" and clf.config_["lr_schedule"] == "warmup_cosine"
    assert clf.config_["hidden"] == (128, 128) and clf.config_["early_stopping"] is not None
    assert clf.config_["label_smoothing"] == 0.1
    assert clf.score(x, y) > 0.95
    reg = TorchannRegressor(random_state=0, epochs=3).fit(x, y.astype(float))
    assert reg.config_["label_smoothing"] == 0.0 and reg.config_["epochs"] == 3
    tiny = TorchannClassifier(random_state=0, epochs=2).fit(x[:60], y[:60])
    assert tiny.config_["early_stopping"] is None  # too few rows for a validation split
    off = TorchannClassifier(random_state=0, epochs=2, early_stopping=False).fit(x, y)
    assert off.config_["early_stopping"] is None and off.best_epoch_ is None


def test_a_frame_with_text_and_blanks_goes_through_the_encoder(tmp_path):
    frame, species = _penguin_like()
    clf = TorchannClassifier(random_state=0).fit(frame, species)
    assert list(clf.feature_names_in_) == list(frame.columns) and clf.n_features_in_ == 4
    assert "island=Biscoe" in clf.encoder_.output_names
    assert "bill_length_mm_missing" in clf.encoder_.output_names
    assert clf.score(frame, species) > 0.9
    assert set(clf.predict(frame.iloc[:5])) <= {"Adelie", "Gentoo", "Chinstrap"}
    clf.save(tmp_path / "penguins.pt")
    again = TorchannClassifier.load(tmp_path / "penguins.pt")
    assert np.allclose(again.predict_proba(frame), clf.predict_proba(frame))
    reg = TorchannRegressor(random_state=0, epochs=5).fit(frame.drop(columns="bill_length_mm")
                                                          .assign(species=species),
                                                          frame["bill_length_mm"].fillna(40.0))
    assert reg.predict(frame.drop(columns="bill_length_mm").assign(species=species)).shape == (
        len(frame),)
