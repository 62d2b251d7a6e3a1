"""3.3 beyond the chapter: test metrics for every task, from :mod:`sklearn.metrics`.

- classification: accuracy, per-class precision, recall and support, and the confusion matrix
  (rows: true class, columns: predicted class, in the task's class order);
- regression: RMSE, MAE and R², in the label's original units.

:func:`summary_lines` turns either into the lines the CLI prints.
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
    """Readable lines for :func:`classification_metrics` or :func:`regression_metrics`."""
    if "rmse" in metrics:
        return [f"{prefix} RMSE {metrics['rmse']:.4g}, MAE {metrics['mae']:.4g}, "
                f"R² {metrics['r2']:.4f}"]
    classes = metrics["classes"]
    matrix = metrics["confusion_matrix"]
    n = sum(map(sum, matrix))
    right = sum(matrix[i][i] for i in range(len(classes)))
    lines = [f"{prefix} accuracy: {metrics['accuracy']:.1%} ({right}/{n})"]
    width = max(8, *(len(c) for c in classes)) + 2
    lines.append(f"{'class':<{width}}precision  recall  support")
    for name, m in metrics["per_class"].items():
        lines.append(f"{name:<{width}}{m['precision']:>9.3f}  {m['recall']:>6.3f}  "
                     f"{m['support']:>7d}")
    cell = max(5, *(len(str(v)) + 1 for row in matrix for v in row),
               *(len(c) + 1 for c in classes))
    lines.append("Confusion matrix (rows: true, columns: predicted):")
    lines.append(" " * width + "".join(f"{c:>{cell}}" for c in classes))
    for name, row in zip(classes, matrix):
        lines.append(f"{name:<{width}}" + "".join(f"{v:>{cell}d}" for v in row))
    return lines
