"""Property-based fuzzing of every loader: any bytes load as a valid result or raise
:class:`TorchannError`, never anything else.

Two strategies per loader: arbitrary bytes, and a valid file with a few bytes flipped,
inserted or cut (which reaches much deeper into a parser than noise does).
Examples are bounded so that the whole file runs in seconds.
"""

import io
import pickle

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


def check(loader, data):
    try:
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
