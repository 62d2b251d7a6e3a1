"""Whether a restoration can be trusted: the residual, a condition estimate, and a warning.

A solver can end far from the data (it stalled, or ran out of steps), or close to the data
at a point the data do not determine (the corruption is not locally invertible: many images
give the same ``y``). Either way the result is not the original, and saying "restored" would
be wrong. :func:`assess` applies one rule to every method:

- the relative residual ``||f(x) - y|| / ||y||`` must be at most :data:`RESIDUAL_WARN`
  (2 %); noise-free data allow a residual near 0, and 2 % is far above what the solvers
  reach when they converge (``cg`` and ``gn`` stop at 1e-6 and 1e-5), yet below what a
  stalled first-order method typically ends with (0.1 and more);
- the condition estimate of the Jacobian at the result (for ``cg`` read off the CGLS run
  itself, :func:`lanczos_condition`; otherwise :func:`estimate_condition`) must be at most
  :data:`CONDITION_WARN` (1e5): above that, the float32 data determine the image only up to
  errors that can reach the whole picture (relative error about condition x 1e-7 x noise).

- when the data are noisy with a known (or estimated) noise level ``sigma``, the residual
  RMS ``||f(x) - y|| / sqrt(n)`` must be at least :data:`DISCREPANCY_WARN` x ``sigma`` (the
  discrepancy principle: the true image leaves a residual of about ``sigma`` per pixel, so
  a smaller one means the fit is following the noise, which an ill-posed corruption such as
  a blur amplifies into the picture; a prior is the remedy). On the blur demo (Gaussian
  sigma 2, noise 0.01, 256x256) ``cg`` without a prior ends at 0.95 ``sigma`` after 10
  steps (27.0 dB, input 24.8 dB), 0.91 after 30 (24.5 dB), 0.88 after 100 (14.3 dB) and
  0.83 after 1,000 (-6.5 dB): the residual falls only a little while the noise takes over,
  so the threshold is 0.9, not a far smaller one. A prior's fit (TV with the automatic
  weight: 0.96) is not checked, since its best weights leave 0.8 to 0.98 ``sigma``.

``converged`` is True when all hold; otherwise ``warning`` says which failed and what to try.
"""

from __future__ import annotations

import math

import torch

#: A relative residual above this is a failed fit.
RESIDUAL_WARN = 0.02
#: A condition estimate above this means the data do not determine the image.
CONDITION_WARN = 1e5
#: A residual RMS below this many noise levels means the fit follows the noise.
DISCREPANCY_WARN = 0.9
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


def lanczos_condition(alphas, betas, damping=0.0) -> float:
    """The condition estimate that a CGLS run already holds, with no further products.

    Conjugate gradients on the normal equations ``(A^T A + damping I) x = A^T b`` is the
    Lanczos process in disguise: its step sizes ``alpha_j`` and ratios ``beta_j`` (as
    :func:`~torchann.restore.least_squares.cgls_steps` records them) define the symmetric
    tridiagonal matrix ``T_k`` with diagonal ``1/alpha_0``,
    ``1/alpha_j + beta_{j-1}/alpha_{j-1}`` and off-diagonal ``sqrt(beta_j)/alpha_j``
    (Saad, *Iterative Methods for Sparse Linear Systems*, 2nd ed., section 6.7.3). Its
    eigenvalues are the Ritz values of ``A^T A + damping I`` on the Krylov space
    ``K_k(A^T A, A^T b)`` the iterates explore; less ``damping``, their square roots are
    Ritz estimates of ``A``'s singular values, and their ratio is returned.

    **What it sees.** By interlacing the Ritz values lie between ``A``'s extreme squared
    singular values, so this is a **lower bound** on ``cond(A)``, and it is the condition of
    the problem CGLS solved: ``x`` lies in that Krylov space, so data errors are amplified
    by at most this ratio in it. A started from zero only explores ``A^T b``'s Krylov space,
    which lies in ``A``'s row space: a null space (``pair_sum``-like corruptions) is never
    met, nor are singular directions that the data do not excite (noise-free data of a
    smooth image barely touch a blur's smallest singular values). Noisy data excite every
    direction of the row space, so there the smallest Ritz values appear as CGLS runs on.
    :func:`estimate_condition` (a random start, extra products) sees null spaces; the
    restorers use it for the methods that have no CGLS to read from.

    Parameters
    ----------
    alphas, betas : sequence of float
        ``alpha_0 .. alpha_{k-1}`` and at least ``beta_0 .. beta_{k-2}`` (a last ``beta``
        beyond that is ignored).
    damping : float
        The Tikhonov (Levenberg-Marquardt) term of the solve, taken off the Ritz values.

    Returns
    -------
    float
        ``sqrt(theta_max / theta_min)``, at most :data:`CONDITION_CAP`; ``nan`` with no
        iteration (or a zero operator).
    """
    import numpy as np

    a = np.asarray(alphas, dtype=np.float64)
    k = a.size
    if k == 0 or not np.isfinite(a).all() or not (a > 0).all():
        return float("nan")
    b = np.asarray(betas, dtype=np.float64)[: k - 1]
    diag = 1.0 / a
    diag[1:] += b / a[:-1]
    off = np.sqrt(b) / a[:-1]
    t = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
    theta = np.linalg.eigvalsh(t) - damping
    top = float(theta.max())
    if not top > 0:
        return float("nan")
    low = float(theta.min())
    if low <= top / CONDITION_CAP**2:
        return CONDITION_CAP
    return math.sqrt(top / low)


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


def discrepancy_warning(residual_rms, noise_level):
    """The discrepancy principle's warning, or None (see the module's docstring).

    Parameters
    ----------
    residual_rms : float
        ``||f(x) - y|| / sqrt(n)`` at the result.
    noise_level : float or None
        The noise's standard deviation (None or 0: noise-free or unknown, not checked).
    """
    if not noise_level or not math.isfinite(noise_level) or not math.isfinite(residual_rms):
        return None
    if residual_rms >= DISCREPANCY_WARN * noise_level:
        return None
    from torchann.i18n import message

    return message("restore.warning.noise", rms=residual_rms, factor=DISCREPANCY_WARN,
                   noise=noise_level)


def assess(relative_residual, condition_estimate, stop_reason, method, steps,
           residual_rms=None, noise_level=None):
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
    residual_rms, noise_level : float, optional
        ``||f(x) - y|| / sqrt(n)`` and the noise's standard deviation, for
        :func:`discrepancy_warning` (not checked unless both are given).

    Returns
    -------
    converged : bool
        Residual at most :data:`RESIDUAL_WARN`, condition estimate at most
        :data:`CONDITION_WARN`, and the residual not far below the noise.
    warning : str or None
        One line (without a prefix), or None when converged.
    """
    from torchann.i18n import message

    problems = []
    fit = math.isfinite(relative_residual) and relative_residual <= RESIDUAL_WARN
    if not fit:
        advice = []
        if method != "gn":
            advice.append("`method=gn`")
        advice.append(message("restore.advice.init") if method != "cg" else "`init=broken`")
        if stop_reason == "max_steps":
            advice.append(message("restore.advice.steps", steps=steps))
        problems.append(message("restore.warning.fit", residual=relative_residual,
                                limit=RESIDUAL_WARN, method=method, reason=stop_reason,
                                advice=advice))
    cond = condition_estimate
    if cond is not None and math.isfinite(cond) and cond > CONDITION_WARN:
        problems.append(message("restore.warning.condition", cond=cond, limit=CONDITION_WARN))
    if residual_rms is not None and (noisy := discrepancy_warning(residual_rms, noise_level)):
        problems.append(noisy)
    if not problems:
        return True, None
    warning = problems[0]
    for problem in problems[1:]:
        warning = message("restore.warning.and", first=warning, second=problem)
    return False, warning
