"""The deblurring side of ``torchann restore``: options and the run for a blur corruption.

``commands/restore.py`` hands a ``blur:...`` or ``--psf`` run to :func:`run`; the options
that only a blur uses are added here by :func:`add_arguments`.
"""

from __future__ import annotations

import argparse
import sys

from torchann.errors import TorchannError

OUTPUTS = ("restored.npy", "restored.png", "comparison.png", "loss.png", "summary.json",
           "report.html")
_FIGURE_SIDE = 1024  # figures show at most this many pixels on a side


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the deblurring options (colour, precision, solver, tiles)."""
    parser.add_argument("--channels", choices=("joint", "separate"),
                        help="a colour picture's channels: restored together with vectorial "
                        "TV, which avoids colour fringes, or one by one (default: joint)")
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


def refuse_options(args) -> None:
    """Refuse the deblurring options on a run that is not a blur."""
    given = [f"--{name}" for name in ("channels", "dtype", "solver", "tile")
             if getattr(args, name, None) is not None]
    given += ["--grey"] if getattr(args, "grey", False) else []
    if given:
        raise TorchannError(f"{', '.join(given)} apply to deblurring with a prior; add "
                            "--corruption blur:... (or --psf FILE) and --prior tv --weight auto")


def _inputs(args):
    """Return (picture, name, reference array or None, kernel, input files)."""
    import numpy as np

    from torchann import deblur, io

    psf = io.load_array(args.psf) if args.psf else None
    spec = "psf" if psf is not None else args.corruption
    if psf is not None:
        kernel = deblur.check_psf(psf)
    else:
        kind, params = deblur.parse_blur_spec(spec)
        kernel = deblur.make_kernel(kind, **params)
    if args.image is None:
        if args.reference or args.shape:
            raise TorchannError("--reference and --shape need an IMAGE; the demo has its own "
                                "256x256 original")
        noise = 0.01 if args.noise is None else args.noise
        if not noise >= 0:
            raise TorchannError(f"--noise {noise}: the noise level must be 0 or more")
        original, broken = deblur.blurred_demo(256, spec, args.boundary, noise, args.seed, psf)
        return io.Picture(broken), "demo:camera", original, kernel, []
    if args.noise is not None:
        raise TorchannError("--noise adds noise to the built-in demo only; a photograph "
                            "brings its own")
    picture = io.load_picture(args.image, grey=args.grey, shape=args.shape)
    reference = None
    if args.reference:
        ref = io.load_picture(args.reference, grey=args.grey or not picture.is_colour)
        if ref.array.shape != picture.array.shape:
            if ref.array.size != picture.array.size:
                raise TorchannError(f"--reference {args.reference} has shape "
                                    f"{ref.array.shape} but the image has "
                                    f"{picture.array.shape}; give the matching original")
            ref.array = ref.array.reshape(picture.array.shape)
        reference = np.asarray(ref.array)
    return picture, args.image, reference, kernel, [args.image, args.reference]


def _thumb(image):
    """Every n-th pixel so that the longest side is at most ``_FIGURE_SIDE`` (for figures)."""
    step = max(1, -(-max(image.shape[:2]) // _FIGURE_SIDE))
    return image[::step, ::step]


def run(args, weight, clip, threads, device, out) -> int:
    """Deblur the picture (or the demo), then write every output at once."""
    import numpy as np

    from torchann import deblur, io
    from torchann import restore as lib
    from torchann.commands._progress import Progress
    from torchann.report import Image, Section, render_report

    picture, name, reference, kernel, inputs = _inputs(args)
    inputs = [f for f in inputs + [args.psf] if f]
    io.check_not_input([out / f for f in OUTPUTS], inputs)
    broken = picture.array
    for note in picture.notes:
        print(f"torchann: note: {note}", file=sys.stderr)
    prior = args.prior
    options = dict(boundary=args.boundary, prior=prior, solver=args.solver or "auto",
                   steps=args.steps, tile=args.tile, clip=clip)
    total = deblur.planned_steps(broken.shape, kernel, **options)
    log_every = args.log_every if args.log_every is not None else max(1, total // 20)
    with Progress(total=total, log_every=log_every, fmt="Loss at {step} = {loss}",
                  quiet=args.quiet, desc="deblur", delay=2.0) as progress:
        result = deblur.deblur_image(
            broken, kernel, weight=weight, channels=args.channels or "joint",
            dtype=args.dtype or "float32", device=device, noise_level=args.noise_level,
            callback=progress, **options, **({} if args.tol is None else {"tol": args.tol}))
    restored = result.x.numpy()

    summary = {
        "input": name, "shape": list(broken.shape),
        "corruption": f"psf:{args.psf}" if args.psf else args.corruption,
        "method": result.method, "steps": result.steps, "stopped": result.stopped,
        "seconds": round(result.seconds, 4), "final_distance": result.final_distance,
        "relative_residual": result.relative_residual, **result.extra, "threads": threads,
        "boundary": args.boundary, "colour": picture.is_colour,
    }
    if picture.is_image:
        summary.update(mode=picture.mode, bit_depth=picture.bit_depth,
                       alpha="carried through unchanged" if picture.alpha is not None else None)
    if picture.notes:
        summary["notes"] = list(picture.notes)
    chosen = result.extra["weight"]
    line = (f"{result.method}: {result.steps} steps in {result.seconds:.2f} s, distance "
            f"{result.final_distance:.4g}, relative residual {result.relative_residual:.2e}, "
            f"prior {prior}, weight {chosen:.3g}")
    if "noise_sigma" in result.extra:
        line += f" (auto, noise sigma {result.extra['noise_sigma']:.3g})"
    if picture.is_colour:
        line += f", {broken.shape[2]} channels {result.extra['channels']}"
    title = f"{result.method} + {prior} (weight {chosen:.2g}), {result.steps} steps"
    if reference is not None:
        scores = lib.quality(reference, restored)
        psnr, ssim = scores["psnr"], scores["ssim"]
        before = lib.quality(reference, broken, ssim=False)["psnr"]
        summary.update(psnr=psnr, ssim=ssim, psnr_input=before)
        line += f", PSNR {psnr:.2f} dB, SSIM {ssim:.4f} (input {before:.2f} dB)"
        title += f": PSNR {psnr:.1f} dB"

    if picture.is_image:
        lo, hi = 0.0, 1.0
    else:
        lo, hi = lib.display_range(restored if reference is None else reference)
    shown = [_thumb(a) for a in (broken, restored)]
    shown.append(None if reference is None else _thumb(reference))
    if picture.is_colour:  # imshow takes colour in [0, 1]
        shown = [None if a is None else np.clip((a - lo) / (hi - lo), 0, 1) for a in shown]
    files = {
        "restored.png": io.picture_png(restored, picture.alpha, picture.bit_depth or 8, lo, hi),
        "comparison.png": io.figure_png(lib.plot_comparison(*shown, title)),
        "loss.png": io.figure_png(lib.plot_loss(result.history, result.method)),
    }
    files["report.html"] = render_report("torchann restore", [Section(
        name, numbers=list(summary.items()),
        images=[Image(title, files["comparison.png"]), Image("loss per step", files["loss.png"])],
    )], subtitle=line).encode("utf-8")
    io.prepare_out_dir(out, inputs)
    io.save_npy(out / "restored.npy", restored.astype(np.float32 if result.extra["dtype"] ==
                                                       "float32" else np.float64))
    for file_name, data in files.items():
        io.save_bytes(out / file_name, data)
    io.save_json(out / "summary.json", summary)
    print(f"{line}; wrote {out}/")
    return 0
