"""Matrix-free least squares: CGLS, and the Jacobian products that it and Gauss-Newton use.

:func:`cgls_steps` is CGLS one iteration at a time, :func:`cgls` drives it. Gauss-Newton
(:func:`torchann.restore.steps.gn_steps`) sees the forward function ``f`` only through
products with its Jacobian ``J`` (:class:`Linearization`):

- ``J v`` by the double-vjp trick: ``u -> J^T u`` is linear in ``u``, so differentiating
  ``<J^T u, v>`` with respect to ``u`` gives ``J v``; where a function is not twice
  differentiable by autograd, by forward mode (:func:`torch.func.jvp`);
- ``J^T u`` by one vector-Jacobian product through a graph built once per linearization.

For an affine ``f`` the Jacobian is the matrix itself, and ``cg``'s cheaper products are used:
``A p = (f(t p) - f(0)) / t`` (one call of ``f``, with ``t p`` of unit RMS so that the offset
``f(0)`` costs no digits) and ``A^T r`` from one graph at 0.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch


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
    lanczos : tuple of (list, list)
        CG's ``alpha_j`` and ``beta_j`` (see :class:`CglsIterate`).
    """

    x: torch.Tensor
    residual: torch.Tensor
    iterations: int
    reason: str
    rayleigh: float = 0.0
    lanczos: tuple = ((), ())


@dataclass
class CglsIterate:
    """One iterate of :func:`cgls_steps`.

    Attributes
    ----------
    step : int
        Iterations done so far.
    x : torch.Tensor
        The estimate (updated in place by the next iteration: clone it to keep it).
    residual : torch.Tensor
        ``b - A x``.
    normal_residual : torch.Tensor
        ``A^T r - damping x``.
    rayleigh : float
        The largest ``||A p||^2 / ||p||^2`` seen, a lower bound on ``||A||^2``.
    exact : bool
        True on the last iterate, when the normal-equation residual is exactly zero.
    lanczos : tuple of (list, list)
        CG's step sizes ``alpha_j`` and ratios ``beta_j = gamma_{j+1} / gamma_j`` so far
        (the same lists, grown by each iteration): they define the Lanczos tridiagonal
        matrix of ``A^T A + damping I`` on the Krylov space the iterates explore
        (:func:`torchann.restore.convergence.lanczos_condition`).
    """

    step: int
    x: torch.Tensor
    residual: torch.Tensor
    normal_residual: torch.Tensor
    rayleigh: float = 0.0
    exact: bool = False
    lanczos: tuple = ((), ())


@torch.no_grad()
def cgls_steps(a_times, a_t, b, x0=None, damping=0.0):
    """CGLS on ``||A x - b||^2 + damping ||x||^2``, one iteration per ``next``.

    Parameters
    ----------
    a_times, a_t : callable
        ``p -> A p`` and ``r -> A^T r``.
    b : torch.Tensor
        Right-hand side.
    x0 : torch.Tensor, optional
        Start (default zero, which costs no product).
    damping : float
        The Levenberg-Marquardt (Tikhonov) weight; 0 for plain least squares.

    Yields
    ------
    CglsIterate
        The start (step 0), then the iterate after each iteration; without end, unless the
        normal-equation residual vanishes: then one more iterate of the same step with
        ``exact`` set, and the generator ends.
    """
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
    lanczos = ([], [])  # CG's alpha_j and beta_j: free material for a condition estimate
    # once the normal residual is at rounding level the coefficients are rounding noise
    floor = float(gamma) * (100 * torch.finfo(s.dtype).eps) ** 2
    for i in itertools.count():
        yield CglsIterate(i, x, r, s, rayleigh, lanczos=lanczos)
        if gamma == 0:
            yield CglsIterate(i, x, r, s, rayleigh, exact=True, lanczos=lanczos)
            return
        q = a_times(p)
        qq, pp = q.dot(q), p.dot(p)
        rayleigh = max(rayleigh, float(qq / pp))
        delta = qq + damping * pp
        if not delta > 0:
            yield CglsIterate(i, x, r, s, rayleigh, exact=True, lanczos=lanczos)
            return
        alpha = gamma / delta
        if float(gamma) > floor and len(lanczos[0]) == i:
            lanczos[0].append(float(alpha))
        x += alpha * p
        r -= alpha * q
        s = a_t(r) - damping * x
        gamma_new = s.dot(s)
        beta = gamma_new / gamma
        p = s + beta * p
        gamma = gamma_new
        if len(lanczos[0]) == i + 1:
            lanczos[1].append(float(beta))  # used only with the next alpha


def cgls(a_times, a_t, b, steps, x0=None, damping=0.0, stop=None) -> CglsResult:
    """Minimize ``||A x - b||^2 + damping ||x||^2`` by conjugate gradients on the normal equations.

    Drives :func:`cgls_steps` for at most ``steps`` iterations.

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
    for it in cgls_steps(a_times, a_t, b, x0, damping):
        if it.exact:
            reason = "exact"
        elif stop is not None and stop(it.step, it.residual, it.normal_residual):
            reason = "stop"
        elif it.step == steps:
            reason = "max_steps"
        else:
            continue
        return CglsResult(it.x, it.residual, it.step, reason, it.rayleigh, it.lanczos)


def affine_operators(forward, f0, like):
    """``(A p, A^T r)`` of an affine ``f`` with ``f(0) = f0``: cg's products.

    ``A p`` is one call of ``f``; ``A^T r`` a vjp through one graph built at 0.
    """
    point = torch.zeros_like(like, requires_grad=True)
    with torch.enable_grad():
        graph = forward(point)  # f is affine, so one graph gives A^T for every vector

    def a_t(r):  # the gradient of <f(p), r>: the same numbers as grad_outputs=r, without
        # torch's symbolic-shape check of r, whose import costs half a second on first use
        with torch.enable_grad():
            return torch.autograd.grad((graph * r).sum(), point, retain_graph=True)[0]

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
