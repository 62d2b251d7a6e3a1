"""The blur as a linear forward model: boundary rules, FFT operators, and the blurred demo."""

from __future__ import annotations

import numpy as np
import torch

from torchann.deblur.kernels import check_psf, make_kernel, parse_blur_spec
from torchann.errors import TorchannError

BOUNDARIES = ("zero", "circular", "reflect")
# numpy.pad mode that builds each boundary rule; "reflect" is scipy.ndimage's mode='reflect'
# (half-sample symmetric: d c b a | a b c d | d c b a)
_PAD_MODES = {"zero": "constant", "circular": "wrap", "reflect": "symmetric"}


class BlurOperator:
    """``y = A x``: "same"-size convolution of an H x W image with a PSF, on flat tensors.

    Calling the operator applies ``A`` to a flat tensor of ``H * W`` values and returns a flat
    tensor of the same length, like the seed's ``weird_function``; :meth:`adjoint` applies
    ``A^T``. Both are torch ops (FFTs), so autograd differentiates them and they run on any
    device. Use :func:`blur_operator` to build one.

    Notes
    -----
    The image is first extended by half the kernel size on each side according to the
    boundary rule (``zero``: zeros; ``circular``: periodic; ``reflect``: mirrored about the
    pixel edges, scipy.ndimage's ``mode='reflect'``). The extension is a gather with an index
    map, a circular convolution of the extended image by FFT equals the linear one on the
    part that is kept, and the result is cropped to H x W. The adjoint runs the same steps
    backwards: embed, correlate (conjugate spectrum), scatter-add through the index map.
    So ``<A x, y> = <x, A^T y>`` holds to rounding for every boundary.
    """

    def __init__(self, kernel: torch.Tensor, shape, boundary: str = "zero"):
        if boundary not in BOUNDARIES:
            raise TorchannError(key="blur.unknown_option", name="boundary", value=boundary,
                                allowed=BOUNDARIES)
        self.kernel = check_psf(kernel)
        self.shape = tuple(int(s) for s in shape)
        self.boundary = boundary
        h, w = self.shape
        kh, kw = self.kernel.shape
        self._pad = (kh // 2, kw // 2)
        index = np.arange(h * w).reshape(h, w)
        pad = ((kh // 2, kh // 2), (kw // 2, kw // 2))
        mode = _PAD_MODES[boundary]
        extra = {"constant_values": -1} if mode == "constant" else {}
        index = np.pad(index, pad, mode=mode, **extra)
        self._ext = index.shape
        keep = index >= 0
        self._where = torch.from_numpy(np.flatnonzero(keep))  # positions in the extension
        self._source = torch.from_numpy(index[keep])  # ... and the pixels they copy
        padded = torch.zeros(self._ext, dtype=torch.float64)
        padded[:kh, :kw] = self.kernel
        self._spectrum = torch.fft.rfft2(padded)
        self._cache = {}

    def _parts(self, like: torch.Tensor):
        key = (like.device, like.dtype)
        if key not in self._cache:
            cdtype = torch.complex64 if like.dtype == torch.float32 else torch.complex128
            self._cache[key] = (self._spectrum.to(like.device, cdtype),
                                self._where.to(like.device), self._source.to(like.device))
        return self._cache[key]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Apply ``A`` to a flat tensor of ``H * W`` values."""
        spectrum, where, source = self._parts(x)
        ext = x.new_zeros(self._ext[0] * self._ext[1])
        ext = ext.index_copy(0, where, x.reshape(-1)[source]).reshape(self._ext)
        full = torch.fft.irfft2(torch.fft.rfft2(ext) * spectrum, s=self._ext)
        (ph, pw), (h, w) = self._pad, self.shape
        return full[2 * ph:2 * ph + h, 2 * pw:2 * pw + w].reshape(-1)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """Apply ``A^T`` to a flat tensor of ``H * W`` values."""
        spectrum, where, source = self._parts(y)
        (ph, pw), (h, w) = self._pad, self.shape
        full = y.new_zeros(self._ext)
        full[2 * ph:2 * ph + h, 2 * pw:2 * pw + w] = y.reshape(h, w)
        ext = torch.fft.irfft2(torch.fft.rfft2(full) * spectrum.conj(), s=self._ext)
        return y.new_zeros(h * w).index_add(0, source, ext.reshape(-1)[where])


def blur_operator(kernel, shape, boundary: str = "zero") -> BlurOperator:
    """Build the forward model ``y = A x`` for a PSF on an image of the given shape.

    Parameters
    ----------
    kernel : array_like or torch.Tensor
        2-D PSF with odd sizes (from :func:`make_kernel`, or a user's, checked by
        :func:`check_psf`); it is normalized to sum 1.
    shape : (int, int)
        Image height and width; the operator acts on flat tensors of ``H * W`` values.
    boundary : {"zero", "circular", "reflect"}
        How the image continues beyond its edges: zeros (scipy.ndimage ``mode='constant'``),
        periodically (``'wrap'``), or mirrored (``'reflect'``).

    Returns
    -------
    BlurOperator
        ``forward(x_flat) -> y_flat``, with ``.adjoint(y_flat) -> x_flat``.

    Notes
    -----
    ``A x`` equals ``scipy.ndimage.convolve(x, k, mode=...)`` (a true convolution, the kernel
    flipped) for the matching mode.
    """
    return BlurOperator(kernel, shape, boundary)


def spec_operator(spec: str, shape, boundary: str = "zero", psf=None) -> BlurOperator:
    """Build a blur operator from a ``blur:...`` spec, or from a user's ``psf`` when given."""
    if psf is not None:
        return blur_operator(check_psf(psf), shape, boundary)
    kind, params = parse_blur_spec(spec)
    return blur_operator(make_kernel(kind, **params), shape, boundary)


# --------------------------------------------------------------------------- demo


def blurred_demo(size: int = 256, spec: str = "blur:gaussian,sigma=2", boundary: str = "zero",
                 noise: float = 0.01, seed: int = 0, psf=None):
    """Make a deblurring demo: scikit-image's camera photograph, blurred, plus Gaussian noise.

    Parameters
    ----------
    size : int
        The photograph is resized to ``size x size``.
    spec : str
        Blur spec (see :func:`parse_blur_spec`); ignored when ``psf`` is given.
    boundary : {"zero", "circular", "reflect"}
        Boundary rule of the blur.
    noise : float
        Standard deviation of the Gaussian noise added to the blurred image (0: none).
    seed : int
        Seed of the noise.
    psf : array_like, optional
        A user's kernel instead of ``spec``.

    Returns
    -------
    original, blurred : ndarray of float64, shape (size, size)
        The photograph in [0, 1] and ``A original + noise`` (not clipped).
    """
    from skimage import data, transform, util

    if size < 8:
        raise TorchannError(f"size={size}: the demo image needs at least 8x8 pixels")
    if not noise >= 0:
        raise TorchannError(key="blur.demo_noise", noise=noise)
    original = util.img_as_float64(data.camera())
    original = transform.resize(original, (size, size), anti_aliasing=True)
    forward = spec_operator(spec, original.shape, boundary, psf=psf)
    blurred = forward(torch.from_numpy(original).reshape(-1)).reshape(original.shape).numpy()
    rng = np.random.default_rng(seed)
    return original, blurred + noise * rng.standard_normal(blurred.shape)
