"""The restore solvers one step at a time: generators of iterates.

Each generator yields the iterates of one method, the start first, and runs as long as it
is asked for more: :func:`torchann.restore.restore` drives them (the step limit, the
tolerance, divergence) and the playground's race shows them lane by lane.

- :func:`gd_steps`, :func:`adam_steps` yield ``(step, x, distance)``: ``x`` is the iterate
  before step ``step`` is taken, ``distance`` its ``||f(x) - y||``; the step is taken when
  the next iterate is asked for (``x`` is then updated in place).
- :func:`cg_steps` yields :class:`~torchann.restore.least_squares.CglsIterate` of CGLS on
  an affine ``f``; :func:`gn_steps` yields :class:`GnIterate` of Gauss-Newton.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from torchann.restore.chapter import distance_loss
from torchann.restore.least_squares import Linearization, affine_operators, cgls, cgls_steps

#: Most CGLS iterations inside one Gauss-Newton step.
GN_INNER = 1000
#: Consecutive rejected steps after which Gauss-Newton gives up ('stationary').
GN_MAX_REJECTS = 30


def gd_steps(forward, y, x0, lr):
    """The chapter's loop ``x <- x - lr * grad ||f(x) - y||``, one step per ``next``.

    Parameters
    ----------
    forward : callable
        The corruption.
    y : torch.Tensor
        The data, flat.
    x0 : torch.Tensor
        The start (not changed).
    lr : float
        The step size.

    Yields
    ------
    tuple of (int, torch.Tensor, float)
        ``(step, x, ||f(x) - y||)``, from step 0 (the start) on, without end.
    """
    x = x0.clone().requires_grad_(True)
    for step in itertools.count():
        loss = distance_loss(forward(x), y)
        loss.backward()
        yield step, x.detach(), loss.item()
        with torch.no_grad():
            x -= lr * x.grad
        x.grad = None


def adam_steps(forward, y, x0, lr):
    """Adam on the distance ``||f(x) - y||``, one step per ``next``.

    Parameters and yields as :func:`gd_steps`.
    """
    x = x0.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for step in itertools.count():
        opt.zero_grad()
        loss = distance_loss(forward(x), y)
        loss.backward()
        yield step, x.detach(), loss.item()
        opt.step()


def cg_steps(forward, y, x0=None, f0=None):
    """CGLS on ``min ||A x - b||`` with ``A x = f(x) - f(0)`` and ``b = y - f(0)``.

    ``A x`` is a call of ``f``; ``A^T r`` is a vector-Jacobian product through autograd
    (:func:`~torchann.restore.least_squares.affine_operators`). ``f`` must be affine.

    Parameters
    ----------
    forward : callable
        The corruption.
    y : torch.Tensor
        The data, flat.
    x0 : torch.Tensor, optional
        The start (default zero).
    f0 : torch.Tensor, optional
        ``f(0)``, computed here when not given.

    Yields
    ------
    CglsIterate
        As :func:`~torchann.restore.least_squares.cgls_steps`; ``float(it.residual.norm())``
        is the distance ``||f(x) - y||``.
    """
    if f0 is None:
        with torch.no_grad():
            f0 = forward(torch.zeros_like(y))
    a_times, a_t = affine_operators(forward, f0, y)
    yield from cgls_steps(a_times, a_t, y - f0, x0=x0)


@dataclass
class GnIterate:
    """One iterate of :func:`gn_steps`.

    Attributes
    ----------
    step : int
        Outer steps taken.
    x : torch.Tensor
        The estimate.
    distance : float
        ``||f(x) - y||``.
    info : dict
        ``cgls_iterations`` (all inner iterations), ``rejected`` (steps), ``damping``
        (the current ``lam``), ``jacobian`` (``affine``, ``jvp`` or ``vjp2``).
    reason : str or None
        Set on the last iterate: ``exact`` (zero residual) or ``stationary`` (no step
        reduces the residual, or the gradient ``J^T r`` vanishes while ``r`` does not).
    """

    step: int
    x: torch.Tensor
    distance: float
    info: dict = field(default_factory=dict)
    reason: str | None = None


def gn_steps(forward, y, x, tol=None, f0=None, inner=GN_INNER):
    """Levenberg-Marquardt on ``min ||f(x) - y||``, matrix-free, one outer step per ``next``.

    Each outer step linearizes ``f`` at ``x`` and solves the damped step
    ``min ||J d + r||^2 + lam ||d||^2`` (``r = f(x) - y``) with CGLS, stopping that inner
    solve at a forcing tolerance: ``||J d + r|| <= eta ||r||`` with ``eta`` from 0.1 down to
    what the outer tolerance needs, or once the damped normal equations' residual has
    fallen 1e4-fold (the damped step can leave ``||J d + r||`` above any target). The step
    is accepted when the actual reduction of ``||r||^2`` is a fair share (1e-4) of the
    reduction the linear model predicted; ``lam`` starts at 0 (pure
    Gauss-Newton), and follows Nielsen's rule: shrink after a good step, double (and keep
    doubling) after a rejected one.

    Parameters
    ----------
    forward : callable
        The corruption.
    y : torch.Tensor
        The data.
    x : torch.Tensor
        The start.
    tol : float or None
        The outer tolerance on ``||f(x) - y|| / ||y||``: an inner solve need not go below
        half of it (the caller checks it on the iterates).
    f0 : torch.Tensor, optional
        ``f(0)`` of an affine ``f``: then ``J`` is ``f``'s matrix, its products are cg's,
        and the inner solve aims straight at the tolerance, so one outer step does.
    inner : int
        Most CGLS iterations per outer step.

    Yields
    ------
    GnIterate
        The start (step 0), then the iterate after each outer step (a rejected step leaves
        ``x`` as it was), without end unless one comes with a ``reason``.
    """
    norm_y = float(y.norm()) or 1.0
    aim = 0.5 * (tol or 0.0) * norm_y  # an inner solve need not go below this
    x = x.clone()
    if f0 is not None:
        a_times, a_t = affine_operators(forward, f0, y)
        with torch.no_grad():
            fx = forward(x)
        lin = None
    else:
        lin = Linearization(forward, x)
        fx = lin.value
    r = fx - y
    dist = float(r.norm())
    lam, nu, eta, rejects, total, rejected = 0.0, 2.0, 0.1, 0, 0, 0
    scale = 0.0  # largest ||J p||^2 / ||p||^2 seen: sets the damping's first size

    def iterate(k, reason=None):
        info = {"cgls_iterations": total, "rejected": rejected, "damping": lam,
                "jacobian": "affine" if f0 is not None else lin.mode}
        return GnIterate(k, x, dist, info, reason)

    for k in itertools.count():
        yield iterate(k)
        if dist == 0.0:
            yield iterate(k, "exact")
            return
        if lin is not None:
            a_times, a_t = lin.j, lin.jt
        target = aim if f0 is not None else max(eta * dist, aim)
        grad_norm = [None]

        def enough(i, res, s, target=target, grad_norm=grad_norm):
            norm_s = float(s.norm())
            if grad_norm[0] is None:
                grad_norm[0] = norm_s
            return float(res.norm()) <= target or (
                f0 is None and i > 0 and norm_s <= 1e-4 * grad_norm[0])

        solve = cgls(a_times, a_t, -r, inner, damping=lam, stop=enough)
        total += solve.iterations
        scale = max(scale, solve.rayleigh)
        if grad_norm[0] is not None and grad_norm[0] <= 1e-7 * math.sqrt(scale) * dist:
            yield iterate(k, "stationary")  # J^T r = 0 with r != 0: a stationary point
            return
        d = solve.x
        predicted = dist * dist - float(solve.residual.norm()) ** 2
        x_new = x + d
        if f0 is not None:
            with torch.no_grad():
                f_new, lin_new = forward(x_new), None
        else:
            lin_new = Linearization(forward, x_new, lin.mode)
            f_new = lin_new.value
        r_new = f_new - y
        dist_new = float(r_new.norm())
        actual = dist * dist - dist_new * dist_new
        ratio = actual / predicted if predicted > 0 else -1.0
        if math.isfinite(dist_new) and ratio > 1e-4:
            eta = min(0.1, max(dist_new / dist, 1e-3) ** 2)
            x, r, dist, lin = x_new, r_new, dist_new, lin_new
            lam *= max(1.0 / 3.0, 1.0 - (2.0 * ratio - 1.0) ** 3)
            nu, rejects = 2.0, 0
        else:
            rejected += 1
            rejects += 1
            lam = 1e-3 * max(scale, 1e-30) if lam == 0 else lam * nu
            nu *= 2.0
            small = float(d.norm()) <= 1e-7 * (float(x.norm()) + 1e-7)
            if rejects >= GN_MAX_REJECTS or (small and rejects > 1):
                yield iterate(k + 1, "stationary")
                return
