"""3.2 Restoring an image corrupted by a known function.

An image ``x`` was corrupted by a known function, ``y = weird_function(x)``, and only ``y`` is
left. The chapter recovers ``x`` by gradient descent on the distance ``||f(x) - y||`` starting
from random noise. This module has the chapter's function and loss, that solver (``gd``), and
three faster ones (``cg``, ``lbfgs``, ``adam``) behind one entry point, :func:`restore`.

Every solver treats the forward function ``f`` as a black box: it only calls it and
differentiates it with autograd, so a user's own corruption works the same way
(:func:`load_corruption`). :func:`exact_solution` builds ``f``'s matrix column by column and
solves it directly; it is the yardstick the benchmark and the tests measure against.

Methods and their defaults
--------------------------
======  ======  =====  ======  =========================================================
method  steps   lr     tol     what a step is
======  ======  =====  ======  =========================================================
gd      20000   0.8    none    the seed's loop: ``x <- x - lr * grad ||f(x) - y||``
cg      1000    --     1e-6    one CGLS iteration: one call of ``f`` and one vjp
lbfgs   1000    1.0    1e-5    one evaluation of ``||f(x) - y||^2`` and its gradient
adam    2000    0.01   none    one Adam step on ``||f(x) - y||``
======  ======  =====  ======  =========================================================

``tol`` stops a solver once the relative residual ``||f(x) - y|| / ||y||`` falls below it.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchann.errors import TorchannError
from torchann.runtime import resolve_device


@dataclass
class RestoreResult:
    """What a solver returns.

    Attributes
    ----------
    x : torch.Tensor
        The restored signal, flat, on the CPU.
    method : str
        Solver name (``gd``, ``cg``, ``lbfgs``, ``adam``, or a regularized solver's name).
    steps : int
        Iterations taken.
    seconds : float
        Solver wall time, warm-up included.
    history : list of (int, float)
        ``(step, distance)`` pairs, the seed's loss ``||f(x) - y||`` per step.
    final_distance : float
        The seed's loss at the end.
    relative_residual : float
        ``||f(x) - y|| / ||y||`` at the end.
    stopped : str
        Why the solver stopped (``steps``, ``tol``, ...).
    extra : dict
        Solver-specific numbers (e.g. the chosen regularization weight).
    """

    x: torch.Tensor
    method: str
    steps: int
    seconds: float
    history: list = field(default_factory=list)
    final_distance: float = float("nan")
    relative_residual: float = float("nan")
    stopped: str = "steps"
    extra: dict = field(default_factory=dict)


#: Default ``steps``, ``lr`` and ``tol`` of each method (``lr`` is unused by ``cg``).
METHODS = {
    "gd": {"steps": 20_000, "lr": 0.8, "tol": None},
    "cg": {"steps": 1_000, "lr": None, "tol": 1e-6},
    "lbfgs": {"steps": 1_000, "lr": 1.0, "tol": 1e-5},
    "adam": {"steps": 2_000, "lr": 0.01, "tol": None},
}
#: L-BFGS history size (pairs of past steps kept).
LBFGS_HISTORY = 10
#: A loss this many times its starting value counts as divergence.
DIVERGENCE_FACTOR = 100.0


# --------------------------------------------------------------------------- the chapter


def weird_function(x, n_iter=5):
    """Corrupt a flat signal the way the chapter does.

    Each of ``n_iter`` rounds replaces ``h[k]`` by ``-(h[k] + h[k-1] - h[k+1]) / 3``, with
    zeros beyond both ends, and after rounds 0, 2, 4 swaps the two halves of ``h``.

    Parameters
    ----------
    x : torch.Tensor
        Shape ``(n,)``, or ``(batch, n)`` to corrupt several signals at once.
    n_iter : int
        Number of rounds.

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.

    Notes
    -----
    The function is linear and invertible (condition number about 56 for n = 10,000), but
    the solvers here never use that: they only call it and differentiate it.
    """
    h = x
    filt = torch.tensor([-1.0 / 3, 1.0 / 3, -1.0 / 3], dtype=x.dtype, device=x.device)
    for i in range(n_iter):
        zero = h.new_zeros(h.shape[:-1] + (1,))
        h_l = torch.cat((zero, h[..., :-1]), -1)  # h[k-1]
        h_r = torch.cat((h[..., 1:], zero), -1)  # h[k+1]
        h = filt[0] * h + filt[2] * h_l + filt[1] * h_r
        if i % 2 == 0:
            half = h.shape[-1] // 2
            h = torch.cat((h[..., half:], h[..., :half]), -1)
    return h


def distance_loss(y_pred, y):
    """The chapter's loss: the Euclidean distance ``||y_pred - y||`` (not squared)."""
    return torch.dist(y_pred, y)


# --------------------------------------------------------------------------- forward models


def load_corruption(spec: str):
    """Turn a ``--corruption`` value into a forward function.

    Parameters
    ----------
    spec : str
        ``weird`` (the chapter's :func:`weird_function`), ``module:function`` (an importable
        module) or ``path/to/file.py:function`` (a Python file). The prefix ``blur:`` is
        reserved for built-in blur models.

    Returns
    -------
    callable
        Takes and returns a flat float tensor. Check it on data with :func:`check_forward`.

    Raises
    ------
    TorchannError
        When the spec is malformed, the module or file cannot be loaded, or the name is
        missing or not callable.

    Notes
    -----
    Loading a module runs its code, as ``import`` does: name only code you trust.
    """
    spec = spec.strip()
    if spec == "weird":
        return weird_function
    if spec.startswith("blur:"):
        raise TorchannError(f"--corruption {spec}: built-in blur models are not available in "
                            "this version; use 'weird' or module:function")
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name.isidentifier():
        raise TorchannError(f"--corruption {spec!r}: expected 'weird', 'module:function' or "
                            "'path/to/file.py:function'")
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _load_file(Path(target), spec)
    else:
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as err:
            raise TorchannError(f"--corruption {spec}: no module named {err.name!r}; check the "
                                "name, or give a file as path/to/file.py:function") from None
        except Exception as err:
            raise TorchannError(f"--corruption {spec}: importing {target} failed with "
                                f"{type(err).__name__}: {err}") from None
    func = getattr(module, name, None)
    if func is None:
        raise TorchannError(f"--corruption {spec}: {target} has no function {name!r}")
    if not callable(func):
        raise TorchannError(f"--corruption {spec}: {target}.{name} is not callable")
    return func


def _load_file(path: Path, spec: str):
    if not path.is_file():
        raise TorchannError(f"--corruption {spec}: no such file {path}; check the path")
    mod_name = f"torchann_corruption_{abs(hash(str(path.resolve())))}"
    try:
        module_spec = importlib.util.spec_from_file_location(mod_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[mod_name] = module
        module_spec.loader.exec_module(module)
    except Exception as err:
        sys.modules.pop(mod_name, None)
        raise TorchannError(f"--corruption {spec}: running {path} failed with "
                            f"{type(err).__name__}: {err}") from None
    return module


def check_forward(forward, x):
    """Call ``forward`` once on ``x`` and check that a solver can use it.

    Parameters
    ----------
    forward : callable
        The corruption: a flat float tensor in, a flat float tensor out.
    x : torch.Tensor
        A flat sample input.

    Returns
    -------
    torch.Tensor
        ``forward(x)``, detached.

    Raises
    ------
    TorchannError
        When it fails, returns something other than a float tensor of ``x``'s shape,
        is not differentiable, or gives NaN or infinite values.
    """
    name = getattr(forward, "__name__", "the corruption")
    sample = x.detach().clone().requires_grad_(True)
    try:
        out = forward(sample)
    except Exception as err:
        raise TorchannError(f"the corruption {name} failed on a flat tensor of "
                            f"{x.numel()} values: {type(err).__name__}: {err}") from None
    if not isinstance(out, torch.Tensor):
        raise TorchannError(f"the corruption {name} returned a {type(out).__name__}; "
                            "it must return a torch tensor")
    if not out.is_floating_point():
        raise TorchannError(f"the corruption {name} returned a {out.dtype} tensor; "
                            "it must return floats")
    if out.shape != x.shape:
        raise TorchannError(f"the corruption {name} turned shape {tuple(x.shape)} into "
                            f"{tuple(out.shape)}; it must keep the shape")
    if not out.requires_grad:
        raise TorchannError(f"the corruption {name} is not differentiable (its output has no "
                            "gradient); write it with torch operations, without .detach(), "
                            "numpy or torch.no_grad()")
    if not torch.isfinite(out).all():
        raise TorchannError(f"the corruption {name} returned NaN or infinite values")
    return out.detach()


def exact_solution(broken, forward=weird_function, chunk=50):
    """Solve ``forward(x) = broken`` directly, for a linear (or affine) ``forward``.

    The matrix is built column by column, ``A[:, j] = forward(e_j) - forward(0)``, in
    float64 with ``torch.func.vmap`` (so ``forward`` must be vmappable), stored sparse, and
    solved with scipy's sparse LU.

    Parameters
    ----------
    broken : array-like or torch.Tensor
        The corrupted signal, any shape (flattened).
    forward : callable
        The corruption.
    chunk : int
        Columns built per call.

    Returns
    -------
    torch.Tensor
        Flat float64 solution on the CPU.
    """
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spl

    y = torch.as_tensor(broken, dtype=torch.float64).reshape(-1).cpu()
    n = y.numel()
    with torch.no_grad():
        offset = forward(torch.zeros(n, dtype=torch.float64))
        batched = torch.func.vmap(forward)
        rows = []
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            basis = torch.zeros(stop - start, n, dtype=torch.float64)
            basis[torch.arange(stop - start), torch.arange(start, stop)] = 1.0
            rows.append(sp.csr_matrix((batched(basis) - offset).numpy()))
    matrix = sp.vstack(rows).T.tocsc()  # row j of the stack is column j of A
    x = spl.spsolve(matrix, (y - offset).numpy())
    if not np.isfinite(x).all():
        raise TorchannError("the corruption's matrix is singular; it has no exact inverse")
    return torch.from_numpy(np.asarray(x, dtype=np.float64))


# --------------------------------------------------------------------------- solvers


class _Tracker:
    """Records the distance per step, checks for divergence and the tolerance."""

    def __init__(self, y, tol, lr, callback):
        self.norm_y = float(y.norm()) or 1.0
        self.tol = tol
        self.lr = lr
        self.callback = callback
        self.history = []
        self.first = None

    def __call__(self, step, distance) -> bool:
        """Record ``distance`` at ``step``; return True when the tolerance is reached."""
        if self.first is None:
            self.first = distance
        if not math.isfinite(distance) or distance > DIVERGENCE_FACTOR * max(self.first, 1e-30):
            what = "became NaN or infinite" if not math.isfinite(distance) else (
                f"grew from {self.first:.3g} to {distance:.3g}")
            advice = f"lower --lr (it is {self.lr:g})" if self.lr else "check the corruption"
            raise TorchannError(f"the solver diverged at step {step}: the loss {what}; {advice}")
        self.history.append((step, distance))
        if self.callback is not None:
            self.callback(step, distance)
        return self.tol is not None and distance / self.norm_y < self.tol


def _gd(forward, y, x, steps, lr, track):
    """The seed's loop: plain gradient steps on the distance."""
    x = x.clone().requires_grad_(True)
    for i in range(steps):
        loss = distance_loss(forward(x), y)
        loss.backward()
        if track(i, loss.item()):
            return x.detach(), i + 1, "tol"
        with torch.no_grad():
            x -= lr * x.grad
        x.grad = None
    return x.detach(), steps, "steps"


def _adam(forward, y, x, steps, lr, track):
    """Adam on the distance."""
    x = x.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for i in range(steps):
        opt.zero_grad()
        loss = distance_loss(forward(x), y)
        loss.backward()
        if track(i, loss.item()):
            return x.detach(), i + 1, "tol"
        opt.step()
    return x.detach(), steps, "steps"


class _Stop(Exception):
    """Raised from the L-BFGS closure when the tolerance is reached."""


def _lbfgs(forward, y, x, steps, lr, track):
    """L-BFGS with a strong-Wolfe line search on the squared distance."""
    x = x.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], lr=lr, max_iter=steps, max_eval=steps,
                            history_size=LBFGS_HISTORY, tolerance_grad=0.0,
                            tolerance_change=0.0, line_search_fn="strong_wolfe")
    count = [0]

    def closure():
        opt.zero_grad()
        distance = distance_loss(forward(x), y)
        loss = distance * distance
        loss.backward()
        count[0] += 1
        if track(count[0] - 1, distance.item()):
            raise _Stop
        return loss

    try:
        opt.step(closure)
        stopped = "steps" if count[0] >= steps else "converged"
    except _Stop:  # x holds the point that met the tolerance
        stopped = "tol"
    return x.detach(), count[0], stopped


def _check_affine(forward, n, like):
    """Refuse a forward function that is not affine: ``cg`` would solve the wrong problem."""
    gen = torch.Generator().manual_seed(1234)
    u = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    v = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    with torch.no_grad():
        f0, fu, fv, fuv = (forward(z) for z in (torch.zeros_like(u), u, v, 2.0 * u - v))
    gap = (fuv - (2.0 * fu - fv)).norm()
    scale = fu.norm() + fv.norm() + f0.norm()
    if not gap <= 1e-4 * scale:
        raise TorchannError("--method cg needs a linear (or affine) corruption, and this one "
                            "is not: f(2u - v) differs from 2 f(u) - f(v); use --method lbfgs")
    return f0


def _cg(forward, y, x, steps, lr, track):
    """CGLS on ``min ||A x - b||`` with ``A x = f(x) - f(0)`` and ``b = y - f(0)``.

    ``A x`` is a call of ``f``; ``A^T r`` is a vector-Jacobian product through autograd.
    Starts from zero (the seed's random start does not help a Krylov method). A
    non-affine ``f`` is refused rather than solved by Gauss-Newton: ``lbfgs`` handles it.
    """
    f0 = _check_affine(forward, y.numel(), y)
    point = torch.zeros_like(y, requires_grad=True)
    graph = forward(point)  # f is affine, so one graph gives A^T for every vector

    def a_t(r):
        return torch.autograd.grad(graph, point, grad_outputs=r, retain_graph=True)[0]

    def a_times(p):  # f(t p) - f(0) with t p of unit RMS, so an offset f(0) costs no digits
        t = math.sqrt(p.numel()) / float(p.norm())
        return (forward(t * p) - f0) / t

    x = torch.zeros_like(y)
    r = y - f0
    s = a_t(r)
    p = s.clone()
    gamma = s.dot(s)
    stopped = "steps"
    with torch.no_grad():
        for i in range(steps):
            if track(i, float(r.norm())):
                return x, i, "tol"
            if gamma == 0:
                return x, i, "converged"
            q = a_times(p)
            alpha = gamma / q.dot(q)
            x += alpha * p
            r -= alpha * q
            with torch.enable_grad():
                s = a_t(r)
            gamma_new = s.dot(s)
            p = s + (gamma_new / gamma) * p
            gamma = gamma_new
    if track(steps, float(r.norm())):
        stopped = "tol"
    return x, steps, stopped


_SOLVERS = {"gd": _gd, "cg": _cg, "lbfgs": _lbfgs, "adam": _adam}


def restore(broken, forward=weird_function, method="gd", steps=None, lr=None, seed=0,
            tol=None, device="cpu", callback=None) -> RestoreResult:
    """Recover ``x`` from ``broken = forward(x)``.

    Parameters
    ----------
    broken : array-like or torch.Tensor
        The corrupted signal; flattened, computed in float32 as the chapter does.
    forward : callable
        The corruption, a black box: a flat float tensor in, one of the same shape out,
        differentiable by autograd. ``cg`` also needs it to be linear or affine.
    method : {'gd', 'cg', 'lbfgs', 'adam'}
        The solver; see the module docstring for what each does and its defaults.
    steps, lr, tol : optional
        Override the method's defaults (:data:`METHODS`). ``tol`` stops once
        ``||f(x) - y|| / ||y||`` falls below it.
    seed : int
        Seed of the standard normal start (``gd``, ``lbfgs``, ``adam``; ``cg`` starts at 0).
    device : str or torch.device
        ``cpu``, ``cuda`` or ``auto``.
    callback : callable, optional
        Called as ``callback(step, distance)`` after each step's loss is known.

    Returns
    -------
    RestoreResult
        With ``x`` flat on the CPU, never NaN.

    Raises
    ------
    TorchannError
        Unknown method, unusable option values or corruption, or divergence (the loss
        becomes NaN/inf or grows past :data:`DIVERGENCE_FACTOR` times its start).
    """
    if method not in _SOLVERS:
        raise TorchannError(f"unknown method {method!r}; use one of {', '.join(_SOLVERS)}")
    defaults = METHODS[method]
    steps = defaults["steps"] if steps is None else int(steps)
    lr = defaults["lr"] if lr is None else float(lr)
    tol = defaults["tol"] if tol is None else float(tol)
    if steps < 1:
        raise TorchannError(f"--steps {steps}: must be 1 or more")
    if lr is not None and not lr > 0:
        raise TorchannError(f"--lr {lr:g}: must be positive")
    if tol is not None and not tol >= 0:
        raise TorchannError(f"--tol {tol:g}: must be 0 or more")
    dev = resolve_device(device) if isinstance(device, str) else torch.device(device)

    y = torch.as_tensor(broken).detach().reshape(-1).to(dtype=torch.float32, device=dev)
    torch.manual_seed(seed)
    x0 = torch.randn(y.numel(), dtype=torch.float32).to(dev)
    check_forward(forward, x0)
    track = _Tracker(y, tol, lr, callback)

    start = time.perf_counter()
    x, taken, stopped = _SOLVERS[method](forward, y, x0, steps, lr, track)
    with torch.no_grad():
        distance = float(distance_loss(forward(x), y))
    seconds = time.perf_counter() - start
    if not (math.isfinite(distance) and torch.isfinite(x).all()):
        raise TorchannError(f"the solver diverged at step {taken}: the result is NaN or "
                            "infinite; lower --lr")
    if track.first is not None and distance > track.first:
        # too large a step can oscillate without blowing up; ending further from the data
        # than the random start is divergence all the same
        advice = f"lower --lr (it is {lr:g})" if lr else "check the corruption"
        raise TorchannError(f"the solver diverged at step {taken}: the loss rose from "
                            f"{track.first:.3g} at the start to {distance:.3g}; {advice}")
    return RestoreResult(
        x=x.cpu(), method=method, steps=taken, seconds=seconds, history=track.history,
        final_distance=distance, relative_residual=distance / track.norm_y, stopped=stopped,
        extra={"lr": lr, "tol": tol, "seed": seed, "device": str(dev)}
        | ({"history_size": LBFGS_HISTORY} if method == "lbfgs" else {}),
    )


# --------------------------------------------------------------------------- demo and figures


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
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.5), squeeze=False)
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
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    steps = [s for s, _ in history]
    values = [max(d, 1e-30) for _, d in history]
    ax.semilogy(steps, values, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel("distance ||f(x) - y||")
    ax.set_title(f"loss per step ({method})" if method else "loss per step")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig
