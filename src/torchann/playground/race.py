"""3.2 playground tab: the restoration race, two solvers step by step on one broken image.

The chapter's gradient descent (``gd``: ``x <- x - lr * grad ||f(x) - y||``), Adam, and
conjugate gradient (``cg``, CGLS with ``f`` as a black box called and differentiated by
autograd) run one step at a time, so the page can watch every lane: they are the generators
of :mod:`torchann.restore.steps` that :func:`torchann.restore.restore` drives too; ``cg``
stops at its relative-residual tolerance ``1e-6``, as there.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from torchann.errors import TorchannError
from torchann.playground.messages import PageError
from torchann.playground.session import Channel, Worker, b64

METHODS = ("gd", "adam", "cg")
MAX_STEPS = 50_000
MAX_SPEED = 1_000
#: Uploaded pictures larger than this many pixels are shrunk to fit; signals are refused.
MAX_PIXELS = 40_000
#: Pictures declaring more pixels than this are refused before any pixel is decoded (the
#: loaders' own cap, :data:`torchann.io.MAX_ELEMENTS`, said in the page's words).
MAX_DECODE_PIXELS = 50_000_000
CG_TOL = 1e-6


@dataclass
class RaceConfig:
    """Settings of the race: two lanes' method and learning rate, most steps, steps per frame."""

    a_method: str = "gd"
    a_lr: float = 0.8
    b_method: str = "cg"
    b_lr: float = 0.01
    steps: int = 20_000
    speed: int = 20

    @classmethod
    def from_dict(cls, data) -> RaceConfig:
        """Check the race settings from the page."""
        from torchann.playground.settings import choice, integer, parse

        method, lr = choice("method", METHODS), cls.check_lr
        return parse(cls, data, [("a_method", method), ("a_lr", lr), ("b_method", method),
                                 ("b_lr", lr), ("steps", integer("steps", 1, MAX_STEPS)),
                                 ("speed", integer("speed", 1, MAX_SPEED))])

    @staticmethod
    def check_lr(lr):
        """A lane's learning rate: a number above 0, at most 100."""
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not (
                0 < lr <= 100 and math.isfinite(lr)):  # a huge int never reaches isfinite
            raise PageError("race_lr", value=str(lr)[:40])
        return float(lr)


# --------------------------------------------------------------------------- solvers


def lane_steps(method, forward, y, x0, lr):
    """One lane's solver (:mod:`torchann.restore.steps`), one step per ``next``.

    Yields ``(x, distance)`` after each step: for ``gd`` and ``adam`` the iterate after the
    step with the distance it started from, for ``cg`` the iterate after the CGLS iteration
    with its own distance (``cg`` starts from zero); a finished ``cg`` repeats its last.
    """
    from torchann.restore.steps import adam_steps, cg_steps, gd_steps

    if method == "cg":
        iterates = cg_steps(forward, y)
        next(iterates)  # the start: the lane shows it before the race begins
        last = None
        for it in iterates:
            last = it.x, float(it.residual.norm())
            yield last
        while True:
            yield last
    iterates = (gd_steps if method == "gd" else adam_steps)(forward, y, x0, lr)
    _, _, before = next(iterates)
    for _, x, distance in iterates:
        yield x, before
        before = distance


# --------------------------------------------------------------------------- the session


def load_race_image(data: bytes, name: str):
    """An upload as ``(original or None, broken)``: a picture is broken here, a signal is not.

    ``.p``/``.pkl``/``.pickle`` and ``.npy`` hold the broken signal (the chapter's
    ``broken_image_t.p``); PNG/JPEG hold a picture, shrunk to at most :data:`MAX_PIXELS`
    pixels and corrupted with ``weird_function``.
    """
    from torchann.io import as_image, load_npy_array, load_pickle_array

    suffix = "." + name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in (".png", ".jpg", ".jpeg"):
        return small_picture(data, name), None
    if suffix in (".p", ".pkl", ".pickle"):
        array = load_pickle_array(data)
    elif suffix == ".npy":
        array = load_npy_array(data)
    else:
        raise PageError("race_file", name=name)
    image = as_image(np.asarray(array, dtype=np.float64).squeeze())
    if image.size > MAX_PIXELS:
        raise PageError("race_signal_size", name=name, height=image.shape[0],
                        width=image.shape[1], most=f"{MAX_PIXELS:,}")
    if not np.isfinite(image).all():
        raise PageError("race_signal_nan", name=name)
    return None, image


def small_picture(data: bytes, name: str) -> np.ndarray:
    """A PNG/JPEG as a grayscale float image of at most :data:`MAX_PIXELS` pixels, decoded at
    a reduced size: JPEG's own scaled decoding (Pillow's ``draft``), then Pillow's
    ``reduce``/``thumbnail``; a picture declaring more than :data:`MAX_DECODE_PIXELS` pixels
    is refused before decoding."""
    from torchann.io import load_image_array, open_image

    width, height = _declared_size(data)
    if width * height > MAX_DECODE_PIXELS:
        raise PageError("race_pixels", name=name, pixels=f"{width * height:,}",
                        most=f"{MAX_DECODE_PIXELS:,}")
    with open_image(data) as im:
        width, height = im.size
        f = min(1.0, math.sqrt(MAX_PIXELS / (width * height)))
        size = (max(int(width * f), 8), max(int(height * f), 8))
        if im.mode.startswith("I"):  # 16-bit: the loader keeps its precision
            wide = True
        else:
            wide = False
            im.draft("L", size)  # JPEG: decoded at 1/2, 1/4 or 1/8 of its size
            gray = im.convert("L")
            gray.thumbnail(size, reducing_gap=2.0)
            picture = np.asarray(gray, dtype=np.float64) / 255.0
    if wide:
        from skimage import transform

        picture = load_image_array(data)
        if picture.size > MAX_PIXELS:
            picture = transform.resize(picture, size[::-1], anti_aliasing=True)
    return picture


def _declared_size(data: bytes):
    """A PNG/JPEG header's (width, height), reading no pixel; (0, 0) when it cannot be read
    (the loader then says why)."""
    import io
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as im:
                return im.size
    except Exception:  # noqa: BLE001 - open_image refuses it with its own message
        return 0, 0


class RaceSession(Worker):
    """The 3.2 tab of one page: the broken image and two lanes racing on it."""

    def __init__(self, channel: Channel):
        super().__init__(channel, "playground-race")
        self.cfg = RaceConfig()
        self.source = None  # (original or None, broken or None, name)
        self.lanes = []

    def do_config(self, cfg: RaceConfig):
        self.cfg = cfg
        if self.source is None:
            from torchann.restore import demo_image

            self.source = (demo_image(), None, "demo")
        self.setup()

    def do_upload(self, data: bytes, name: str, cfg: RaceConfig):
        try:
            original, broken = load_race_image(data, name)
        except PageError:
            raise
        except TorchannError as err:  # the loader's own words, kept for the English page
            raise PageError("race_unreadable", name=name, detail=str(err)[:200]) from None
        self.source = (original, broken, name)
        self.cfg = cfg
        self.setup()

    def do_reset(self):
        self.setup()

    def setup(self):
        from torchann.restore import display_range, exact_solution, weird_function

        self.running = False
        original, broken, name = self.source
        shape = (original if original is not None else broken).shape
        if broken is None:
            with torch.no_grad():
                y = weird_function(torch.as_tensor(original, dtype=torch.float32).reshape(-1))
            reference, kind = original, "original"
        else:
            y = torch.as_tensor(broken, dtype=torch.float32).reshape(-1)
            reference = exact_solution(y.double()).numpy().reshape(shape)
            kind = "exact"
        self.shape, self.y, self.reference = shape, y, reference
        self.ref_range = display_range(reference)
        self.data_range = max(float(reference.max() - reference.min()), 1e-12)
        # restore()'s start for seed 0, drawn from a private generator: pages run in threads
        x0 = torch.randn(y.numel(), generator=torch.Generator().manual_seed(0))
        self.lanes = []
        for lane in ("a", "b"):
            method = getattr(self.cfg, f"{lane}_method")
            lr = getattr(self.cfg, f"{lane}_lr")
            steps = lane_steps(method, weird_function, y, x0, lr)
            self.lanes.append({"method": method, "gen": steps, "step": 0, "x": x0.clone()
                               if method != "cg" else torch.zeros_like(y),
                               "distance": float((weird_function(x0 if method != "cg" else
                                                                 torch.zeros_like(y)) - y)
                                                 .norm()),
                               "done": False, "note": ""})
        broken_range = display_range(y.numpy(), stretch=True)
        self.channel.put_message({
            "type": "race_setup", "height": shape[0], "width": shape[1], "source": name,
            "config": asdict(self.cfg), "reference_kind": kind,
            "broken": b64(_to_bytes(y.numpy().reshape(shape), broken_range)),
            "reference": b64(_to_bytes(reference, self.ref_range))})
        self.publish()

    def tick(self):
        norm_y = float(self.y.norm()) or 1.0
        for lane in self.lanes:
            for _ in range(self.cfg.speed):
                if lane["done"]:
                    break
                x, distance = next(lane["gen"])
                lane["step"] += 1
                lane["x"], lane["distance"] = x, distance
                if not math.isfinite(distance):
                    lane["done"], lane["note"] = True, "diverged"
                elif lane["method"] == "cg" and distance / norm_y < CG_TOL:
                    lane["done"], lane["note"] = True, "tol"
                elif lane["step"] >= self.cfg.steps:
                    lane["done"], lane["note"] = True, "steps"
        if all(lane["done"] for lane in self.lanes):
            self.running = False
        self.publish()

    def publish(self):
        from torchann.restore import quality

        lanes = []
        for lane in self.lanes:
            image = lane["x"].detach().double().numpy().reshape(self.shape)
            if np.isfinite(image).all():
                psnr = quality(self.reference, image, self.data_range, ssim=False)["psnr"]
            else:
                psnr = float("nan")
            lanes.append({"method": lane["method"], "step": lane["step"],
                          "distance": lane["distance"] if math.isfinite(lane["distance"])
                          else None,
                          "psnr": min(psnr, 200.0) if math.isfinite(psnr) else None,
                          "done": lane["done"], "note": lane["note"],
                          "image": b64(_to_bytes(np.nan_to_num(image), self.ref_range))})
        self.channel.put_frame("race", json.dumps({"type": "race_frame",
                                                   "running": self.running, "lanes": lanes}))


def _to_bytes(image, lo_hi):
    lo, hi = lo_hi
    return np.clip((image - lo) / (hi - lo) * 255.0 + 0.5, 0, 255)
