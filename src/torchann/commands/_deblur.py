"""The deblurring side of ``torchann restore``: options and the runs for a blur.

``commands/restore.py`` hands a ``blur:...`` or ``--psf`` run with a prior to :func:`deblur`
and one without to :func:`plain`; each returns what ``commands/_restore_output.py`` writes.
The options that only a blur uses are added here by :func:`add_arguments`.
"""

from __future__ import annotations

import argparse
import sys

from torchann.commands._restore_output import OUTPUTS, Outcome, base_summary, headline
from torchann.errors import TorchannError, as_flags

_FIGURE_SIDE = 1024  # figures show at most this many pixels on a side


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the deblurring options (colour, precision, solver, tiles)."""
    parser.add_argument("--channels", choices=("auto", "joint", "separate"),
                        help="a colour picture's channels: restored together with vectorial "
                        "TV, which avoids colour fringes, or one by one in a third of the "
                        "memory; auto: joint up to 4 MP (default: auto)")
    parser.add_argument("--grey", action="store_true",
                        help="convert a colour picture to grey before deblurring (the summary "
                        "records it)")
    parser.add_argument("--dtype", choices=("float32", "float64"),
                        help="precision of a deblurring solve (default: float32)")
    parser.add_argument("--solver", choices=("auto", "admm", "pdhg"),
                        help="deblurring solver: admm (fast, exact steps in the Fourier or "
                        "cosine domain), pdhg (needed by --clip and --prior none); "
                        "default: auto")
    parser.add_argument("--tile", type=int, metavar="SIZE",
                        help="deblur in overlapping SIZE x SIZE tiles, blended, to bound memory "
                        "on a huge image")


def _inputs(req):
    """Return (picture, name, reference array or None, kernel, input files)."""
    import numpy as np

    from torchann import deblur, io

    psf = io.load_array(req.psf) if req.psf else None
    spec = "psf" if psf is not None else req.corruption
    if psf is not None:
        kernel = deblur.check_psf(psf)
    else:
        kind, params = deblur.parse_blur_spec(spec)
        kernel = deblur.make_kernel(kind, **params)
    if req.image is None:
        noise = 0.01 if req.noise is None else req.noise
        original, broken = deblur.blurred_demo(256, spec, req.boundary, noise, req.seed, psf)
        return io.Picture(broken), "demo:camera", original, kernel, []
    picture = io.load_picture(req.image, grey=req.grey, shape=req.shape)
    reference = None
    if req.reference:
        ref = io.load_picture(req.reference, grey=req.grey or not picture.is_colour)
        if ref.array.shape != picture.array.shape:
            if ref.array.size != picture.array.size:
                raise TorchannError(key="restore.reference_shape", reference=req.reference,
                                    got=str(ref.array.shape), want=str(picture.array.shape))
            ref.array = ref.array.reshape(picture.array.shape)
        reference = np.asarray(ref.array)
    return picture, req.image, reference, kernel, [req.image, req.reference]


def _thumb(image):
    """Every n-th pixel so that the longest side is at most ``_FIGURE_SIDE`` (for figures)."""
    step = max(1, -(-max(image.shape[:2]) // _FIGURE_SIDE))
    return image[::step, ::step]


def deblur(req, threads, device) -> Outcome:
    """Deblur the picture (or the demo): ``deblur_image()`` under a progress bar."""
    import numpy as np

    from torchann import deblur
    from torchann.commands._progress import Progress

    picture, name, reference, kernel, inputs = _checked_inputs(req)
    dtype = req.dtype or "float32"
    if dtype == "float32":  # the solve's precision: one copy, not two
        picture.array = picture.array.astype(np.float32, copy=False)
    broken = picture.array
    options = dict(boundary=req.boundary, prior=req.prior, solver=req.solver or "auto",
                   steps=req.steps, tile=req.tile, clip=req.clip,
                   channels=req.channels or "auto")
    total = deblur.planned_steps(broken.shape, kernel, **options)
    log_every = req.log_every if req.log_every is not None else max(1, total // 20)
    with Progress(total=total, log_every=log_every, fmt="Loss at {step} = {loss}",
                  quiet=req.quiet, desc="deblur", delay=2.0) as progress:
        result = deblur.deblur_image(
            broken, kernel, weight=req.weight,
            dtype=dtype, device=device, noise_level=_noise_level(req, broken),
            callback=progress, **options, **({} if req.tol is None else {"tol": req.tol}))
    line, title = headline(result, req.prior)
    if picture.is_colour:
        line.append(_channels(broken.shape[2], result.extra["channels"]))
    outcome = _outcome(req, threads, picture, name, reference, inputs, result, (line, title))
    if _is_jpeg(req) and "noise_sigma" in result.extra and req.noise_level is None:
        outcome.summary["noise_estimate"] = "2 x 2 block means (JPEG)"
    return outcome


def _channels(count, mode):
    """The line's part on a colour picture: ``", 3 channels joint"`` (a catalogue message)."""
    from torchann.i18n import message

    return message("restore.channels", count=count,
                   mode=message(f"restore.channels.{mode}"))


def _is_jpeg(req) -> bool:
    return bool(req.image) and req.image.lower().endswith((".jpg", ".jpeg"))


def _noise_level(req, broken):
    """``--noise-level``, or for a JPEG the noise estimated on 2 x 2 block means (see
    :func:`torchann.deblur.noise.noise_sigma`), or None (estimated by the library)."""
    if (req.noise_level is not None or not _is_jpeg(req) or req.weight != "auto"
            or req.prior == "none"):
        return req.noise_level
    from torchann.deblur.noise import noise_sigma

    return noise_sigma(broken, crop=1024, scale=2) or None  # 0: the library says so


def plain(req, threads, device, solve) -> Outcome:
    """The plain fit of a blur (no prior): ``solve(req, forward, channel, device)`` per channel.

    ``solve`` runs ``restore()`` on one ``(H, W)`` channel under a progress bar; a colour
    picture is restored channel by channel and stays in colour.
    """
    import numpy as np

    from torchann import deblur
    from torchann.deblur.noise import noise_sigma

    picture, name, reference, kernel, inputs = _checked_inputs(req)
    cube = np.atleast_3d(picture.array)
    forward = deblur.blur_operator(kernel, cube.shape[:2], req.boundary)
    scale = 2 if _is_jpeg(req) else 1  # JPEG smooths the finest noise away
    sigmas = [noise_sigma(cube[..., c], crop=1024, scale=scale) for c in range(cube.shape[2])]
    results = []  # the noise level: the discrepancy check; a blur's condition is the same
    for c in range(cube.shape[2]):  # for every channel: estimated once
        condition = results[0].condition_estimate if results else None
        results.append(solve(req, forward, cube[..., c], device, noise_level=sigmas[c],
                             condition=condition))
    result = deblur.join_channels(results, cube)
    line, title = headline(result, None)
    if picture.is_colour:
        line.append(_channels(cube.shape[2], "separate"))
    outcome = _outcome(req, threads, picture, name, reference, inputs, result, (line, title))
    if req.method is None:
        outcome.summary["requested_method"] = "auto"
    outcome.summary.update(converged=result.converged, stop_reason=result.stop_reason,
                           condition_estimate=result.condition_estimate,
                           warning=as_flags(result.warning or "") or None,
                           noise_sigma=float(np.mean(sigmas)))
    return outcome


def _checked_inputs(req):
    """:func:`_inputs`, the outputs checked against them, and the loading notes printed."""
    from torchann import io

    picture, name, reference, kernel, inputs = _inputs(req)
    inputs = [f for f in inputs + [req.psf, req.init_file] if f]
    io.check_not_input([req.out / f for f in OUTPUTS], inputs)
    from torchann.i18n import localize, tr

    for note in picture.notes:
        print(tr("cli.note", req.lang, message=localize(note, req.lang)), file=sys.stderr)
    return picture, name, reference, kernel, inputs


def _outcome(req, threads, picture, name, reference, inputs, result, line_title) -> Outcome:
    """The :class:`Outcome` of a deblurred picture, in colour when the picture is."""
    import numpy as np

    from torchann import io
    from torchann import restore as lib

    broken = picture.array
    restored = result.x.numpy().reshape(broken.shape)
    summary = base_summary(req, name, broken.shape, result, threads)
    summary.update(boundary=req.boundary, colour=picture.is_colour)
    if picture.is_image:
        summary.update(mode=picture.mode, bit_depth=picture.bit_depth,
                       alpha="carried through unchanged" if picture.alpha is not None else None)
    if picture.notes:
        summary["notes"] = list(picture.notes)
    if picture.is_image:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = lib.display_range(restored if reference is None else reference)
    shown = [_thumb(a) for a in (broken, restored)]
    shown.append(None if reference is None else _thumb(reference))
    if picture.is_colour:  # imshow takes colour in [0, 1]
        shown = [None if a is None else np.clip((a - lo) / (hi - lo), 0, 1) for a in shown]
    dtype = np.float32 if result.extra.get("dtype") == "float32" else np.float64
    return Outcome(name, result, summary, *line_title, broken, restored, reference,
                   shown=tuple(shown), array=restored.astype(dtype, copy=False), inputs=inputs,
                   restored_png=io.picture_png(restored, picture.alpha, picture.bit_depth or 8,
                                               lo, hi))
