"""ADMM for ``1/2 ||A x - y||^2 + lambda R(x)`` on a (C, H, W) image, with exact x-steps.

:func:`admm_solve` is the solver that :func:`~torchann.deblur.deblur_image` runs by default
(see its Notes); the blur model (:mod:`~torchann.deblur.transforms`) supplies ``A``, the
gradient and the exact or conjugate-gradient x-step.
"""

from __future__ import annotations

import math

import torch

from torchann.errors import TorchannError

#: ADMM penalty ``rho`` as a multiple of the TV weight (tuned on the 256 x 256 benchmark)
RHO_FACTOR = 16.0
#: Over-relaxation of the ADMM splitting (1 is plain ADMM)
RELAX = 1.6
#: Default iterations of ADMM (it starts from the exact Tikhonov solution); twice as many
#: where the x-step takes conjugate gradient steps
ADMM_STEPS = 10
#: Conjugate gradient steps per x-step where the x-step has no exact solve
CG_STEPS = 2


def _shrink(v, threshold, joint, out):
    """Group soft-thresholding of ``v`` (2, C, H, W): over directions, and channels if joint."""
    if joint and v.shape[1] > 1:
        norm = v[0].square().add_(v[1].square()).sum(dim=0, keepdim=True).sqrt_()
    else:
        norm = torch.hypot(v[0], v[1])  # (C, H, W)
    # factor = max(0, 1 - threshold / |v|) = (|v| - threshold) / |v| after |v| >= threshold
    norm.clamp_(min=threshold)
    factor = (norm - threshold).div_(norm)
    return torch.mul(v, factor, out=out)


def admm_solve(y, model, prior, weight, steps, tol, joint, callback, offset=0):
    """Minimize ``1/2 ||A x - y||^2 + weight R(x)`` for ``y`` of shape (C, H, W).

    Returns ``(x, history, steps_taken, stopped)``.
    """
    aty = model.prepare(y)
    if prior == "tikhonov" or weight == 0:  # one linear solve
        if model.exact:
            x = model.solve(aty, weight)
        else:
            x = model.cg(y.clone(), aty, weight, 200)
        distance = model.residual(x, y)
        if callback is not None:
            callback(offset + 1, distance)
        return x, [(1, distance)], 1, "exact" if model.exact else "steps"
    rho = RHO_FACTOR * weight
    # start from the Tikhonov solution with the same penalty: exact where the model allows
    x = model.solve(aty, rho) if model.exact else model.cg(y.clone(), aty, rho, 10)
    z = model.grad(x)
    u = torch.zeros_like(z)
    buf = torch.empty_like(z)  # z - u, then grad x
    history, stopped, k = [], "steps", 0
    distance = model.residual(x, y)
    for k in range(1, steps + 1):
        torch.sub(z, u, out=buf)
        if model.exact:
            x_new = model.solve(aty, rho, buf)
        else:
            x_new = model.cg(x, aty - rho * model.div(buf), rho, CG_STEPS)
        if k % 5 == 0 or k == steps:  # the change is measured every 5 steps: it costs a pass
            change = float(torch.dist(x_new, x)) / max(
                float(torch.linalg.vector_norm(x_new)), 1e-30)
        else:
            change = math.inf
        x = x_new
        del x_new
        g = model.grad(x, out=buf)
        # over-relaxed: u += RELAX g + (1 - RELAX) z, then z = shrink(u), u -= z
        u.add_(g, alpha=RELAX).add_(z, alpha=1 - RELAX)
        _shrink(u, weight / rho, joint, z)
        u.sub_(z)
        last = k == steps or (tol and change < tol)
        if k % 10 == 0 or last:
            distance = model.residual(x, y)
            if not math.isfinite(distance):
                raise TorchannError(f"the solver diverged at step {k}; try `solver=pdhg`")
        history.append((k, distance))
        if callback is not None:
            callback(offset + k, distance)
        if tol and change < tol:
            stopped = "tol"
            break
    return x, history, k, stopped
