"""Whether a restoration can be trusted: the residual, a condition estimate, and a warning.

A solver can end far from the data (it stalled, or ran out of steps), or close to the data
at a point the data do not determine (the corruption is not locally invertible: many images
give the same ``y``). Either way the result is not the original, and saying "restored" would
be wrong. :func:`assess` applies one rule to every method:

- the relative residual ``||f(x) - y|| / ||y||`` must be at most :data:`RESIDUAL_WARN`
  (2 %); noise-free data allow a residual near 0, and 2 % is far above what the solvers
  reach when they converge (``cg`` and ``gn`` stop at 1e-6 and 1e-5), yet below what a
  stalled first-order method typically ends with (0.1 and more);
- the condition estimate of the Jacobian at the result must be at most
  :data:`CONDITION_WARN` (1e5): above that, the float32 data determine the image only up to
  errors that can reach the whole picture (relative error about condition x 1e-7 x noise).

``converged`` is True when both hold; otherwise ``warning`` says which failed and what to try.
"""

from __future__ import annotations

import math

import torch

#: A relative residual above this is a failed fit.
RESIDUAL_WARN = 0.02
#: A condition estimate above this means the data do not determine the image.
CONDITION_WARN = 1e5
#: Most Golub-Kahan steps of :func:`estimate_condition`.
CONDITION_STEPS = 200
#: The largest condition estimate reported; the Jacobian is singular to working precision.
CONDITION_CAP = 1e16


def estimate_condition(j, jt, like, steps=CONDITION_STEPS, seed=0) -> float:
    """A lower bound on the condition number of the Jacobian ``J``, by Golub-Kahan-Lanczos.

    Golub-Kahan bidiagonalization from a random unit vector, with full reorthogonalization
    in float64, gives an upper bidiagonal ``B`` with ``J V = U B`` (``U``, ``V``
    orthonormal). ``B^T B`` is ``J^T J`` restricted to the Krylov space, so by interlacing
    every singular value of ``B`` lies between ``J``'s smallest and largest:
    ``cond(B) <= cond(J)``. The estimate is a **lower bound**. The largest singular value
    is found in a few steps; the smallest (0 when ``J`` has a null space, which a random
    start always meets) more slowly when the others are spread out, so the steps go on
    until the estimate passes ten times :data:`CONDITION_WARN` (decided), stops growing
    (less than 2 % over ten steps), or ``steps`` is reached.

    Parameters
    ----------
    j, jt : callable
        ``v -> J v`` and ``u -> J^T u``.
    like : torch.Tensor
        A flat tensor of the input's size, dtype and device.
    steps : int
        Most bidiagonalization steps (each one ``J v`` and one ``J^T u``).
    seed : int
        Seed of the random start.

    Returns
    -------
    float
        ``sigma_max(B) / sigma_min(B)``, at most :data:`CONDITION_CAP`; ``nan`` when ``J``
        is zero.
    """
    n = like.numel()
    steps = max(1, min(steps, n))
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(n, generator=gen, dtype=torch.float64)
    v /= v.norm()
    vs, us, alphas, betas, estimates = v[None], v[:0, None].expand(0, n), [], [], []

    def apply(op, vec):
        return op(vec.to(dtype=like.dtype, device=like.device)).detach().to(
            device="cpu", dtype=torch.float64).reshape(-1)

    def orthogonalize(vec, basis):
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            vec = vec - basis.T @ (basis @ vec)
        return vec

    p = apply(j, v)
    for k in range(1, steps + 1):
        p = orthogonalize(p, us)
        alpha = float(p.norm())
        alphas.append(alpha)
        if alpha == 0.0 or not math.isfinite(alpha):
            break
        u = p / alpha
        us = torch.cat((us, u[None]))
        estimates.append(_bidiagonal_condition(alphas, betas))
        if k == steps or estimates[-1] > 10 * CONDITION_WARN or (
                k > 10 and estimates[-1] < 1.02 * estimates[-11]):
            break
        q = orthogonalize(apply(jt, u) - alpha * v, vs)
        beta = float(q.norm())
        if beta <= 1e-12 * alpha:
            break
        betas.append(beta)
        v = q / beta
        vs = torch.cat((vs, v[None]))
        p = apply(j, v) - beta * u
    return _bidiagonal_condition(alphas, betas)


def _bidiagonal_condition(alphas, betas):
    import numpy as np

    k = len(alphas)
    b = np.diag(alphas) + np.diag(betas[: k - 1], 1)
    sigma = np.linalg.svd(b, compute_uv=False)
    if not np.isfinite(sigma).all() or sigma.max() == 0:
        return float("nan")
    if sigma.min() <= sigma.max() / CONDITION_CAP:
        return CONDITION_CAP
    return float(sigma.max() / sigma.min())


def assess(relative_residual, condition_estimate, stop_reason, method, steps):
    """Decide whether a result is a restoration, and word the warning when it is not.

    Parameters
    ----------
    relative_residual : float
        ``||f(x) - y|| / ||y||`` at the result.
    condition_estimate : float or None
        From :func:`estimate_condition` (None or nan when unknown: not checked).
    stop_reason : str
        Why the solver stopped.
    method : str
        The solver, for the advice.
    steps : int
        Steps it took, for the advice.

    Returns
    -------
    converged : bool
        Residual at most :data:`RESIDUAL_WARN` and condition estimate at most
        :data:`CONDITION_WARN`.
    warning : str or None
        One line (without a prefix), or None when converged.
    """
    problems = []
    fit = math.isfinite(relative_residual) and relative_residual <= RESIDUAL_WARN
    if not fit:
        advice = []
        if method != "gn":
            advice.append("`method=gn`")
        advice.append("`init=broken` or `init=mid`" if method != "cg" else "`init=broken`")
        if stop_reason == "max_steps":
            advice.append(f"more `steps` (it took {steps})")
        problems.append(f"the result does not fit the data: relative residual "
                        f"{relative_residual:.3g} > {RESIDUAL_WARN:g} after {method} stopped "
                        f"({stop_reason}); try {', '.join(advice)}")
    cond = condition_estimate
    if cond is not None and math.isfinite(cond) and cond > CONDITION_WARN:
        problems.append(f"the corruption is not locally invertible here (condition estimate "
                        f"{cond:.3g} > {CONDITION_WARN:g}): many images fit the data, and the "
                        "result need not be the original; check the corruption")
    if not problems:
        return True, None
    return False, "; and ".join(problems)
