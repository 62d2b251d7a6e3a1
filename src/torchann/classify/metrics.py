"""3.3 beyond the chapter: test metrics for every task, from :mod:`sklearn.metrics`.

- classification: accuracy, per-class precision, recall and support, and the confusion matrix
  (rows: true class, columns: predicted class, in the task's class order);
- regression: RMSE, MAE and R², in the label's original units.

:func:`summary_lines` turns either into the lines the CLI prints. :class:`TaskMetrics` gives a
:class:`~torchann.classify.tasks.Task` its metrics and how to say them, for each kind of task.
"""

from __future__ import annotations

import numpy as np


def classification_metrics(y_true, y_pred, classes):
    """Accuracy, per-class precision/recall/support and the confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array_like of int
        Class indices.
    classes : list of str
        Class names in index order.

    Returns
    -------
    dict
        ``accuracy``, ``per_class`` (``{name: {precision, recall, support}}``),
        ``confusion_matrix`` (list of lists) and ``classes``.
    """
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    labels = list(range(len(classes)))
    precision, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {str(name): {"precision": float(p), "recall": float(r),
                                  "support": int(s)}
                      for name, p, r, s in zip(classes, precision, recall, support)},
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "classes": [str(c) for c in classes],
    }


def regression_metrics(y_true, y_pred):
    """RMSE, MAE and R² of predictions in the original units.

    Returns
    -------
    dict
        ``rmse``, ``mae``, ``r2``.
    """
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    return {"rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
            "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")}


def summary_lines(metrics, prefix="Test"):
    """Readable lines for :func:`classification_metrics` or :func:`regression_metrics`
    (``prefix`` "Test": catalogue messages, said in the user's language by the CLI)."""
    from torchann.i18n import message

    test = prefix == "Test"
    if "rmse" in metrics:
        values = {k: metrics[k] for k in ("rmse", "mae", "r2")}
        return [message("train.regression", **values) if test else
                f"{prefix} RMSE {metrics['rmse']:.4g}, MAE {metrics['mae']:.4g}, "
                f"R² {metrics['r2']:.4f}"]
    classes = metrics["classes"]
    matrix = metrics["confusion_matrix"]
    n = sum(map(sum, matrix))
    right = sum(matrix[i][i] for i in range(len(classes)))
    lines = [message("train.accuracy", accuracy=metrics["accuracy"], right=right, n=n) if test
             else f"{prefix} accuracy: {metrics['accuracy']:.1%} ({right}/{n})"]
    width = max(8, *(len(c) for c in classes)) + 2
    lines.append(f"{'class':<{width}}precision  recall  support")
    for name, m in metrics["per_class"].items():
        lines.append(f"{name:<{width}}{m['precision']:>9.3f}  {m['recall']:>6.3f}  "
                     f"{m['support']:>7d}")
    cell = max(5, *(len(str(v)) + 1 for row in matrix for v in row),
               *(len(c) + 1 for c in classes))
    lines.append(message("train.confusion_matrix"))
    lines.append(" " * width + "".join(f"{c:>{cell}}" for c in classes))
    for name, row in zip(classes, matrix):
        lines.append(f"{name:<{width}}" + "".join(f"{v:>{cell}d}" for v in row))
    return lines


class TaskMetrics:
    """What a :class:`~torchann.classify.tasks.Task` measures and says, by its ``kind``.

    A mixin: the methods read ``self.kind``, ``self.classes``, ``self.target_mean``,
    ``self.target_scale``, :meth:`scores_to_output` and :meth:`output_to_index`.
    """

    def evaluate(self, model, x, y, threshold=0.5):
        """Metrics of ``model`` on ``(x, y)`` (targets encoded by :meth:`encode`).

        Classification: :func:`~torchann.classify.metrics.classification_metrics`, and for
        binary also ``confusion``, the ``tn``/``fp``/``fn``/``tp`` counts (label 1 positive);
        regression: :func:`~torchann.classify.metrics.regression_metrics` in the label's units.
        """
        from torchann.classify.evaluation import predict_scores

        out = self.scores_to_output(predict_scores(model, x))
        if self.kind == "regression":
            return regression_metrics(y * self.target_scale + self.target_mean, out)
        metrics = classification_metrics(y, self.output_to_index(out, threshold), self.classes)
        if self.kind == "binary":
            (tn, fp), (fn, tp) = metrics["confusion_matrix"]
            metrics["confusion"] = {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
        return metrics

    def metrics_fields(self, test, train=None):
        """The task's entries of ``metrics.json`` from :meth:`evaluate`'s test and training
        metrics (``train`` is ``None`` when the training rows were streamed)."""
        if self.kind == "binary":
            return {"test_accuracy": test["accuracy"],
                    "train_accuracy": train and train["accuracy"],
                    "confusion": test["confusion"], "per_class": test["per_class"]}
        if self.kind == "multiclass":
            return {"test_accuracy": test["accuracy"],
                    "train_accuracy": train and train["accuracy"],
                    "per_class": test["per_class"],
                    "confusion_matrix": test["confusion_matrix"], "classes": test["classes"]}
        return {"test_rmse": test["rmse"], "test_mae": test["mae"], "test_r2": test["r2"],
                "train_r2": train and train["r2"], "train_rmse": train and train["rmse"]}

    def summary_lines(self, test):
        """The lines that say how :meth:`evaluate`'s test metrics came out."""
        if self.kind != "binary":
            return summary_lines(test)
        from torchann.i18n import message

        c = test["confusion"]
        n = sum(c.values())
        return [message("train.accuracy_binary", accuracy=test["accuracy"],
                        right=round(test["accuracy"] * n), n=n, **c)]

    def report_numbers(self, test):
        """``(name, text)`` pairs for a report page, from :meth:`evaluate`'s test metrics."""
        from torchann.i18n import message

        if self.kind == "regression":
            return [(message("train.n_r2"), f"{test['r2']:.4f}"),
                    (message("train.n_rmse"), f"{test['rmse']:.4g}"),
                    (message("train.n_mae"), f"{test['mae']:.4g}")]
        if self.kind == "binary":
            return [(message("train.n_accuracy"), f"{test['accuracy']:.1%}"),
                    (message("train.n_confusion"),
                     ", ".join(f"{k} {v}" for k, v in test["confusion"].items()))]
        return [(message("train.n_accuracy"), f"{test['accuracy']:.1%}"),
                (message("train.n_matrix"), "; ".join(
                    " ".join(map(str, row)) for row in test["confusion_matrix"]))]

    def poor_result(self, test, y_train):
        """What makes the test result no better than a know-nothing guess, or ``None``.

        A regression whose R² is below 0 (worse than predicting the mean); a classifier no
        more accurate than always answering the most common class of ``y_train``.
        """
        from torchann.i18n import message

        if self.kind == "regression":
            if test["r2"] < 0:
                return message("train.poor.r2", r2=test["r2"])
            return None
        majority = np.unique(np.asarray(y_train), return_counts=True)[1].max() / len(y_train)
        if test["accuracy"] <= majority:
            return message("train.poor.accuracy", accuracy=test["accuracy"], majority=majority)
        return None
