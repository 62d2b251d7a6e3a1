"""Any PSF, any boundary, with exact FFT steps: the photo as the window of a larger image.

A blur diagonalizes under the FFT only with a periodic boundary, and under the DCT only
with a mirrored boundary and a PSF symmetric in each axis. A motion blur at an angle, or
the zero boundary, fits neither. :class:`WindowModel` follows Almeida and Figueiredo
("Deconvolving images with unknown boundaries using the alternating direction method of
multipliers", IEEE Trans. Image Process. 22(8), 2013): the unknown ``x`` is a periodic
image larger than the photo by the PSF's radius on each side (to a size the FFT likes),
and the data see only its blurred window, ``y = M K x`` (``K`` circular, ``M`` the crop).
Whatever the photo held beyond its edges, and whatever boundary blurred it (``reflect``,
``zero``: the zero-extended or mirrored original is one such ``x``), this model holds
exactly; it knows less than the boundary rule, which costs a little near the edges and
nothing in the middle.

ADMM splits ``v = K x`` (data) and ``z = grad x`` (prior): the x-step
``(mu K^T K + rho grad^T grad) x = ...`` is diagonal under the FFT, the v-step is a
per-pixel average of the data and ``K x`` inside the window (``K x`` itself outside), and
the z-step the prior's shrinkage. See :func:`torchann.deblur.admm.admm_window`.
"""

from __future__ import annotations

import numpy as np
import torch

from torchann.deblur.transforms import div_periodic, grad_periodic


class WindowModel:
    """The blur of an ``(H, W)`` window of a periodic image of a fast FFT size.

    Parameters
    ----------
    kernel : ndarray
        The PSF (odd sizes).
    shape : (int, int)
        The photo's height and width.
    dtype, device
        Working precision and device of every buffer.
    """

    exact = True
    window_model = True

    def __init__(self, kernel, shape, dtype=torch.float32, device="cpu"):
        import scipy.fft

        h, w = shape
        k = np.asarray(kernel, dtype=np.float64)
        kh, kw = k.shape
        self.pad = (kh // 2, kw // 2)
        eh = scipy.fft.next_fast_len(h + 2 * self.pad[0], real=True)
        ew = scipy.fft.next_fast_len(w + 2 * self.pad[1], real=True)
        padded = np.zeros((eh, ew))
        rows, cols = (np.arange(kh) - kh // 2) % eh, (np.arange(kw) - kw // 2) % ew
        np.add.at(padded, (rows[:, None], cols[None, :]), k)  # the PSF's centre at (0, 0)
        cdtype = torch.complex64 if dtype == torch.float32 else torch.complex128
        self.spectrum = torch.from_numpy(np.fft.rfft2(padded)).to(device, cdtype)
        fy = 2 - 2 * np.cos(2 * np.pi * np.arange(eh) / eh)
        fx = 2 - 2 * np.cos(2 * np.pi * np.arange(ew // 2 + 1) / ew)
        self.laplacian = torch.from_numpy(fy[:, None] + fx[None, :]).to(device, dtype)
        self.shape, self.ext = (h, w), (eh, ew)
        self.grad, self.div = grad_periodic, div_periodic

    def window(self, a):
        """The photo's part of an extended array (a view)."""
        (ph, pw), (h, w) = self.pad, self.shape
        return a[..., ph:ph + h, pw:pw + w]

    def extend(self, y, mode="symmetric"):
        """``y`` mirrored (or, ``mode="constant"``, zero-padded) out to the extended size."""
        (ph, pw), (h, w), (eh, ew) = self.pad, self.shape, self.ext
        pads = ((0, 0),) * (y.ndim - 2) + ((ph, eh - h - ph), (pw, ew - w - pw))
        return torch.from_numpy(np.pad(y.cpu().numpy(), pads, mode=mode)).to(y.device)

    def inverse_denominator(self, mu, rho, eta=0.0):
        """``1 / (mu |K|^2 + rho |L| + eta)`` in the Fourier domain (a complex spectrum times
        it is ten times faster than divided by the denominator)."""
        den = self.spectrum.abs().square_().mul_(mu).add_(self.laplacian, alpha=rho)
        return den.add_(eta).reciprocal_()

    def residual(self, kx, y):
        """``||M K x - y||`` from ``K x`` on the extended grid."""
        return float(torch.linalg.vector_norm(self.window(kx) - y))
