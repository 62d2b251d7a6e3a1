"""Hostile and broken files through the safe loaders in ``torchann.io``.

Each case must end in a :class:`TorchannError` (the CLI turns it into one line and exit 2),
and no payload may leave its marker file behind. The CLI-level catalogue is in
``test_hostile_cli.py``; the inputs themselves come from ``hostile_inputs.py``.
"""

import pickle
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import hostile_inputs as h
import numpy as np
import pytest

from torchann.errors import TorchannError
from torchann.io import MAX_ELEMENTS, as_image, load_array, load_image_array, load_pickle_array

SEED_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "broken_image_t.p"

PAYLOADS = list(h.payloads(Path("marker")))
PICKLES = list(h.broken_pickles())
NPYS = list(h.broken_npys(Path("marker")))
SHAPES = list(h.shape_mismatches())
IMAGES = list(h.broken_images())


def refused(path, shape=None) -> str:
    """Load ``path`` as an image the way restore does; return the error message."""
    with pytest.raises(TorchannError) as info:
        as_image(load_array(path), shape=shape)
    message = str(info.value)
    assert message and "Traceback" not in message
    return message


def test_payloads_are_live(tmp_path):
    """Loaded by a plain pickle.loads, every payload does create its marker (in a child)."""
    code = textwrap.dedent(f"""
        import pickle, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import hostile_inputs as h
        tmp = Path({str(tmp_path)!r})
        for name in h.payloads(tmp / "x"):
            marker = tmp / h.slug(name)
            try:
                pickle.loads(h.payloads(marker)[name])
            except Exception:
                pass  # some payloads fail after their side effect, as real ones do
            print(name, marker.exists())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()
    assert out == [f"{name} True" for name in PAYLOADS]


@pytest.mark.slow
def test_model_payloads_are_live(tmp_path):
    """Loaded by torch.load(weights_only=False), the .pt payloads do create their marker."""
    code = textwrap.dedent(f"""
        import io, sys, torch
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import hostile_inputs as h
        tmp = Path({str(tmp_path)!r})
        for name in [n for n in h.broken_models(tmp / "x") if "payload" in n]:
            marker = tmp / h.slug(name)
            try:
                torch.load(io.BytesIO(h.broken_models(marker)[name]), weights_only=False)
            except Exception:
                pass
            print(marker.exists())
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["True"] * 3


@pytest.mark.parametrize("suffix", [".p", ".pkl", ".bin"])
@pytest.mark.parametrize("name", PAYLOADS)
def test_pickle_payload_is_refused_and_runs_nothing(tmp_path, name, suffix):
    marker = tmp_path / "marker"
    path = h.write(tmp_path, "payload" + suffix, h.payloads(marker)[name])
    message = refused(path)
    assert not marker.exists()
    assert any(word in message for word in ("refusing", "only numeric", "not a"))


@pytest.mark.parametrize("name", PAYLOADS)
def test_pickle_payload_named_npy_is_refused(tmp_path, name):
    marker = tmp_path / "marker"
    refused(h.write(tmp_path, "payload.npy", h.payloads(marker)[name]))
    assert not marker.exists()


@pytest.mark.parametrize("name", PICKLES)
def test_broken_pickle_is_refused(tmp_path, name):
    message = refused(h.write(tmp_path, "input.p", h.broken_pickles()[name]))
    assert "\n" not in message


def refused_within(megabytes, load, match):
    """Assert that ``load()`` raises TorchannError while Python allocates under ``megabytes``."""
    tracemalloc.start()
    try:
        with pytest.raises(TorchannError, match=match):
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < megabytes * 2**20


def test_huge_declared_shape_is_refused_before_allocation():
    data = h.array_pickle((10**12,), "f8", b"\x00" * 8)
    refused_within(10, lambda: load_pickle_array(data), "refusing to allocate")


def test_huge_npy_header_is_refused_before_allocation(tmp_path):
    path = h.write(tmp_path, "huge.npy", h.npy_header((10**6, 10**6)))
    refused_within(10, lambda: load_array(path), "too large")


def test_npy_declaring_more_data_than_it_holds_allocates_nothing(tmp_path):
    path = h.write(tmp_path, "short.npy", h.npy_header((40_000_000,)))
    refused_within(10, lambda: load_array(path), "truncated")


@pytest.mark.parametrize("name", NPYS)
def test_broken_npy_is_refused(tmp_path, name):
    marker = tmp_path / "marker"
    refused(h.write(tmp_path, "input.npy", h.broken_npys(marker)[name]))
    assert not marker.exists()


@pytest.mark.parametrize("name", SHAPES)
def test_data_that_is_not_an_image_is_refused(tmp_path, name):
    data, shape = h.shape_mismatches()[name]
    message = refused(h.write(tmp_path, "input.npy", data), shape=shape)
    assert any(word in message for word in ("shape", "pixels", "square", "positive"))


@pytest.mark.parametrize("name", IMAGES)
def test_broken_image_is_refused(tmp_path, name):
    suffix, data = h.broken_images()[name]
    refused(h.write(tmp_path, "input" + suffix, data))


def test_one_pixel_image_says_it_is_too_small(tmp_path):
    message = refused(h.write(tmp_path, "dot.png", h.png_bytes(1, 1)))
    assert "1x1" in message and "7x7" in message


def test_decompression_bomb_is_refused_without_decoding_or_warning(recwarn):
    for side in (10000, 20000):
        refused_within(20, lambda side=side: load_image_array(h.png_declaring(side, side)),
                       "refusing to decode")
    assert len(recwarn) == 0  # a warning would be a second line on stderr


def test_folder_and_missing_file_and_unknown_type(tmp_path):
    with pytest.raises(TorchannError, match="is a folder"):
        load_array(tmp_path)
    with pytest.raises(TorchannError, match="no such file"):
        load_array(tmp_path / "absent.p")
    with pytest.raises(TorchannError, match="unknown file type"):
        load_array(h.write(tmp_path, "notes.txt", b"1 2 3 4"))


# ----------------------------------------------------------------- what must still load


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("array", [np.arange(16.0), np.arange(16, dtype=">i4").reshape(4, 4),
                                   np.asfortranarray(np.eye(8)), np.ones(9, dtype=bool)],
                         ids=["float", "big-endian int", "fortran", "bool"])
def test_plain_numeric_arrays_load_with_every_protocol(protocol, array):
    loaded = load_pickle_array(pickle.dumps(array, protocol=protocol))
    assert loaded.dtype == array.dtype and loaded.shape == array.shape
    assert np.array_equal(loaded, array)


def test_python2_era_pickle_loads():
    assert np.array_equal(load_pickle_array(h.python2_style_pickle([1.0, 2.5, 3.0])),
                          [1.0, 2.5, 3.0])


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "I;16", "1"])
def test_real_images_load_as_grayscale_in_unit_range(tmp_path, mode):
    image = as_image(load_array(h.write(tmp_path, "x.png", h.png_bytes(9, 8, mode))))
    assert image.shape == (8, 9) and image.min() >= 0 and image.max() <= 1


def test_declared_limit_is_generous_enough_for_real_images():
    assert MAX_ELEMENTS >= 4000 * 4000


@pytest.mark.skipif(not SEED_FILE.exists(), reason="../shared/data is absent")
def test_the_seeds_pickle_loads():
    image = as_image(load_array(SEED_FILE))
    assert image.shape == (100, 100)
