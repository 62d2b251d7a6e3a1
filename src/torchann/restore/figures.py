"""The demo's original and the figures: panels, the comparison, the loss curves."""

from __future__ import annotations

from torchann.io.writers import new_figure  # noqa: F401 (figures are drawn through it)


def demo_image(size=100):
    """The built-in original: scikit-image's camera photograph, ``size`` x ``size`` in [0, 1]."""
    from skimage import data, transform, util

    camera = util.img_as_float64(data.camera())
    return transform.resize(camera, (size, size), anti_aliasing=True)


def display_range(image, stretch=False):
    """Grey levels to show ``image`` with: [0, 1] when it lies there, else its 0.5-99.5 %.

    ``stretch=True`` always takes the percentiles (for a corrupted signal, not a picture).
    """
    import numpy as np

    lo, hi = (float(v) for v in np.percentile(image, [0.5, 99.5]))
    if not stretch and lo >= -0.05 and hi <= 1.05:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def plot_panels(panels, title=None):
    """Pictures side by side; each panel is ``(name, image, (lo, hi))``. Returns a Figure."""
    fig = new_figure(figsize=(3.2 * len(panels), 3.5))
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (name, image, (lo, hi)) in zip(axes[0], panels):
        ax.imshow(image, cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(name)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_comparison(broken, restored, reference=None, title=None):
    """Side by side: broken | restored | reference (when known). Returns a Figure."""
    shared = display_range(restored if reference is None else reference)
    panels = [("broken", broken, display_range(broken, stretch=True)),
              ("restored", restored, shared)]
    if reference is not None:
        panels.append(("reference", reference, shared))
    return plot_panels(panels, title)


def plot_loss(history, method=""):
    """The distance ``||f(x) - y||`` per step on a log scale. Returns a Figure."""
    fig = new_figure(figsize=(6, 4))
    ax = fig.subplots()
    steps = [s for s, _ in history]
    values = [max(d, 1e-30) for _, d in history]
    ax.semilogy(steps, values, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("distance ||f(x) - y||")
    ax.set_title(f"loss per step ({method})" if method else "loss per step")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def plot_losses(histories):
    """Several methods' distance per step on one log-scale plot (steps on a symlog axis).

    Parameters
    ----------
    histories : dict
        ``{method: [(step, distance), ...]}``, e.g. each result's ``history``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig = new_figure(figsize=(6, 4))
    ax = fig.subplots()
    for method, history in histories.items():
        steps, values = zip(*history)
        ax.semilogy(steps, [max(v, 1e-30) for v in values], lw=1.2, label=method)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("step")
    ax.set_ylabel("distance ||f(x) - y||")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
