"""PSNR and SSIM in one function, grey and colour (torchann.restore.quality)."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from torchann.restore import quality


def _pair(shape):
    rng = np.random.default_rng(0)
    reference = rng.random(shape)
    return reference, reference + 0.05 * rng.standard_normal(shape)


def test_quality_of_a_grey_image_is_skimages_with_the_references_range():
    reference, image = _pair((32, 32))
    span = float(reference.max() - reference.min())
    scores = quality(reference, image)
    assert scores["psnr"] == pytest.approx(peak_signal_noise_ratio(reference, image,
                                                                   data_range=span), abs=0)
    assert scores["ssim"] == structural_similarity(reference, image, data_range=span)
    assert quality(reference, image.reshape(-1), ssim=False) == {"psnr": scores["psnr"]}


def test_quality_of_a_colour_image_averages_its_channels():
    reference, image = _pair((32, 32, 3))
    scores = quality(reference, image, data_range=1)
    assert scores["ssim"] == structural_similarity(reference, image, data_range=1,
                                                   channel_axis=-1)
    assert scores["psnr"] == peak_signal_noise_ratio(reference, image, data_range=1)
    assert quality(reference, reference)["psnr"] == float("inf")


def test_quality_of_a_constant_reference_uses_a_range_of_one():
    reference = np.full((16, 16), 0.5)
    image = reference + 0.1
    assert quality(reference, image, ssim=False)["psnr"] == pytest.approx(20.0)
