"""3.3 beyond the chapter: what a network has to beat, fitted on the same split.

Every run fits two baselines on the same training rows and the same encoded features as the
network, and scores them on the same test rows with the task's main metric (accuracy for a
classifier, R² for a regression):

- ``constant``: always the most common training class, or the training mean;
- ``linear``: scikit-learn's ``LogisticRegression`` (at most :data:`LINEAR_ITERATIONS`
  L-BFGS iterations) or ``Ridge`` (alpha 1), on at most :data:`LINEAR_ROWS` training rows (an
  evenly strided subsample above that, so that the fit stays a fraction of a second).

:func:`compare` says whether the network beat the linear model; a network that does not is
worth a warning (:func:`baseline_warning`).
"""

from __future__ import annotations

import warnings

import numpy as np

#: The linear baseline is fitted on at most this many training rows.
LINEAR_ROWS = 200_000
#: Iterations of the logistic regression's solver.
LINEAR_ITERATIONS = 200


def main_metric(task):
    """The metric baselines are compared on: ``"accuracy"`` or ``"r2"``."""
    return "r2" if task.kind == "regression" else "accuracy"


def _score(task, y_true, y_pred):
    from sklearn.metrics import accuracy_score, r2_score

    if task.kind == "regression":
        return float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")
    return float(accuracy_score(np.asarray(y_true).astype(int), np.asarray(y_pred).astype(int)))


def fit_baselines(task, x_train, y_train, x_test, y_test):
    """Fit and score the constant and the linear baseline.

    Parameters
    ----------
    task : Task
    x_train, x_test : ndarray, shape (N, F)
        The network's own (encoded, standardized) features.
    y_train, y_test : ndarray
        Targets encoded by :meth:`Task.encode` (R² and accuracy do not depend on the
        regression target's standardization).

    Returns
    -------
    dict
        ``{"metric": "accuracy"|"r2", "constant": {metric: value}, "linear": {metric: value,
        "model": name, "rows": rows fitted on, "of_rows": training rows}}``.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge

    metric = main_metric(task)
    x_train = np.asarray(x_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if task.kind == "regression":
        constant = np.full(len(y_test), float(y_train.mean()))
    else:
        values, counts = np.unique(y_train.astype(int), return_counts=True)
        constant = np.full(len(y_test), values[int(np.argmax(counts))])
    step = -(-len(y_train) // LINEAR_ROWS)  # ceil: an evenly strided subsample
    xs, ys = x_train[::step], y_train[::step]
    if task.kind == "regression":
        model, name = Ridge(alpha=1.0), "ridge regression"
    else:
        model, name = LogisticRegression(max_iter=LINEAR_ITERATIONS), "logistic regression"
        ys = ys.astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if task.is_classification and len(np.unique(ys)) < 2:
            linear = constant
        else:
            linear = model.fit(xs, ys).predict(x_test)
    return {"metric": metric,
            "constant": {metric: _score(task, y_test, constant)},
            "linear": {metric: _score(task, y_test, linear), "model": name, "rows": len(ys),
                       "of_rows": len(y_train)}}


def network_score(task, test):
    """The network's main metric from :meth:`Task.evaluate`'s test metrics."""
    return test[main_metric(task)]


def beats_linear(baseline, score):
    """Whether the network's ``score`` beats the linear baseline (a perfect score always
    counts: there is nothing left to beat)."""
    linear = baseline["linear"][baseline["metric"]]
    return bool(score > linear or score >= 1.0 or not np.isfinite(linear))


def _shown(metric, value):
    return f"{value:.1%}" if metric == "accuracy" else f"{value:.3f}"


def baseline_line(baseline, score):
    """``Baselines: constant 52.0%, linear 71.3% (the network: 99.1%)`` (R² for a
    regression)."""
    metric = baseline["metric"]
    from torchann.i18n import message

    linear = baseline["linear"]
    sample = (message("train.summary.baseline_sample", rows=linear["rows"],
                      of_rows=linear["of_rows"])
              if linear["rows"] < linear.get("of_rows", 0) else "")
    return message("train.summary.baseline", what="" if metric == "accuracy" else "R² ",
                   constant=_shown(metric, baseline["constant"][metric]),
                   linear=_shown(metric, linear[metric]), sample=sample,
                   network=_shown(metric, score))


def baseline_warning(baseline, score, preset=None):
    """The warning for a network that does not beat the linear model, or ``None``; its advice
    names ``preset=auto`` unless that was the ``preset``."""
    if beats_linear(baseline, score):
        return None
    from torchann.i18n import message

    metric = baseline["metric"]
    linear = baseline["linear"]
    return message("train.baseline_warning",
                   name=message("train.metric." + ("accuracy" if metric == "accuracy" else "r2")),
                   score=_shown(metric, score), model=linear["model"],
                   linear=_shown(metric, linear[metric]),
                   advice=message("train.advice." + ("auto" if preset == "auto" else "other")))


#: What ``metrics.json`` says under ``baseline`` for a streamed table.
STREAMED = {"skipped": "a streamed table's training rows are never all in memory"}


def report_numbers(baseline):
    """``(name, text)`` pairs for the report page."""
    from torchann.i18n import message

    metric = baseline["metric"]
    linear = baseline["linear"]
    return [(message("train.n_baseline_constant"), _shown(metric, baseline["constant"][metric])),
            (message("train.n_baseline_linear", model=linear["model"], rows=linear["rows"]),
             _shown(metric, linear[metric]))]
