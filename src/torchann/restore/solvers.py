"""The entry point :func:`restore`: it picks the method and drives its steps."""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field

import torch

from torchann.errors import TorchannError
from torchann.i18n import message
from torchann.restore.chapter import distance_loss, weird_function
from torchann.restore.convergence import assess, estimate_condition, lanczos_condition
from torchann.restore.corruption import affine_offset, check_affine, check_forward
from torchann.restore.least_squares import Linearization, affine_operators
from torchann.restore.steps import adam_steps, cg_steps, gd_steps, gn_steps
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
    stop_reason : str or None
        ``stopped`` in one vocabulary for every method: ``tol`` (the tolerance was met),
        ``exact`` (the residual, or the normal equations' residual, is exactly zero),
        ``stationary`` (no step can reduce the residual further), ``max_steps``.
    converged : bool or None
        The result fits the data and the data determine it (see
        :mod:`torchann.restore.convergence`); False comes with ``warning``.
    condition_estimate : float or None
        A lower bound on the condition number of ``f``'s Jacobian at the result.
    warning : str or None
        Why the result is not to be trusted, and what to try; None when converged.
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
    stop_reason: str | None = None
    converged: bool | None = None
    condition_estimate: float | None = None
    warning: str | None = None


#: Default ``steps``, ``lr`` and ``tol`` of each method (``lr`` is unused by ``cg``).
METHODS = {
    "gd": {"steps": 20_000, "lr": 0.8, "tol": None},
    "cg": {"steps": 1_000, "lr": None, "tol": 1e-6},
    "lbfgs": {"steps": 1_000, "lr": 1.0, "tol": 1e-5},
    "adam": {"steps": 2_000, "lr": 0.01, "tol": None},
    "gn": {"steps": 100, "lr": None, "tol": 1e-5},
}
#: Starts that ``init`` names (or give an array).
INITS = ("random", "zeros", "broken", "mid")
#: The start each method takes by default (see :func:`restore`).
DEFAULT_INIT = {"gd": "random", "cg": "zeros", "lbfgs": "mid", "adam": "mid", "gn": "mid"}
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
            what = message("restore.loss_nan") if not math.isfinite(distance) else message(
                "restore.loss_grew", first=self.first, last=distance)
            raise TorchannError(key="restore.diverged", step=step, what=what,
                                advice=_advice(self.lr))
        self.history.append((step, distance))
        if self.callback is not None:
            self.callback(step, distance)
        return self.tol is not None and distance / self.norm_y < self.tol


def _advice(lr):
    """What to do about a diverged run: lower ``lr``, or (without one) check the corruption."""
    return message("restore.advice.lr", lr=lr) if lr else message("restore.advice.corruption")


def _first_order(iterates, steps, track):
    """Drive ``gd`` or ``adam`` (:mod:`~torchann.restore.steps`) for at most ``steps`` steps."""
    for step, x, distance in iterates:
        if step == steps:
            return x, steps, "steps"
        if track(step, distance):
            return x, step + 1, "tol"


def _gd(forward, y, x, steps, lr, track):
    """The seed's loop: plain gradient steps on the distance."""
    return _first_order(gd_steps(forward, y, x, lr), steps, track)


def _adam(forward, y, x, steps, lr, track):
    """Adam on the distance."""
    return _first_order(adam_steps(forward, y, x, lr), steps, track)


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


def _cg(forward, y, x, steps, lr, track, f0=None):
    """CGLS on ``min ||A x - b||`` with ``A x = f(x) - f(0)`` and ``b = y - f(0)``.

    ``A x`` is a call of ``f``; ``A^T r`` is a vector-Jacobian product through autograd.
    Starts from zero by default (the seed's random start does not help a Krylov method). A
    non-affine ``f`` is refused rather than solved: ``gn`` handles it.
    The condition estimate comes with the result, read off CGLS's own coefficients
    (:func:`~torchann.restore.convergence.lanczos_condition`): no product is spent on it.
    """
    if f0 is None:
        f0 = check_affine(forward, y.numel(), y)
    for it in cg_steps(forward, y, x0=x, f0=f0):
        if it.exact:
            stopped = "converged"
        elif track(it.step, float(it.residual.norm())):
            stopped = "tol"
        elif it.step == steps:
            stopped = "steps"
        else:
            continue
        info = {"condition_estimate": lanczos_condition(*it.lanczos),
                "condition_from": "cgls"}
        return it.x, it.step, stopped, info


def _gn(forward, y, x, steps, lr, track, tol=None, f0=None):
    """Gauss-Newton with Levenberg-Marquardt damping (:func:`~torchann.restore.steps.gn_steps`)."""
    for it in gn_steps(forward, y, x, tol, f0=f0):
        if it.reason is not None:
            return it.x, it.step, it.reason, it.info
        if track(it.step, it.distance):
            return it.x, it.step, "tol", it.info
        if it.step == steps:
            return it.x, steps, "steps", it.info


_SOLVERS = {"gd": _gd, "cg": _cg, "lbfgs": _lbfgs, "adam": _adam, "gn": _gn}


def choose_method(forward, y):
    """What ``method="auto"`` runs: ``cg`` when ``forward`` is affine, ``gn`` otherwise.

    Parameters
    ----------
    forward : callable
        The corruption (checked by :func:`check_forward` first).
    y : torch.Tensor
        The data, flat.

    Returns
    -------
    method : str
        ``cg`` or ``gn``.
    f0 : torch.Tensor or None
        ``f(0)`` when ``forward`` is affine.
    """
    check_forward(forward, y)
    f0 = affine_offset(forward, y.numel(), y)
    return ("cg" if f0 is not None else "gn"), f0


def start_point(init, y, seed=0):
    """The first iterate of a solver.

    Parameters
    ----------
    init : str or array-like
        ``random`` (standard normal noise, the chapter's start), ``zeros``, ``broken`` (the
        data ``y`` itself: ``f`` keeps the shape, and corruptions that keep pixel values --
        blurs, gentle curves -- leave each pixel near its original), ``mid`` (every pixel
        mid-grey, 0.5, the middle of an image's [0, 1]), or an array of the image's size.
    y : torch.Tensor
        The data, flat.
    seed : int
        Seed of ``random``.

    Returns
    -------
    torch.Tensor
        Flat, ``y``'s dtype and device.

    Raises
    ------
    TorchannError
        An unknown name, or an array of the wrong size or with NaN or infinite values.
    """
    torch.manual_seed(seed)
    if isinstance(init, str):
        if init == "random":
            return torch.randn(y.numel(), dtype=torch.float32).to(device=y.device,
                                                                  dtype=y.dtype)
        if init == "zeros":
            return torch.zeros_like(y)
        if init == "broken":
            return y.clone()
        if init == "mid":
            return torch.full_like(y, 0.5)
        raise TorchannError(key="restore.init_value", init=init, inits=INITS)
    start = torch.as_tensor(init).detach().reshape(-1).to(dtype=y.dtype, device=y.device)
    if start.numel() != y.numel():
        raise TorchannError(key="restore.init_size", got=start.numel(), want=y.numel())
    if not torch.isfinite(start).all():
        raise TorchannError(key="restore.init_finite")
    return start.clone()


def restore(broken, forward=weird_function, method="gd", steps=None, lr=None, seed=0,
            tol=None, device="cpu", callback=None, init=None, noise_level=None,
            condition=None) -> RestoreResult:
    """Recover ``x`` from ``broken = forward(x)``.

    Parameters
    ----------
    broken : array-like or torch.Tensor
        The corrupted signal; flattened, computed in float32 as the chapter does.
    forward : callable
        The corruption, a black box: a flat float tensor in, one of the same shape out,
        differentiable by autograd. ``cg`` also needs it to be linear or affine.
    method : {'gd', 'cg', 'lbfgs', 'adam', 'gn', 'auto'}
        The solver; see the package docstring for what each does and its defaults.
        ``auto`` is ``cg`` when ``forward`` is affine and ``gn`` otherwise.
    steps, lr, tol : optional
        Override the method's defaults (:data:`METHODS`). ``tol`` stops once
        ``||f(x) - y|| / ||y||`` falls below it.
    seed : int
        Seed of the ``random`` start.
    device : str or torch.device
        ``cpu``, ``cuda`` or ``auto``.
    callback : callable, optional
        Called as ``callback(step, distance)`` after each step's loss is known.
    init : str or array-like, optional
        The start (:func:`start_point`). By default ``random`` for ``gd`` (the chapter's
        run is unchanged), ``zeros`` for ``cg`` (a Krylov method gains nothing from noise)
        and ``mid`` for ``gn``, ``lbfgs`` and ``adam``. ``mid`` was measured against
        ``broken`` on the nonlinear suite of ``benchmarks/nonlinear.py`` (two photographs,
        six corruptions): both reach 50-110 dB on the curves, blurs and mixings, but on a
        saturation that maps [0, 1] onto [-1, 1] ``broken`` puts the dark pixels deep in
        the flat part of ``tanh`` (gradient about 1e-6) and ``gn`` ends below 3 dB against the
        original, while from ``mid`` every pixel starts where the curve is steep and ``gn``
        reaches 85-90 dB. ``random`` is worst: there 40 % of the pixels start where the
        slope of ``tanh`` is below 1e-3 and 12 % where it is below 1e-6, and first-order
        methods never bring them back.
    noise_level : float, optional
        The noise's standard deviation in ``broken``, when known or estimated: a fit whose
        residual falls well below it follows the noise and is not converged (the discrepancy
        principle, :func:`~torchann.restore.convergence.assess`).
    condition : float, optional
        A condition estimate already known for a linear ``forward`` (whose Jacobian is the
        same everywhere), e.g. from another channel's result: it is not estimated again.

    Returns
    -------
    RestoreResult
        With ``x`` flat on the CPU, never NaN, and ``converged``, ``stop_reason``,
        ``condition_estimate`` and ``warning`` filled in.

    Raises
    ------
    TorchannError
        Unknown method, unusable option values or corruption, or divergence (the loss
        becomes NaN/inf or grows past :data:`DIVERGENCE_FACTOR` times its start).
    """
    if method not in _SOLVERS and method != "auto":
        raise TorchannError(key="restore.unknown_method", method=method, methods=list(_SOLVERS))
    dev = resolve_device(device) if isinstance(device, str) else torch.device(device)
    y = torch.as_tensor(broken).detach().reshape(-1).to(dtype=torch.float32, device=dev)
    requested, f0 = method, None
    if method == "auto":
        method, f0 = choose_method(forward, y)
    defaults = METHODS[method]
    steps = defaults["steps"] if steps is None else int(steps)
    lr = defaults["lr"] if lr is None else float(lr)
    tol = defaults["tol"] if tol is None else float(tol)
    if steps < 1:
        raise TorchannError(key="value.at_least_one", name="steps", value=steps)
    if lr is not None and not lr > 0:
        raise TorchannError(key="restore.lr", lr=lr)
    if tol is not None and not tol >= 0:
        raise TorchannError(key="restore.tol", tol=tol)
    init = DEFAULT_INIT[method] if init is None else init
    x0 = start_point(init, y, seed)
    check_forward(forward, x0)
    track = _Tracker(y, tol, lr, callback)
    solver = _SOLVERS[method]
    if method == "gn":
        if f0 is None:  # J is f's matrix when f is affine: cg's products, one outer step
            f0 = affine_offset(forward, y.numel(), y)
        solver = functools.partial(_gn, tol=tol, f0=f0)
    elif method == "cg":
        solver = functools.partial(_cg, f0=f0)

    start = time.perf_counter()
    x, taken, stopped, *info = solver(forward, y, x0, steps, lr, track)
    info = dict(info[0]) if info else {}
    free = info.pop("condition_estimate", None)  # cg's: from its own coefficients
    with torch.no_grad():
        distance = float(distance_loss(forward(x), y))
    seconds = time.perf_counter() - start
    if not (math.isfinite(distance) and torch.isfinite(x).all()):
        raise TorchannError(key="restore.diverged_nan", step=taken)
    if track.first is not None and distance > track.first:
        # too large a step can oscillate without blowing up; ending further from the data
        # than the random start is divergence all the same
        raise TorchannError(key="restore.diverged_rose", step=taken, first=track.first,
                            last=distance, advice=_advice(lr))
    stop_reason = {"steps": "max_steps", "tol": "tol"}.get(stopped, stopped)
    if stopped == "converged":
        stop_reason = "exact" if method == "cg" else "stationary"
    if condition is None and free is not None:
        condition = free
    elif condition is None:
        info["condition_from"] = "random start"
        condition = _condition(forward, x, y, f0 if method in ("cg", "gn") else None, method)
    relative = distance / track.norm_y
    converged, warning = assess(relative, condition, stop_reason, method, taken,
                                distance / math.sqrt(y.numel()), noise_level)
    extra = {"lr": lr, "tol": tol, "seed": seed, "device": str(dev),
             "init": init if isinstance(init, str) else "array"}
    if requested != method:
        extra["requested_method"] = requested
    if method == "lbfgs":
        extra["history_size"] = LBFGS_HISTORY
    return RestoreResult(
        x=x.cpu(), method=method, steps=taken, seconds=seconds, history=track.history,
        final_distance=distance, relative_residual=relative, stopped=stopped,
        extra=extra | info, stop_reason=stop_reason, converged=converged,
        condition_estimate=condition, warning=warning,
    )


def _condition(forward, x, y, f0, method):
    """A lower bound on the condition number of ``f``'s Jacobian at ``x``."""
    if method == "cg" and f0 is None:
        f0 = check_affine(forward, y.numel(), y)
    if f0 is not None:
        a_times, a_t = affine_operators(forward, f0, y)
        return estimate_condition(a_times, a_t, y)
    lin = Linearization(forward, x)
    return estimate_condition(lin.j, lin.jt, y)
