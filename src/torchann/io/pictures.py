"""Pictures in colour: :func:`load_picture` keeps the channels, the alpha and the bit depth.

:func:`~torchann.io.load_array` turns every image grey. A photograph to deblur keeps its
colour: :func:`load_picture` returns a :class:`Picture` with the pixels ``(H, W)`` or
``(H, W, C)``, the alpha channel set aside untouched, and the bit depth, and
:func:`picture_png` writes a restored picture back in the same form.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from torchann.errors import TorchannError
from torchann.io.loaders import as_image, load_array, open_image, read_input_bytes

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass
class Picture:
    """An image as loaded for restoration.

    Attributes
    ----------
    array : ndarray of float64
        ``(H, W)`` grey or ``(H, W, C)`` colour. PNG/JPEG pixels are in [0, 1]; ``.npy`` and
        pickles keep their values.
    alpha : ndarray or None
        The alpha channel as stored in the file (uint8 or uint16), never restored.
    bit_depth : int
        Bits per sample of an image file (8 or 16); 0 for arrays.
    mode : str
        Pillow's mode of an image file (``L``, ``I;16``, ``RGB``, ``RGBA``...) or ``array``.
    notes : list of str
        What was done on loading that the user should know (a conversion to grey, 16 bits
        read as 8).
    """

    array: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 0
    mode: str = "array"
    notes: list = field(default_factory=list)

    @property
    def is_image(self) -> bool:
        """Whether the pixels came from a PNG/JPEG (values in [0, 1])."""
        return self.mode != "array"

    @property
    def is_colour(self) -> bool:
        return self.array.ndim == 3


def _png_header(data: bytes):
    """``(bit depth, colour type)`` from a PNG's IHDR, or ``(None, None)``."""
    if data[:8] == _PNG_SIGNATURE and data[12:16] == b"IHDR" and len(data) >= 26:
        return data[24], data[25]
    return None, None


def _decode(data: bytes) -> Picture:
    notes = []
    depth, colour_type = _png_header(data)
    with open_image(data) as im:
        mode = im.mode
        im.load()
        if mode in ("I;16", "I;16B", "I;16L", "I"):
            pixels = np.clip(np.asarray(im), 0, 65535).astype(np.uint16)
            mode, bits = "I;16", 16
        elif mode in ("1", "L"):
            pixels, bits = np.asarray(im.convert("L")), 8
        elif mode in ("LA", "La"):
            la = np.asarray(im.convert("LA"))
            pixels, bits, mode = la[..., :-1], 8, "LA"
        elif mode == "RGB" or ("transparency" not in im.info and mode not in
                               ("RGBA", "RGBa", "PA")):
            pixels, bits, mode = np.asarray(im.convert("RGB")), 8, "RGB"
        else:
            pixels, bits, mode = np.asarray(im.convert("RGBA")), 8, "RGBA"
    alpha = None
    if mode in ("LA", "RGBA"):
        pixels, alpha = pixels[..., :-1], pixels[..., -1].copy()
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    if depth == 16 and bits == 8:
        notes.append("the PNG has 16 bits per sample in colour, which Pillow reads as 8 bits; "
                     "the restored PNG has 8 bits per sample")
    array = pixels.astype(np.float64)
    array /= 65535.0 if bits == 16 else 255.0  # in place: no second image-sized array
    return Picture(array, alpha, bits, mode, notes)


def load_picture(path, grey: bool = False, shape=None) -> Picture:
    """Load a PNG/JPEG (grey, RGB, RGBA, 16-bit grey), a ``.npy`` or a pickle for restoration.

    Parameters
    ----------
    path : str or Path
    grey : bool
        Convert a colour picture to grey (ITU-R 601 luma, :func:`skimage.color.rgb2gray`);
        the conversion is recorded in ``notes``.
    shape : (int, int), optional
        Height and width of a flat array.

    Returns
    -------
    Picture

    Raises
    ------
    TorchannError
        As :func:`~torchann.io.load_array`; an image that declares more than
        ``MAX_ELEMENTS`` pixels is refused from its header, before any pixel is decoded.
    """
    path = Path(path)
    if path.suffix.lower() in _IMAGE_SUFFIXES:
        picture = _decode(read_input_bytes(path))
    else:
        array = load_array(path)
        if array.ndim == 3:
            if array.shape[2] not in (1, 3) or shape is not None:
                raise TorchannError(key="io.pictures.array_shape_colour", path=path,
                                    shape=str(array.shape))
            if array.shape[2] == 1:
                array = array[..., 0]
            as_image(array[..., 0] if array.ndim == 3 else array)  # checks the size
        else:
            array = as_image(array, shape)
        picture = Picture(array)
    if grey and picture.is_colour:
        from skimage.color import rgb2gray

        array = picture.array
        picture.array = rgb2gray(array)
        picture.notes.append(f"converted from {array.shape[2]} channels to grey, as asked")
    as_image(picture.array if picture.array.ndim == 2 else picture.array[..., 0])
    return picture


def picture_png(array, alpha=None, bit_depth: int = 8, lo: float = 0.0, hi: float = 1.0) -> bytes:
    """Encode ``(H, W)`` or ``(H, W, 3)`` values in ``[lo, hi]`` as a PNG.

    Grey keeps 16 bits when ``bit_depth`` is 16 (Pillow writes 16-bit colour PNGs as 8 bits,
    so colour is 8-bit); ``alpha`` (as loaded, uint8 or uint16) is added unchanged.
    """
    from PIL import Image

    array = np.asarray(array)
    sixteen = array.ndim == 2 and bit_depth == 16 and alpha is None
    if sixteen:
        im = Image.fromarray(_scaled(array, lo, hi, 65535, np.uint16))
    else:
        pixels = _scaled(array, lo, hi, 255, np.uint8)
        if alpha is not None:
            a = np.asarray(alpha)
            if a.dtype != np.uint8:
                a = np.round(a / 257.0).astype(np.uint8)
            pixels = np.dstack([pixels, a])
        im = Image.fromarray(pixels)  # L, LA, RGB or RGBA from the shape
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def _scaled(array, lo, hi, top, dtype, rows=256):
    """``round(clip((array - lo) / (hi - lo), 0, 1) * top)`` as ``dtype``, in float64 a band
    of ``rows`` rows at a time: a 12.6 MP colour image's float64 temporaries took 0.9 GB."""
    out = np.empty(array.shape, dtype=dtype)
    for r in range(0, array.shape[0], rows):
        band = np.asarray(array[r:r + rows], dtype=np.float64)
        out[r:r + rows] = np.round(np.clip((band - lo) / (hi - lo), 0.0, 1.0) * top)
    return out
