"""Matrix-free least squares: CGLS, and Gauss-Newton with Levenberg-Marquardt damping.

Both see the forward function ``f`` only through products with its Jacobian ``J``:

- ``J v`` by the double-vjp trick: ``u -> J^T u`` is linear in ``u``, so differentiating
  ``<J^T u, v>`` with respect to ``u`` gives ``J v``; where a function is not twice
  differentiable by autograd, by forward mode (:func:`torch.func.jvp`);
- ``J^T u`` by one vector-Jacobian product through a graph built once per linearization.

For an affine ``f`` the Jacobian is the matrix itself, and ``cg``'s cheaper products are used:
``A p = (f(t p) - f(0)) / t`` (one call of ``f``, with ``t p`` of unit RMS so that the offset
``f(0)`` costs no digits) and ``A^T r`` from one graph at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Most CGLS iterations inside one Gauss-Newton step.
GN_INNER = 1000
#: Consecutive rejected steps after which Gauss-Newton gives up ('stationary').
GN_MAX_REJECTS = 30


@dataclass
class CglsResult:
    """What :func:`cgls` returns.

    Attributes
    ----------
    x : torch.Tensor
        The solution estimate.
    residual : torch.Tensor
        ``b - A x``.
    iterations : int
        Iterations taken (products with ``A`` and ``A^T`` each).
    reason : str
        ``stop`` (the ``stop`` callback said so), ``exact`` (the normal-equation residual
        is exactly zero) or ``max_steps``.
    rayleigh : float
        The largest ``||A p||^2 / ||p||^2`` seen, a lower bound on ``||A||^2``.
    """

    x: torch.Tensor
    residual: torch.Tensor
    iterations: int
    reason: str
    rayleigh: float = 0.0


def cgls(a_times, a_t, b, steps, x0=None, damping=0.0, stop=None) -> CglsResult:
    """Minimize ``||A x - b||^2 + damping ||x||^2`` by conjugate gradients on the normal equations.

    Parameters
    ----------
    a_times, a_t : callable
        ``p -> A p`` and ``r -> A^T r``.
    b : torch.Tensor
        Right-hand side.
    steps : int
        Most iterations.
    x0 : torch.Tensor, optional
        Start (default zero, which costs no product).
    damping : float
        The Levenberg-Marquardt (Tikhonov) weight; 0 for plain least squares.
    stop : callable, optional
        ``stop(i, r, s)`` with the iteration, the residual ``b - A x`` and the normal-equation
        residual ``A^T r - damping x``, called before each iteration and once after the last;
        returning True ends the run with reason ``stop``.

    Returns
    -------
    CglsResult
    """
    with torch.no_grad():
        if x0 is None or not bool(x0.any()):
            r = b.clone()
            s = a_t(r)
            x = torch.zeros_like(s)
        else:
            x = x0.clone()
            r = b - a_times(x)
            s = a_t(r) - damping * x
        p = s.clone()
        gamma = s.dot(s)
        rayleigh = 0.0
        for i in range(steps):
            if stop is not None and stop(i, r, s):
                return CglsResult(x, r, i, "stop", rayleigh)
            if gamma == 0:
                return CglsResult(x, r, i, "exact", rayleigh)
            q = a_times(p)
            qq, pp = q.dot(q), p.dot(p)
            rayleigh = max(rayleigh, float(qq / pp))
            delta = qq + damping * pp
            if not delta > 0:
                return CglsResult(x, r, i, "exact", rayleigh)
            alpha = gamma / delta
            x += alpha * p
            r -= alpha * q
            s = a_t(r) - damping * x
            gamma_new = s.dot(s)
            p = s + (gamma_new / gamma) * p
            gamma = gamma_new
        if stop is not None and stop(steps, r, s):
            return CglsResult(x, r, steps, "stop", rayleigh)
    return CglsResult(x, r, steps, "max_steps", rayleigh)


def affine_operators(forward, f0, like):
    """``(A p, A^T r)`` of an affine ``f`` with ``f(0) = f0``: cg's products.

    ``A p`` is one call of ``f``; ``A^T r`` a vjp through one graph built at 0.
    """
    point = torch.zeros_like(like, requires_grad=True)
    with torch.enable_grad():
        graph = forward(point)  # f is affine, so one graph gives A^T for every vector

    def a_t(r):
        with torch.enable_grad():
            return torch.autograd.grad(graph, point, grad_outputs=r, retain_graph=True)[0]

    def a_times(p):  # f(t p) - f(0) with t p of unit RMS, so an offset f(0) costs no digits
        norm = float(p.norm())
        if norm == 0:
            return torch.zeros_like(p)
        t = math.sqrt(p.numel()) / norm
        with torch.no_grad():
            return (forward(t * p) - f0) / t

    return a_times, a_t


class Linearization:
    """``f`` near ``x``: its value and products with its Jacobian.

    Parameters
    ----------
    forward : callable
        The corruption.
    x : torch.Tensor
        The point.
    mode : {'vjp2', 'jvp'}
        How ``J v`` is computed: ``vjp2``, the double-vjp trick, falls back to ``jvp``
        (:func:`torch.func.jvp`) for good the first time it fails on ``forward``. The
        double vjp comes first because it reuses the graph already built for ``J^T u``:
        on the nonlinear suite of ``benchmarks/nonlinear.py`` it was 10-20x faster per
        product than :func:`torch.func.jvp` (64x64 images, one thread).
    """

    def __init__(self, forward, x, mode="vjp2"):
        self.forward = forward
        self.x = x.detach()
        self.mode = mode
        self._point = self.x.clone().requires_grad_(True)
        with torch.enable_grad():
            self._out = forward(self._point)
        self.value = self._out.detach()
        self._dual = None

    def jt(self, u):
        """``J^T u``."""
        with torch.enable_grad():
            grad = torch.autograd.grad(self._out, self._point, grad_outputs=u,
                                       retain_graph=True, allow_unused=True)[0]
        return torch.zeros_like(self.x) if grad is None else grad

    def j(self, v):
        """``J v``."""
        if self.mode == "vjp2":
            try:
                return self._double_vjp(v)
            except RuntimeError:  # not twice differentiable: use forward mode
                self.mode = "jvp"
        with torch.no_grad():
            return torch.func.jvp(self.forward, (self.x,), (v,))[1]

    def _double_vjp(self, v):
        with torch.enable_grad():
            if self._dual is None:
                u = torch.zeros_like(self.value, requires_grad=True)
                g = torch.autograd.grad(self._out, self._point, grad_outputs=u,
                                        create_graph=True, allow_unused=True)[0]
                self._dual = (u, g)
            u, g = self._dual
            if g is None or not g.requires_grad:
                return torch.zeros_like(self.value)
            jv = torch.autograd.grad(g, u, grad_outputs=v, retain_graph=True,
                                     allow_unused=True)[0]
        return torch.zeros_like(self.value) if jv is None else jv


def gauss_newton(forward, y, x, steps, tol, track, f0=None, inner=GN_INNER):
    """Levenberg-Marquardt on ``min ||f(x) - y||``, matrix-free.

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
    steps : int
        Most outer steps.
    tol : float or None
        Stop once ``||f(x) - y|| / ||y||`` falls below it (through ``track``).
    track : callable
        ``track(step, distance) -> bool``, True once the tolerance is met.
    f0 : torch.Tensor, optional
        ``f(0)`` of an affine ``f``: then ``J`` is ``f``'s matrix, its products are cg's,
        and the inner solve aims straight at the tolerance, so one outer step does.
    inner : int
        Most CGLS iterations per outer step.

    Returns
    -------
    x : torch.Tensor
    taken : int
        Outer steps.
    reason : str
        ``tol``, ``exact``, ``stationary`` (no step reduces the residual, or the gradient
        ``J^T r`` vanishes while ``r`` does not) or ``max_steps``.
    info : dict
        ``cgls_iterations`` (all inner iterations), ``rejected`` (steps), ``damping``
        (final ``lam``), ``jacobian`` (``affine``, ``jvp`` or ``vjp2``).
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
    reason, taken = "max_steps", steps
    for k in range(steps):
        if track(k, dist):
            reason, taken = "tol", k
            break
        if dist == 0.0:
            reason, taken = "exact", k
            break
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
            reason, taken = "stationary", k  # J^T r = 0 with r != 0: a stationary point
            break
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
                reason, taken = "stationary", k + 1
                break
    else:
        if track(steps, dist):
            reason = "tol"
    info = {"cgls_iterations": total, "rejected": rejected, "damping": lam,
            "jacobian": "affine" if f0 is not None else lin.mode}
    return x, taken, reason, info
