"""Restore an image corrupted by a known function (section 3.2).

With no IMAGE, the built-in demo: scikit-image's camera photograph at 100x100, corrupted by
the chapter's weird_function; since its original is known, PSNR and SSIM are reported.
The default method is the chapter's own: gradient descent from random noise (gd, lr 0.8,
20,000 steps, the loss printed every 1,000). cg, lbfgs and adam reach the same picture
far sooner; 'cg' needs a linear (or affine) corruption and refuses any other.

Default steps / lr / tol per method:
  gd     20000 / 0.8  / none
  cg      1000 / --   / 1e-6
  lbfgs   1000 / 1.0  / 1e-5   (a step is one loss-and-gradient evaluation)
  adam    2000 / 0.01 / none

Writes to --out: restored.npy, restored.png, comparison.png (broken | restored |
reference), loss.png, summary.json and report.html (figures and numbers on one page);
nothing is written when the run fails or is interrupted.
"""

from __future__ import annotations

import argparse

from torchann.errors import TorchannError

METHODS = ("gd", "cg", "lbfgs", "adam")
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
    parser.add_argument("--corruption", default="weird", metavar="SPEC",
                        help="the known corruption: 'weird' (the chapter's weird_function), "
                        "'module:function' or 'path/to/file.py:function', a differentiable "
                        "torch function of a flat float tensor (default: %(default)s)")
    parser.add_argument("--method", choices=METHODS, default="gd",
                        help="solver (default: %(default)s, the chapter's gradient descent)")
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


def run(args) -> int:
    """Restore the image, then write every output at once."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    from torchann import io, runtime
    from torchann import restore as lib
    from torchann.commands._progress import Progress

    threads = runtime.set_threads(args.threads)
    device = runtime.resolve_device(args.device)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise TorchannError(f"--out {out} is a file, not a folder; choose a folder name")
    forward = lib.load_corruption(args.corruption)
    name, broken, reference, inputs = _load_inputs(args, forward)
    corruption_file = args.corruption.rpartition(":")[0]
    io.check_not_input([out / f for f in OUTPUTS], inputs + [corruption_file])

    steps = args.steps if args.steps is not None else lib.METHODS[args.method]["steps"]
    log_every = args.log_every if args.log_every is not None else max(1, steps // 20)
    with Progress(total=steps, log_every=log_every, fmt="Loss at {step} = {loss}",
                  quiet=args.quiet, desc=args.method) as progress:
        result = lib.restore(broken, forward=forward, method=args.method, steps=args.steps,
                             lr=args.lr, seed=args.seed, tol=args.tol, device=device,
                             callback=progress)
    restored = result.x.double().numpy().reshape(broken.shape)

    summary = {
        "input": name, "shape": list(broken.shape), "corruption": args.corruption,
        "method": result.method, "steps": result.steps, "stopped": result.stopped,
        "seconds": round(result.seconds, 4), "final_distance": result.final_distance,
        "relative_residual": result.relative_residual, **result.extra,
        "threads": threads,
    }
    line = (f"{result.method}: {result.steps} steps in {result.seconds:.2f} s, distance "
            f"{result.final_distance:.4g}, relative residual {result.relative_residual:.2e}")
    title = f"{result.method}, {result.steps} steps"
    if reference is not None:
        data_range = float(reference.max() - reference.min()) or 1.0
        psnr = float(peak_signal_noise_ratio(reference, restored, data_range=data_range))
        summary["psnr"] = psnr
        line += f", PSNR {psnr:.2f} dB"
        title += f": PSNR {psnr:.1f} dB"
        ssim = float(structural_similarity(reference, restored, data_range=data_range))
        summary["ssim"] = ssim
        line += f", SSIM {ssim:.4f}"

    # everything is computed; only now touch the disk
    files = {
        "restored.png": _png(restored, *lib.display_range(
            restored if reference is None else reference)),
        "comparison.png": io.figure_png(lib.plot_comparison(broken, restored, reference, title)),
        "loss.png": io.figure_png(lib.plot_loss(result.history, result.method)),
    }
    from torchann.report import Image, Section, render_report

    files["report.html"] = render_report("torchann restore", [Section(
        name, numbers=list(summary.items()),
        images=[Image(title, files["comparison.png"]), Image("loss per step", files["loss.png"])],
    )], subtitle=line).encode("utf-8")
    io.prepare_out_dir(out, inputs)
    io.save_npy(out / "restored.npy", restored)
    for file_name, data in files.items():
        io.save_bytes(out / file_name, data)
    io.save_json(out / "summary.json", summary)
    print(f"{line}; wrote {out}/")
    return 0

