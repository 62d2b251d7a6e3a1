"""Gauss-Newton restoration, CGLS, starts, and honest convergence (section 3.2)."""

import json

import numpy as np
import pytest
import torch

from torchann import restore as lib
from torchann.errors import TorchannError
from torchann.restore.convergence import (
    CONDITION_WARN,
    RESIDUAL_WARN,
    estimate_condition,
    lanczos_condition,
)
from torchann.restore.least_squares import Linearization, cgls

SIZE = 16


def psnr(reference, x):
    from skimage.metrics import peak_signal_noise_ratio

    reference = np.asarray(reference, dtype=np.float64).reshape(-1)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return peak_signal_noise_ratio(reference, x, data_range=float(np.ptp(reference)))


def squash(x):
    """A saturating corruption: tanh of each pixel plus a little of its neighbour."""
    h = x.reshape(SIZE, SIZE)
    return torch.tanh(4 * (h - 0.5) + (torch.roll(h, 1, 1) - 0.5)).reshape(-1)


def pair_sum(x):
    """Not invertible: pixels 2k and 2k+1 only ever appear as their sum."""
    s = x[0::2] + x[1::2]
    return torch.stack((s, s), -1).reshape(-1)


@pytest.fixture(scope="module")
def photo():
    return lib.demo_image(SIZE).reshape(-1)


def small_problem(forward=lib.weird_function, n=64):
    x_true = torch.randn(n, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    return x_true, forward(x_true)


@pytest.mark.parametrize("offset", [0.0, 0.5])
def test_gn_on_an_affine_corruption_equals_cg_in_one_step(offset):
    def forward(x):
        return lib.weird_function(x) + offset

    _, y = small_problem(forward)
    cg = lib.restore(y, forward=forward, method="cg", tol=1e-6)
    gn = lib.restore(y, forward=forward, method="gn", tol=1e-6)
    assert gn.steps == 1 and gn.stop_reason == "tol"
    assert gn.extra["jacobian"] == "affine"
    assert psnr(cg.x, gn.x) > 90


def test_cgls_solves_a_small_least_squares_problem():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(30, 12, generator=gen, dtype=torch.float64)
    b = torch.randn(30, generator=gen, dtype=torch.float64)
    expected = np.linalg.lstsq(a.numpy(), b.numpy(), rcond=None)[0]
    solve = cgls(lambda p: a @ p, lambda r: a.T @ r, b, 50,
                 stop=lambda i, r, s: float(s.norm()) < 1e-12)
    np.testing.assert_allclose(solve.x.numpy(), expected, atol=1e-9)
    assert solve.reason in ("stop", "exact")


def test_cgls_with_damping_solves_the_damped_problem():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(20, 8, generator=gen, dtype=torch.float64)
    b = torch.randn(20, generator=gen, dtype=torch.float64)
    lam = 0.7
    expected = np.linalg.solve(a.T.numpy() @ a.numpy() + lam * np.eye(8), a.T.numpy() @ b.numpy())
    solve = cgls(lambda p: a @ p, lambda r: a.T @ r, b, 40, damping=lam)
    np.testing.assert_allclose(solve.x.numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("mode", ["vjp2", "jvp"])
def test_jacobian_products_are_adjoint_and_match_finite_differences(mode):
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(SIZE * SIZE, generator=gen, dtype=torch.float64)
    v = torch.randn(SIZE * SIZE, generator=gen, dtype=torch.float64)
    u = torch.randn(SIZE * SIZE, generator=gen, dtype=torch.float64)
    lin = Linearization(squash, x, mode)
    jv = lin.j(v)
    assert float(jv.dot(u)) == pytest.approx(float(v.dot(lin.jt(u))), rel=1e-10)
    fd = (squash(x + 1e-6 * v) - squash(x - 1e-6 * v)) / 2e-6
    assert float((jv - fd).norm() / fd.norm()) < 1e-6


def test_gn_restores_a_saturating_corruption(photo):
    y = squash(torch.from_numpy(photo).float())
    result = lib.restore(y, forward=squash, method="gn")
    assert psnr(photo, result.x) > 40
    assert result.converged and result.warning is None and result.stop_reason == "tol"
    assert result.relative_residual < 1e-5
    assert result.condition_estimate < CONDITION_WARN


def test_gd_from_random_noise_stalls_and_says_so(photo):
    y = squash(torch.from_numpy(photo).float())
    result = lib.restore(y, forward=squash, method="gd", steps=200)
    assert result.relative_residual > RESIDUAL_WARN
    assert result.converged is False and result.stop_reason == "max_steps"
    assert "relative residual" in result.warning and "`method=gn`" in result.warning


def test_a_rank_deficient_linear_corruption_is_not_reported_as_restored():
    _, y = small_problem(pair_sum)
    result = lib.restore(y, forward=pair_sum, method="gn")  # the random-start estimate
    assert result.relative_residual < 1e-5  # the data are fitted ...
    assert result.condition_estimate > CONDITION_WARN  # ... but do not determine x
    assert result.converged is False
    assert "not locally invertible" in result.warning


def test_a_non_invertible_nonlinear_corruption_is_not_reported_as_restored(photo):
    def forward(x):
        return torch.tanh(pair_sum(x))

    y = forward(torch.from_numpy(photo).float())
    result = lib.restore(y, forward=forward, method="auto")
    assert result.method == "gn"
    assert result.converged is False and "not locally invertible" in result.warning


def test_an_unreachable_target_ends_stationary_and_unconverged():
    def forward(x):
        return x * x + 1.0  # never below 1

    y = torch.full((32,), 0.5)
    result = lib.restore(y, forward=forward, method="gn")
    assert result.stop_reason == "stationary"
    assert result.converged is False and result.relative_residual > RESIDUAL_WARN


def test_condition_estimate_is_exact_when_the_steps_span_the_space():
    d = torch.linspace(1.0, 100.0, 20, dtype=torch.float64)
    estimate = estimate_condition(lambda v: d * v, lambda u: d * u, d, steps=20)
    assert estimate == pytest.approx(100.0, rel=1e-6)


def test_condition_estimate_is_a_lower_bound():
    d = torch.logspace(0, 3, 400, dtype=torch.float64)
    estimate = estimate_condition(lambda v: d * v, lambda u: d * u, d, steps=10)
    assert 1.0 < estimate <= 1000.0 * (1 + 1e-9)


def dense_operator(singular_values, rows=60, seed=0):
    """A dense ``rows x n`` matrix with the given singular values, and a random data vector."""
    gen = torch.Generator().manual_seed(seed)
    n = singular_values.numel()
    u = torch.linalg.qr(torch.randn(rows, rows, generator=gen, dtype=torch.float64))[0]
    v = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))[0]
    a = u[:, :n] @ torch.diag(singular_values) @ v.T
    return a, torch.randn(rows, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize("top", [10.0, 100.0, 1000.0])
def test_the_cgls_condition_estimate_matches_a_dense_svd(top):
    a, b = dense_operator(torch.logspace(0, np.log10(top), 40, dtype=torch.float64))
    exact = np.linalg.cond(a.numpy())
    solve = cgls(lambda p: a @ p, lambda r: a.T @ r, b, 200)
    assert lanczos_condition(*solve.lanczos) == pytest.approx(exact, rel=1e-4)


def test_the_cgls_condition_estimate_is_a_lower_bound_that_grows_with_the_steps():
    a, b = dense_operator(torch.logspace(0, 3, 40, dtype=torch.float64))
    exact = np.linalg.cond(a.numpy())
    estimates = [lanczos_condition(*cgls(lambda p: a @ p, lambda r: a.T @ r, b, k).lanczos)
                 for k in (5, 10, 20, 40)]
    assert all(e <= exact * (1 + 1e-9) for e in estimates)
    assert estimates == sorted(estimates) and estimates[0] < 0.1 * exact


def test_the_cgls_condition_estimate_takes_the_damping_off():
    a, b = dense_operator(torch.linspace(1.0, 50.0, 30, dtype=torch.float64))
    solve = cgls(lambda p: a @ p, lambda r: a.T @ r, b, 200, damping=3.0)
    assert lanczos_condition(*solve.lanczos, damping=3.0) == pytest.approx(50.0, rel=1e-4)


def test_the_cgls_condition_estimate_sees_only_the_krylov_space_of_the_data():
    # CGLS from zero explores K(A^T A, A^T b): a singular direction that b does not touch
    # (here the smallest), like a null space, is never met; the estimate is a lower bound
    a, b = dense_operator(torch.logspace(0, 2, 20, dtype=torch.float64), rows=20)
    u = torch.linalg.svd(a)[0]
    b = b - u[:, -1] * (u[:, -1] @ b)
    solve = cgls(lambda p: a @ p, lambda r: a.T @ r, b, 200)
    seen = float(torch.linalg.svdvals(a)[0] / torch.linalg.svdvals(a)[-2])
    assert lanczos_condition(*solve.lanczos) == pytest.approx(seen, rel=1e-3)


def test_cg_reads_its_condition_estimate_off_its_own_run():
    _, y = small_problem(n=400)
    calls = [0]

    def forward(x):
        calls[0] += 1
        return lib.weird_function(x)

    result = lib.restore(y, forward=forward, method="cg")
    taken = result.steps
    assert result.extra["condition_from"] == "cgls"
    matrix = torch.func.jacrev(lib.weird_function)(torch.zeros(400, dtype=torch.float64))
    exact = np.linalg.cond(matrix.numpy())
    assert 0.5 * exact < result.condition_estimate <= exact * 1.01
    # the forward calls: the checks, one per CGLS product, the graph for A^T, the final
    # distance, and nothing for the estimate
    assert calls[0] <= taken + 12


def test_auto_picks_cg_for_an_affine_corruption_and_gn_otherwise(photo):
    _, y = small_problem()
    assert lib.restore(y, method="auto").method == "cg"
    y = squash(torch.from_numpy(photo).float())
    result = lib.restore(y, forward=squash, method="auto", steps=2)
    assert result.method == "gn" and result.extra["requested_method"] == "auto"


def test_every_result_names_its_stop_reason():
    _, y = small_problem()
    assert lib.restore(y, method="gd", steps=5).stop_reason == "max_steps"
    assert lib.restore(y, method="cg").stop_reason == "tol"
    assert lib.restore(y, method="adam", steps=5).stop_reason == "max_steps"


@pytest.mark.parametrize("init, expected", [("zeros", 0.0), ("mid", 0.5)])
def test_named_starts(init, expected):
    y = torch.rand(10)
    assert torch.equal(lib.start_point(init, y), torch.full_like(y, expected))


def test_broken_start_is_the_data_and_random_is_the_chapters_noise():
    y = torch.rand(10)
    assert torch.equal(lib.start_point("broken", y), y)
    start = lib.start_point("random", y, seed=3)
    torch.manual_seed(3)
    assert torch.equal(start, torch.randn(10))


def test_gd_still_starts_from_the_chapters_random_noise():
    _, y = small_problem()
    default = lib.restore(y, method="gd", steps=3)
    explicit = lib.restore(y, method="gd", steps=3, init="random")
    assert default.history == explicit.history and default.extra["init"] == "random"


def test_an_array_start_is_used():
    x_true, y = small_problem()
    result = lib.restore(y, method="gn", init=x_true.numpy())
    assert result.history[0][1] < 1e-4 and result.extra["init"] == "array"


@pytest.mark.parametrize("init, message", [
    ("noise", "`init=noise`: use one of random, zeros, broken, mid"),
    (np.zeros(7), "the start has 7 values but the image has 64"),
    (np.full(64, np.nan), "NaN or infinite"),
])
def test_bad_starts_are_refused(init, message):
    _, y = small_problem()
    with pytest.raises(TorchannError, match=message):
        lib.restore(y, method="gn", init=init)


# --------------------------------------------------------------------------- the command

SQUASH_MODULE = f'''
import torch


def squash(x):
    """tanh of each pixel plus a little of its neighbour ({SIZE}x{SIZE} images)."""
    h = x.reshape({SIZE}, {SIZE})
    return torch.tanh(4 * (h - 0.5) + (torch.roll(h, 1, 1) - 0.5)).reshape(-1)
'''


@pytest.fixture()
def squashed(tmp_path, photo):
    """(broken.npy, original.npy, corruption spec) for the squash corruption."""
    module = tmp_path / "my.py"
    module.write_text(SQUASH_MODULE)
    broken, original = tmp_path / "y.npy", tmp_path / "x.npy"
    np.save(broken, squash(torch.from_numpy(photo)).numpy().reshape(SIZE, SIZE))
    np.save(original, photo.reshape(SIZE, SIZE))
    return broken, original, f"{module}:squash"


def run_cli(args, tmp_path, capsys):
    from torchann.cli import main

    out = tmp_path / "out"
    status = main(["restore", *map(str, args), "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    summary = json.loads((out / "summary.json").read_text()) if status == 0 else None
    return status, summary, captured.err, out


def test_command_restores_a_nonlinear_corruption_with_no_flags(squashed, tmp_path, capsys):
    broken, original, spec = squashed
    status, summary, err, out = run_cli([broken, "--corruption", spec, "--reference", original],
                                        tmp_path, capsys)
    assert status == 0, err
    assert summary["method"] == "gn" and summary["requested_method"] == "auto"
    assert summary["psnr"] >= 40
    assert summary["converged"] is True and summary["warning"] is None
    assert summary["stop_reason"] == "tol" and summary["condition_estimate"] < CONDITION_WARN
    assert "warning" not in err
    assert 'class="warning"' not in (out / "report.html").read_text()


def test_command_warns_when_the_result_does_not_fit(squashed, tmp_path, capsys):
    broken, _, spec = squashed
    status, summary, err, out = run_cli(
        [broken, "--corruption", spec, "--method", "gd", "--steps", "50"], tmp_path, capsys)
    assert status == 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("torchann: warning: ")
    assert "relative residual" in lines[0] and "--method gn" in lines[0]
    assert summary["converged"] is False and summary["relative_residual"] > RESIDUAL_WARN
    assert summary["warning"] in lines[0]
    assert 'class="warning"' in (out / "report.html").read_text()
    assert (out / "restored.npy").is_file()


@pytest.mark.slow
def test_command_auto_picks_cg_for_the_chapters_function(tmp_path, capsys):
    status, summary, err, _ = run_cli(["--corruption", "weird"], tmp_path, capsys)
    assert status == 0, err
    assert summary["method"] == "cg" and summary["converged"] is True


def test_chapters_run_still_defaults_to_gd_from_random_noise(tmp_path, capsys):
    status, summary, err, _ = run_cli(["--steps", "3"], tmp_path, capsys)
    assert status == 0, err
    assert summary["method"] == "gd" and summary["init"] == "random"


def test_command_takes_a_start_from_a_file(squashed, tmp_path, capsys, photo):
    broken, original, spec = squashed
    status, summary, err, _ = run_cli(
        [broken, "--corruption", spec, "--init", original, "--reference", original],
        tmp_path, capsys)
    assert status == 0, err
    assert summary["init"] == "array" and summary["steps"] == 0


def make_pickle(path):
    import pickle

    path.write_bytes(pickle.dumps(np.zeros((SIZE, SIZE))))
    return path


@pytest.mark.parametrize("make_init, message", [
    (lambda d: "noise", "--init noise: use one of random, zeros, broken, mid"),
    (lambda d: np.save(d / "s.npy", np.zeros(7)) or d / "s.npy", "the start has 7 values"),
    (lambda d: make_pickle(d / "s.p"), "a .npy file"),
    (lambda d: np.save(d / "o.npy", np.array([{}], dtype=object)) or d / "o.npy", "dtype object"),
])
def test_command_refuses_bad_starts(squashed, tmp_path, capsys, make_init, message):
    broken, _, spec = squashed
    status, _, err, out = run_cli([broken, "--corruption", spec, "--init", make_init(tmp_path)],
                                  tmp_path, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("torchann: error: ") and message in lines[0]
    assert not out.exists()


def test_command_refuses_a_start_for_the_regularized_solver(tmp_path, capsys):
    status, _, err, out = run_cli(["--corruption", "blur:gaussian,sigma=1", "--prior", "tv",
                                   "--init", "mid"], tmp_path, capsys)
    assert status == 2 and "--init" in err and not out.exists()


# ------------------------------------------------------------------ the discrepancy principle


def test_a_residual_far_below_the_noise_is_not_converged():
    from torchann.restore.convergence import DISCREPANCY_WARN, assess

    converged, warning = assess(0.01, 10.0, "tol", "cg", 5, residual_rms=0.001,
                                noise_level=0.01)
    assert not converged and "noise" in warning and "`prior=tv`" in warning
    at_the_noise = assess(0.01, 10.0, "tol", "cg", 5, residual_rms=DISCREPANCY_WARN * 0.011,
                          noise_level=0.01)
    assert at_the_noise == (True, None)
    assert assess(0.01, 10.0, "tol", "cg", 5, residual_rms=1e-9, noise_level=None)[0]


@pytest.mark.slow
def test_restore_applies_the_discrepancy_principle_when_the_noise_is_known():
    from torchann import deblur

    original, blurred = deblur.blurred_demo(64, "blur:gaussian,sigma=2", "reflect", 0.01)
    op = deblur.spec_operator("blur:gaussian,sigma=2", (64, 64), "reflect")
    noisy = lib.restore(blurred, forward=op, method="cg", noise_level=0.01)
    assert noisy.converged is False and "follows the noise" in noisy.warning
    assert lib.restore(blurred, forward=op, method="cg").warning is None  # noise unknown


@pytest.mark.slow
def test_command_warns_when_a_plain_blur_fit_follows_the_noise(tmp_path, capsys):
    _, summary, err, out = run_cli(["--corruption", "blur:gaussian,sigma=2", "--prior",
                                    "none", "--steps", "100"], tmp_path, capsys)
    assert summary["converged"] is False and "--prior tv" in summary["warning"]
    assert "torchann: warning: the fit follows the noise" in err and "--prior tv" in err
    assert "follows the noise" in (out / "report.html").read_text()
    _, summary, err, _ = run_cli(["--corruption", "blur:gaussian,sigma=2"], tmp_path, capsys)
    assert summary["prior"] == "tv" and not summary.get("warning") and "warning" not in err


def test_a_known_condition_estimate_is_used_as_given():
    _, y = small_problem()
    first = lib.restore(y, method="cg")
    again = lib.restore(y, method="cg", condition=first.condition_estimate)
    assert again.condition_estimate == first.condition_estimate
    assert lib.restore(y, method="cg", condition=1e9).converged is False
