"""3.3 Evaluating a trained network: losses, outputs, and the chapter's binary report.

:func:`evaluate` reports a binary classifier's loss, accuracy and confusion counts (the
chapter's task); :func:`loss_on`, :func:`task_loss` and :func:`predict_scores` serve every
task (:mod:`torchann.classify.metrics` turns outputs into per-task metrics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


def as_tensors(x, y, device, y_dtype=torch.float32):
    """``x`` as float32 and ``y`` (when given) as a flat ``y_dtype`` tensor on ``device``."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32) if not torch.is_tensor(x) else x,
                        dtype=torch.float32, device=device)
    if y is None:
        return x, None
    y = torch.as_tensor(np.asarray(y) if not torch.is_tensor(y) else y,
                        dtype=y_dtype, device=device).reshape(-1)
    return x, y


def target_dtype(task):
    """The dtype of a task's targets: int64 class indices for multiclass, else float32."""
    return torch.int64 if task is not None and task.kind == "multiclass" else torch.float32


def loss_on(model, loss_fn, x, y):
    """The mean loss of ``model`` on tensors ``(x, y)``, in eval mode, without gradients."""
    model.eval()
    with torch.no_grad():
        return loss_fn(model(x).squeeze(1), y).item()


#: Rows per forward pass when predicting, so that the hidden activations of a large table
#: never exist all at once.
PREDICT_CHUNK = 65_536


def predict_scores(model, x):
    """The network's outputs for ``x`` as float64 numpy: shape (N,) or (N, K), eval mode.

    Computed :data:`PREDICT_CHUNK` rows at a time."""
    device = next(model.parameters()).device
    x, _ = as_tensors(x, None, device)
    model.eval()
    with torch.no_grad():
        out = torch.cat([model(x[i:i + PREDICT_CHUNK])
                         for i in range(0, max(len(x), 1), PREDICT_CHUNK)])
    out = out.squeeze(1) if out.shape[1] == 1 else out
    return out.double().cpu().numpy()


@dataclass
class Evaluation:
    """Loss, accuracy and confusion counts of a classifier on labelled data.

    Attributes
    ----------
    loss : float
        Mean binary cross-entropy (not an error rate).
    accuracy : float
        Fraction of points whose predicted label (P >= threshold) is right.
    confusion : dict
        ``tn``, ``fp``, ``fn``, ``tp`` counts, label 1 being the positive class.
    """

    loss: float
    accuracy: float
    confusion: dict


def predict_proba(model, x):
    """Return P(label = 1) for each row of ``x`` as a float64 numpy vector (eval mode)."""
    device = next(model.parameters()).device
    x, _ = as_tensors(x, None, device)
    model.eval()
    with torch.no_grad():
        return model(x).squeeze(1).double().cpu().numpy()


def evaluate(model, x, y, threshold=0.5):
    """Evaluate ``model`` on ``(x, y)``: BCE loss, accuracy and confusion counts.

    Accuracy and the confusion matrix come from :mod:`sklearn.metrics`.

    Returns
    -------
    Evaluation
    """
    from sklearn.metrics import accuracy_score, confusion_matrix

    device = next(model.parameters()).device
    x, y = as_tensors(x, y, device)
    model.eval()
    with torch.no_grad():
        prob = model(x).squeeze(1)
        loss = nn.functional.binary_cross_entropy(prob, y).item()
    truth = y.cpu().numpy().astype(int)
    pred = (prob.cpu().numpy() >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(truth, pred, labels=[0, 1]).ravel()
    return Evaluation(loss=loss, accuracy=float(accuracy_score(truth, pred)),
                      confusion={"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)})


def task_loss(model, task, x, y):
    """The mean training loss of ``model`` for ``task`` on ``(x, y)`` (encoded targets)."""
    device = next(model.parameters()).device
    x, y = as_tensors(x, y, device, target_dtype(task))
    return loss_on(model, task.loss_fn(), x, y)
