"""The solvers behind :func:`restore`: one small function each, and the entry point."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch

from torchann.errors import TorchannError
from torchann.restore.chapter import distance_loss, weird_function
from torchann.restore.corruption import check_affine, check_forward
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


def _cg(forward, y, x, steps, lr, track):
    """CGLS on ``min ||A x - b||`` with ``A x = f(x) - f(0)`` and ``b = y - f(0)``.

    ``A x`` is a call of ``f``; ``A^T r`` is a vector-Jacobian product through autograd.
    Starts from zero (the seed's random start does not help a Krylov method). A
    non-affine ``f`` is refused rather than solved by Gauss-Newton: ``lbfgs`` handles it.
    """
    f0 = check_affine(forward, y.numel(), y)
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
