"""Blur forward models and the regularized solver of torchann.deblur."""

import numpy as np
import pytest
import torch
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio

from torchann import deblur
from torchann.errors import TorchannError

SCIPY_MODES = {"zero": "constant", "circular": "wrap", "reflect": "reflect"}
ASYMMETRIC = np.arange(15, dtype=np.float64).reshape(3, 5) ** 1.5  # flips show up in it


def kernels():
    return {
        "gaussian": deblur.make_kernel("gaussian", sigma=1.2),
        "box": deblur.make_kernel("box", size=3),
        "motion": deblur.make_kernel("motion", length=7, angle=30),
        "psf": deblur.check_psf(ASYMMETRIC),
    }


def apply(op, image):
    return op(torch.from_numpy(image).reshape(-1)).reshape(image.shape).numpy()


@pytest.mark.parametrize("boundary", deblur.BOUNDARIES)
@pytest.mark.parametrize("name", ["gaussian", "box", "motion", "psf"])
def test_operator_matches_scipy_convolve(name, boundary):
    kernel = kernels()[name]
    image = np.random.default_rng(0).random((17, 19))
    op = deblur.blur_operator(kernel, image.shape, boundary)
    expected = ndimage.convolve(image, kernel.numpy(), mode=SCIPY_MODES[boundary])
    np.testing.assert_allclose(apply(op, image), expected, atol=1e-12)
    # a correlation with the flipped kernel is the same thing
    flipped = ndimage.correlate(image, kernel.numpy()[::-1, ::-1], mode=SCIPY_MODES[boundary])
    np.testing.assert_allclose(apply(op, image), flipped, atol=1e-12)


@pytest.mark.parametrize("boundary", deblur.BOUNDARIES)
@pytest.mark.parametrize("name", ["gaussian", "box", "motion", "psf"])
def test_adjoint_identity(name, boundary):
    shape = (13, 16)
    op = deblur.blur_operator(kernels()[name], shape, boundary)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(shape[0] * shape[1], generator=gen, dtype=torch.float64)
    y = torch.randn(shape[0] * shape[1], generator=gen, dtype=torch.float64)
    lhs, rhs = float(op(x) @ y), float(x @ op.adjoint(y))
    assert lhs == pytest.approx(rhs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("boundary", deblur.BOUNDARIES)
def test_adjoint_matches_autograd(boundary):
    op = deblur.blur_operator(deblur.check_psf(ASYMMETRIC), (9, 11), boundary)
    x = torch.zeros(99, dtype=torch.float64, requires_grad=True)
    y = torch.randn(99, dtype=torch.float64)
    (vjp,) = torch.autograd.grad(op(x), x, y)
    torch.testing.assert_close(vjp, op.adjoint(y))


def test_kernel_larger_than_image_still_matches_scipy():
    image = np.random.default_rng(2).random((5, 6))
    kernel = deblur.make_kernel("gaussian", sigma=2)  # 15x15
    for boundary in ("zero", "circular"):
        op = deblur.blur_operator(kernel, image.shape, boundary)
        expected = ndimage.convolve(image, kernel.numpy(), mode=SCIPY_MODES[boundary])
        np.testing.assert_allclose(apply(op, image), expected, atol=1e-12)


def test_parse_blur_spec():
    assert deblur.parse_blur_spec("blur:gaussian,sigma=2") == ("gaussian", {"sigma": 2.0})
    assert deblur.parse_blur_spec("blur:box, size=5") == ("box", {"size": 5})
    kind, params = deblur.parse_blur_spec("blur:motion,length=9,angle=30")
    assert kind == "motion" and params == {"length": 9.0, "angle": 30.0}


def test_kernels_are_normalized_and_centered():
    gaussian = deblur.make_kernel("gaussian", sigma=2)
    assert gaussian.shape == (15, 15)
    assert deblur.make_kernel("gaussian", sigma=2, size=7).shape == (7, 7)
    for angle in (0, 30, 90, 135):
        kernel = deblur.make_kernel("motion", length=9, angle=angle)
        assert float(kernel.sum()) == pytest.approx(1.0)
        rows, cols = np.indices(kernel.shape)
        center = (np.array(kernel.shape) - 1) / 2
        k = kernel.numpy()
        assert (k * rows).sum() == pytest.approx(center[0])
        assert (k * cols).sum() == pytest.approx(center[1])
    horizontal = deblur.make_kernel("motion", length=9, angle=0)
    assert horizontal.shape == (1, 9)


@pytest.mark.parametrize("spec, words", [
    ("blur:gaussian,sigma=-1", "positive"),
    ("blur:gaussian,sigma=0", "positive"),
    ("blur:gaussian,sigma=2,size=4", "odd"),
    ("blur:box,size=4", "odd"),
    ("blur:box", "needs size"),
    ("blur:disk,size=3", "unknown blur kind"),
    ("blur:box,radius=3", "no parameter 'radius'"),
    ("blur:box,size=five", "not a number"),
    ("blur:box,size=2.5", "whole number"),
    ("blur:motion,length=0", "at least 1 pixel"),
    ("gaussian,sigma=2", "not a blur spec"),
])
def test_bad_blur_specs_raise_clear_errors(spec, words):
    with pytest.raises(TorchannError, match=words):
        deblur.spec_operator(spec, (8, 8))


@pytest.mark.parametrize("psf, words", [
    (np.zeros((3, 3)), "sums to 0"),
    (-np.ones((3, 3)), "sums to -9"),
    (np.ones((4, 3)), "odd"),
    (np.ones(5), "2-D"),
    (np.array([[1.0, np.nan, 1.0]]), "NaN"),
])
def test_bad_psf_raises_clear_errors(psf, words):
    with pytest.raises(TorchannError, match=words):
        deblur.check_psf(psf)


def test_user_psf_is_normalized():
    assert float(deblur.check_psf(np.ones((3, 3))).sum()) == pytest.approx(1.0)


def test_bad_options_raise_clear_errors():
    op = deblur.spec_operator("blur:box,size=3", (8, 8))
    y = np.zeros(64)
    with pytest.raises(TorchannError, match="boundary"):
        deblur.blur_operator(np.ones((3, 3)), (8, 8), "mirror")
    with pytest.raises(TorchannError, match="prior"):
        deblur.deconvolve(y, op, (8, 8), prior="l1")
    with pytest.raises(TorchannError, match="weight"):
        deblur.deconvolve(y, op, (8, 8), weight=-1)
    with pytest.raises(TorchannError, match="weight"):
        deblur.deconvolve(y, op, (8, 8), weight="best")
    with pytest.raises(TorchannError, match="clip"):
        deblur.deconvolve(y, op, (8, 8), clip=(1, 0))


@pytest.fixture(scope="module")
def demo():
    original, blurred = deblur.blurred_demo(64, "blur:gaussian,sigma=1.5", "zero", 0.01)
    return original, blurred, deblur.spec_operator("blur:gaussian,sigma=1.5", (64, 64), "zero")


def psnr(original, flat):
    return peak_signal_noise_ratio(original, np.asarray(flat, dtype=np.float64).reshape(
        original.shape), data_range=1)


def test_demo_is_the_camera_blurred_with_noise(demo):
    original, blurred, op = demo
    assert original.shape == blurred.shape == (64, 64)
    assert 0 <= original.min() and original.max() <= 1
    noise = blurred - apply(op, original)
    assert noise.std() == pytest.approx(0.01, rel=0.15)


def test_tv_improves_psnr_over_the_input(demo):
    original, blurred, op = demo
    result = deblur.deconvolve(blurred, op, (64, 64), "tv", 5e-4, clip=(0, 1))
    assert psnr(original, result.x) > psnr(original, blurred) + 1.5
    assert result.method == "pdhg" and result.extra["weight"] == 5e-4
    distances = [d for _, d in result.history]
    assert len(distances) == result.steps
    assert distances[-1] < distances[0]
    assert result.x.min() >= 0 and result.x.max() <= 1


def test_auto_weight_is_sensible(demo):
    original, blurred, op = demo
    result = deblur.deconvolve(blurred, op, (64, 64), "tv", "auto", clip=(0, 1))
    assert result.extra["noise_sigma"] == pytest.approx(0.01, rel=0.3)
    assert 1e-4 < result.extra["weight"] < 3e-3
    assert psnr(original, result.x) > psnr(original, blurred) + 1.5
    given = deblur.deconvolve(blurred, op, (64, 64), "tv", "auto", noise_level=0.02)
    assert given.extra["noise_sigma"] == 0.02
    assert given.extra["weight"] > result.extra["weight"]


def test_black_box_forward_uses_autograd_for_the_adjoint(demo):
    _, blurred, op = demo
    with_adjoint = deblur.deconvolve(blurred, op, (64, 64), "tv", 5e-4, steps=20, tol=0)
    black_box = deblur.deconvolve(blurred, lambda x: op(x), (64, 64), "tv", 5e-4, steps=20, tol=0)
    torch.testing.assert_close(black_box.x, with_adjoint.x, atol=1e-4, rtol=0)


@pytest.mark.parametrize("prior", ["tikhonov", "none"])
def test_other_priors_fit_the_data(demo, prior):
    original, blurred, op = demo
    result = deblur.deconvolve(blurred, op, (64, 64), prior, 1e-3, steps=100)
    start = np.linalg.norm(apply(op, blurred) - blurred)
    assert result.final_distance < start
    assert result.extra["prior"] == prior
    assert psnr(original, result.x) > psnr(original, blurred) - 3  # tame, not garbage


def _photo(tmp_path):
    """A blurred, noisy 64x64 crop of a photograph, saved as PNG, and its original."""
    from skimage import color, data, io, transform, util

    original = transform.resize(color.rgb2gray(data.astronaut())[30:286, 130:386], (64, 64),
                                anti_aliasing=True)
    op = deblur.spec_operator("blur:gaussian,sigma=1.5", original.shape, "reflect")
    noisy = apply(op, original) + 0.01 * np.random.default_rng(0).standard_normal((64, 64))
    io.imsave(tmp_path / "photo.png", util.img_as_ubyte(np.clip(noisy, 0, 1)))
    io.imsave(tmp_path / "original.png", util.img_as_ubyte(original))
    return tmp_path / "photo.png", tmp_path / "original.png"


def test_cli_deblurs_a_photograph(tmp_path, capsys):
    import json

    from torchann import cli
    from torchann.io import load_array

    photo, original = _photo(tmp_path)
    out = tmp_path / "out"
    status = cli.main(["restore", str(photo), "--corruption", "blur:gaussian,sigma=1.5",
                       "--prior", "tv", "--weight", "auto", "--reference", str(original),
                       "--out", str(out), "--quiet"])
    assert status == 0
    line = capsys.readouterr().out
    assert "weight" in line and "auto" in line
    summary = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "admm" and summary["prior"] == "tv"
    assert summary["boundary"] == "reflect"
    assert 1e-4 < summary["weight"] < 3e-3
    for name in ("restored.npy", "restored.png", "comparison.png", "loss.png"):
        assert (out / name).stat().st_size > 0
    before = peak_signal_noise_ratio(load_array(original), load_array(photo), data_range=1)
    assert summary["psnr"] > before + 1
    ref = load_array(original)
    same_range = peak_signal_noise_ratio(ref, load_array(photo), data_range=np.ptp(ref))
    assert summary["psnr_input"] == pytest.approx(same_range, abs=1e-6)


def _restore_summary(tmp_path, *argv):
    import json

    from torchann import cli

    out = tmp_path / "out"
    assert cli.main(["restore", *argv, "--out", str(out), "--quiet"]) == 0
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_cli_a_blur_gets_a_prior_by_default(tmp_path):
    photo, original = _photo(tmp_path)
    ref = ["--reference", str(original)]
    blur = ["--corruption", "blur:gaussian,sigma=1.5"]
    summary = _restore_summary(tmp_path, str(photo), *blur, *ref)
    assert summary["prior"] == "tv" and summary["prior_requested"] == "auto"
    assert summary["method"] == "admm" and summary["weight_rule"] == "auto"
    assert summary["psnr"] > summary["psnr_input"] + 1
    explicit = _restore_summary(tmp_path, str(photo), *blur, *ref, "--prior", "tv",
                                "--weight", "auto")
    assert explicit["psnr"] == pytest.approx(summary["psnr"])
    plain = _restore_summary(tmp_path, str(photo), *blur, *ref, "--prior", "none")
    assert plain["prior"] == plain["prior_requested"] == "none" and plain["method"] == "cg"
    # an explicit solver asks for the plain fit
    assert _restore_summary(tmp_path, str(photo), *blur, "--method", "cg")["prior"] == "none"


def test_cli_without_a_blur_keeps_the_plain_fit(tmp_path):
    np.save(tmp_path / "x.npy", np.full((16, 16), 0.5))
    summary = _restore_summary(tmp_path, str(tmp_path / "x.npy"), "--corruption", "weird")
    assert summary["method"] == "cg" and "prior" not in summary


def test_cli_blur_demo_with_a_user_psf(tmp_path):
    import json

    from torchann import cli

    np.save(tmp_path / "psf.npy", ASYMMETRIC)
    out = tmp_path / "out"
    status = cli.main(["restore", "--psf", str(tmp_path / "psf.npy"), "--noise", "0.005",
                       "--prior", "tikhonov", "--weight", "1e-3", "--clip", "0,1",
                       "--steps", "30", "--out", str(out), "--quiet"])
    assert status == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["shape"] == [256, 256] and summary["weight"] == 1e-3
    assert summary["corruption"].startswith("psf:") and "psnr" in summary


@pytest.mark.parametrize("argv, words", [
    (["--corruption", "blur:gaussian,sigma=-2"], "positive"),
    (["--corruption", "blur:box,size=4"], "odd"),
    (["--weight", "0.1"], "add --prior tv"),
    (["--prior", "tv", "--weight", "much"], "--weight much"),
    (["--prior", "tv", "--clip", "0"], "--clip 0"),
    (["IMAGE", "--corruption", "blur:box,size=3", "--noise", "0.1"], "demo only"),
])
def test_cli_mistakes_are_one_line(tmp_path, capsys, argv, words):
    from torchann import cli

    photo, _ = _photo(tmp_path)
    argv = [str(photo) if a == "IMAGE" else a for a in argv]
    assert cli.main(["restore", *argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("torchann: error:") and words in err
    assert not (tmp_path / "out").exists()
