"""Deblurring grey and colour photographs at scale: the entry point, channels and tiles.

:func:`deblur_image` is the entry point for an image ``(H, W)`` or ``(H, W, C)`` and a known
PSF. It minimizes ``1/2 ||A x - y||^2 + lambda R(x)`` like :func:`~torchann.deblur.deconvolve`,
with a solver built for large images (ADMM, :mod:`~torchann.deblur.admm`; see its Notes).
"""

from __future__ import annotations

import functools
import time

import numpy as np
import torch

from torchann.deblur.admm import ADMM_STEPS, WINDOW_STEPS, admm_solve, admm_window
from torchann.deblur.boundary import WindowModel
from torchann.deblur.kernels import check_psf
from torchann.deblur.noise import check_weight, choose_weight, load_estimator
from torchann.deblur.pdhg import PRIORS
from torchann.deblur.transforms import has_exact_solve, make_blur_model
from torchann.errors import TorchannError
from torchann.i18n import message
from torchann.restore import RestoreResult

SOLVERS = ("auto", "admm", "pdhg")
CHANNEL_MODES = ("auto", "joint", "separate")
#: ``channels="auto"`` restores colour jointly up to this many pixels (4 MP), one channel at a
#: time above: a joint solve holds every channel's buffers at once (12.6 MP RGB: 1.8 GB
#: peak), one at a time a third of them, written in place (1.1 GB)
JOINT_MAX_PIXELS = 4 * 2**20
DTYPES = {"float32": torch.float32, "float64": torch.float64}
#: Peak memory of one solve above the interpreter, in multiples of the image's float32 size
#: (measured at 12.6 MP grey; small images cost relatively more: 21x at 4 MP)
MEMORY_MULTIPLE = 13
_NOISE_CROP = 1024  # noise is estimated on a central crop at most this wide


def _tiles(length, tile, overlap):
    """Start offsets of tiles of ``tile`` pixels that cover ``length`` with ``overlap``."""
    if tile >= length:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


def _ramp(length, start, size, total, overlap):
    """1-D blending weight of a tile: linear ramps over the overlaps, 1 elsewhere."""
    w = np.ones(size)
    ramp = (np.arange(overlap) + 0.5) / overlap
    if start > 0:
        w[:overlap] = ramp
    if start + size < total:
        w[size - overlap:] = np.minimum(w[size - overlap:], ramp[::-1])
    return w


def tile_plan(shape, tile, radius):
    """Tiles ``(row, col, height, width)`` and the overlap for ``tile`` on an image."""
    h, w = shape
    overlap = max(3 * radius, 8)
    if tile < 2 * overlap + 8:
        raise TorchannError(key="blur.tile_small", tile=tile, least=2 * overlap + 8,
                            overlap=overlap)
    rows, cols = _tiles(h, tile, overlap), _tiles(w, tile, overlap)
    return [(r, c, min(tile, h), min(tile, w)) for r in rows for c in cols], overlap


def _pick_solver(solver, prior, clip):
    if solver == "auto":
        return "pdhg" if clip is not None or prior == "none" else "admm"
    if solver == "admm" and (clip is not None or prior == "none"):
        raise TorchannError(key="blur.admm_needs")
    return solver


def default_steps(psf, shape, boundary, solver, tile=None) -> int:
    """Iterations :func:`deblur_image` runs when ``steps`` is not given (per tile, per channel
    for PDHG): 300 for PDHG, 10 for ADMM on a transform-diagonal blur, 8 on a window
    (:func:`~torchann.deblur.admm.admm_window`), 10 there with the zero boundary (8 lost
    0.6 dB on a 512 x 512 photograph)."""
    if solver == "pdhg":
        return 300
    h, w = shape
    part = (min(h, tile), min(w, tile)) if tile else (h, w)
    if has_exact_solve(psf, part, boundary) or boundary == "zero":
        return ADMM_STEPS  # the zero boundary's extra constraint converges more slowly
    return WINDOW_STEPS


def resolve_channels(channels, shape) -> str:
    """What ``channels`` means for an image of ``shape``: ``auto`` is ``joint`` up to
    :data:`JOINT_MAX_PIXELS`, ``separate`` above."""
    if channels != "auto":
        return channels
    return "joint" if shape[0] * shape[1] <= JOINT_MAX_PIXELS else "separate"


def planned_steps(shape, psf, boundary="reflect", prior="tv", solver="auto", steps=None,
                  tile=None, clip=None, channels="auto") -> int:
    """How many ``callback`` steps :func:`deblur_image` will report at most (for a progress bar)."""
    kernel = check_psf(psf).numpy()
    groups = shape[2] if len(shape) == 3 and resolve_channels(channels, shape) == "separate" \
        else 1
    solver = _pick_solver(solver, prior, clip)
    steps = steps or default_steps(kernel, shape[:2], boundary, solver, tile)
    if solver == "pdhg":
        return steps * (shape[2] if len(shape) == 3 else 1)
    part = (min(shape[0], tile), min(shape[1], tile)) if tile else shape[:2]
    if prior == "tikhonov" and has_exact_solve(kernel, part, boundary):
        steps = 1
    if tile and (tile < shape[0] or tile < shape[1]):
        steps *= len(tile_plan(shape[:2], int(tile), max(kernel.shape) // 2)[0])
    return steps * groups


def deblur_image(image, psf, boundary="reflect", prior="tv", weight="auto", channels="auto",
                 solver="auto", steps=None, tol=1e-4, noise_level=None, clip=None,
                 dtype="float32", device="cpu", tile=None, callback=None) -> RestoreResult:
    """Deblur a grey ``(H, W)`` or colour ``(H, W, C)`` image blurred by a known PSF.

    Parameters
    ----------
    image : array_like
        The observed image ``y``.
    psf : array_like
        2-D kernel with odd sizes (checked by :func:`~torchann.deblur.check_psf`).
    boundary : {"zero", "circular", "reflect"}
    prior : {"tv", "tikhonov", "none"}
        For colour, ``tv`` is vectorial TV when ``channels="joint"``:
        ``sum_ij sqrt(sum_c |grad x_c|_ij^2)``, which couples the channels' edges.
    weight : float or "auto"
        ``lambda``; ``"auto"`` follows :func:`~torchann.deblur.auto_weight` with the noise
        estimated on the whole image (a central crop of at most 1024 x 1024).
    channels : {"auto", "joint", "separate"}
        Restore colour channels together (vectorial TV: it measured 0.15-0.25 dB better and
        avoids colour fringes) or one by one, each written in place into the result, which
        needs a third of the memory; ``auto`` (the default) is joint up to
        :data:`JOINT_MAX_PIXELS` (4 MP), separate above.
    solver : {"auto", "admm", "pdhg"}
        ``auto`` is ``admm``, except with ``clip`` or ``prior="none"``, which need ``pdhg``
        (:func:`~torchann.deblur.deconvolve`, channel by channel).
    steps, tol : int, float
        Most iterations (default: :func:`default_steps`: 10 for ADMM with an exact x-step,
        20 without, 300 for PDHG) and the relative change of ``x`` below which it stops.
    noise_level : float, optional
        Noise standard deviation for ``weight="auto"`` (default: estimated).
    clip : (float, float), optional
        Pixel range constraint (PDHG only).
    dtype : {"float32", "float64"}
    device : str or torch.device
        ``cuda`` runs the same code with torch FFTs for the DCT; it has not yet run on a GPU.
    tile : int, optional
        Solve in overlapping square tiles of this size (overlap ``3 x`` the PSF radius, at
        least 8 pixels, blended with linear ramps), to bound memory on huge images; the weight
        is chosen once for the whole image.
    callback : callable, optional
        ``callback(step, distance)`` after every step; with tiles the steps run on across
        tiles. ADMM measures ``distance = ||A x - y||`` every 10 steps and at the last (it
        costs a transform), and passes ``None`` at the other steps.

    Returns
    -------
    RestoreResult
        ``x`` with the image's shape (a CPU tensor in ``dtype``); ``extra`` holds the prior,
        weight, noise sigma, solver, channels, dtype and the tiles.

    Notes
    -----
    The solver kept is ADMM on ``z = grad x`` with penalty ``rho = 16 lambda`` and
    over-relaxation 1.6, started from the exact Tikhonov solution with weight ``rho``. Its
    x-step ``(A^T A + rho grad^T grad) x = A^T y + rho grad^T (z - u)`` is solved exactly where
    both operators are diagonal: under the FFT for ``circular``, under the DCT for ``reflect``
    with a PSF symmetric in each axis (Gaussian, box). Any other blur (a motion blur at an
    angle, the zero boundary) is solved on a periodic grid larger than the photo, of which the
    data see the blurred window (:mod:`~torchann.deblur.boundary`), by ADMM with the blur split
    off too, so that every step is exact under the FFT (8 iterations, 10 for ``zero``): on a 512
    x 512 colour photograph with a motion blur of length 17 at 30 degrees and noise 0.01 it gave
    29.0 dB in 0.8 s (10 iterations) where two warm-started conjugate gradient steps per x-step
    gave 27.3 dB in 4-5 s (one thread, a loaded 2-core CPU). ADMM was kept over the primal-dual
    (PDHG) solver, which needs 120 to 300 iterations: from the Tikhonov start ADMM's PSNR is
    flat after 10 iterations (a 1 MP photograph, Gaussian sigma 2, noise 0.01: 29.55, 29.53,
    29.48 dB after 10, 15, 30 iterations; within 0.1 dB of PDHG's on the 256 x 256 benchmark),
    so 10 are run. PSNR, not the objective, is what plateaus: ``stopped`` says ``"steps"``.
    Memory: about ``MEMORY_MULTIPLE`` (13) times the image's float32 size at float32, twice
    that at float64, plus the interpreter, for a joint solve; one channel at a time (above
    :data:`JOINT_MAX_PIXELS`, or ``channels="separate"``) about a third of that plus the
    result; with ``tile`` the multiple applies to one tile plus two full-size buffers in the
    working dtype.
    """
    if dtype not in DTYPES:
        raise TorchannError(key="blur.unknown_option", name="dtype", value=dtype,
                            allowed=list(DTYPES))
    y = np.asarray(image, dtype=np.float32 if dtype == "float32" else np.float64)
    if y.ndim not in (2, 3):
        raise TorchannError(key="blur.image_shape", shape=str(y.shape))
    for name, value, allowed in (("prior", prior, PRIORS), ("solver", solver, SOLVERS),
                                 ("channels", channels, CHANNEL_MODES), ("dtype", dtype, DTYPES)):
        if value not in allowed:
            raise TorchannError(key="blur.unknown_option", name=name, value=value,
                                allowed=list(allowed))
    check_weight(weight, noise_level)
    if clip is not None and not clip[0] < clip[1]:
        raise TorchannError(key="blur.clip", lo=clip[0], hi=clip[1])
    kernel = check_psf(psf).numpy()
    solver = _pick_solver(solver, prior, clip)
    if tile is not None and solver == "pdhg":
        raise TorchannError(key="blur.tile_admm")
    if tile is not None and not int(tile) >= 1:
        raise TorchannError(key="blur.tile_size", tile=tile)
    steps = steps or default_steps(kernel, y.shape[:2], boundary, solver, tile)
    load_estimator(prior, weight, noise_level)
    start = time.perf_counter()
    extra = {"prior": prior, "solver": solver, "dtype": dtype}
    channels = resolve_channels(channels, y.shape)
    if y.ndim == 3:
        extra["channels"] = channels
    weight, chosen = choose_weight(prior, weight, y, float(y.max() - y.min()), noise_level,
                                   clip, crop=_NOISE_CROP)
    extra.update(chosen)
    extra["weight"] = weight
    if solver == "pdhg":
        x, history, taken, stopped, finals = _pdhg_channels(
            y, kernel, boundary, prior, weight, clip, steps, tol, device, callback)
        extra["solver"] = "pdhg"
    else:
        x, history, taken, stopped, ntiles, finals = _admm_image(
            y, kernel, boundary, prior, weight, channels == "joint", steps, tol,
            DTYPES[dtype], torch.device(device), tile, callback)
        extra["tiles"] = ntiles
    seconds = time.perf_counter() - start
    if finals is None:  # the tiles' residuals overlap: measure the blended image
        model = make_blur_model(kernel, y.shape[:2], boundary, DTYPES[dtype])
        finals = [model.residual(torch.from_numpy(np.ascontiguousarray(a[..., c])),
                                 torch.from_numpy(np.ascontiguousarray(b[..., c])))
                  for a, b in [(np.atleast_3d(x), np.atleast_3d(y))]
                  for c in range(np.atleast_3d(y).shape[2])]
    distance = float(np.sqrt(sum(d**2 for d in finals)))
    return RestoreResult(
        x=torch.from_numpy(x), method=extra["solver"], steps=taken, seconds=seconds,
        history=history, final_distance=distance,
        relative_residual=distance / max(float(np.linalg.norm(y)), 1e-30), stopped=stopped,
        extra=extra)


def _pdhg_channels(y, kernel, boundary, prior, weight, clip, steps, tol, device, callback):
    from torchann.deblur.operators import blur_operator
    from torchann.deblur.pdhg import deconvolve

    cube = np.atleast_3d(y)
    op = blur_operator(kernel, cube.shape[:2], boundary)
    out, history, taken, stopped, finals = np.empty_like(cube), [], 0, "tol", []
    for c in range(cube.shape[2]):
        def relay(step, distance, offset=c * steps):
            if callback is not None:
                callback(offset + step, distance)
        result = deconvolve(cube[..., c], op, cube.shape[:2], prior, weight, clip, steps, tol,
                            device=device, callback=relay)
        out[..., c] = result.x.double().numpy().reshape(cube.shape[:2])
        history += [(c * steps + s, d) for s, d in result.history]
        taken = max(taken, result.steps)
        stopped = "steps" if result.stopped == "steps" else stopped
        finals.append(result.final_distance)
    return out.reshape(y.shape), history, taken, stopped, finals


def _admm_image(y, kernel, boundary, prior, weight, joint, steps, tol, dtype, device, tile,
                callback):
    """ADMM over the image: all channels at once (joint), or one at a time, each written in
    place into one output array (so that only one channel's buffers live at a time), and
    over tiles when ``tile`` asks. Returns ``(x, history, steps, stopped, tiles, finals)``,
    ``finals`` the residual norm of each channel group (None with tiles)."""
    h, w = y.shape[:2]
    cube = np.moveaxis(np.atleast_3d(y), -1, 0)  # (C, H, W) view
    # one plane per channel: a channel written touches only its own pages, so that while
    # channel c is solved only the c planes before it take memory (interleaved at the end)
    out_chw = np.empty(cube.shape, dtype=y.dtype)
    groups = [slice(None)] if joint else [slice(c, c + 1) for c in range(cube.shape[0])]
    if not tile or (tile >= h and tile >= w):
        plan, overlap = [(0, 0, h, w)], 0
    else:
        plan, overlap = tile_plan((h, w), int(tile), max(kernel.shape) // 2)

    def solve(part, offset):  # the solver holds the only reference to its copy of part
        if has_exact_solve(kernel, part.shape[-2:], boundary):
            model, run = make_blur_model(kernel, part.shape[-2:], boundary, dtype, device), \
                admm_solve
        else:  # any other PSF or boundary: the photo as a window, exact FFT steps
            model, run = WindowModel(kernel, part.shape[-2:], dtype, device), admm_window
        zero = {"zero": boundary == "zero"} if run is admm_window else {}
        x, history, taken, stopped = run(
            torch.from_numpy(np.ascontiguousarray(part)).to(device, dtype), model, prior,
            weight, steps, tol, joint, callback, offset, **zero)
        return x.cpu().numpy(), history, taken, stopped

    history, taken, stopped, finals, n = [], 0, "tol", [], 0
    for group in groups:
        part = cube[group]
        if len(plan) == 1:
            x, hist, taken_here, why = solve(part, n * steps)
            out_chw[group] = x
            del x
            finals.append(hist[-1][1])
            history += [(n * steps + s, d) for s, d in hist]
            taken, n = max(taken, taken_here), n + 1
            stopped = "steps" if why == "steps" else stopped
            continue
        total = np.zeros(part.shape, dtype=y.dtype)
        weights = np.zeros((h, w), dtype=y.dtype)
        for r, c, th, tw in plan:
            x, hist, taken_here, why = solve(part[:, r:r + th, c:c + tw], n * steps)
            ramp = np.outer(_ramp(h, r, th, h, overlap), _ramp(w, c, tw, w, overlap))
            total[:, r:r + th, c:c + tw] += x * ramp
            weights[r:r + th, c:c + tw] += ramp
            history += [(n * steps + s, d) for s, d in hist]
            taken, n = max(taken, taken_here), n + 1
            stopped = "steps" if why == "steps" else stopped
        out_chw[group] = total / weights
        finals = None
    out = np.ascontiguousarray(np.moveaxis(out_chw, 0, -1)) if y.ndim == 3 else out_chw[0]
    del out_chw
    return out, history, taken, stopped, len(plan), finals


def join_channels(results, cube):
    """One result from the per-channel results of a plain fit of ``cube`` ``(H, W, C)``.

    A grey picture (one channel) keeps its own result, reshaped. Several channels: the
    image stacks the channels, steps and histories follow one another, the distance is the
    whole image's, the worst stop reason and the largest condition estimate stand for all,
    and every distinct warning is kept.

    Parameters
    ----------
    results : list of RestoreResult
        One per channel, in order.
    cube : ndarray
        The corrupted picture, ``(H, W, C)``.

    Returns
    -------
    RestoreResult
    """
    import dataclasses
    import math

    import numpy as np
    import torch

    h, w, channels = cube.shape
    x = torch.stack([r.x.reshape(h, w) for r in results], dim=-1)
    if channels == 1:
        return dataclasses.replace(results[0], x=x.reshape(h, w))
    history, offset = [], 0
    for r in results:
        history += [(offset + s, d) for s, d in r.history]
        offset += r.steps
    distance = math.sqrt(sum(r.final_distance**2 for r in results))
    worst = next((r for r in results if r.stop_reason == "max_steps"), results[0])
    conditions = [r.condition_estimate for r in results
                  if r.condition_estimate is not None and math.isfinite(r.condition_estimate)]
    warnings = list(dict.fromkeys(r.warning for r in results if r.warning))
    return dataclasses.replace(
        results[0], x=x, steps=offset, seconds=sum(r.seconds for r in results),
        history=history, final_distance=distance,
        relative_residual=distance / max(float(np.linalg.norm(cube)), 1e-30),
        stopped=worst.stopped, stop_reason=worst.stop_reason,
        converged=all(r.converged for r in results),
        condition_estimate=max(conditions) if conditions else None,
        warning=functools.reduce(_and, warnings) if warnings else None,
        extra={**results[0].extra, "channels": "separate"})


def _and(first, second):
    """Two warnings as one: ``"<first>; and <second>"`` (a catalogue message)."""
    return message("restore.warning.and", first=first, second=second)
