"""Blur kernels: ``blur:...`` specs, built-in point spread functions, a user's PSF checked."""

from __future__ import annotations

import math

import numpy as np
import torch

from torchann.errors import TorchannError
from torchann.i18n import message

BLUR_KINDS = ("gaussian", "box", "motion")

# parameter name -> (type, required) for each built-in blur
_BLUR_PARAMS = {
    "gaussian": {"sigma": (float, True), "size": (int, False)},
    "box": {"size": (int, True)},
    "motion": {"length": (float, True), "angle": (float, False)},
}
#: The widest built-in kernel (pixels); larger ones are refused before allocation.
MAX_KERNEL_SIZE = 1001


def parse_blur_spec(spec: str) -> tuple[str, dict]:
    """Split a ``blur:KIND,name=value,...`` corruption spec into its kind and parameters.

    Parameters
    ----------
    spec : str
        For example ``"blur:gaussian,sigma=2"``, ``"blur:box,size=5"`` or
        ``"blur:motion,length=9,angle=30"``.

    Returns
    -------
    kind : str
        One of :data:`BLUR_KINDS`.
    params : dict
        Parameter values, converted to ``float`` or ``int``.

    Raises
    ------
    TorchannError
        Unknown kind, unknown or repeated parameter, a value that is not a number,
        or a missing required parameter.
    """
    text = spec.strip()
    if not text.startswith("blur:"):
        raise TorchannError(key="blur.not_spec", spec=spec, help=message("blur.help"))
    kind, *items = [part.strip() for part in text[len("blur:"):].split(",")]
    if kind not in _BLUR_PARAMS:
        raise TorchannError(key="blur.unknown_kind_in", kind=kind, spec=spec, kinds=BLUR_KINDS)
    allowed = _BLUR_PARAMS[kind]
    params = {}
    for item in items:
        name, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not name:
            raise TorchannError(key="blur.not_name_value", item=item, spec=spec,
                                help=message("blur.help"))
        if name not in allowed:
            raise TorchannError(key="blur.no_parameter", kind=kind, name=name,
                                allowed=list(allowed))
        if name in params:
            raise TorchannError(key="blur.twice", name=name, spec=spec)
        cast = allowed[name][0]
        try:
            number = float(value)
        except ValueError:
            raise TorchannError(key="blur.not_number", name=name, value=value,
                                spec=spec) from None
        if cast is int:
            if not number.is_integer():
                raise TorchannError(key="blur.not_whole", name=name, value=value, spec=spec)
            number = int(number)
        params[name] = number
    missing = [name for name, (_, required) in allowed.items() if required and name not in params]
    if missing:
        raise TorchannError(key="blur.missing", kind=kind, missing=missing,
                            help=message("blur.help"))
    return kind, params


def _odd_size(name: str, size: int) -> int:
    if size > MAX_KERNEL_SIZE:
        raise TorchannError(key="blur.too_wide", name=name, size=size, limit=MAX_KERNEL_SIZE)
    if size < 1 or size % 2 == 0:
        raise TorchannError(key="blur.odd_size", name=name, size=size,
                            suggest=max(1, size + 1 if size > 0 else 1))
    return size


def make_kernel(kind: str, **params) -> torch.Tensor:
    """Build a built-in point spread function, normalized to sum 1.

    Parameters
    ----------
    kind : {"gaussian", "box", "motion"}
        ``gaussian`` takes ``sigma`` (> 0) and an optional odd ``size`` (default
        ``2 * ceil(3.5 sigma) + 1``, so sigma 2 gives 15 x 15). ``box`` takes an odd
        ``size``. ``motion`` takes a ``length`` in pixels (>= 1) and an ``angle`` in degrees,
        counterclockwise from the horizontal (default 0): a line segment, drawn with
        bilinear weights, in the smallest odd square that holds it.
    **params
        The kind's parameters, as returned by :func:`parse_blur_spec`.

    Returns
    -------
    torch.Tensor
        2-D float64 kernel with odd sizes, non-negative, summing to 1.

    Raises
    ------
    TorchannError
        Unknown kind, a non-positive sigma or length, or an even size.
    """
    if kind not in _BLUR_PARAMS:
        raise TorchannError(key="blur.unknown_kind", kind=kind, kinds=BLUR_KINDS)
    unknown = set(params) - set(_BLUR_PARAMS[kind])
    if unknown:
        raise TorchannError(key="blur.no_parameter", kind=kind, name=sorted(unknown)[0],
                            allowed=list(_BLUR_PARAMS[kind]))
    if kind == "gaussian":
        sigma = float(params["sigma"])
        if not sigma > 0 or not math.isfinite(sigma):
            raise TorchannError(key="blur.sigma", sigma=sigma)
        size = _odd_size("size", int(params.get("size", 2 * math.ceil(3.5 * sigma) + 1)))
        r = torch.arange(size, dtype=torch.float64) - size // 2
        g = torch.exp(-0.5 * (r / sigma) ** 2)
        kernel = g[:, None] * g[None, :]
    elif kind == "box":
        size = _odd_size("size", int(params["size"]))
        kernel = torch.ones(size, size, dtype=torch.float64)
    else:
        kernel = _motion_kernel(float(params["length"]), float(params.get("angle", 0.0)))
    return kernel / kernel.sum()


def _motion_kernel(length: float, angle: float) -> torch.Tensor:
    if not length >= 1 or not math.isfinite(length):
        raise TorchannError(key="blur.length_short", length=length)
    if not math.isfinite(angle):
        raise TorchannError(key="blur.angle", angle=angle)
    if length > MAX_KERNEL_SIZE:
        raise TorchannError(key="blur.length_long", length=length, limit=MAX_KERNEL_SIZE)
    half = math.ceil((length - 1) / 2)
    size = 2 * half + 1
    theta = math.radians(angle)
    # sample the segment densely and splat each sample with bilinear weights
    t = torch.linspace(-(length - 1) / 2, (length - 1) / 2, max(2, int(8 * length)),
                       dtype=torch.float64)
    cols = half + t * math.cos(theta)
    rows = half - t * math.sin(theta)  # image rows grow downwards
    kernel = torch.zeros(size + 1, size + 1, dtype=torch.float64)
    r0, c0 = rows.floor(), cols.floor()
    fr, fc = rows - r0, cols - c0
    r0, c0 = r0.long().clamp(0, size - 1), c0.long().clamp(0, size - 1)
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            kernel.index_put_((r0 + dr, c0 + dc), wr * wc, accumulate=True)
    kernel = kernel[:size, :size]
    while kernel.shape[0] > 1 and not (kernel[0].any() or kernel[-1].any()):
        kernel = kernel[1:-1]  # trim empty rows (and below, columns) in pairs: stays centered
    while kernel.shape[1] > 1 and not (kernel[:, 0].any() or kernel[:, -1].any()):
        kernel = kernel[:, 1:-1]
    return kernel


def check_psf(psf) -> torch.Tensor:
    """Validate a user's point spread function and normalize it to sum 1.

    Parameters
    ----------
    psf : array_like
        2-D kernel with odd sizes (so that it has a center), finite values and a positive sum.

    Returns
    -------
    torch.Tensor
        The kernel as float64, divided by its sum.

    Raises
    ------
    TorchannError
        When the kernel is not 2-D, has an even size, holds NaN or inf, or does not sum to
        a positive number.
    """
    kernel = torch.as_tensor(np.asarray(psf, dtype=np.float64))
    if kernel.ndim != 2:
        raise TorchannError(key="blur.psf_rank", shape=str(tuple(kernel.shape)))
    if any(s % 2 == 0 for s in kernel.shape):
        raise TorchannError(key="blur.psf_even", rows=kernel.shape[0], cols=kernel.shape[1])
    if not torch.isfinite(kernel).all():
        raise TorchannError(key="blur.psf_finite")
    total = float(kernel.sum())
    if not total > 0:
        raise TorchannError(key="blur.psf_sum", total=total)
    return kernel / total
