"""The primal-dual solver (PDHG) for ``y = A x + n`` with any linear ``A``: :func:`deconvolve`."""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from torchann.deblur.noise import check_weight, choose_weight, load_estimator
from torchann.deblur.transforms import grad_neumann
from torchann.errors import TorchannError
from torchann.restore import RestoreResult

PRIORS = ("tv", "tikhonov", "none")


def _div(p: torch.Tensor) -> torch.Tensor:
    """Divergence of an H x W field, the negative adjoint of :func:`grad_neumann`.

    The operator of :func:`~torchann.deblur.transforms.div_neumann` on the fields PDHG
    makes (their far edges are zero), summed in another order: PDHG keeps its own so that
    its results stay bit for bit what they were.
    """
    d = p[0] + p[1]
    d[1:] -= p[0, :-1]
    d[:, 1:] -= p[1, :, :-1]
    return d


def _opnorm(forward, adjoint, n, like, iters=30):
    """Estimate ``||A||`` by power iteration on ``A^T A``."""
    gen = torch.Generator().manual_seed(0)
    v = torch.randn(n, generator=gen, dtype=like.dtype).to(like.device)
    v /= v.norm()
    norm = 0.0
    for _ in range(iters):
        w = adjoint(forward(v))
        norm = float(w.norm())
        if norm == 0:
            break
        v = w / norm
    return math.sqrt(norm)


def _start(y, adjoint, n):
    """First guess: the observation itself when it has the image's size, else ``A^T y``."""
    return y.clone() if y.numel() == n else adjoint(y)


def _vjp_adjoint(forward, n, like):
    """``A^T`` of a linear black-box ``forward`` by a vector-Jacobian product."""
    x0 = like.new_zeros(n, requires_grad=True)
    with torch.enable_grad():
        out = forward(x0)

    def adjoint(y):
        (g,) = torch.autograd.grad(out, x0, y, retain_graph=True)
        return g

    return adjoint


_TAU = 5.0  # primal step times ||A||: the dual steps follow; tuned in benchmarks/deblur.py


def _pdhg(x, y, forward, adjoint, shape, prior, weight, clip, steps, tol, norm_a,
          callback=None):
    """Chambolle-Pock iterations for ``1/2 ||A x - y||^2 + weight R(x)`` from ``x``.

    Returns ``(x, A x, history, steps_taken, stopped)``, with ``(step, ||A x - y||)`` pairs
    in ``history``.
    """
    h, w = shape
    ax = forward(x)
    p = torch.zeros_like(y)  # dual of the data term
    q = x.new_zeros((2, h, w))  # dual of the prior: one vector per pixel
    use_prior = prior != "none" and weight > 0
    # tau * (sigma_a ||A||^2 + sigma_g ||grad||^2) < 1, with ||grad||^2 <= 8, half each
    tau = _TAU / norm_a
    sigma_a = 0.99 / (tau * norm_a**2 * (1 + use_prior))
    sigma_g = 0.99 / (tau * 8 * 2)
    xbar, axbar = x, ax
    history, stopped, k = [], "steps", 0
    for k in range(1, steps + 1):
        p = (p + sigma_a * (axbar - y)) / (1 + sigma_a)
        step = adjoint(p)
        if use_prior:
            q = q + sigma_g * grad_neumann(xbar.reshape(h, w))
            if prior == "tv":  # project onto {|q_ij| <= weight}: the dual of weight * TV
                q = q / torch.clamp(torch.hypot(q[0], q[1]) / weight, min=1.0)
            else:  # the dual of weight/2 ||grad x||^2
                q = q / (1 + sigma_g / weight)
            step = step - _div(q).reshape(-1)
        x_new = x - tau * step
        if clip is not None:
            x_new.clamp_(*clip)
        ax_new = forward(x_new)
        xbar, axbar = 2 * x_new - x, 2 * ax_new - ax  # A is linear: no extra call of A
        change = float((x_new - x).norm()) / max(float(x_new.norm()), 1e-30)
        x, ax = x_new, ax_new
        distance = float((ax - y).norm())
        history.append((k, distance))
        if callback is not None:
            callback(k, distance)
        if not math.isfinite(distance):
            raise TorchannError(key="blur.pdhg_diverged", step=k)
        if tol and change < tol:
            stopped = "tol"
            break
    return x, ax, history, k, stopped


def deconvolve(broken, forward, shape, prior: str = "tv", weight="auto", clip=None,
               steps: int = 300, tol: float = 1e-4, noise_level: float | None = None,
               device="cpu", callback=None) -> RestoreResult:
    """Restore an image from ``y = A x + n`` by minimizing ``1/2 ||A x - y||^2 + weight R(x)``.

    Parameters
    ----------
    broken : array_like or torch.Tensor
        The observed image ``y``, flat or H x W.
    forward : callable
        The linear forward model ``A`` on flat tensors (e.g. a :class:`BlurOperator`, or the
        seed's ``weird_function``). When it has an ``adjoint`` method that is used for
        ``A^T``; otherwise ``A^T`` comes from a vector-Jacobian product (autograd).
    shape : (int, int)
        Height and width of the image ``x``.
    prior : {"tv", "tikhonov", "none"}
        ``R(x)``: total variation ``sum_ij |grad x|_ij`` (isotropic), or Tikhonov
        ``1/2 ||grad x||^2``, or nothing (least squares).
    weight : float or "auto"
        ``lambda >= 0``. ``"auto"`` picks it without the ground truth (see Notes).
    clip : (float, float), optional
        Keep every pixel in ``[lo, hi]`` (a projection in each step), e.g. ``(0, 1)``.
    steps : int
        Most iterations of the final solve.
    tol : float
        Stop when an iteration changes ``x`` by less than ``tol`` relative to ``||x||``.
    noise_level : float, optional
        Standard deviation of the noise, for ``weight="auto"``; estimated when not given.
    device : str or torch.device
        Where to run (``cpu``, ``cuda``).
    callback : callable, optional
        ``callback(step, distance)`` after each iteration, with ``distance = ||A x - y||``.

    Returns
    -------
    RestoreResult
        ``method="pdhg"``, ``history`` of ``(step, ||A x - y||)``, and in ``extra`` the prior,
        the weight used, the noise level and how the weight was chosen.

    Raises
    ------
    TorchannError
        Unknown prior, a negative weight, a bad clip range or noise level.

    Notes
    -----
    The solver is the primal-dual method of Chambolle and Pock (PDHG) applied to
    ``min_x F(K x) + G(x)`` with ``K = [A; grad]``, ``F`` the data term and the prior, and
    ``G`` the clip range. Each step uses ``A`` once, ``A^T`` once and the proximal maps of
    the duals, which are exact for the non-smooth TV: no smoothing, no inner loop.
    Steps: ``tau = 5 / ||A||`` and dual steps with ``tau sigma ||K||^2 < 1``; ``||A||`` is
    measured by power iteration.

    ``weight="auto"`` estimates the noise standard deviation ``sigma`` with
    :func:`skimage.restoration.estimate_sigma` (or takes ``noise_level``) and sets
    ``lambda = c s^2 / range`` (see :func:`auto_weight`), where ``range`` is the clip
    range when given, else the range of ``y``.

    References
    ----------
    A. Chambolle, T. Pock, "A first-order primal-dual algorithm for convex problems with
    applications to imaging", J. Math. Imaging Vis. 40 (2011).
    """
    if prior not in PRIORS:
        raise TorchannError(key="blur.unknown_option", name="prior", value=prior,
                            allowed=PRIORS)
    check_weight(weight)
    if clip is not None:
        clip = (float(clip[0]), float(clip[1]))
        if not clip[0] < clip[1]:
            raise TorchannError(key="blur.clip", lo=clip[0], hi=clip[1])
    if noise_level is not None and not noise_level > 0:
        raise TorchannError(key="blur.noise_level", noise_level=noise_level)
    if steps < 1:
        raise TorchannError(key="blur.steps", steps=steps)
    dev = torch.device(device)
    h, w = (int(s) for s in shape)
    y = torch.as_tensor(np.asarray(broken) if not torch.is_tensor(broken) else broken)
    y = y.reshape(-1).to(dev, torch.float32)
    load_estimator(prior, weight, noise_level)
    start = time.perf_counter()
    n = h * w
    adjoint = getattr(forward, "adjoint", None) or _vjp_adjoint(forward, n, y)
    norm_a = _opnorm(forward, adjoint, n, y)
    if norm_a == 0:
        raise TorchannError(key="blur.zero_model")
    x = _start(y, adjoint, n)
    if clip is not None:
        x = x.clamp(*clip)
    image = y.reshape(h, w) if y.numel() == n else y
    weight, chosen = choose_weight(prior, weight, image, float(y.max() - y.min()), noise_level,
                                   clip)
    extra = {"prior": prior, **chosen, "weight": weight}
    x, ax, history, taken, stopped = _pdhg(x, y, forward, adjoint, (h, w), prior, weight,
                                           clip, steps, tol, norm_a, callback)
    seconds = time.perf_counter() - start
    distance = float((ax - y).norm())
    return RestoreResult(
        x=x.detach().cpu(), method="pdhg", steps=taken, seconds=seconds,
        history=history, final_distance=distance,
        relative_residual=distance / max(float(y.norm()), 1e-30), stopped=stopped, extra=extra)
