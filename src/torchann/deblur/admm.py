"""ADMM for ``1/2 ||A x - y||^2 + lambda R(x)`` on a (C, H, W) image, with exact x-steps.

:func:`admm_solve` is the solver that :func:`~torchann.deblur.deblur_image` runs by default
(see its Notes) where the blur model (:mod:`~torchann.deblur.transforms`) has an exact
solve: a periodic boundary, or a mirrored one with a PSF symmetric in each axis.
:func:`admm_window` takes every other blur (a motion blur at an angle, the zero boundary)
on a larger periodic grid (:mod:`~torchann.deblur.boundary`), with exact FFT steps too.
"""

from __future__ import annotations

import math

import torch

from torchann.deblur.transforms import irfft2, rfft2
from torchann.errors import TorchannError

#: ADMM penalty ``rho`` as a multiple of the TV weight (tuned on the 256 x 256 benchmark)
RHO_FACTOR = 16.0
#: Over-relaxation of the ADMM splitting (1 is plain ADMM)
RELAX = 1.6
#: Default iterations of ADMM (it starts from the exact Tikhonov solution)
ADMM_STEPS = 10
#: The data split's penalty ``mu`` of :func:`admm_window` as a multiple of ``rho`` (tuned on
#: a 512 x 512 colour photograph, motion blur 17 at 30 degrees, noise 0.005-0.03: 10 was
#: within 0.2 dB of the best of 3, 10, 30 at every noise level)
MU_FACTOR = 10.0
#: The largest ``mu``: with a huge weight ``MU_FACTOR rho`` would drown the data term
MU_MAX = 1.0
#: The weight that sets ``rho`` in :func:`admm_window` when the prior's weight is below it
WINDOW_RHO_FLOOR = 1e-5
#: The penalty of ``w = x`` (zero boundary) as a multiple of ``rho``: on the astronaut
#: (64, 256, 512 pixels, motion and Gaussian blurs, noise 0.01) 0.25 gave 0.1-1.2 dB more
#: than 1 after 10 iterations
ZERO_PENALTY = 0.25
#: Iterations of :func:`admm_window` by default (on three photographs, three motion blurs
#: and noise levels, 8 were 0.07 dB below 10 on average (at most 0.3 dB), 10 within 0.2 dB
#: of 12 and 16, and up to 0.9 dB better than 24: PSNR, not the objective, plateaus, as for
#: :func:`admm_solve`); each costs four FFTs, so 8 keep a 2 MP colour photograph near ten
#: Wiener calls per channel
WINDOW_STEPS = 8


def _shrink(v, threshold, joint, out):
    """Group soft-thresholding of ``v`` (2, C, H, W): over directions, and channels if joint."""
    if joint and v.shape[1] > 1:
        norm = v[0].square().add_(v[1].square()).sum(dim=0, keepdim=True).sqrt_()
    else:
        norm = torch.hypot(v[0], v[1])  # (C, H, W)
    # factor = max(0, 1 - threshold / |v|) = (|v| - threshold) / |v| after |v| >= threshold
    factor = norm.clamp_(min=threshold).reciprocal_().mul_(-threshold).add_(1)  # in place
    return torch.mul(v, factor, out=out)


def _relative_change(new, old, rows=256):
    """``||new - old|| / ||new||``, a band of rows at a time (no image-sized temporary)."""
    total = 0.0
    for r in range(0, new.shape[-2], rows):
        total += float(torch.sub(new[..., r:r + rows, :], old[..., r:r + rows, :]).square_()
                       .sum(dtype=torch.float64))
    return math.sqrt(total) / max(float(torch.linalg.vector_norm(new)), 1e-30)


def _measured_change(k, steps, new, old):
    """:func:`_relative_change` every 5 steps and at the last (it costs a pass), else inf."""
    return _relative_change(new, old) if k % 5 == 0 or k == steps else math.inf


def admm_solve(y, model, prior, weight, steps, tol, joint, callback, offset=0):
    """Minimize ``1/2 ||A x - y||^2 + weight R(x)`` for ``y`` of shape (C, H, W).

    ``model`` has an exact solve (:class:`~torchann.deblur.transforms.FourierModel` or
    :class:`~torchann.deblur.transforms.CosineModel`); any other blur runs
    :func:`admm_window`.

    Buffers: the data's transform (``y`` itself is let go), ``x``, and the two gradient
    fields ``z``, ``u``; ``z - u`` and ``grad x`` take ``z``'s place in turn.

    Returns ``(x, history, steps_taken, stopped)``.
    """
    data = model.prepare(y)  # the data's transform: y itself is not kept
    del y
    if prior == "tikhonov" or weight == 0:  # one linear solve
        x = model.solve(data, weight)
        distance = model.data_residual(x, data)
        if callback is not None:
            callback(offset + 1, distance)
        return x, [(1, distance)], 1, "exact"
    rho = RHO_FACTOR * weight
    # start from the Tikhonov solution with the same penalty
    x = model.solve(data, rho)
    z = model.grad(x)
    u = torch.zeros_like(z)
    history, stopped, k = [], "steps", 0
    distance = model.data_residual(x, data)
    for k in range(1, steps + 1):
        z.sub_(u)  # z - u; z itself is not needed again (see the over-relaxation below)
        x_new = model.solve(data, rho, z)
        change = _measured_change(k, steps, x_new, x)
        x = x_new
        del x_new
        # over-relaxed: u += RELAX g + (1 - RELAX) z_old, then z = shrink(u), u -= z; with
        # z holding z_old - u: u <- (2 - RELAX) u + (1 - RELAX) (z_old - u) + RELAX g
        u.mul_(2 - RELAX).add_(z, alpha=1 - RELAX)
        u.add_(model.grad(x, out=z), alpha=RELAX)
        _shrink(u, weight / rho, joint, z)
        u.sub_(z)
        last = k == steps or (tol and change < tol)
        measured = k % 10 == 0 or last
        if measured:
            distance = model.data_residual(x, data)
            if not math.isfinite(distance):
                raise TorchannError(key="blur.admm_diverged", step=k)
        history.append((k, distance))
        if callback is not None:
            callback(offset + k, distance if measured else None)
        if tol and change < tol:
            stopped = "tol"
            break
    return x, history, k, stopped


def admm_window(y, model, prior, weight, steps, tol, joint, callback, offset=0, zero=False):
    """ADMM on a :class:`~torchann.deblur.boundary.WindowModel`: any PSF, exact FFT steps.

    Minimizes ``1/2 ||M K x - y||^2 + weight R(x)`` over the extended image ``x``, with
    ``v = K x`` and ``z = grad x`` split off (penalties ``mu = MU_FACTOR rho`` and
    ``rho = RHO_FACTOR weight``; :data:`WINDOW_RHO_FLOOR` stands in for a zero weight).
    ``tikhonov`` is ``R = 1/2 ||grad x||^2``, as in :func:`admm_solve`. ``zero=True`` (the
    zero boundary) also splits ``w = x`` with ``w`` zero beyond the window (penalty
    ``ZERO_PENALTY rho``), which makes the model exact for that rule at no extra FFT. Starts
    from the Tikhonov solution of the photo mirrored (zero-padded for ``zero``) on the
    periodic grid (one exact solve).
    The v-step needs no buffer of its own: beyond the window ``v = K x + d`` leaves the dual
    ``d`` at 0, so ``d`` lives on the window only, and the x-step's ``v - d`` is ``K x``
    itself with its window overwritten (``K x + d - 2 d_new`` there). Buffers: ``x``,
    ``K x`` and the two gradient fields ``z``, ``u`` of the extended size, ``d`` of the
    photo's (with ``zero``, ``w`` and its dual too), and one spectrum.

    Returns ``(x, history, steps_taken, stopped)`` with ``x`` the photo's window.
    """
    rho = RHO_FACTOR * max(weight, WINDOW_RHO_FLOOR)
    mu = min(MU_FACTOR * rho, MU_MAX)
    spectrum = model.spectrum
    mu_conj = spectrum.conj().mul(mu)
    eta = ZERO_PENALTY * rho  # the penalty of w = x (zero boundary)
    inv_den = model.inverse_denominator(mu, rho, eta if zero else 0.0)
    # start: the Tikhonov solution of the mirrored photo, with the prior's penalty
    rhs = rfft2(model.extend(y, "constant" if zero else "symmetric")).mul_(mu_conj)
    x = irfft2(rhs.mul_(inv_den), s=model.ext)
    q = irfft2(rhs.mul_(spectrum), s=model.ext)  # v - d, with v = K x and d = 0 at first
    d = torch.zeros_like(y)  # the scaled dual of v, on the window (0 beyond it)
    z = model.grad(x)
    u = torch.zeros_like(z)  # the scaled dual of z
    if zero:
        w, e = x.clone(), torch.zeros_like(x)  # w = x, zero beyond the window; e its dual
    history, stopped, k = [], "steps", 0
    distance = model.residual(q, y)
    for k in range(1, steps + 1):
        # x-step: (mu K^T K + rho L) x = mu K^T (v - d) + rho grad^T (z - u), under the FFT
        # (with zero: + rho I on the left, + rho (w - e) on the right)
        rhs = rfft2(q).mul_(mu_conj)
        prior_part = model.div(z.sub_(u))
        if zero:
            prior_part.sub_(w, alpha=eta / rho).add_(e, alpha=eta / rho)
        rhs.add_(rfft2(prior_part), alpha=-rho)
        del prior_part
        x_new = irfft2(rhs.mul_(inv_den), s=model.ext)
        kx = irfft2(rhs.mul_(spectrum), s=model.ext)
        del rhs
        change = _measured_change(k, steps, x_new, x)
        x = x_new
        del x_new
        last = k == steps or (tol and change < tol)
        measured = k % 10 == 0 or last
        if measured:
            distance = model.residual(kx, y)
            if not math.isfinite(distance):
                raise TorchannError(key="blur.admm_diverged", step=k)
        # v-step: in the window v = (y + mu (K x + d)) / (1 + mu), d <- K x + d - v =
        # (K x + d - y) / (1 + mu), and v - d = K x + d - 2 d; beyond it v = K x, d = 0
        inside = model.window(kx).add_(d)
        torch.sub(inside, y, out=d).div_(1 + mu)
        inside.sub_(d, alpha=2)
        q, kx, inside = kx, None, None
        if zero:  # w-step: x + e with the outside set to 0; e += x - w
            e.add_(x)
            w.zero_()
            model.window(w).copy_(model.window(e))
            e.sub_(w)
        # z-step on u + grad x (z - u is spent: z takes grad x, u becomes u + grad x)
        u.add_(model.grad(x, out=z))
        if prior == "tikhonov" or weight == 0:
            torch.mul(u, rho / (rho + weight), out=z)
        else:
            _shrink(u, weight / rho, joint, z)
        u.sub_(z)
        history.append((k, distance))
        if callback is not None:
            callback(offset + k, distance if measured else None)
        if tol and change < tol:
            stopped = "tol"
            break
    return model.window(x).contiguous(), history, k, stopped
