"""Nonlinear corruptions of real photographs: torchann's gn against scipy and lbfgs.

Run from the repository root::

    python benchmarks/nonlinear.py

Six smooth, invertible, nonlinear corruptions of scikit-image photographs (64x64 to
128x128, grey, in [0, 1]) are restored from the corrupted image alone, side by side in
this one process with one torch thread:

- ``gn``: ``torchann.restore.restore(method="gn")`` from its default start (``mid``);
- ``scipy``: ``scipy.optimize.least_squares(method="trf", tr_solver="lsmr")`` from the same
  start, its Jacobian a ``LinearOperator`` built from the same products (the double-vjp
  ``J v`` and the vjp ``J^T u`` of ``torchann.restore.least_squares.Linearization``), timed
  until its relative residual first reaches gn's final one (the same final residual), or
  until it stops on its own tolerances (then its residual is printed and the ratio is a
  lower bound);
- ``lbfgs``: ``torchann.restore.restore(method="lbfgs")``, torch's L-BFGS with a strong
  Wolfe line search, from the same start.

Every row prints PSNR against the original, seconds, the relative residual
``||f(x) - y|| / ||y||``, gn's condition estimate (a lower bound on the Jacobian's condition
number at the result) and whether a result whose residual is above the warning threshold
came with a warning. A second table times ``gn`` against ``cg`` on the chapter's
``weird_function`` and the 100x100 demo photograph (affine, so one outer step).

Targets: gn >= 40 dB on every well-conditioned function; scipy/gn time >= 3 on the median;
gn within 1.5x of cg on weird_function; no result with a residual above 0.02 and no warning.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import time

import numpy as np
import torch
from skimage import color, data, transform, util

from torchann import restore as lib
from torchann.errors import TorchannError
from torchann.restore.convergence import RESIDUAL_WARN
from torchann.restore.least_squares import Linearization

TOL = lib.METHODS["gn"]["tol"]


def photograph(name, size):
    """A scikit-image photograph, grey, ``size`` x ``size``, in [0, 1]."""
    image = getattr(data, name)()
    if image.ndim == 3:
        image = color.rgb2gray(image[..., :3])
    return transform.resize(util.img_as_float64(image), (size, size), anti_aliasing=True)


def blur(h, sigma=0.7):
    """A small Gaussian blur (3x3, mirrored edges): invertible, condition about 37."""
    w = math.exp(-1.0 / (2.0 * sigma * sigma))
    k = torch.tensor([w, 1.0, w], dtype=h.dtype) / (1.0 + 2.0 * w)
    p = torch.nn.functional.pad(h[None, None], (1, 1, 1, 1), mode="reflect")[0, 0]
    p = k[0] * p[:, :-2] + k[1] * p[:, 1:-1] + k[2] * p[:, 2:]
    return k[0] * p[:-2] + k[1] * p[1:-1] + k[2] * p[2:]


def gamma_after_blur(h):
    """Gamma 2.2 of a blurred image (extended oddly below 0, so every x is allowed)."""
    b = blur(h)
    return torch.sign(b) * b.abs() ** 2.2


def logistic_of_blur(h):
    """A logistic saturation of a blurred image."""
    return torch.sigmoid(6.0 * (blur(h) - 0.5))


def sqrt_of_mixing(h):
    """The square root of a mixing matrix: each pixel 60 % itself, 10 % each neighbour."""
    neighbours = (torch.roll(h, 1, 0) + torch.roll(h, -1, 0) + torch.roll(h, 1, 1)
                  + torch.roll(h, -1, 1))
    return torch.sqrt(0.6 * h + 0.1 * neighbours + 0.1)


def polynomial_and_shift(h):
    """A monotone pixel-wise cubic plus 0.3 of the image shifted one pixel diagonally."""
    return 0.1 + h + 0.4 * h**2 + 0.2 * h**3 + 0.3 * torch.roll(h, (1, 1), (0, 1))


def weird_then_tanh(h):
    """The chapter's weird_function of the flattened image, then tanh."""
    return torch.tanh(2.0 * lib.weird_function(h.reshape(-1))).reshape(h.shape)


def squash(h):
    """tanh of each pixel plus a little of its neighbour: saturates dark and bright pixels."""
    return torch.tanh(4.0 * (h - 0.5) + (torch.roll(h, 1, 1) - 0.5))


SUITE = [  # (corruption, photograph, size)
    (gamma_after_blur, "coins", 96),
    (logistic_of_blur, "camera", 128),
    (sqrt_of_mixing, "chelsea", 96),
    (polynomial_and_shift, "moon", 128),
    (weird_then_tanh, "rocket", 96),
    (squash, "astronaut", 64),
]


def flat(corruption, size):
    """``corruption`` as the library sees it: a flat tensor in, a flat tensor out."""
    def forward(x):
        return corruption(x.reshape(size, size)).reshape(-1)
    forward.__name__ = corruption.__name__
    return forward


class _Reached(Exception):
    """scipy reached the target residual."""


def scipy_least_squares(forward, y, x0, target):
    """scipy's trf + lsmr with a LinearOperator Jacobian; returns (x, seconds, note)."""
    from scipy.optimize import least_squares
    from scipy.sparse.linalg import LinearOperator

    norm_y = float(y.norm())
    y64 = y.double().numpy()
    n = y.numel()
    best = {"x": x0.double().numpy().copy()}

    def tensor(v):
        return torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).reshape(-1)).float()

    def fun(v):
        with torch.no_grad():
            r = forward(tensor(v)).double().numpy() - y64
        if np.isfinite(r).all() and np.linalg.norm(r) / norm_y <= target:
            best["x"] = np.array(v, dtype=np.float64)
            raise _Reached
        return r

    def jac(v, *_):
        lin = Linearization(forward, tensor(v))
        return LinearOperator(
            (n, n), dtype=np.float64,
            matvec=lambda p: lin.j(tensor(p)).double().numpy(),
            rmatvec=lambda u: lin.jt(tensor(u)).double().numpy())

    start = time.perf_counter()
    try:
        result = least_squares(fun, x0.double().numpy(), jac=jac, method="trf",
                               tr_solver="lsmr", ftol=1e-12, xtol=1e-12, gtol=1e-12,
                               max_nfev=500)
        x, note = result.x, f"stopped ({result.status})"
    except _Reached:
        x, note = best["x"], "reached"
    return torch.from_numpy(x).float(), time.perf_counter() - start, note


def residual(forward, x, y):
    with torch.no_grad():
        return float((forward(x) - y).norm() / y.norm())


def psnr(original, x):
    return lib.quality(original, x.double().numpy(), data_range=1.0, ssim=False)["psnr"]


def suite_rows():
    rows = []
    for corruption, name, size in SUITE:
        original = photograph(name, size)
        forward = flat(corruption, size)
        y = forward(torch.from_numpy(original.reshape(-1)).float()).detach()
        gn = lib.restore(y, forward=forward, method="gn")
        x0 = lib.start_point(lib.DEFAULT_INIT["gn"], y)
        target = max(gn.relative_residual, TOL)
        x_sp, sp_seconds, note = scipy_least_squares(forward, y, x0, target)
        try:
            lb = lib.restore(y, forward=forward, method="lbfgs")
            lbfgs = (psnr(original, lb.x), lb.seconds, lb.relative_residual, lb.warning)
        except TorchannError as err:
            lbfgs = (float("nan"), float("nan"), float("nan"), f"error: {err}")
        rows.append({
            "name": corruption.__name__, "image": f"{name} {size}x{size}",
            "cond": gn.condition_estimate, "gn": (psnr(original, gn.x), gn.seconds,
                                                 gn.relative_residual, gn.warning),
            "gn_steps": gn.steps, "gn_cgls": gn.extra.get("cgls_iterations"),
            "scipy": (psnr(original, x_sp), sp_seconds, residual(forward, x_sp, y), None),
            "scipy_note": note, "lbfgs": lbfgs,
        })
        print(f"  done {corruption.__name__}", file=sys.stderr, flush=True)
    return rows


def honest(result):
    """A residual above the threshold must come with a warning."""
    _, _, res, warning = result
    return "yes" if not (res > RESIDUAL_WARN) or warning else "NO"


def weird_rows(repeats=3):
    original = lib.demo_image()
    y = lib.weird_function(torch.from_numpy(original.reshape(-1)).float())
    runs = {"cg": [], "gn": [], "gn tol 1e-6": []}
    for _ in range(repeats):
        for label, kwargs in (("cg", {"method": "cg"}), ("gn", {"method": "gn"}),
                              ("gn tol 1e-6", {"method": "gn", "tol": 1e-6})):
            runs[label].append(lib.restore(y, **kwargs))
    return original, runs


def main() -> int:
    torch.set_num_threads(1)
    lib.restore(torch.rand(64), method="gn", steps=2)  # one-time imports and warm-up
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {os.cpu_count()}-core {platform.machine()} CPU (load average {load:.1f} "
          f"at start), torch {torch.__version__}, one thread")
    rows = suite_rows()
    print()
    print("| corruption | photograph | cond. est. | gn dB | gn s | gn residual | scipy dB | "
          "scipy s | scipy residual | scipy/gn | lbfgs dB | lbfgs s | lbfgs residual | "
          "warned when due |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    ratios = []
    for row in rows:
        gn, sp, lb = row["gn"], row["scipy"], row["lbfgs"]
        ratio = sp[1] / gn[1]
        ratios.append(ratio)
        bound = "" if row["scipy_note"] == "reached" else " (>=)"
        print(f"| {row['name']} | {row['image']} | {row['cond']:.3g} | {gn[0]:.1f} | "
              f"{gn[1]:.2f} | {gn[2]:.1e} | {sp[0]:.1f} | {sp[1]:.2f} | {sp[2]:.1e} | "
              f"{ratio:.1f}{bound} | {lb[0]:.1f} | {lb[1]:.2f} | {lb[2]:.1e} | "
              f"gn {honest(gn)}, lbfgs {honest(lb)} |")
    print()
    for row in rows:
        if row["lbfgs"][3] and row["lbfgs"][3].startswith("error"):
            print(f"lbfgs on {row['name']}: {row['lbfgs'][3]}")
    well = [r for r in rows if r["cond"] <= 1e5]
    worst = min(r["gn"][0] for r in well)
    median = statistics.median(ratios)
    print(f"target gn >= 40 dB on every well-conditioned function: worst {worst:.1f} dB: "
          f"{'met' if worst >= 40 else 'MISSED'}")
    print(f"target scipy/gn >= 3 on the median: {median:.1f}: "
          f"{'met' if median >= 3 else 'MISSED'}")
    all_honest = all(honest(r[m]) == "yes" for r in rows for m in ("gn", "lbfgs"))
    print(f"target no residual above {RESIDUAL_WARN} without a warning: "
          f"{'met' if all_honest else 'MISSED'}")

    original, runs = weird_rows()
    print()
    print("weird_function on the 100x100 demo photograph (median of 3 runs each):")
    print()
    print("| method | steps | CGLS iterations | seconds | relative residual | PSNR dB |")
    print("|---|---:|---:|---:|---:|---:|")
    seconds = {}
    for label, results in runs.items():
        seconds[label] = statistics.median(r.seconds for r in results)
        r = results[0]
        iterations = r.extra.get("cgls_iterations", r.steps)
        print(f"| {label} | {r.steps} | {iterations} | {seconds[label]:.3f} | "
              f"{r.relative_residual:.1e} | {psnr(original, r.x):.1f} |")
    ratio = seconds["gn tol 1e-6"] / seconds["cg"]
    print()
    print(f"target gn within 1.5x of cg (same tolerance 1e-6): gn/cg = {ratio:.2f}: "
          f"{'met' if ratio <= 1.5 else 'MISSED'}; at their defaults gn/cg = "
          f"{seconds['gn'] / seconds['cg']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
