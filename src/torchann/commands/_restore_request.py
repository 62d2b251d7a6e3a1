"""``torchann restore``'s request, parsed once.

:func:`parse_request` checks the options and turns them into a :class:`Request`;
``commands/restore.py`` (a known corruption, or a blur without a prior) and
``commands/_deblur.py`` (a blur with a prior) run it and hand what they got to
``commands/_restore_output.py``. The library's messages name its parameters in backticks
(```lr```); the CLI writes them as flags (:func:`torchann.errors.as_flags`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torchann.errors import TorchannError
from torchann.i18n import language

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
    prior: str  # the prior that runs: 'auto' resolved (see resolve_prior)
    prior_requested: str  # as given, or the default: 'auto' for a blur, 'none' otherwise
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
    lang: str = "en"  # the language of the printed lines (--lang, or the locale)

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
        raise TorchannError(key="file.out_is_file", out=out)
    corruption = "weird" if args.corruption is None else args.corruption
    blur = _is_blur(args.psf, corruption)
    _check_demo_options(args, blur)
    requested = args.prior or ("auto" if blur else "none")
    prior = resolve_prior(requested, blur, args.method, args.init)
    regularized, weight, clip = _solver_options(args, prior)
    init, init_file = _init(args.init, regularized)
    if not (regularized and blur):  # the deblurring options need a blur and a prior
        given = [f"--{name}" for name in _DEBLUR_OPTIONS if getattr(args, name) is not None]
        given += ["--grey"] if args.grey and not blur else []
        if given:
            raise TorchannError(key="restore.deblur_only", given=given)
    return Request(
        image=args.image, shape=args.shape, reference=args.reference, corruption=corruption,
        corruption_given=args.corruption is not None or bool(args.psf), psf=args.psf,
        boundary=args.boundary, noise=args.noise, prior=prior, prior_requested=requested,
        weight=weight,
        noise_level=args.noise_level, clip=clip, method=args.method, init=init,
        init_file=init_file, steps=args.steps, lr=args.lr, seed=args.seed, tol=args.tol,
        log_every=args.log_every, quiet=args.quiet, out=out, channels=args.channels,
        grey=args.grey, dtype=args.dtype, solver=args.solver, tile=args.tile,
        regularized=regularized, blur=blur, lang=language(getattr(args, "lang", None)))


def resolve_prior(requested, blur, method=None, init=None) -> str:
    """The prior that runs for ``requested``: ``auto`` is TV for a blur, none otherwise.

    A blurred photograph carries noise, which the plain fit amplifies; TV with the automatic
    weight restores it. An explicit ``--method`` or ``--init`` asks for a plain solver, so
    ``auto`` is none there too; so it is for every other corruption (the chapter's run).
    """
    if requested != "auto":
        return requested
    return "tv" if blur and method is None and init is None else "none"


def _check_demo_options(args, blur) -> None:
    """--reference and --shape go with an IMAGE; --noise (0 or more) with the built-in demo."""
    if args.image is None and (args.reference or args.shape):
        side = 256 if blur else 100
        raise TorchannError(key="restore.demo_original", side=side)
    if args.noise is not None and args.image is not None:
        raise TorchannError(key="restore.noise_demo_only")
    if args.noise is not None and not args.noise >= 0:
        raise TorchannError(key="restore.noise_negative", noise=args.noise)


def _is_blur(psf, corruption) -> bool:
    if psf and corruption.startswith("blur:"):
        raise TorchannError(key="restore.blur_or_psf")
    return bool(psf) or corruption.startswith("blur:")


def _solver_options(args, prior):
    """Parse --weight and --clip; say whether the regularized solver runs."""
    regularized = prior != "none" or args.clip is not None
    if (args.weight is not None or args.noise_level is not None) and prior == "none":
        raise TorchannError(key="restore.weight_needs_prior")
    weight = args.weight if args.weight is not None else "auto"
    if weight != "auto":
        try:
            weight = float(weight)
        except ValueError:
            raise TorchannError(key="restore.weight_value", weight=weight) from None
    clip = None
    if args.clip is not None:
        try:
            clip = tuple(float(v) for v in args.clip.split(","))
        except ValueError:
            clip = ()
        if len(clip) != 2:
            raise TorchannError(key="restore.clip_value", clip=args.clip)
    return regularized, weight, clip


def _init(value, regularized):
    """Return (the --init value for the library, the file it names or None)."""
    if value is None:
        return None, None
    if regularized:
        raise TorchannError(key="restore.init_regularized")
    from torchann import io
    from torchann.restore import INITS

    if value in INITS:
        return value, None
    if not value.lower().endswith(".npy"):
        raise TorchannError(key="restore.init_option", value=value, inits=INITS)
    return io.load_array(value), value
