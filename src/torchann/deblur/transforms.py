"""Blur and gradient operators on batches of images ``(C, H, W)``, in the transform domain.

Three ways to apply ``A`` (and solve with ``A^T A``), chosen by :func:`make_blur_model`:

- ``circular`` boundary: ``A`` is diagonal under the 2-D FFT (:class:`FourierModel`).
- ``reflect`` boundary and a PSF symmetric in each axis (Gaussian, box, a horizontal or
  vertical motion): ``A`` is diagonal under the orthonormal 2-D DCT-II, and so is the
  Laplacian of the Neumann gradient (:class:`CosineModel`).
- anything else (``zero``, or ``reflect`` with an asymmetric PSF): the image is padded by the
  kernel's radius and convolved by FFTs of a size that factors well
  (``scipy.fft.next_fast_len``) (:class:`PaddedModel`); it has no exact solve, and ADMM
  solves such a blur on :class:`~torchann.deblur.boundary.WindowModel`.

Every model keeps its transfer function, computed once, in the working dtype, on the device.
On the CPU the DCT is scipy's (``scipy.fft.dctn``); on another device it is computed with
torch FFTs (:func:`dct2_torch`), so the CUDA path is the same code (not yet run on a GPU).
"""

from __future__ import annotations

import math

import numpy as np
import torch

#: Rows at a time of :class:`CosineModel`'s x-step with a separable PSF.
BAND = 256

# --------------------------------------------------------------------------- gradients


def grad_neumann(u: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Forward differences of ``(..., H, W)``, shape ``(2, ..., H, W)``; zero at the far edges."""
    d = u.new_zeros((2, *u.shape)) if out is None else out
    torch.sub(u[..., 1:, :], u[..., :-1, :], out=d[0, ..., :-1, :])
    d[0, ..., -1, :] = 0
    torch.sub(u[..., :, 1:], u[..., :, :-1], out=d[1, ..., :, :-1])
    d[1, ..., :, -1] = 0
    return d


def div_neumann(p: torch.Tensor) -> torch.Tensor:
    """Divergence, the negative adjoint of :func:`grad_neumann`."""
    d = p[0].clone()
    d[..., -1, :] = 0
    d[..., 1:, :] -= p[0, ..., :-1, :]
    d[..., :, :-1] += p[1, ..., :, :-1]
    d[..., :, 1:] -= p[1, ..., :, :-1]
    return d


def grad_periodic(u: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """Periodic forward differences of ``(..., H, W)``, shape ``(2, ..., H, W)``."""
    d = u.new_empty((2, *u.shape)) if out is None else out
    torch.sub(u[..., 1:, :], u[..., :-1, :], out=d[0, ..., :-1, :])
    torch.sub(u[..., :1, :], u[..., -1:, :], out=d[0, ..., -1:, :])
    torch.sub(u[..., :, 1:], u[..., :, :-1], out=d[1, ..., :, :-1])
    torch.sub(u[..., :, :1], u[..., :, -1:], out=d[1, ..., :, -1:])
    return d


def div_periodic(p: torch.Tensor) -> torch.Tensor:
    """Divergence, the negative adjoint of :func:`grad_periodic`."""
    d = p[0] + p[1]
    d[..., 1:, :] -= p[0, ..., :-1, :]
    d[..., :1, :] -= p[0, ..., -1:, :]
    d[..., :, 1:] -= p[1, ..., :, :-1]
    d[..., :, :1] -= p[1, ..., :, -1:]
    return d


def rfft2(x: torch.Tensor) -> torch.Tensor:
    """2-D real FFT over the last two axes: scipy's on the CPU (25-30 % faster than torch's
    there, with torch's thread count), torch's elsewhere."""
    if x.device.type != "cpu":
        return torch.fft.rfft2(x)
    import scipy.fft

    return torch.from_numpy(scipy.fft.rfft2(x.numpy(), workers=torch.get_num_threads()))


def irfft2(x: torch.Tensor, s) -> torch.Tensor:
    """Inverse of :func:`rfft2` for a real ``s``-sized result."""
    if x.device.type != "cpu":
        return torch.fft.irfft2(x, s=s)
    import scipy.fft

    return torch.from_numpy(scipy.fft.irfft2(x.numpy(), s=s, workers=torch.get_num_threads()))


# --------------------------------------------------------------------------- DCT


def _dct_last(x: torch.Tensor) -> torch.Tensor:
    """Orthonormal DCT-II along the last axis, by one complex FFT (Makhoul's ordering)."""
    n = x.shape[-1]
    v = torch.cat([x[..., ::2], x[..., 1::2].flip(-1)], dim=-1)
    spectrum = torch.fft.fft(v, dim=-1)
    k = torch.arange(n, device=x.device, dtype=x.dtype)
    phase = torch.polar(torch.ones_like(k), -math.pi * k / (2 * n))
    out = (spectrum * phase).real * math.sqrt(2.0 / n)
    out[..., 0] /= math.sqrt(2.0)
    return out


def _idct_last(c: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`_dct_last` (orthonormal DCT-III)."""
    n = c.shape[-1]
    c = c * math.sqrt(n / 2.0)
    c = c.clone()
    c[..., 0] *= math.sqrt(2.0)
    k = torch.arange(n, device=c.device, dtype=c.dtype)
    shifted = torch.cat([torch.zeros_like(c[..., :1]), c[..., 1:].flip(-1)], dim=-1)
    spectrum = torch.complex(c, -shifted) * torch.polar(torch.ones_like(k), math.pi * k / (2 * n))
    v = torch.fft.ifft(spectrum, dim=-1).real
    x = torch.empty_like(v)
    half = (n + 1) // 2
    x[..., ::2] = v[..., :half]
    x[..., 1::2] = v[..., half:].flip(-1)
    return x


def dct2_torch(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or its inverse) over the last two axes, with torch FFTs."""
    f = _idct_last if inverse else _dct_last
    return f(f(x).transpose(-1, -2)).transpose(-1, -2)


def dct2(x: torch.Tensor, inverse: bool = False, overwrite: bool = False) -> torch.Tensor:
    """Orthonormal 2-D DCT-II (or inverse) over the last two axes: scipy on CPU, torch elsewhere.

    ``overwrite=True`` lets scipy reuse ``x``'s memory (for a temporary).
    """
    if x.device.type != "cpu":
        return dct2_torch(x, inverse)
    import scipy.fft

    f = scipy.fft.idctn if inverse else scipy.fft.dctn
    out = f(x.numpy(), type=2, axes=(-2, -1), norm="ortho", workers=torch.get_num_threads(),
            overwrite_x=overwrite)
    return torch.from_numpy(out)


# --------------------------------------------------------------------------- models


def is_axis_symmetric(kernel) -> bool:
    """Whether a PSF equals its own flips up-down and left-right (to rounding)."""
    k = np.asarray(kernel, dtype=np.float64)
    tol = 1e-12 * float(np.abs(k).max())
    return bool(np.abs(k - k[::-1]).max() <= tol and np.abs(k - k[:, ::-1]).max() <= tol)


class FourierModel:
    """Circular convolution: ``A`` and the Laplacian are diagonal under the 2-D FFT."""

    exact = True

    def __init__(self, kernel, shape, dtype, device):
        h, w = shape
        k = np.asarray(kernel, dtype=np.float64)
        kh, kw = k.shape
        padded = np.zeros((h, w))
        # wrap the kernel so that its center sits at (0, 0); a kernel wider than the image
        # folds onto itself, as a circular convolution does
        rows = (np.arange(kh) - kh // 2) % h
        cols = (np.arange(kw) - kw // 2) % w
        np.add.at(padded, (rows[:, None], cols[None, :]), k)
        spectrum = np.fft.rfft2(padded)
        fy = 2 - 2 * np.cos(2 * np.pi * np.arange(h) / h)
        fx = 2 - 2 * np.cos(2 * np.pi * np.arange(w // 2 + 1) / w)
        cdtype = torch.complex64 if dtype == torch.float32 else torch.complex128
        self.spectrum = torch.from_numpy(spectrum).to(device, cdtype)
        self._lap = (torch.from_numpy(fy).to(device, dtype), torch.from_numpy(fx).to(device, dtype))
        self._den = (None, None)
        self.shape = (h, w)
        self.grad, self.div = grad_periodic, div_periodic

    def _abs2(self):  # a method, not a lambda kept on self: no reference cycle holds the
        return self.spectrum.abs().square_()  # model (and its arrays) after its last use

    def inverse_denominator(self, rho):
        """``1 / (|A|^2 + rho L)`` in the transform domain, computed once per ``rho`` (a
        complex spectrum times it is ten times faster than divided by the denominator)."""
        if self._den[0] != rho:
            self._den = (None, None)  # free the old one first
            fy, fx = self._lap
            den = self._abs2()
            den.add_(fy[:, None], alpha=rho).add_(fx[None, :], alpha=rho)
            self._den = (rho, den.reciprocal_())
        return self._den[1]

    def forward(self, x):
        return torch.fft.irfft2(torch.fft.rfft2(x) * self.spectrum, s=self.shape)

    def prepare(self, y):
        """The data's transform ``y_hat``, kept for every x-step (``y`` is then not needed)."""
        return torch.fft.rfft2(y)

    def solve(self, y_hat, rho, v=None):
        """``x = (A^T A + rho L)^-1 (A^T y + rho grad^T v)`` (``v`` may be None)."""
        if v is None:
            rhs = y_hat * self.spectrum.conj()
        else:
            rhs = torch.fft.rfft2(self.div(v)).mul_(-rho).addcmul_(self.spectrum.conj(), y_hat)
        rhs.mul_(self.inverse_denominator(rho))
        return torch.fft.irfft2(rhs, s=self.shape)

    def residual(self, x, y):
        """``||A x - y||``."""
        return float(torch.linalg.vector_norm(self.forward(x) - y))

    def data_residual(self, x, y_hat):
        """``||A x - y||`` from the data's transform."""
        diff = torch.fft.rfft2(x).mul_(self.spectrum).sub_(y_hat)
        return float(torch.linalg.vector_norm(torch.fft.irfft2(diff, s=self.shape)))


class CosineModel(FourierModel):
    """Half-sample symmetric (``reflect``) convolution by a PSF symmetric in each axis.

    Under the orthonormal DCT-II the blur's eigenvalues are
    ``sum_ij k_ij cos(pi i u / H) cos(pi j v / W)`` (offsets ``i, j`` from the kernel's
    center) and the Neumann Laplacian's are ``(2 - 2 cos(pi u / H)) + (2 - 2 cos(pi v / W))``.
    A separable PSF (a Gaussian, a box: rank one) has separable eigenvalues, kept as a column
    and a row; the x-step then works through :data:`BAND` rows at a time, so that neither the
    eigenvalues nor the denominator take an image-sized buffer (two fewer of the solver's
    nine on a 12.6 MP channel).
    """

    def __init__(self, kernel, shape, dtype, device):
        h, w = shape
        k = np.asarray(kernel, dtype=np.float64)
        kh, kw = k.shape
        cy = np.cos(np.pi * np.outer(np.arange(h), np.arange(kh) - kh // 2) / h)
        cx = np.cos(np.pi * np.outer(np.arange(kw) - kw // 2, np.arange(w)) / w)
        left, sv, right = np.linalg.svd(k)
        if sv[1:].max(initial=0.0) <= 1e-12 * sv[0]:  # rank one: k = outer(a, b)
            scale = math.sqrt(sv[0])
            rows, cols = cy @ (left[:, 0] * scale), (right[0] * scale) @ cx
            self.eig = None
            self.eig_rows = torch.from_numpy(rows[:, None]).to(device, dtype)
            self.eig_cols = torch.from_numpy(cols[None, :]).to(device, dtype)
        else:
            self.eig = torch.from_numpy(cy @ k @ cx).to(device, dtype)
        fy = 2 - 2 * np.cos(np.pi * np.arange(h) / h)
        fx = 2 - 2 * np.cos(np.pi * np.arange(w) / w)
        self._lap = (torch.from_numpy(fy).to(device, dtype), torch.from_numpy(fx).to(device, dtype))
        self._den = (None, None)
        self.shape = (h, w)
        self.grad, self.div = grad_neumann, div_neumann

    def _abs2(self):
        return self.eig.square()

    def _times_eig(self, a):
        """``a`` times the eigenvalues, in place."""
        if self.eig is not None:
            return a.mul_(self.eig)
        return a.mul_(self.eig_rows).mul_(self.eig_cols)

    def forward(self, x):
        return dct2(self._times_eig(dct2(x)), inverse=True)

    def prepare(self, y):
        return dct2(y)

    def solve(self, y_hat, rho, v=None):
        if v is None:
            rhs = self._times_eig(y_hat.clone())
        else:
            rhs = dct2(self.div(v), overwrite=True).mul_(-rho)
        if self.eig is None:
            self._banded_x_step(rhs, None if v is None else y_hat, rho)
        else:
            if v is not None:
                rhs.addcmul_(self.eig, y_hat)
            rhs.mul_(self.inverse_denominator(rho))
        return dct2(rhs, inverse=True, overwrite=True)

    def _banded_x_step(self, rhs, y_hat, rho):
        """With separable eigenvalues: ``rhs += eig y_hat`` (when ``y_hat`` is given), then
        ``rhs /= eig^2 + rho L``, in place, :data:`BAND` rows at a time through two reused
        band-sized buffers (none allocated per band)."""
        (fy, fx), rows2, cols2 = self._lap, self.eig_rows.square(), self.eig_cols.square()
        band_rows = min(BAND, self.shape[0])
        scratch = None if y_hat is None else rhs.new_empty((*rhs.shape[:-2], band_rows,
                                                             self.shape[1]))
        den = rhs.new_empty((band_rows, self.shape[1]))
        for r in range(0, self.shape[0], BAND):
            band = slice(r, r + BAND)
            part = rhs[..., band, :]
            rows = part.shape[-2]
            if scratch is not None:
                part.add_(torch.mul(y_hat[..., band, :], self.eig_rows[band],
                                    out=scratch[..., :rows, :]).mul_(self.eig_cols))
            d = torch.mul(rows2[band], cols2, out=den[:rows])
            part.div_(d.add_(fy[band, None], alpha=rho).add_(fx, alpha=rho))

    def data_residual(self, x, y_hat):
        """``||A x - y||``, in the DCT domain (orthonormal: no inverse transform)."""
        return float(torch.linalg.vector_norm(self._times_eig(dct2(x)).sub_(y_hat)))


def _pad_symmetric(x, ph, pw):
    """numpy's ``mode='symmetric'`` padding of the last two axes (half-sample mirror)."""
    x = torch.cat([x[..., :ph, :].flip(-2), x, x[..., x.shape[-2] - ph:, :].flip(-2)], dim=-2)
    return torch.cat([x[..., :pw].flip(-1), x, x[..., x.shape[-1] - pw:].flip(-1)], dim=-1)


def _unpad_symmetric(e, ph, pw, h, w):
    """Adjoint of :func:`_pad_symmetric`: fold the mirrored borders back onto the image."""
    e = e.clone()
    e[..., ph:2 * ph, :] += e[..., :ph, :].flip(-2)
    e[..., h:h + ph, :] += e[..., h + ph:, :].flip(-2)
    e = e[..., ph:ph + h, :]
    e[..., pw:2 * pw] += e[..., :pw].flip(-1)
    e[..., w:w + pw] += e[..., w + pw:].flip(-1)
    return e[..., pw:pw + w]


class PaddedModel:
    """``zero`` or ``reflect`` convolution by any PSF, through a padded FFT of a fast size.

    The forward model and its adjoint (the residual of tiles, tests); there is no exact
    solve, so ADMM runs on :class:`~torchann.deblur.boundary.WindowModel` instead.
    """

    exact = False

    def __init__(self, kernel, shape, dtype, device, boundary):
        import scipy.fft

        h, w = shape
        k = np.asarray(kernel, dtype=np.float64)
        kh, kw = k.shape
        self.ph, self.pw = min(kh // 2, h), min(kw // 2, w)
        if kh // 2 > h or kw // 2 > w:  # the mirror cannot be wider than the image
            self.ph, self.pw = kh // 2, kw // 2
            boundary = "zero"
        self.boundary = boundary
        eh, ew = h + 2 * self.ph, w + 2 * self.pw
        self.fft_shape = (scipy.fft.next_fast_len(eh + kh - 1, real=True),
                          scipy.fft.next_fast_len(ew + kw - 1, real=True))
        padded = np.zeros(self.fft_shape)
        padded[:kh, :kw] = k
        cdtype = torch.complex64 if dtype == torch.float32 else torch.complex128
        self.spectrum = torch.from_numpy(np.fft.rfft2(padded)).to(device, cdtype)
        self.kh, self.kw, self.shape, self.ext = kh, kw, (h, w), (eh, ew)
        self.grad, self.div = grad_neumann, div_neumann

    def _extend(self, x):
        if self.boundary == "reflect":
            return _pad_symmetric(x, self.ph, self.pw)
        return torch.nn.functional.pad(x, (self.pw, self.pw, self.ph, self.ph))

    def forward(self, x):
        (h, w), (ph, pw) = self.shape, (self.kh // 2, self.kw // 2)
        full = torch.fft.irfft2(torch.fft.rfft2(self._extend(x), s=self.fft_shape)
                                * self.spectrum, s=self.fft_shape)
        return full[..., ph + self.ph:ph + self.ph + h, pw + self.pw:pw + self.pw + w]

    def adjoint(self, y):
        (h, w), (ph, pw) = self.shape, (self.kh // 2, self.kw // 2)
        full = y.new_zeros((*y.shape[:-2], *self.fft_shape))
        full[..., ph + self.ph:ph + self.ph + h, pw + self.pw:pw + self.pw + w] = y
        ext = torch.fft.irfft2(torch.fft.rfft2(full) * self.spectrum.conj(), s=self.fft_shape)
        ext = ext[..., :self.ext[0], :self.ext[1]]
        if self.boundary == "reflect":
            return _unpad_symmetric(ext, self.ph, self.pw, h, w)
        return ext[..., self.ph:self.ph + h, self.pw:self.pw + w]

    def prepare(self, y):
        return self.adjoint(y)

    def residual(self, x, y):
        return float(torch.linalg.vector_norm(self.forward(x) - y))


def has_exact_solve(kernel, shape, boundary) -> bool:
    """Whether ``A^T A + rho L`` is diagonal in a transform (FFT or DCT) for this blur."""
    k = np.asarray(kernel, dtype=np.float64)
    return boundary == "circular" or (boundary == "reflect" and is_axis_symmetric(k)
                                      and max(k.shape) // 2 <= min(shape))


def make_blur_model(kernel, shape, boundary, dtype=torch.float32, device="cpu"):
    """The fastest exact model for ``(kernel, boundary)``, or a padded one (see module notes)."""
    k = np.asarray(kernel, dtype=np.float64)
    if boundary == "circular":
        return FourierModel(k, shape, dtype, device)
    if has_exact_solve(k, shape, boundary):
        return CosineModel(k, shape, dtype, device)
    return PaddedModel(k, shape, dtype, device, boundary)
