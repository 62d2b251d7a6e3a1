"""Deblurring real photographs: colour, alpha, 16 bits, --grey, tiles, precision, bombs."""

import json
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio

from torchann import cli, deblur, io
from torchann.deblur import transforms
from torchann.errors import TorchannError

SPEC = "blur:gaussian,sigma=1.5"


def psnr(a, b):
    return peak_signal_noise_ratio(np.asarray(a), np.asarray(b, dtype=np.float64), data_range=1)


def blur(image, spec=SPEC, boundary="reflect", noise=0.01, seed=0):
    """Blur ``(H, W)`` or ``(H, W, C)`` with ``spec`` (float64 reference operator) + noise."""
    op = deblur.spec_operator(spec, image.shape[:2], boundary)
    cube = np.atleast_3d(image)
    out = np.stack([op(torch.from_numpy(np.ascontiguousarray(cube[..., c])).reshape(-1))
                    .reshape(cube.shape[:2]).numpy() for c in range(cube.shape[2])], -1)
    out = out.reshape(image.shape)
    return out + noise * np.random.default_rng(seed).standard_normal(image.shape)


@pytest.fixture(scope="module")
def colour():
    from skimage import data, transform

    return transform.resize(data.astronaut()[40:296, 150:406] / 255.0, (64, 64),
                            anti_aliasing=True)


def png_chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def raw_png(width, height, depth, colour_type, rows=b""):
    """A PNG written by hand: Pillow cannot write 16-bit colour, nor lie about its size."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def restore(tmp_path, image, *extra):
    out = tmp_path / "out"
    status = cli.main(["restore", str(image), "--corruption", SPEC, "--prior", "tv",
                       "--weight", "auto", "--out", str(out), "--quiet", *extra])
    assert status == 0
    return out, json.loads((out / "summary.json").read_text())


# --------------------------------------------------------------------------- loading


def test_rgba_png_keeps_colour_and_alpha(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 4), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    picture = io.load_picture(tmp_path / "a.png")
    assert picture.array.shape == (20, 30, 3) and picture.mode == "RGBA"
    assert np.array_equal(picture.alpha, pixels[..., 3])
    assert np.allclose(picture.array * 255, pixels[..., :3])


def test_16_bit_grey_png_keeps_16_bits(tmp_path):
    pixels = (np.arange(600).reshape(20, 30) * 97 % 65536).astype(np.uint16)
    Image.fromarray(pixels).save(tmp_path / "g.png")
    picture = io.load_picture(tmp_path / "g.png")
    assert picture.bit_depth == 16 and picture.array.shape == (20, 30)
    assert np.allclose(picture.array * 65535, pixels)
    back = np.asarray(Image.open(__import__("io").BytesIO(io.picture_png(picture.array,
                                                                           bit_depth=16))))
    assert back.dtype == np.uint16 and np.array_equal(back, pixels)


def test_16_bit_colour_png_is_read_as_8_bits_and_says_so(tmp_path):
    rows = b"".join(b"\x00" + bytes(range(48)) for _ in range(8))  # 8 x 8 RGB, 16 bits
    (tmp_path / "c.png").write_bytes(raw_png(8, 8, 16, 2, rows))
    picture = io.load_picture(tmp_path / "c.png")
    assert picture.array.shape == (8, 8, 3)
    assert any("16 bits" in note for note in picture.notes)


def test_decompression_bomb_is_refused_from_its_header(tmp_path):
    import tracemalloc

    (tmp_path / "bomb.png").write_bytes(raw_png(60000, 60000, 8, 2))
    tracemalloc.start()
    with pytest.raises(TorchannError, match="refusing to decode"):
        io.load_picture(tmp_path / "bomb.png")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20  # the 10.8 GB of pixels were never allocated


def test_npy_colour_and_wrong_channels(tmp_path):
    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((16, 12, 3)))
    assert io.load_picture(tmp_path / "c.npy").array.shape == (16, 12, 3)
    np.save(tmp_path / "bad.npy", np.zeros((16, 12, 5)))
    with pytest.raises(TorchannError, match="H, W, 3"):
        io.load_picture(tmp_path / "bad.npy")


def test_grey_option_converts_and_records(tmp_path, colour):
    Image.fromarray(np.uint8(np.clip(blur(colour), 0, 1) * 255)).save(tmp_path / "p.png")
    picture = io.load_picture(tmp_path / "p.png", grey=True)
    assert picture.array.ndim == 2 and "grey" in picture.notes[0]
    out, summary = restore(tmp_path, tmp_path / "p.png", "--grey")
    assert summary["colour"] is False and any("grey" in n for n in summary["notes"])
    assert Image.open(out / "restored.png").mode == "L"


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_cli_colour_in_colour_out(tmp_path, colour, suffix):
    Image.fromarray(np.uint8(np.round(np.clip(blur(colour), 0, 1) * 255))).save(
        tmp_path / f"p{suffix}", quality=95)
    Image.fromarray(np.uint8(np.round(colour * 255))).save(tmp_path / "ref.png")
    out, summary = restore(tmp_path, tmp_path / f"p{suffix}", "--reference",
                           str(tmp_path / "ref.png"))
    assert summary["colour"] is True and summary["channels"] == "joint"
    assert summary["shape"] == [64, 64, 3] and summary["psnr"] > summary["psnr_input"] + 1
    assert Image.open(out / "restored.png").mode == "RGB"
    assert np.load(out / "restored.npy").shape == (64, 64, 3)
    assert "report" in (out / "report.html").read_text() or (out / "report.html").stat().st_size


def test_cli_alpha_is_carried_through(tmp_path, colour):
    alpha = np.random.default_rng(1).integers(0, 256, (64, 64), dtype=np.uint8)
    rgb = np.uint8(np.round(np.clip(blur(colour), 0, 1) * 255))
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "a.png")
    out, summary = restore(tmp_path, tmp_path / "a.png")
    written = np.asarray(Image.open(out / "restored.png"))
    assert written.shape == (64, 64, 4) and np.array_equal(written[..., 3], alpha)
    assert "unchanged" in summary["alpha"]


def test_cli_16_bit_grey_writes_16_bits(tmp_path, colour):
    grey = blur(colour.mean(axis=2))
    Image.fromarray(np.uint16(np.round(np.clip(grey, 0, 1) * 65535))).save(tmp_path / "g.png")
    out, summary = restore(tmp_path, tmp_path / "g.png")
    assert summary["bit_depth"] == 16
    assert np.asarray(Image.open(out / "restored.png")).dtype == np.uint16


@pytest.mark.parametrize("extra", [[], ["--prior", "none"], ["--prior", "none", "--method", "gd",
                                                                "--steps", "50"],
                                     ["--prior", "tikhonov"], ["--clip", "0,1", "--steps", "20"]])
@pytest.mark.slow
def test_cli_every_blur_path_keeps_colour(tmp_path, colour, extra):
    Image.fromarray(np.uint8(np.round(np.clip(blur(colour), 0, 1) * 255))).save(
        tmp_path / "c.png")
    out = tmp_path / "out"
    assert cli.main(["restore", str(tmp_path / "c.png"), "--corruption", SPEC, "--out",
                     str(out), "--quiet", *extra]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["colour"] is True and summary["shape"] == [64, 64, 3]
    assert np.load(out / "restored.npy").shape == (64, 64, 3)
    written = np.asarray(Image.open(out / "restored.png"))
    assert written.shape == (64, 64, 3)
    assert not np.array_equal(written[..., 0], written[..., 1])  # not a grey picture


def test_cli_automatic_weight_holds_on_a_jpeg(tmp_path):
    from skimage import data

    original = data.astronaut()[:128, 150:278] / 255.0
    Image.fromarray(np.uint8(np.round(np.clip(blur(original, noise=0.005), 0, 1) * 255))).save(
        tmp_path / "p.jpg", quality=85)
    Image.fromarray(np.uint8(np.round(original * 255))).save(tmp_path / "o.png")
    out, summary = restore(tmp_path, tmp_path / "p.jpg", "--reference", str(tmp_path / "o.png"))
    assert summary["noise_estimate"].endswith("(JPEG)") and summary["noise_sigma"] > 0.003
    assert summary["psnr"] > summary["psnr_input"] + 1
    from torchann.deblur.noise import noise_sigma

    jpeg = io.load_picture(tmp_path / "p.jpg").array
    assert noise_sigma(jpeg) < 0.5 * noise_sigma(jpeg, scale=2)  # JPEG hid the fine noise


def test_cli_plain_fit_of_a_blur_can_be_grey(tmp_path, colour):
    Image.fromarray(np.uint8(np.round(np.clip(blur(colour), 0, 1) * 255))).save(
        tmp_path / "c.png")
    out = tmp_path / "out"
    assert cli.main(["restore", str(tmp_path / "c.png"), "--corruption", SPEC, "--prior",
                     "none", "--grey", "--out", str(out), "--quiet"]) == 0
    assert np.load(out / "restored.npy").shape == (64, 64)


def test_cli_deblur_options_need_a_prior(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.zeros((16, 16)))
    status = cli.main(["restore", str(tmp_path / "x.npy"), "--corruption", "weird", "--grey",
                       "--out", str(tmp_path / "out")])
    assert status == 2 and "--grey" in capsys.readouterr().err


# --------------------------------------------------------------------------- the solver


def test_joint_and_separate_both_restore_colour(colour):
    broken = blur(colour)
    kernel = deblur.spec_operator(SPEC, (8, 8)).kernel
    joint = deblur.deblur_image(broken, kernel, channels="joint").x.numpy()
    separate = deblur.deblur_image(broken, kernel, channels="separate").x.numpy()
    assert psnr(colour, joint) > psnr(colour, broken) + 1
    assert psnr(colour, separate) > psnr(colour, broken) + 1
    assert not np.allclose(joint, separate)  # the channels really are coupled


def test_tiled_and_untiled_agree(colour):
    grey = np.kron(colour.mean(axis=2), np.ones((2, 2)))  # 128 x 128
    broken = blur(grey)
    kernel = deblur.spec_operator(SPEC, (8, 8)).kernel
    whole = deblur.deblur_image(broken, kernel, weight=5e-4).x.numpy()
    tiled = deblur.deblur_image(broken, kernel, weight=5e-4, tile=56)
    assert tiled.extra["tiles"] > 1
    assert abs(psnr(grey, tiled.x.numpy()) - psnr(grey, whole)) < 0.1


def test_tile_smaller_than_the_overlap_is_refused():
    kernel = deblur.make_kernel("gaussian", sigma=3)
    with pytest.raises(TorchannError, match="tile"):
        deblur.deblur_image(np.zeros((100, 100)), kernel, weight=1e-3, tile=20)


@pytest.mark.parametrize("boundary, spec", [("reflect", SPEC), ("circular", SPEC),
                                            ("zero", "blur:motion,length=7,angle=30")])
def test_float32_and_float64_agree(colour, boundary, spec):
    grey = colour.mean(axis=2)
    broken = blur(grey, spec, boundary)
    kernel = deblur.spec_operator(spec, (8, 8)).kernel
    single = deblur.deblur_image(broken, kernel, boundary, weight=5e-4, dtype="float32")
    double = deblur.deblur_image(broken, kernel, boundary, weight=5e-4, dtype="float64")
    assert np.abs(single.x.numpy() - double.x.numpy()).max() < 2e-3
    assert psnr(grey, double.x.numpy()) > psnr(grey, broken) + 1


@pytest.mark.parametrize("boundary, spec", [("reflect", SPEC), ("circular", SPEC),
                                            ("reflect", "blur:motion,length=7,angle=30"),
                                            ("zero", SPEC)])
def test_fast_models_match_the_reference_operator(boundary, spec):
    image = np.random.default_rng(0).random((2, 23, 31))
    op = deblur.spec_operator(spec, (23, 31), boundary)
    model = transforms.make_blur_model(op.kernel.numpy(), (23, 31), boundary, torch.float64)
    want = np.stack([op(torch.from_numpy(c).reshape(-1)).reshape(23, 31).numpy()
                     for c in image])
    assert np.allclose(model.forward(torch.from_numpy(image)).numpy(), want, atol=1e-12)


def test_torch_dct_matches_scipy():
    import scipy.fft

    x = torch.from_numpy(np.random.default_rng(0).random((2, 13, 10)))
    want = scipy.fft.dctn(x.numpy(), axes=(-2, -1), norm="ortho")
    assert np.allclose(transforms.dct2_torch(x).numpy(), want, atol=1e-12)
    assert np.allclose(transforms.dct2_torch(transforms.dct2_torch(x), inverse=True), x)


@pytest.mark.slow
def test_admm_reaches_the_pdhg_objective(colour):
    grey = colour.mean(axis=2)
    broken = blur(grey)
    op = deblur.spec_operator(SPEC, grey.shape, "reflect")

    def objective(x):
        x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        residual = op(x.reshape(-1)) - torch.from_numpy(broken).reshape(-1)
        g = transforms.grad_neumann(x.reshape(grey.shape))
        return 0.5 * float(residual @ residual) + 5e-4 * float(torch.hypot(g[0], g[1]).sum())

    fast = deblur.deblur_image(broken, op.kernel, "reflect", weight=5e-4, dtype="float64",
                               steps=200, tol=0)
    slow = deblur.deconvolve(broken, op, grey.shape, "tv", 5e-4, steps=2000, tol=0)
    assert objective(fast.x) < objective(slow.x.double()) * 1.01


def test_planned_steps_bound_the_callbacks(colour):
    broken = blur(colour.mean(axis=2))
    kernel = deblur.spec_operator(SPEC, (8, 8)).kernel
    seen = []
    deblur.deblur_image(broken, kernel, weight=5e-4, tile=48, tol=0,
                        callback=lambda step, distance: seen.append(step))
    assert seen and max(seen) == deblur.planned_steps(broken.shape, kernel, tile=48)


@pytest.mark.parametrize("kernel", [
    np.outer([1, 4, 6, 4, 1], [1, 2, 1]) / 64.0,  # separable: eigenvalues as a row and a column
    np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]]) / 8.0,  # symmetric but not separable
])
def test_cosine_model_separable_path_matches_the_full_eigenvalues(monkeypatch, kernel):
    monkeypatch.setattr(transforms, "BAND", 8)  # 23 rows: three bands, the last short
    model = transforms.make_blur_model(kernel, (23, 31), "reflect", torch.float64)
    assert (model.eig is None) == (np.linalg.matrix_rank(kernel) == 1)
    full = transforms.make_blur_model(kernel, (23, 31), "reflect", torch.float64)
    if full.eig is None:
        full.eig = full.eig_rows * full.eig_cols
    rng = np.random.default_rng(1)
    y_hat = torch.from_numpy(rng.random((2, 23, 31)))
    v = torch.from_numpy(rng.random((2, 2, 23, 31)))
    for given in (None, v):
        assert torch.allclose(model.solve(y_hat, 0.3, given), full.solve(y_hat, 0.3, given),
                              atol=1e-12)
    x = torch.from_numpy(rng.random((2, 23, 31)))
    assert abs(model.data_residual(x, y_hat) - full.data_residual(x, y_hat)) < 1e-10
    op = deblur.BlurOperator(torch.from_numpy(kernel), (23, 31), "reflect")
    want = np.stack([op(c.reshape(-1)).reshape(23, 31).numpy() for c in x])
    assert np.allclose(model.forward(x).numpy(), want, atol=1e-12)


@pytest.mark.parametrize("spec, steps", [(SPEC, 10), ("blur:motion,length=7,angle=30", 8)])
def test_cli_logs_only_the_distances_it_measured(tmp_path, colour, capsys, spec, steps):
    Image.fromarray(np.uint8(np.round(np.clip(blur(colour, spec), 0, 1) * 255))).save(
        tmp_path / "p.png")
    out = tmp_path / "out"
    assert cli.main(["restore", str(tmp_path / "p.png"), "--corruption", spec, "--out",
                     str(out)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Loss at")]
    # ADMM measures ||A x - y|| every 10 steps and at the last: no line repeats a stale one
    summary = json.loads((out / "summary.json").read_text())
    assert [line.split(" = ")[0] for line in lines] == [f"Loss at {steps}"]
    assert float(lines[0].split(" = ")[1]) == pytest.approx(summary["final_distance"], rel=1e-6)


@pytest.mark.parametrize("shape, top, dtype", [((37, 5, 3), 255, np.uint8),
                                               ((37, 5), 65535, np.uint16)])
def test_pixels_scaled_a_band_at_a_time_match_the_whole_image(shape, top, dtype):
    from torchann.io import pictures

    values = np.random.default_rng(2).normal(0.5, 0.4, shape).astype(np.float32)  # some
    whole = np.round(np.clip((values.astype(np.float64) - 0.1) / 0.8, 0, 1) * top)  # off [0, 1]
    banded = pictures._scaled(values, 0.1, 0.9, top, dtype, rows=8)  # 37 rows: 5 bands
    assert banded.dtype == dtype and banded.shape == shape
    assert np.array_equal(banded, whole.astype(dtype))
