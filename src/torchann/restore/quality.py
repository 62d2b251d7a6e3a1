"""How close a restored image is to its original: PSNR and SSIM, grey or colour."""

from __future__ import annotations


def quality(reference, image, data_range=None, ssim=True) -> dict:
    """PSNR (and SSIM) of ``image`` against ``reference``.

    Parameters
    ----------
    reference : array-like
        The original: 2-D grey, 3-D ``(height, width, channels)`` colour, or flat.
    image : array-like
        The estimate, with ``reference``'s number of values (reshaped to its shape).
    data_range : float, optional
        The range of the pixel values; by default the reference's (its maximum minus its
        minimum, or 1 for a constant reference).
    ssim : bool
        Also compute SSIM (structural similarity; a colour image's channels averaged),
        which needs a 2-D or colour reference.

    Returns
    -------
    dict
        ``psnr`` in dB and, with ``ssim``, ``ssim``, both floats.
    """
    import numpy as np
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    reference = np.asarray(reference)
    image = np.asarray(image)
    if image.shape != reference.shape:
        image = image.reshape(reference.shape)
    if data_range is None:
        data_range = float(reference.max() - reference.min()) or 1.0
    scores = {"psnr": float(peak_signal_noise_ratio(reference, image, data_range=data_range))}
    if ssim:
        axis = {"channel_axis": -1} if reference.ndim == 3 else {}
        scores["ssim"] = float(structural_similarity(reference, image, data_range=data_range,
                                                     **axis))
    return scores
