"""3.2 beyond the puzzle: deblurring real photographs with a known blur and a prior.

The seed restores an image corrupted by a known function with no noise. A photograph is
blurred by a lens or by motion and carries noise, so the exact inverse only amplifies the
noise. This module gives the blur as a known linear forward model, written with torch FFTs
so that it differentiates and runs on a GPU, and a regularized solver for it.

Model: ``y = A x + n``, where ``x`` is the unknown image (H x W), ``A`` convolves it with a
point spread function (PSF) ``k`` under a boundary rule, and ``n`` is Gaussian noise.
The solver minimizes ``1/2 ||A x - y||^2 + lambda R(x)`` with a total-variation or a
Tikhonov prior.

The modules: :mod:`~torchann.deblur.image` (:func:`deblur_image`, the entry point: colour,
tiles, the solver's choice), :mod:`~torchann.deblur.admm` (ADMM),
:mod:`~torchann.deblur.pdhg` (the primal-dual solver, :func:`deconvolve`),
:mod:`~torchann.deblur.noise` (the noise estimate and the automatic weight),
:mod:`~torchann.deblur.kernels` (PSFs), :mod:`~torchann.deblur.operators` (the blur as a
forward function) and :mod:`~torchann.deblur.transforms` (FFT, DCT and the gradients).
"""

from torchann.deblur.image import (
    CHANNEL_MODES,
    SOLVERS,
    deblur_image,
    default_steps,
    join_channels,
    planned_steps,
    resolve_channels,
)
from torchann.deblur.kernels import (
    BLUR_KINDS,
    MAX_KERNEL_SIZE,
    check_psf,
    make_kernel,
    parse_blur_spec,
)
from torchann.deblur.noise import auto_weight, estimate_noise
from torchann.deblur.operators import (
    BOUNDARIES,
    BlurOperator,
    blur_operator,
    blurred_demo,
    spec_operator,
)
from torchann.deblur.pdhg import PRIORS, deconvolve

__all__ = [
    "BLUR_KINDS", "BOUNDARIES", "CHANNEL_MODES", "SOLVERS", "deblur_image", "default_steps",
    "join_channels", "planned_steps", "resolve_channels", "MAX_KERNEL_SIZE", "PRIORS",
    "BlurOperator", "auto_weight",
    "blur_operator", "blurred_demo", "check_psf", "deconvolve", "estimate_noise",
    "make_kernel", "parse_blur_spec", "spec_operator",
]
