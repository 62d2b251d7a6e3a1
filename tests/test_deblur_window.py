"""Any PSF and any boundary with exact FFT steps: the photo as the window of a larger image."""

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from torchann import deblur
from torchann.deblur import transforms
from torchann.deblur.admm import admm_window
from torchann.deblur.boundary import WindowModel

MOTION = "blur:motion,length=9,angle=30"  # symmetric in neither axis


def psnr(a, b):
    return peak_signal_noise_ratio(np.asarray(a), np.asarray(b, dtype=np.float64), data_range=1)


@pytest.fixture(scope="module")
def colour():
    from skimage import data, transform

    return transform.resize(data.astronaut()[40:296, 150:406] / 255.0, (64, 64),
                            anti_aliasing=True)


def blur(image, spec=MOTION, boundary="reflect", noise=0.01):
    op = deblur.spec_operator(spec, image.shape[:2], boundary)
    cube = np.atleast_3d(image)
    out = np.stack([op(torch.from_numpy(np.ascontiguousarray(cube[..., c])).reshape(-1))
                    .reshape(cube.shape[:2]).numpy() for c in range(cube.shape[2])], -1)
    return out.reshape(image.shape) + noise * np.random.default_rng(0).standard_normal(
        image.shape)


@pytest.mark.parametrize("boundary", ["reflect", "zero"])
def test_the_window_of_the_extended_blur_is_the_boundary_rules_blur(colour, boundary):
    # the model holds exactly: the photo extended by its boundary rule is one extended x
    grey = colour.mean(axis=2)
    op = deblur.spec_operator(MOTION, grey.shape, boundary)
    model = WindowModel(op.kernel.numpy(), grey.shape, torch.float64)
    (ph, pw), (eh, ew) = model.pad, model.ext
    pads = ((ph, eh - grey.shape[0] - ph), (pw, ew - grey.shape[1] - pw))
    mode = {"reflect": "symmetric", "zero": "constant"}[boundary]
    x = torch.from_numpy(np.pad(grey, pads, mode=mode))
    kx = torch.fft.irfft2(torch.fft.rfft2(x) * model.spectrum, s=model.ext)
    want = op(torch.from_numpy(grey).reshape(-1)).reshape(grey.shape)
    assert torch.allclose(model.window(kx), want, atol=1e-12)


@pytest.mark.parametrize("boundary, spec", [("reflect", MOTION), ("zero", MOTION),
                                            ("zero", "blur:gaussian,sigma=1.5")])
def test_every_blur_without_a_transform_runs_exact_fft_steps(colour, boundary, spec):
    kernel = deblur.spec_operator(spec, (8, 8)).kernel
    assert not transforms.has_exact_solve(kernel.numpy(), colour.shape[:2], boundary)
    broken = blur(colour, spec, boundary)
    result = deblur.deblur_image(broken, kernel, boundary)
    assert result.x.shape == colour.shape  # colour kept
    assert result.steps == deblur.default_steps(kernel, colour.shape[:2], boundary, "admm")
    assert psnr(colour, result.x) > psnr(colour, broken) + 3


def test_the_window_solver_reaches_the_pdhg_objective_with_the_zero_boundary(colour):
    grey = colour.mean(axis=2)
    broken = blur(grey, boundary="zero")
    op = deblur.spec_operator(MOTION, grey.shape, "zero")
    weight = 5e-4
    fast = deblur.deblur_image(broken, op.kernel, "zero", weight=weight, dtype="float64",
                               steps=300, tol=0)
    slow = deblur.deconvolve(broken, op, grey.shape, "tv", weight, steps=300, tol=0)
    # the same model (the zeros beyond the edges are a constraint of the window's ADMM):
    # the same fit, and a result within a fraction of a dB
    assert fast.final_distance <= slow.final_distance * 1.05
    slow_x = slow.x.double().reshape(grey.shape)
    assert abs(psnr(grey, fast.x) - psnr(grey, slow_x)) < 0.5


@pytest.mark.parametrize("weight", [0.0, 1e-9])
def test_tiny_weights_fit_the_data(colour, weight):
    grey = colour.mean(axis=2)
    broken = blur(grey, noise=0.0)
    kernel = deblur.spec_operator(MOTION, (8, 8)).kernel
    result = deblur.deblur_image(broken, kernel, weight=weight, steps=200, dtype="float64")
    assert np.isfinite(result.x.numpy()).all()
    assert result.relative_residual < 1e-3  # the data are fitted (no prior to stop it)


@pytest.mark.parametrize("spec", [MOTION, "blur:gaussian,sigma=1.5"])
@pytest.mark.parametrize("prior", ["tv", "tikhonov"])
def test_huge_weights_flatten_each_channel_to_its_mean(colour, spec, prior):
    broken = blur(colour, spec)
    kernel = deblur.spec_operator(spec, (8, 8)).kernel
    result = deblur.deblur_image(broken, kernel, prior=prior, weight=1e6, steps=50)
    x = result.x.numpy()
    assert np.isfinite(x).all() and x.shape == colour.shape
    spread = x.reshape(-1, 3).std(axis=0)
    assert (spread < 0.05 * broken.reshape(-1, 3).std(axis=0)).all()
    np.testing.assert_allclose(x.reshape(-1, 3).mean(axis=0),
                               broken.reshape(-1, 3).mean(axis=0), atol=0.02)


def test_admm_window_returns_the_photos_window_in_its_dtype(colour):
    y = torch.from_numpy(np.ascontiguousarray(np.moveaxis(blur(colour), -1, 0))).float()
    model = WindowModel(deblur.spec_operator(MOTION, (8, 8)).kernel.numpy(), (64, 64))
    x, history, taken, stopped = admm_window(y, model, "tv", 5e-4, 7, 0, True, None)
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32
    assert taken == 7 and [s for s, _ in history] == list(range(1, 8)) and stopped == "steps"


def test_separate_channels_are_each_channel_restored_alone(colour):
    broken = blur(colour, "blur:gaussian,sigma=1.5")
    kernel = deblur.spec_operator("blur:gaussian,sigma=1.5", (8, 8)).kernel
    together = deblur.deblur_image(broken, kernel, channels="separate", weight=5e-4)
    assert together.extra["channels"] == "separate"
    for c in range(3):
        alone = deblur.deblur_image(broken[..., c], kernel, weight=5e-4)
        np.testing.assert_allclose(together.x.numpy()[..., c], alone.x.numpy(), atol=1e-5)
    seen = []
    deblur.deblur_image(broken, kernel, channels="separate", weight=5e-4, tol=0,
                        callback=lambda step, distance: seen.append(step))
    assert max(seen) == deblur.planned_steps(broken.shape, kernel, channels="separate") == 30


def test_auto_channels_are_joint_up_to_4_mp():
    assert deblur.resolve_channels("auto", (2048, 2048, 3)) == "joint"
    assert deblur.resolve_channels("auto", (2048, 2049, 3)) == "separate"
    assert deblur.resolve_channels("joint", (4000, 4000, 3)) == "joint"


PEAK = """
import sys
import numpy as np
from torchann import deblur

def status(field):  # kB, from the kernel's own accounting
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])

y = np.random.default_rng(0).random((1024, 1024, 3), dtype=np.float32)
kernel = deblur.make_kernel("gaussian", sigma=2)
deblur.deblur_image(y[:32, :32], kernel, weight=1e-3)
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
    f.write("5")
before = status("VmRSS:")
deblur.deblur_image(y, kernel, weight=1e-3, channels=sys.argv[1])
print(status("VmHWM:") - before)
"""


@pytest.mark.slow
def test_separate_channels_need_far_less_memory_than_joint():
    import subprocess
    import sys

    def growth(channels):  # peak RSS above the warmed-up interpreter and input, in kB
        done = subprocess.run([sys.executable, "-c", PEAK, channels], capture_output=True,
                              text=True, check=True)
        return int(done.stdout.split()[-1])

    image_kb = 1024 * 1024 * 3 * 4 / 1024
    joint, separate = growth("joint"), growth("separate")
    # measured: joint 143-188 MB, separate 74-91 MB (the allocator's reuse moves both)
    assert separate < 0.75 * joint
    assert separate < 9 * image_kb  # the output (1x), one channel's buffers, FFT workspaces
