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
carries noise, so a blur gets a prior by default (--prior auto: tv with --weight auto, which
minimizes 1/2 ||A x - y||^2 + lambda TV(x) with ADMM in float32, --clip or --solver pdhg:
the primal-dual solver, and picks lambda from the noise level, printed); --prior none is the
plain fit. A colour picture stays in colour
(--channels joint|separate, or --grey), alpha and 16-bit grey are kept; --tile SIZE bounds
memory. With no IMAGE, the blur demo is the camera photograph at 256x256, blurred,
with Gaussian noise of --noise (default 0.01).

Several IMAGEs, or a folder: each photo is restored on its own into OUT/<name>/, in
parallel worker processes (the CPUs split among them), with a progress bar over the photos
and one table at the end (also OUT/photos.json); a photo that fails is reported and the
others still finish, with exit status 1.

Writes to --out: restored.npy, restored.png, comparison.png (broken | restored |
reference), loss.png, summary.json and report.html (figures and numbers on one page);
nothing is written when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse

from torchann.commands import _deblur, _restore_many, add_lang
from torchann.commands import _restore_output as output
from torchann.commands import _restore_request as request
from torchann.errors import TorchannError, as_flags

METHODS = ("auto", "gd", "cg", "lbfgs", "adam", "gn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add this subcommand's options to parser."""
    parser.add_argument("image", nargs="*", metavar="IMAGE",
                        help="the corrupted image: a pickle of a numpy array (the chapter's "
                        "broken_image_t.p), a .npy, or a PNG/JPEG (default: the built-in "
                        "demo); several, or a folder of photos: each into OUT/<name>/, "
                        "with one table")
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
    parser.add_argument("--prior", choices=("auto", "tv", "tikhonov", "none"),
                        help="regularize: minimize 1/2 ||f(x) - y||^2 + weight R(x); auto is "
                        "tv with --weight auto for a blur (unless --method or --init is "
                        "given), none (the chapter's plain fit) otherwise (default: auto)")
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
    add_lang(parser, "the summary, the warnings, report.html and the figures")


def _load_inputs(req, forward):
    """Return (name, broken image 2-D, reference 2-D or None, input files)."""
    import numpy as np
    import torch

    from torchann import io
    from torchann import restore as lib

    if req.image is None:
        original = lib.demo_image()
        flat = torch.from_numpy(original.reshape(-1)).float()
        broken = lib.check_forward(forward, flat).numpy().astype(np.float64)
        return "demo:camera", broken.reshape(original.shape), original, []
    broken = io.as_image(io.load_array(req.image), req.shape)
    reference = None
    if req.reference:
        reference = io.load_array(req.reference)
        if reference.size != broken.size:
            raise TorchannError(key="restore.reference_size", reference=req.reference,
                                got=reference.size, want=broken.size)
        reference = reference.reshape(broken.shape)
    return req.image, broken, reference, [req.image, req.reference]


def _add_noise(broken, req):
    """The demo's image with ``--noise`` (checked in the request) added."""
    import numpy as np

    if req.noise is None:
        return broken
    return broken + req.noise * np.random.default_rng(req.seed).standard_normal(broken.shape)


def run(args) -> int:
    """Restore the image, then write every output at once."""
    import matplotlib

    from torchann import runtime
    from torchann.i18n import language

    images = args.image or []
    if isinstance(images, str):
        images = [images]
    if _restore_many.is_many(images):  # each photo on its own, in a pool of workers
        return _restore_many.run_many(args, images)
    args = argparse.Namespace(**{**vars(args), "image": images[0] if images else None})
    matplotlib.use("Agg")
    lang = language(args.lang)
    threads = runtime.set_threads(args.threads)
    device = runtime.resolve_device(args.device)
    req = request.parse_request(args)
    if req.blur:  # colour, tiles, the fast solver: commands/_deblur.py
        if req.regularized:
            return output.write_outcome(req, _deblur.deblur(req, threads, device), lang)
        return output.write_outcome(req, _deblur.plain(req, threads, device, _solve), lang)
    return output.write_outcome(req, _restore(req, threads, device), lang)


def _restore(req, threads, device) -> output.Outcome:
    """A known corruption other than a blur: ``restore()`` or ``deconvolve()``."""
    from torchann import io
    from torchann import restore as lib

    forward = lib.load_corruption(req.corruption)
    name, broken, reference, inputs = _load_inputs(req, forward)
    broken = _add_noise(broken, req)
    corruption_file = req.corruption.rpartition(":")[0]
    inputs = [f for f in inputs + [req.init_file] if f]
    io.check_not_input([req.out / f for f in output.OUTPUTS], inputs + [corruption_file])
    result = _solve(req, forward, broken, device)
    restored = result.x.double().numpy().reshape(broken.shape)

    summary = output.base_summary(req, name, broken.shape, result, threads)
    if req.method is None and not req.regularized:
        summary["requested_method"] = "auto" if req.corruption_given else "gd"
    if result.stop_reason is not None:  # how far to trust it (torchann.restore.convergence)
        summary.update(converged=result.converged, stop_reason=result.stop_reason,
                       condition_estimate=result.condition_estimate,
                       warning=as_flags(result.warning or "") or None)
    line, title = output.headline(result, req.prior if req.regularized else None)
    lo_hi = lib.display_range(restored if reference is None else reference)
    return output.Outcome(name, result, summary, line, title, broken, restored, reference,
                          shown=(broken, restored, reference), array=restored, inputs=inputs,
                          restored_png=output.grey_png(restored, *lo_hi))


def _solve(req, forward, broken, device, noise_level=None, condition=None):
    """Run the solver under a progress bar sized by the steps it plans.

    ``noise_level``: the noise in ``broken``, for the discrepancy check of ``restore()``;
    ``condition``: a known condition estimate of a linear ``forward``.
    """
    import torch

    from torchann import restore as lib
    from torchann.commands._progress import Progress

    if req.regularized:
        from torchann import deblur

        steps, desc = (req.steps if req.steps is not None else 300), "pdhg"
    else:
        method = req.method or ("auto" if req.corruption_given else "gd")
        if method == "auto":  # the library's choice, for the progress bar's length
            flat = torch.as_tensor(broken.reshape(-1), dtype=torch.float32)
            method = lib.choose_method(forward, flat)[0]
        steps = req.steps if req.steps is not None else lib.METHODS[method]["steps"]
        desc = method
    log_every = req.log_every if req.log_every is not None else max(1, steps // 20)
    with Progress(total=steps, log_every=log_every, fmt="Loss at {step} = {loss}",
                  quiet=req.quiet, desc=desc) as progress:
        if req.regularized:
            tol = {} if req.tol is None else {"tol": req.tol}
            return deblur.deconvolve(broken, forward, broken.shape, req.prior, req.weight,
                                     req.clip, steps=steps, noise_level=req.noise_level,
                                     device=device, callback=progress, **tol)
        return lib.restore(broken, forward=forward, method=method, steps=req.steps,
                           lr=req.lr, seed=req.seed, tol=req.tol, device=device,
                           callback=progress, init=req.init, noise_level=noise_level,
                           condition=condition)
