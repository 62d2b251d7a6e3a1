"""Property-based fuzzing of every loader: any bytes load as a valid result or raise
:class:`TorchannError`, never anything else, and never a warning (which would be a second
line on stderr).

Two strategies per loader: arbitrary bytes, and a valid file with a few bytes flipped,
inserted or cut (which reaches much deeper into a parser than noise does).
Examples are bounded so that the whole file runs in seconds.
"""

import contextlib
import io
import pickle
import tempfile
import warnings
from pathlib import Path

import hostile_inputs as h
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchann.errors import TorchannError
from torchann.io import load_image_array, load_npy_array, load_pickle_array

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.arange(256).reshape(16, 16) % 251).astype(np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


SEEDS = {
    "pickle": [pickle.dumps(h.good_array(16), protocol=p) for p in (2, 4, 5)]
    + [h.python2_style_pickle([1.0, 2.0, 3.0, 4.0])],
    "npy": [h.npy_bytes(h.good_array(16)), h.npy_bytes(np.arange(12, dtype="<i2"))],
    "image": [h.png_bytes(8, 8), h.png_bytes(8, 8, "RGB"), _jpeg()],
}


@st.composite
def mutated(draw, kind):
    """A valid file of ``kind`` with a few random edits."""
    data = bytearray(draw(st.sampled_from(SEEDS[kind])))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@contextlib.contextmanager
def no_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            assert [str(w.message) for w in caught] == []


def check(loader, data):
    try:
        with no_warnings():
            result = loader(data)
    except TorchannError as err:
        assert str(err)
        return
    assert isinstance(result, np.ndarray)
    assert result.dtype.kind in "biuf"


@FUZZ
@given(st.binary(max_size=512))
def test_pickle_loader_on_any_bytes(data):
    check(load_pickle_array, data)


@FUZZ
@given(mutated("pickle"))
def test_pickle_loader_on_damaged_pickles(data):
    check(load_pickle_array, data)


@FUZZ
@given(st.binary(max_size=512))
def test_npy_loader_on_any_bytes(data):
    check(load_npy_array, data)


@FUZZ
@given(mutated("npy"))
def test_npy_loader_on_damaged_npy(data):
    check(load_npy_array, data)


@FUZZ
@given(st.binary(max_size=512))
def test_image_loader_on_any_bytes(data):
    check(load_image_array, data)


@FUZZ
@given(mutated("image"))
def test_image_loader_on_damaged_images(data):
    check(load_image_array, data)


# --------------------------------------------------------------------------- CSV and model files


def _in_file(data: bytes, suffix: str, func):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("input" + suffix)
        path.write_bytes(data)
        return func(path)


CSV_SEED = h._csv_rows(n=12).encode()
MODEL_SEEDS = [h.torch_bytes(h.seed_state_dict()), h.torch_bytes(h.seed_state_dict(), False)]


@st.composite
def damaged_csv(draw):
    text = bytearray(CSV_SEED)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text) - 1))
        piece = draw(st.sampled_from([b",", b"\n", b"", b"nan", b"\"", b"\xff", b"y", b"-",
                                      b"1e999", b"\r", b"\x00", b",,"]))
        text[at:at + draw(st.integers(0, 3))] = piece
    return bytes(text)


def check_csv(data):
    from torchann.classify import load_labelled_csv

    try:
        with no_warnings():
            result = _in_file(data, ".csv", lambda p: load_labelled_csv(p, "y"))
    except TorchannError as err:
        assert str(err)
        return
    assert np.isfinite(result.x).all() and set(np.unique(result.y)) <= {0, 1}


@FUZZ
@given(st.binary(max_size=400))
def test_csv_loader_on_any_bytes(data):
    check_csv(data)


@FUZZ
@given(damaged_csv())
def test_csv_loader_on_damaged_csv(data):
    check_csv(data)


def check_model(data):
    from torchann.classify import load_model

    try:
        with no_warnings():
            loaded = _in_file(data, ".pt", load_model)
    except TorchannError as err:
        assert str(err)
        return
    assert all(np.isfinite(p.detach().numpy()).all() for p in loaded.model.parameters())


@FUZZ
@given(st.binary(max_size=512))
def test_model_loader_on_any_bytes(data):
    check_model(data)


@FUZZ
@given(st.sampled_from(MODEL_SEEDS).flatmap(
    lambda seed: st.lists(st.tuples(st.integers(0, len(seed) - 1), st.integers(0, 255)),
                          min_size=1, max_size=6).map(lambda edits: _edit(seed, edits))))
def test_model_loader_on_damaged_models(data):
    check_model(data)


def test_model_with_an_odd_pickle_protocol_loads_quietly():
    seed = h.torch_bytes(h.seed_state_dict(), zipfile=False)
    check_model(seed[:1] + b"\x8a" + seed[2:])


def _edit(seed: bytes, edits) -> bytes:
    data = bytearray(seed)
    for at, value in edits:
        data[at] = value
    return bytes(data)
