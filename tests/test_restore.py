"""Section 3.2: weird_function, the solvers, user corruptions and the restore command."""

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio

from torchann import restore as lib
from torchann.cli import main
from torchann.errors import TorchannError

SEED_IMAGE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "broken_image_t.p"
needs_seed_image = pytest.mark.skipif(not SEED_IMAGE.is_file(),
                                      reason=f"{SEED_IMAGE} is absent (shared test data)")




BLUR_MODULE = '''
import torch

def blur(x):
    """A linear, invertible 3-tap blur of a flat signal."""
    k = torch.tensor([0.2, 0.6, 0.2], dtype=x.dtype, device=x.device)
    return torch.nn.functional.conv1d(x.view(1, 1, -1), k.view(1, 1, -1), padding=1).view(-1)
'''


def psnr(reference, image):
    reference = np.asarray(reference, dtype=np.float64)
    return peak_signal_noise_ratio(reference, np.asarray(image, dtype=np.float64),
                                   data_range=float(reference.max() - reference.min()))


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("torchann: error:")
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------- weird_function


def reference_weird(x, n_iter=5):
    """The chapter's description, restated with numpy: shift-and-combine, then np.roll."""
    h = np.asarray(x, dtype=np.float64)
    for i in range(n_iter):
        left = np.r_[0.0, h[:-1]]
        right = np.r_[h[1:], 0.0]
        h = (-h - left + right) / 3
        if i % 2 == 0:
            h = np.roll(h, -(len(h) // 2))  # h[n//2:] followed by h[:n//2]
    return h


@pytest.mark.parametrize("n", [10, 11, 64])
@pytest.mark.parametrize("n_iter", [1, 2, 5])
def test_weird_function_matches_the_chapter(n, n_iter):
    x = np.random.default_rng(n).normal(size=n)
    got = lib.weird_function(torch.from_numpy(x), n_iter=n_iter).numpy()
    np.testing.assert_allclose(got, reference_weird(x, n_iter), atol=1e-12)


def test_weird_function_swaps_the_halves_after_the_first_round():
    x = torch.zeros(10, dtype=torch.float64)
    x[2] = 1.0  # the round spreads it to 1, 2, 3; the swap moves those to 6, 7, 8
    expected = torch.zeros(10, dtype=torch.float64)
    expected[6:9] = torch.tensor([1.0, -1.0, -1.0]) / 3
    torch.testing.assert_close(lib.weird_function(x, n_iter=1), expected)


def test_weird_function_is_linear():
    gen = torch.Generator().manual_seed(0)
    x, y = (torch.randn(1000, dtype=torch.float64, generator=gen) for _ in range(2))
    a, b = 2.5, -0.75
    f = lib.weird_function
    torch.testing.assert_close(f(a * x + b * y), a * f(x) + b * f(y))


def test_distance_loss_is_the_euclidean_distance():
    assert lib.distance_loss(torch.tensor([3.0, 0.0]), torch.tensor([0.0, 4.0])).item() == 5.0


# --------------------------------------------------------------------------- solvers


def small_problem(n=64, forward=lib.weird_function):
    x_true = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    return x_true, forward(x_true)


def test_cg_matches_the_exact_solution_on_a_small_problem():
    x_true, y = small_problem()
    exact = lib.exact_solution(y)
    np.testing.assert_allclose(exact.numpy(), x_true.numpy(), atol=1e-10)
    result = lib.restore(y, method="cg")
    assert result.stopped == "tol"
    assert psnr(exact, result.x) > 100
    assert result.relative_residual < 1e-5


def test_cg_handles_an_affine_corruption():
    def shifted(x):
        return lib.weird_function(x) + 0.5

    x_true, y = small_problem(forward=shifted)
    result = lib.restore(y, forward=shifted, method="cg")
    assert psnr(x_true, result.x) > 90


def test_cg_refuses_a_nonlinear_corruption():
    def cubed(x):
        return lib.weird_function(x) ** 3

    _, y = small_problem(forward=cubed)
    with pytest.raises(TorchannError, match="lbfgs"):
        lib.restore(y, forward=cubed, method="cg")


@pytest.mark.slow
@pytest.mark.parametrize("method", ["lbfgs", "adam"])
def test_other_methods_get_close(method):
    x_true, y = small_problem()
    result = lib.restore(y, method=method, steps=3000)
    assert psnr(x_true, result.x) > 40
    assert result.history[0][0] == 0 and len(result.history) == result.steps


@pytest.mark.slow
def test_gd_improves_with_more_steps_on_the_demo():
    original = lib.demo_image()
    y = lib.weird_function(torch.from_numpy(original.ravel()).float())
    short = lib.restore(y, method="gd", steps=100)
    longer = lib.restore(y, method="gd", steps=2000)  # the seed's gd is slow: 20,000 by default
    assert psnr(original.ravel(), longer.x) > psnr(original.ravel(), short.x) + 2
    assert longer.final_distance < short.final_distance


def test_divergence_raises_and_names_the_step():
    _, y = small_problem(n=10_000)
    with pytest.raises(TorchannError, match=r"diverged at step \d+.*lower `lr`"):
        lib.restore(y, method="adam", lr=100)


def test_the_command_words_library_errors_with_its_flags(tmp_path, capsys):
    with pytest.raises(TorchannError, match=r"^`steps=0`: must be 1 or more$"):
        lib.restore(np.zeros(16), steps=0)
    status = main(["restore", "--method", "adam", "--lr", "100", "--steps", "50",
                   "--out", str(tmp_path / "out")])
    line = one_error_line(capsys.readouterr().err)
    assert status == 2 and line.endswith("; lower --lr (it is 100)")
    status = main(["restore", "--corruption", "blur:gaussian,sigma=2", "--prior", "tv",
                   "--tile", "0", "--out", str(tmp_path / "out")])
    line = one_error_line(capsys.readouterr().err)
    assert line == "torchann: error: --tile 0: give a tile size in pixels, e.g. --tile 1024"


def test_nan_loss_raises():
    def fragile(x):  # fine near the start, NaN once |x| passes 10
        return x * torch.where(x.abs() > 10, torch.nan, 1.0)

    with pytest.raises(TorchannError, match="NaN"):
        lib.restore(torch.zeros(100), forward=fragile, method="gd", lr=1000, steps=100)


@pytest.mark.parametrize("option", [{"steps": 0}, {"lr": -1.0}, {"method": "newton"}])
def test_bad_options_are_refused(option):
    with pytest.raises(TorchannError):
        lib.restore(torch.ones(16), **option)


# --------------------------------------------------------------------------- corruptions


def test_user_corruption_from_a_module(tmp_path, monkeypatch):
    (tmp_path / "myblur.py").write_text(BLUR_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    blur = lib.load_corruption("myblur:blur")
    x_true, y = small_problem(forward=blur)
    assert psnr(x_true, lib.restore(y, forward=blur, method="cg").x) > 90


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_xyz:f", "no module named"),
    ("torch:no_such_function", "has no function"),
    ("math:pi", "not callable"),
    ("missing/file.py:f", "no such file"),
    ("blur:gaussian,sigma=2", "not available"),
    ("nonsense", "expected"),
])
def test_bad_corruption_specs(spec, message):
    with pytest.raises(TorchannError, match=message):
        lib.load_corruption(spec)


@pytest.mark.parametrize("forward, message", [
    (lambda x: x.tolist(), "must return a torch tensor"),
    (lambda x: x[:-1], "keep the shape"),
    (lambda x: x.detach() * 2, "not differentiable"),
    (lambda x: (x > 0).long(), "floats"),
    (lambda x: x / 0.0, "NaN or infinite"),
    (lambda x: x @ x, "shape|failed"),
])
def test_check_forward_refuses_unusable_functions(forward, message):
    with pytest.raises(TorchannError, match=message):
        lib.check_forward(forward, torch.randn(16))


# --------------------------------------------------------------------------- seed image


@needs_seed_image
@pytest.mark.slow
def test_seed_image_restores_with_cg_to_60_db():
    from torchann.io import load_array

    broken = load_array(SEED_IMAGE)
    exact = lib.exact_solution(broken)
    result = lib.restore(broken, method="cg")
    assert psnr(exact, result.x) >= 60


@needs_seed_image
def test_gd_reproduces_the_seed_first_logged_loss(tmp_path, capsys):
    status = main(["restore", str(SEED_IMAGE), "--steps", "1", "--out", str(tmp_path)])
    assert status == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Loss at 0 = ")
    assert 11.5 < float(first.split("=")[1]) < 12.5


# --------------------------------------------------------------------------- command


@pytest.mark.slow
def test_demo_restores_with_every_output(tmp_path, capsys):
    assert main(["restore", "--method", "cg", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("cg: ") and "PSNR" in out[-1]
    summary = json.loads((tmp_path / "summary.json").read_text())
    for key in ("method", "steps", "seconds", "final_distance", "relative_residual", "psnr",
                "ssim", "input", "shape", "device", "threads"):
        assert key in summary
    assert summary["psnr"] > 60 and summary["ssim"] > 0.99
    restored = np.load(tmp_path / "restored.npy")
    assert restored.shape == (100, 100) and np.isfinite(restored).all()
    assert psnr(lib.demo_image(), restored) == pytest.approx(summary["psnr"])
    for name in ("restored.png", "comparison.png", "loss.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_user_corruption_file_through_the_command(tmp_path, capsys):
    module = tmp_path / "blurs.py"
    module.write_text(BLUR_MODULE)
    original = lib.demo_image()
    broken = tmp_path / "broken.npy"
    blur = lib.load_corruption(f"{module}:blur")
    np.save(broken, blur(torch.from_numpy(original.ravel())).numpy())
    reference = tmp_path / "original.npy"
    np.save(reference, original)
    out = tmp_path / "out"
    status = main(["restore", str(broken), "--corruption", f"{module}:blur", "--method", "cg",
                   "--reference", str(reference), "--out", str(out)])
    assert status == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["corruption"] == f"{module}:blur" and summary["psnr"] > 60


@pytest.mark.slow
def test_divergence_exits_2_and_writes_nothing(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "torchann", "restore", "--method", "adam", "--lr", "100",
         "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "diverged at step" in one_error_line(proc.stderr)
    assert not (tmp_path / "out" / "restored.npy").exists()


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.mkdir, (self.marker,)


def test_malicious_pickle_is_refused_without_side_effect(tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.p"
    evil.write_bytes(pickle.dumps(_Evil(str(marker))))
    status = main(["restore", str(evil), "--out", str(tmp_path / "out")])
    assert status == 2
    assert "refusing" in one_error_line(capsys.readouterr().err)
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (["--corruption", "nonsense"], "expected"),
    (["--reference", "x.npy"], "need an IMAGE"),
    (["--method", "cg", "--corruption", "torch:sin"], "lbfgs"),
])
def test_command_errors_are_one_line(tmp_path, capsys, args, message):
    status = main(["restore", *args, "--out", str(tmp_path / "out")])
    assert status == 2
    assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists()


def test_reference_of_the_wrong_size_is_refused(tmp_path, capsys):
    image, reference = tmp_path / "b.npy", tmp_path / "r.npy"
    np.save(image, np.zeros(64))
    np.save(reference, np.zeros(81))
    status = main(["restore", str(image), "--reference", str(reference),
                   "--out", str(tmp_path / "out")])
    assert status == 2
    assert "--reference" in one_error_line(capsys.readouterr().err)
