"""``torchann restore``'s request, parsed once, and its one writer for every kind of run.

:func:`parse_request` checks the options and turns them into a :class:`Request`;
``commands/restore.py`` (a known corruption, or a blur without a prior) and
``commands/_deblur.py`` (a blur with a prior) run it, and both hand what they got to
:func:`write_outcome`, which adds PSNR and SSIM, builds the line, the summary and the report,
and only then touches the disk.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from torchann.errors import TorchannError

OUTPUTS = ("restored.npy", "restored.png", "comparison.png", "loss.png", "summary.json",
           "report.html")
_DEBLUR_OPTIONS = ("channels", "dtype", "solver", "tile")


@dataclass(frozen=True)
class Request:
    """The options of one ``torchann restore`` run, checked (see ``--help`` for each)."""

    image: str | None
    shape: tuple | None
    reference: str | None
    corruption: str  # 'weird' when --corruption is not given
    corruption_given: bool  # --corruption or --psf was given
    psf: str | None
    boundary: str
    noise: float | None
    prior: str
    weight: float | str  # a number, or 'auto'
    noise_level: float | None
    clip: tuple | None
    method: str | None  # as given; None picks gd for the chapter's run, auto otherwise
    init: object  # for the library: None, a start's name, or an array
    init_file: str | None
    steps: int | None
    lr: float | None
    seed: int
    tol: float | None
    log_every: int | None
    quiet: bool
    out: Path
    channels: str | None
    grey: bool
    dtype: str | None
    solver: str | None
    tile: int | None
    regularized: bool  # a prior or a clip: the regularized solvers
    blur: bool  # blur:... or --psf

    @property
    def corruption_label(self) -> str:
        """The corruption as the summary names it."""
        return f"psf:{self.psf}" if self.psf else self.corruption


def parse_request(args) -> Request:
    """Check the parsed command line once and return the :class:`Request`; ``args`` is unchanged.

    Raises
    ------
    TorchannError
        An option that is malformed, or that does not apply to this run.
    """
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise TorchannError(f"--out {out} is a file, not a folder; choose a folder name")
    regularized, weight, clip = _solver_options(args)
    init, init_file = _init(args.init, regularized)
    corruption = "weird" if args.corruption is None else args.corruption
    blur = _is_blur(args.psf, corruption) if regularized else None
    if not (regularized and blur):  # the deblurring options need a blur and a prior
        given = [f"--{name}" for name in _DEBLUR_OPTIONS if getattr(args, name) is not None]
        given += ["--grey"] if args.grey else []
        if given:
            raise TorchannError(f"{', '.join(given)} apply to deblurring with a prior; add "
                                "--corruption blur:... (or --psf FILE) and --prior tv "
                                "--weight auto")
        blur = _is_blur(args.psf, corruption)
    return Request(
        image=args.image, shape=args.shape, reference=args.reference, corruption=corruption,
        corruption_given=args.corruption is not None or bool(args.psf), psf=args.psf,
        boundary=args.boundary, noise=args.noise, prior=args.prior, weight=weight,
        noise_level=args.noise_level, clip=clip, method=args.method, init=init,
        init_file=init_file, steps=args.steps, lr=args.lr, seed=args.seed, tol=args.tol,
        log_every=args.log_every, quiet=args.quiet, out=out, channels=args.channels,
        grey=args.grey, dtype=args.dtype, solver=args.solver, tile=args.tile,
        regularized=regularized, blur=blur)


def _is_blur(psf, corruption) -> bool:
    if psf and corruption.startswith("blur:"):
        raise TorchannError("give either --corruption blur:... or --psf FILE, not both")
    return bool(psf) or corruption.startswith("blur:")


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


def _init(value, regularized):
    """Return (the --init value for the library, the file it names or None)."""
    if value is None:
        return None, None
    if regularized:
        raise TorchannError("--init sets the start of gd, cg, lbfgs, adam and gn; the "
                            "regularized solver starts from the data")
    from torchann import io
    from torchann.restore import INITS

    if value in INITS:
        return value, None
    if not value.lower().endswith(".npy"):
        raise TorchannError(f"--init {value}: use one of {', '.join(INITS)} or a .npy "
                            "file with one value per pixel")
    return io.load_array(value), value


def grey_png(image, lo, hi) -> bytes:
    """A grayscale 8-bit PNG of ``image`` with grey levels ``lo``..``hi``."""
    import io

    import numpy as np
    from PIL import Image

    scaled = np.clip((np.asarray(image, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)
    buf = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def headline(result, prior=None):
    """The printed line and the figure's title of a result, before PSNR is known.

    ``prior`` names the prior of a regularized solve (None for the others).
    """
    line = (f"{result.method}: {result.steps} steps in {result.seconds:.2f} s, distance "
            f"{result.final_distance:.4g}, relative residual {result.relative_residual:.2e}")
    if prior is None:
        return line, f"{result.method}, {result.steps} steps"
    chosen = result.extra["weight"]
    line += f", prior {prior}, weight {chosen:.3g}"
    if "noise_sigma" in result.extra:
        line += f" (auto, noise sigma {result.extra['noise_sigma']:.3g})"
    return line, f"{result.method} + {prior} (weight {chosen:.2g}), {result.steps} steps"


def base_summary(request, name, shape, result, threads) -> dict:
    """The summary's first keys, common to every run."""
    return {
        "input": name, "shape": list(shape), "corruption": request.corruption_label,
        "method": result.method, "steps": result.steps, "stopped": result.stopped,
        "seconds": round(result.seconds, 4), "final_distance": result.final_distance,
        "relative_residual": result.relative_residual, **result.extra, "threads": threads,
    }


@dataclass
class Outcome:
    """What a run hands to :func:`write_outcome`.

    ``shown`` holds the comparison's three panels (broken, restored, reference or None),
    ``restored_png`` the restored image's PNG and ``array`` what ``restored.npy`` holds.
    """

    name: str
    result: object
    summary: dict
    line: str
    title: str
    broken: object
    restored: object
    reference: object
    shown: tuple
    restored_png: bytes
    array: object
    inputs: list


def write_outcome(request, outcome) -> int:
    """Add PSNR and SSIM, build the report, then write every output at once and print the line."""
    from torchann import io
    from torchann import restore as lib
    from torchann.report import Image, Section, render_report

    o = outcome
    line, title, summary = o.line, o.title, o.summary
    if o.reference is not None:
        scores = lib.quality(o.reference, o.restored)
        summary.update(psnr=scores["psnr"], ssim=scores["ssim"])
        line += f", PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.4f}"
        title += f": PSNR {scores['psnr']:.1f} dB"
        if request.blur:  # a blurred image is itself an estimate: say what was gained
            before = lib.quality(o.reference, o.broken, ssim=False)["psnr"]
            summary["psnr_input"] = before
            line += f" (input {before:.2f} dB)"
    files = {
        "restored.png": o.restored_png,
        "comparison.png": io.figure_png(lib.plot_comparison(*o.shown, title)),
        "loss.png": io.figure_png(lib.plot_loss(o.result.history, o.result.method)),
    }
    files["report.html"] = render_report("torchann restore", [Section(
        o.name, numbers=list(summary.items()), warning=o.result.warning or "",
        images=[Image(title, files["comparison.png"]), Image("loss per step", files["loss.png"])],
    )], subtitle=line).encode("utf-8")
    out = request.out
    io.prepare_out_dir(out, o.inputs)
    io.save_npy(out / "restored.npy", o.array)
    for file_name, data in files.items():
        io.save_bytes(out / file_name, data)
    io.save_json(out / "summary.json", summary)
    print(f"{line}; wrote {out}/")
    if o.result.warning:
        print(f"torchann: warning: {o.result.warning}", file=sys.stderr)
    return 0
