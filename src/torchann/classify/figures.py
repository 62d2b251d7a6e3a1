"""3.3 Pictures: the data, the decision boundary and the loss curve."""

from __future__ import annotations

import math

import numpy as np

from torchann.classify.chapter import vis_data
from torchann.io.writers import new_figure


def _draw_points(ax, x_train, y_train, x_test, y_test, names, colors):
    """Draw the training (and test) points with :func:`vis_data` and name the axes."""
    vis_data(x_train, y_train, ax, c=colors[0], label="train")
    if x_test is not None:
        vis_data(x_test, y_test, ax, c=colors[1], label="test")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])


def data_figure(x_train, y_train, x_test=None, y_test=None, names=("x1", "x2")):
    """The chapter's data picture: training points in red, test points in blue."""
    fig = new_figure(figsize=(5, 5))
    ax = fig.subplots()
    _draw_points(ax, x_train, y_train, x_test, y_test, names, colors=("r", "b"))
    ax.set_title("Data: label 0 = circle, label 1 = plus")
    ax.legend(fontsize="small")
    return fig


def boundary_figure(proba, x_train, y_train, x_test=None, y_test=None, names=("x1", "x2"),
                    resolution=200):
    """P(label = 1) over the plane, with the 0.5 contour and the points.

    Parameters
    ----------
    proba : callable
        Maps an ``(M, 2)`` array in the plotted units to M probabilities (for a model trained
        on standardized features, standardize inside it).
    x_train, y_train, x_test, y_test : array_like
        The points to draw (2 features).
    names : (str, str)
        Axis labels.
    resolution : int
        Grid points per axis.

    Returns
    -------
    matplotlib Figure
    """
    pts = np.asarray(x_train) if x_test is None else np.vstack([x_train, x_test])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-6)
    g0 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    g1 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(g0, g1)
    zz = np.asarray(proba(np.column_stack([xx.ravel(), yy.ravel()]))).reshape(xx.shape)
    fig = new_figure(figsize=(6, 5))
    ax = fig.subplots()
    filled = ax.contourf(xx, yy, zz, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
    ax.contour(xx, yy, zz, levels=[0.5], colors="k", linewidths=1.5)
    fig.colorbar(filled, ax=ax, label="P(label = 1)")
    _draw_points(ax, x_train, y_train, x_test, y_test, names, colors=("k", "g"))
    ax.set_title("Predicted probability; black line: P = 0.5")
    ax.legend(fontsize="small", loc="upper right")
    return fig


def loss_figure(result):
    """Training loss per epoch and test loss at each logged epoch, from a :class:`FitResult`."""
    fig = new_figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(range(len(result.train_loss)), result.train_loss, label="train loss")
    if result.test_loss:
        ep, tl = zip(*result.test_loss)
        ax.plot(ep, tl, "o-", label="test loss")
    ax.axhline(math.log(2), color="gray", ls=":", label="ln 2 (an untrained classifier)")
    ax.set_xlabel("epoch")
    ax.set_ylabel("binary cross-entropy")
    ax.set_title("Loss (a loss is not an error rate)")
    ax.legend()
    return fig


def experiment_figures(model, history, data):
    """The figures of a training run, and why ``data.png`` and ``boundary.png`` are missing.

    Parameters
    ----------
    model : torch.nn.Module
    history : FitResult
    data : ExperimentData
        The run's data (:mod:`~torchann.classify.experiment`).

    Returns
    -------
    figures : dict
        ``loss.png``, and ``data.png`` and ``boundary.png`` for a binary task with two
        features (in their own units, the boundary computed through ``data.prepare``).
    note : str or None
        Why ``data.png`` and ``boundary.png`` were not drawn, if they were not.
    """
    from torchann.classify.evaluation import predict_proba
    from torchann.i18n import message

    figures = {"loss.png": loss_figure(history)}
    if data.streamed:
        return figures, message("figures.note.streamed")
    if data.task.kind != "binary":
        return figures, message("figures.note.binary_only", kind=data.task.kind)
    if data.x_train.shape[1] != 2:
        return figures, message("figures.note.two_features", n=data.x_train.shape[1])
    raw_train, raw_test = data.raw or (data.x_train, data.x_test)
    prepare, names = data.prepare, data.info["features"]

    def proba(points):
        return predict_proba(model, prepare(points) if prepare else points)

    figures["data.png"] = data_figure(raw_train, data.y_train, raw_test, data.y_test,
                                      names=names)
    figures["boundary.png"] = boundary_figure(proba, raw_train, data.y_train, raw_test,
                                              data.y_test, names=names)
    return figures, None
