"""Restore an image corrupted by a known function (section 3.2).

With no IMAGE, the built-in demo: scikit-image's camera photograph at 100x100, corrupted by
the chapter's weird_function; since its original is known, PSNR and SSIM are reported.
The chapter's run (no --corruption) keeps the chapter's method: gradient descent from
random noise (gd, lr 0.8, 20,000 steps, the loss printed every 1,000). Whenever
--corruption is given the default is --method auto: cg when the corruption is linear (or
affine), gn (Gauss-Newton) otherwise. cg, lbfgs and adam reach the chapter's picture far
sooner; 'cg' needs a linear (or affine) corruption and refuses any other.

Default steps / lr / tol / start per method:
  gd     20000 / 0.8  / none / random   (the chapter's torch.randn)
  cg      1000 / --   / 1e-6 / zeros
  lbfgs   1000 / 1.0  / 1e-5 / mid      (a step is one loss-and-gradient evaluation)
  adam    2000 / 0.01 / none / mid
  gn       100 / --   / 1e-5 / mid      (a step is one damped Gauss-Newton step)
--init random|zeros|broken|mid|FILE.npy changes the start (mid: every pixel 0.5).

A result that does not fit the data (relative residual above 0.02) or that the data do not
determine (condition estimate above 1e5: the corruption is not locally invertible) is
still written, with a warning on stderr, "converged": false in summary.json and a warning
box in report.html.

Deblurring: --corruption blur:gaussian,sigma=2 (or blur:box,size=5, blur:motion,length=9,
angle=30, or --psf FILE.npy) with --boundary zero|circular|reflect. A blurred photograph
carries noise, so add a prior: --prior tv --weight auto minimizes
1/2 ||A x - y||^2 + lambda TV(x) (ADMM in float32; --clip or --solver pdhg: the primal-dual
solver) and picks lambda from the noise level (printed). A colour picture stays in colour
(--channels joint|separate, or --grey), alpha and 16-bit grey are kept; --tile SIZE bounds
memory. With no IMAGE, the blur demo is the camera photograph at 256x256, blurred,
with Gaussian noise of --noise (default 0.01).

Writes to --out: restored.npy, restored.png, comparison.png (broken | restored |
reference), loss.png, summary.json and report.html (figures and numbers on one page);
nothing is written when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse
import sys

from torchann.commands import _deblur
from torchann.errors import TorchannError

METHODS = ("auto", "gd", "cg", "lbfgs", "adam", "gn")
OUTPUTS = ("restored.npy", "restored.png", "comparison.png", "loss.png", "summary.json",
           "report.html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's options to parser."""
    parser.add_argument("image", nargs="?", metavar="IMAGE",
                        help="the corrupted image: a pickle of a numpy array (the chapter's "
                        "broken_image_t.p), a .npy, or a PNG/JPEG (default: the built-in demo)")
    parser.add_argument("--shape", nargs=2, type=int, metavar=("H", "W"),
                        help="height and width of a flat IMAGE that is not square")
    parser.add_argument("--reference", metavar="FILE",
                        help="the original image, to report PSNR and SSIM against")
    parser.add_argument("--corruption", metavar="SPEC",
                        help="the known corruption: 'weird' (the chapter's weird_function), "
                        "'module:function' or 'path/to/file.py:function', a differentiable "
                        "torch function of a flat float tensor (default: weird)")
    parser.add_argument("--boundary", choices=("zero", "circular", "reflect"), default="reflect",
                        help="how a blur continues beyond the image's edges: zeros, periodic, "
                        "or mirrored, which suits a photograph (default: %(default)s)")
    parser.add_argument("--psf", metavar="FILE.npy",
                        help="a blur kernel of your own (2-D, odd sizes, positive sum); "
                        "replaces a blur:... corruption")
    parser.add_argument("--noise", type=float, metavar="SIGMA",
                        help="Gaussian noise added to the demo's corrupted image "
                        "(default: 0.01 for a blur, 0 for weird)")
    parser.add_argument("--prior", choices=("tv", "tikhonov", "none"), default="none",
                        help="regularize: minimize 1/2 ||f(x) - y||^2 + weight R(x) with the "
                        "primal-dual solver (default: %(default)s, the chapter's plain fit)")
    parser.add_argument("--weight", metavar="LAMBDA|auto",
                        help="the prior's weight, or 'auto' to pick it from the noise level")
    parser.add_argument("--noise-level", type=float, metavar="SIGMA",
                        help="noise standard deviation for --weight auto (default: estimated)")
    parser.add_argument("--clip", metavar="LO,HI",
                        help="keep every pixel in [LO, HI], e.g. 0,1 (uses the primal-dual "
                        "solver)")
    parser.add_argument("--method", choices=METHODS,
                        help="solver (default: gd, the chapter's gradient descent, for the "
                        "chapter's run; auto whenever --corruption is given: cg when it is "
                        "linear or affine, gn otherwise)")
    parser.add_argument("--init", metavar="START",
                        help="the start: random (the chapter's noise), zeros, broken (the "
                        "corrupted image), mid (every pixel 0.5) or FILE.npy (default: random "
                        "for gd, zeros for cg, mid for the others)")
    parser.add_argument("--steps", type=int, help="iterations (default: per method, see above)")
    parser.add_argument("--lr", type=float,
                        help="learning rate of gd, lbfgs, adam (default: per method)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random start (default: %(default)s)")
    parser.add_argument("--tol", type=float,
                        help="stop when ||f(x)-y||/||y|| falls below this (default: per method)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="where to compute (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads; one is fastest for a 100x100 image "
                        "(default: %(default)s)")
    parser.add_argument("--log-every", type=int, metavar="N",
                        help="print 'Loss at {step} = {loss}' every N steps, 0 for never "
                        "(default: steps/20, i.e. 1000 for gd)")
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.add_argument("--out", default="torchann-out/restore", metavar="DIR",
                        help="output folder (default: %(default)s)")
    _deblur.add_arguments(parser)


def _png(image, lo, hi) -> bytes:
    """A grayscale 8-bit PNG of ``image`` with grey levels ``lo``..``hi``."""
    import io

    import numpy as np
    from PIL import Image

    scaled = np.clip((np.asarray(image, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)
    buf = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def _load_inputs(args, forward):
    """Return (name, broken image 2-D, reference 2-D or None, input files)."""
    import numpy as np
    import torch

    from torchann import io
    from torchann import restore as lib

    if args.image is None:
        if args.reference or args.shape:
            raise TorchannError("--reference and --shape need an IMAGE; the demo has its own "
                                "100x100 original")
        original = lib.demo_image()
        flat = torch.from_numpy(original.reshape(-1)).float()
        broken = lib.check_forward(forward, flat).numpy().astype(np.float64)
        return "demo:camera", broken.reshape(original.shape), original, []
    broken = io.as_image(io.load_array(args.image), args.shape)
    reference = None
    if args.reference:
        reference = io.load_array(args.reference)
        if reference.size != broken.size:
            raise TorchannError(f"--reference {args.reference} has {reference.size} values but "
                                f"the image has {broken.size}; give the matching original")
        reference = reference.reshape(broken.shape)
    return args.image, broken, reference, [args.image, args.reference]


def _is_blur(args) -> bool:
    if args.psf and args.corruption.startswith("blur:"):
        raise TorchannError("give either --corruption blur:... or --psf FILE, not both")
    return bool(args.psf) or args.corruption.startswith("blur:")


def _add_noise(broken, args):
    import numpy as np

    if args.noise is None:
        return broken
    if args.image is not None:
        raise TorchannError("--noise adds noise to the built-in demo only; a photograph "
                            "brings its own")
    if not args.noise >= 0:
        raise TorchannError(f"--noise {args.noise}: the noise level must be 0 or more")
    return broken + args.noise * np.random.default_rng(args.seed).standard_normal(broken.shape)


def _blur_inputs(args):
    """Return (forward, name, broken 2-D, reference 2-D or None, input files) for a blur."""
    from torchann import deblur, io

    psf = io.load_array(args.psf) if args.psf else None
    spec = "psf" if psf is not None else args.corruption
    if args.image is None:
        if args.reference or args.shape:
            raise TorchannError("--reference and --shape need an IMAGE; the demo has its own "
                                "256x256 original")
        noise = 0.01 if args.noise is None else args.noise
        if not noise >= 0:
            raise TorchannError(f"--noise {noise}: the noise level must be 0 or more")
        original, broken = deblur.blurred_demo(256, spec, args.boundary, noise, args.seed, psf)
        name, reference, inputs = "demo:camera", original, []
    else:
        name, broken, reference, inputs = _load_inputs(args, None)
        _add_noise(broken, args)  # refuses --noise with an IMAGE
    forward = deblur.spec_operator(spec, broken.shape, args.boundary, psf=psf)
    return forward, name, broken, reference, inputs + [args.psf]


def _solver_options(args):
    """Parse --weight and --clip; say whether the regularized solver runs."""
    regularized = args.prior != "none" or args.clip is not None
    if (args.weight is not None or args.noise_level is not None) and args.prior == "none":
        raise TorchannError("--weight and --noise-level set the prior's weight; add --prior tv "
                            "or --prior tikhonov")
    weight = args.weight if args.weight is not None else "auto"
    if weight != "auto":
        try:
            weight = float(weight)
        except ValueError:
            raise TorchannError(f"--weight {weight}: give a number >= 0 or 'auto'") from None
    clip = None
    if args.clip is not None:
        try:
            clip = tuple(float(v) for v in args.clip.split(","))
        except ValueError:
            clip = ()
        if len(clip) != 2:
            raise TorchannError(f"--clip {args.clip}: give two numbers LO,HI, e.g. --clip 0,1")
    return regularized, weight, clip


def run(args) -> int:
    """Restore the image, then write every output at once."""
    from pathlib import Path

    import matplotlib
    import torch

    matplotlib.use("Agg")

    from torchann import io, runtime
    from torchann import restore as lib
    from torchann.commands._progress import Progress

    given = args.corruption is not None or bool(args.psf)
    args.corruption = "weird" if args.corruption is None else args.corruption
    method = args.method or ("auto" if given else "gd")
    threads = runtime.set_threads(args.threads)
    device = runtime.resolve_device(args.device)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise TorchannError(f"--out {out} is a file, not a folder; choose a folder name")
    regularized, weight, clip = _solver_options(args)
    init, init_file = _init(args, regularized)
    if regularized and _is_blur(args):  # colour, tiles, the fast solver: commands/_deblur.py
        return _deblur.run(args, weight, clip, threads, device, out)
    _deblur.refuse_options(args)
    if _is_blur(args):
        forward, name, broken, reference, inputs = _blur_inputs(args)
        corruption_file = ""
    else:
        forward = lib.load_corruption(args.corruption)
        name, broken, reference, inputs = _load_inputs(args, forward)
        broken = _add_noise(broken, args)
        corruption_file = args.corruption.rpartition(":")[0]
    inputs = [f for f in inputs + [init_file] if f]
    io.check_not_input([out / f for f in OUTPUTS], inputs + [corruption_file])

    if regularized:
        from torchann import deblur

        steps = args.steps if args.steps is not None else 300
    else:
        if method == "auto":  # choose here, for the progress bar's length
            flat = torch.as_tensor(broken.reshape(-1), dtype=torch.float32)
            lib.check_forward(forward, flat)
            method = "cg" if lib.affine_offset(forward, flat.numel(), flat) is not None else "gn"
        steps = args.steps if args.steps is not None else lib.METHODS[method]["steps"]
    log_every = args.log_every if args.log_every is not None else max(1, steps // 20)
    with Progress(total=steps, log_every=log_every, fmt="Loss at {step} = {loss}",
                  quiet=args.quiet, desc="pdhg" if regularized else method) as progress:
        if regularized:
            tol = {} if args.tol is None else {"tol": args.tol}
            result = deblur.deconvolve(broken, forward, broken.shape, args.prior, weight, clip,
                                       steps=steps, noise_level=args.noise_level,
                                       device=device, callback=progress, **tol)
        else:
            result = lib.restore(broken, forward=forward, method=method, steps=args.steps,
                                 lr=args.lr, seed=args.seed, tol=args.tol, device=device,
                                 callback=progress, init=init)
    restored = result.x.double().numpy().reshape(broken.shape)

    summary = {
        "input": name, "shape": list(broken.shape), "corruption": args.corruption,
        "method": result.method, "steps": result.steps, "stopped": result.stopped,
        "seconds": round(result.seconds, 4), "final_distance": result.final_distance,
        "relative_residual": result.relative_residual, **result.extra,
        "threads": threads,
    }
    if args.method is None and not regularized:
        summary["requested_method"] = "auto" if given else "gd"
    if result.stop_reason is not None:  # how far to trust it (torchann.restore.convergence)
        summary.update(converged=result.converged, stop_reason=result.stop_reason,
                       condition_estimate=result.condition_estimate, warning=result.warning)
    if _is_blur(args):
        summary.update(corruption=f"psf:{args.psf}" if args.psf else args.corruption,
                       boundary=args.boundary)
    line = (f"{result.method}: {result.steps} steps in {result.seconds:.2f} s, distance "
            f"{result.final_distance:.4g}, relative residual {result.relative_residual:.2e}")
    title = f"{result.method}, {result.steps} steps"
    if regularized:
        chosen = result.extra["weight"]
        line += f", prior {args.prior}, weight {chosen:.3g}"
        title = f"{result.method} + {args.prior} (weight {chosen:.2g}), {result.steps} steps"
        if "noise_sigma" in result.extra:
            line += f" (auto, noise sigma {result.extra['noise_sigma']:.3g})"
    if reference is not None:
        scores = lib.quality(reference, restored)
        psnr, ssim = scores["psnr"], scores["ssim"]
        summary["psnr"] = psnr
        line += f", PSNR {psnr:.2f} dB"
        title += f": PSNR {psnr:.1f} dB"
        summary["ssim"] = ssim
        line += f", SSIM {ssim:.4f}"
        if _is_blur(args):  # a blurred image is itself an estimate: say what was gained
            before = lib.quality(reference, broken, ssim=False)["psnr"]
            summary["psnr_input"] = before
            line += f" (input {before:.2f} dB)"

    # everything is computed; only now touch the disk
    files = {
        "restored.png": _png(restored, *lib.display_range(
            restored if reference is None else reference)),
        "comparison.png": io.figure_png(lib.plot_comparison(broken, restored, reference, title)),
        "loss.png": io.figure_png(lib.plot_loss(result.history, result.method)),
    }
    from torchann.report import Image, Section, render_report

    files["report.html"] = render_report("torchann restore", [Section(
        name, numbers=list(summary.items()), warning=result.warning or "",
        images=[Image(title, files["comparison.png"]), Image("loss per step", files["loss.png"])],
    )], subtitle=line).encode("utf-8")
    io.prepare_out_dir(out, inputs)
    io.save_npy(out / "restored.npy", restored)
    for file_name, data in files.items():
        io.save_bytes(out / file_name, data)
    io.save_json(out / "summary.json", summary)
    print(f"{line}; wrote {out}/")
    if result.warning:
        print(f"torchann: warning: {result.warning}", file=sys.stderr)
    return 0


def _init(args, regularized):
    """Return (the --init value for the library, the file it names or None)."""
    if args.init is None:
        return None, None
    if regularized:
        raise TorchannError("--init sets the start of gd, cg, lbfgs, adam and gn; the "
                            "regularized solver starts from the data")
    from torchann import io
    from torchann.restore import INITS

    if args.init in INITS:
        return args.init, None
    if not args.init.lower().endswith(".npy"):
        raise TorchannError(f"--init {args.init}: use one of {', '.join(INITS)} or a .npy "
                            "file with one value per pixel")
    return io.load_array(args.init), args.init

