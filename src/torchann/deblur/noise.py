"""The noise level of an image and the prior weight chosen from it (``weight="auto"``)."""

from __future__ import annotations

import math

import numpy as np

from torchann.errors import TorchannError


def estimate_noise(image) -> float:
    """Estimate the standard deviation of Gaussian noise in an image.

    Uses :func:`skimage.restoration.estimate_sigma` (a robust wavelet-based estimate), which
    works on blurred images too, since blur removes the finest detail but not the noise.
    """
    from skimage.restoration import estimate_sigma

    return float(estimate_sigma(np.asarray(image, dtype=np.float64)))


def auto_weight(prior: str, sigma: float, pixel_range: float = 1.0) -> float:
    """The weight that ``weight="auto"`` uses: ``c s^2 / range`` (TV), ``c s^2 / range^2``,
    with ``s^2 = sigma^2 + (MODEL_ERROR range)^2``.

    Parameters
    ----------
    prior : {"tv", "tikhonov"}
    sigma : float
        Standard deviation of the noise.
    pixel_range : float
        Range of the pixel values (1 for images in [0, 1]); makes the rule scale-free.

    Notes
    -----
    Dividing the objective by ``sigma^2`` gives the negative log-posterior
    ``1/(2 sigma^2) ||A x - y||^2 + alpha R(x)`` of Gaussian noise and a prior
    ``exp(-alpha R(x))``, so ``lambda = alpha sigma^2``. The rate ``alpha`` of the prior is
    fixed per unit of pixel range: ``c = 5.6`` for TV and ``60`` for Tikhonov, calibrated on
    two photographs under five blurs and noise levels, where the best weight over a grid had
    ``lambda / sigma^2`` between 1.8 and 10 (TV) and 35 and 130 (Tikhonov). The discrepancy
    principle was measured too and was worse: the best weights had residuals from 0.64 to 0.96
    of ``N sigma^2``, so no one factor fits them.

    On photographs blurred whole, cropped (so that no boundary rule is true) and saved in 8
    bits, ``c sigma^2`` alone was too small at low noise: on three photographs (astronaut,
    coffee, hubble_deep_field) x four blurs (Gaussian sigma 1.5 and 3, box 5, motion 17 at 30
    degrees), at noise 0.005 twice the weight gained up to 1.9 dB (box 5: 0.7-1.9 dB,
    Gaussian: -0.2 to +0.5 dB, motion: -0.1 dB), at 0.01 it was mixed, and at 0.03 it lost
    up to 0.5 dB. The model-error floor :data:`MODEL_ERROR` (0.005 of the range) doubles the
    weight at noise 0.005 and leaves it within 3 % at 0.03.
    """
    factor = _AUTO[prior]
    floor = MODEL_ERROR * pixel_range
    return factor * (sigma**2 + floor**2) / (pixel_range if prior == "tv" else pixel_range**2)


_AUTO = {"tv": 5.6, "tikhonov": 60.0}
#: What the noise estimate cannot see, as a standard deviation per unit of pixel range: the
#: 8-bit rounding, what lay beyond the photo's edges, a PSF that is not quite the blur. It is
#: added to the noise's variance, so it matters only for low noise (see :func:`auto_weight`).
MODEL_ERROR = 0.005


def check_weight(weight, noise_level=None) -> None:
    """Refuse a weight that is neither a number >= 0 nor ``"auto"``, and a noise level <= 0.

    Raises
    ------
    TorchannError
        Naming the value refused.
    """
    if isinstance(weight, str) and weight != "auto":
        raise TorchannError(key="blur.weight_value", weight=weight)
    if not isinstance(weight, str) and not (float(weight) >= 0 and math.isfinite(float(weight))):
        raise TorchannError(key="blur.weight_negative", weight=weight)
    if noise_level is not None and not noise_level > 0:
        raise TorchannError(key="blur.noise_level", noise_level=noise_level)


def noise_sigma(image, crop=None, scale=1) -> float:
    """The noise level of an image: :func:`estimate_noise` per channel, averaged.

    Parameters
    ----------
    image : array-like or torch.Tensor
        ``(H, W)``, ``(H, W, C)`` or flat.
    crop : int, optional
        Estimate on a central crop at most this many pixels wide (default: the whole image).
    scale : {1, 2}
        2: estimate on the means of 2 x 2 blocks, times 2 (white noise's standard deviation
        halves there). JPEG compression removes the finest-scale noise that the wavelet
        estimate reads, and keeps the coarser noise: on three photographs (astronaut,
        coffee, chelsea) blurred (Gaussian sigma 1.5 and 2, noise 0.005 and 0.01) and saved
        as JPEG quality 85, the full-scale estimate read 0.0015-0.0019 and TV with the
        automatic weight fell 5-10 dB below the input (18.8-25.0 dB), while at scale 2 it
        read 0.0048-0.0068 and gave 26.7-31.2 dB, every one above the input (24.8-30.9 dB)
        and within 0.8 dB of the true noise level's result. On the same pictures saved as
        PNG both scales gave results within 0.35 dB of each other.
    """
    if hasattr(image, "detach"):
        image = image.detach().cpu().double().numpy()
    image = np.asarray(image)
    if scale not in (1, 2):
        raise TorchannError(f"`scale={scale}`: use 1 or 2")
    if image.ndim < 2:
        return estimate_noise(image)
    if crop is not None:
        h, w = image.shape[:2]
        r0, c0 = max(0, (h - crop) // 2), max(0, (w - crop) // 2)
        image = image[r0:r0 + crop, c0:c0 + crop]
    if scale == 2:
        h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
        image = (image[:h:2, :w:2] + image[1:h:2, :w:2] + image[:h:2, 1:w:2]
                 + image[1:h:2, 1:w:2]) / 2  # the blocks' means, times 2
    return float(np.mean([estimate_noise(c) for c in np.atleast_3d(image).transpose(2, 0, 1)]))


def load_estimator(prior, weight, noise_level=None) -> None:
    """Import the noise estimator now if :func:`choose_weight` will need it.

    A solver calls this before it starts its clock, so that its ``seconds`` count the
    estimate but not the import of :mod:`skimage.restoration` and :mod:`scipy.stats`.
    """
    if prior != "none" and weight == "auto" and not noise_level:
        import scipy.stats  # noqa: F401  (estimate_sigma's, loaded on its first call)
        from skimage.restoration import estimate_sigma  # noqa: F401


def choose_weight(prior, weight, image, value_range, noise_level=None, clip=None,
                  crop=None) -> tuple[float, dict]:
    """The prior's weight: 0 without a prior, ``weight`` itself, or the automatic one.

    Parameters
    ----------
    prior : {"tv", "tikhonov", "none"}
    weight : float or "auto"
        ``"auto"``: :func:`auto_weight` of the noise level (``noise_level``, or estimated on
        ``image`` by :func:`noise_sigma` with ``crop``) and of the pixel range (the clip
        range when given, else ``value_range``, else 1).
    image : array-like or torch.Tensor
        The observed image, for the noise estimate.
    value_range : float
        The observed image's maximum minus its minimum.
    noise_level : float, optional
    clip : (float, float), optional
    crop : int, optional

    Returns
    -------
    weight : float
    extra : dict
        ``noise_sigma`` and ``weight_rule="auto"`` for an automatic weight, else empty.

    Raises
    ------
    TorchannError
        The estimated noise level is 0.
    """
    if prior == "none":
        return 0.0, {}
    if weight != "auto":
        return float(weight), {}
    sigma = noise_level or noise_sigma(image, crop)
    if not sigma > 0:
        raise TorchannError(key="blur.noise_zero")
    pixel_range = clip[1] - clip[0] if clip is not None else value_range
    weight = auto_weight(prior, sigma, pixel_range or 1.0)
    return weight, {"noise_sigma": sigma, "weight_rule": "auto"}
