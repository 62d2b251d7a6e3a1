"""3.3 playground: the training loop of one page, in a worker thread.

Torch never runs on the event loop. A :class:`Worker` owns a thread that waits on a
:class:`threading.Event` while paused (idle, no polling), takes commands from a queue, and
publishes frames to a :class:`Channel`. The channel keeps only the latest frame of each kind,
so a page slower than the training sees fewer frames, never a backlog; replies such as the
code, an export or an error are queued and never dropped.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import queue
import threading
import time
import traceback
from collections import deque
from dataclasses import replace

import numpy as np
import torch

from torchann.errors import TorchannError
from torchann.playground import code as pcode
from torchann.playground.datasets import DOMAIN, load_csv, make_dataset, read_points
from torchann.playground.messages import PageError, as_message

#: Heatmap resolution (cells per side); the per-neuron maps take every other cell, or every
#: fourth when the network has more than :data:`FINE_NEURONS` neurons (smaller frames).
GRID = 64
NEURON_STEP = 2
FINE_NEURONS = 32
#: At most this many frames per second while training.
FPS = 30.0
#: A frame's training stops after this many seconds even if ``speed`` epochs are not done.
FRAME_BUDGET = 0.05
#: Training is stuck (saturated) when its loss stays above this many times a blind guess's
#: for :data:`STUCK_EPOCHS` epochs in a row.
STUCK_FACTOR = 4.0
STUCK_EPOCHS = 50


def warm_up() -> None:
    """Do once what the first page needs, so that its first frame does not wait seconds for
    imports: scikit-learn's make_blobs, scikit-image's metrics for the race, and one epoch of
    the chapter's network (the first optimizer step imports parts of torch)."""
    import skimage.metrics  # noqa: F401

    cfg = pcode.Config()
    x_train, y_train, _, _ = (torch.from_numpy(a) for a in make_dataset())
    pcode.make_trainer(cfg, pcode.build_model(cfg), x_train, y_train).epoch()


def b64(array) -> str:
    """Base64 of a uint8 array's bytes."""
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.uint8).tobytes()).decode()


class Channel:
    """What the worker threads hand to the page's socket: queued replies, latest frames.

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
        The server's loop; :meth:`put_frame` and :meth:`put_message` may be called from any
        thread and wake it.
    """

    def __init__(self, loop):
        self.loop = loop
        self.lock = threading.Lock()
        self.messages = deque()
        self.frames = {}
        self.ready = asyncio.Event()
        self.dropped = 0

    def _wake(self):
        try:
            self.loop.call_soon_threadsafe(self.ready.set)
        except RuntimeError:  # the server has stopped; nobody is listening any more
            pass

    def put_message(self, obj) -> None:
        """Queue a reply (JSON-serialisable); replies are never dropped."""
        text = obj if isinstance(obj, str) else json.dumps(obj)
        with self.lock:
            self.messages.append(text)
        self._wake()

    def put_frame(self, kind: str, text: str) -> None:
        """Replace the pending frame of ``kind``; an unsent older one is dropped."""
        with self.lock:
            if kind in self.frames:
                self.dropped += 1
            self.frames[kind] = text
        self._wake()

    def error(self, err: BaseException) -> None:
        """Queue an error for the page (:func:`~torchann.playground.messages.as_message`)."""
        self.put_message(as_message(err))

    async def take(self) -> list:
        """Wait for something to send; return the replies, then the latest frames."""
        await self.ready.wait()
        self.ready.clear()
        with self.lock:
            out = list(self.messages) + list(self.frames.values())
            self.messages.clear()
            self.frames.clear()
        return out


class Worker:
    """A thread that runs commands and, while running, ticks; paused, it blocks on an Event."""

    def __init__(self, channel: Channel, name: str):
        self.channel = channel
        self.commands = queue.SimpleQueue()
        self.wake = threading.Event()
        self.running = False
        self.closed = False
        self.wakeups = 0  # loop iterations: while paused, it stays put
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def send(self, command: str, *args) -> None:
        """Queue a command for the worker thread."""
        self.commands.put((command, args))
        self.wake.set()

    def close(self) -> None:
        """Stop the thread soon (it finishes the current tick first)."""
        self.send("close")

    def _loop(self):
        while not self.closed:
            self.wakeups += 1
            while True:
                try:
                    command, args = self.commands.get_nowait()
                except queue.Empty:
                    break
                if command == "close":
                    self.closed = True
                    return
                self._guarded(getattr(self, "do_" + command), *args)
            if self.running:
                start = time.perf_counter()
                if not self._guarded(self.tick):
                    self._guarded(self.publish)
                self.wake.wait(max(0.0, 1.0 / FPS - (time.perf_counter() - start)))
            else:
                self.wake.wait()
            self.wake.clear()

    def _guarded(self, call, *args) -> bool:
        """Run ``call``; on any error stop training, tell the page, and stay usable.

        A user's mistake is the page's message; anything else is a bug, whose traceback goes
        to the server's log, while the page is told what failed and that reset starts over.
        Either way the thread lives on: reset, new settings and play still work.
        """
        try:
            call(*args)
            return True
        except TorchannError as err:
            if getattr(err, "version", None) is None:  # refused settings change nothing
                self.running = False
            self.channel.error(err)
        except Exception as err:  # noqa: BLE001 - the session must outlive a bug
            self.running = False
            traceback.print_exc()
            self.channel.error(PageError("bug", kind=type(err).__name__,
                                         message=str(err)[:200]))
        return False

    def do_play(self):
        self.running = True

    def do_pause(self):
        self.running = False
        self.publish()

    def tick(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def publish(self):  # pragma: no cover - overridden
        raise NotImplementedError


class TrainingSession(Worker):
    """The 3.3 tab of one page: data, network, optimizer, the loop and its frames."""

    def __init__(self, channel: Channel):
        super().__init__(channel, "playground-train")
        self.cfg = None
        self.csv = None  # (bytes, name) of the last uploaded CSV
        self.version = 0
        self.model = None
        self.epoch = 0

    # -- commands ---------------------------------------------------------------------

    def do_config(self, cfg: pcode.Config, version: int = 0):
        """Apply new settings: new data and a fresh network, epoch 0.

        Refused settings leave the session as it was, and the error names ``version`` so
        that the page can put its controls back to the settings still in force.
        """
        try:
            if cfg.dataset == "csv" and self.csv is None:
                raise PageError("csv_first")
            if self.cfg is not None and replace(cfg, speed=self.cfg.speed) == self.cfg:
                self.version, self.cfg = version, cfg  # only the pace changed: keep going
                self.publish()
                return
            self.setup(cfg, version)
        except TorchannError as err:
            err.version = version
            raise

    def do_csv(self, data: bytes, name: str, cfg: pcode.Config, version: int = 0):
        try:
            load_csv(data)  # refuse a bad file before forgetting the good one
        except TorchannError as err:
            err.version = version
            raise
        self.csv = (data, name)
        self.do_config(cfg, version)

    def do_play(self):
        """Play once settings have been accepted; before that there is nothing to train."""
        self.running = self.model is not None

    def do_step(self):
        self.running = False
        if self.model is not None:
            self.train(1)
            self.publish()

    def do_reset(self):
        if self.cfg is not None:
            self.setup(self.cfg)

    def do_export(self):
        if self.model is None:
            raise PageError("nothing_to_export")
        from torchann.playground.export import export_model

        pt, info = export_model(self.cfg, self.model, self.epoch, self.code,
                                self.csv[0] if self.csv else None, self.task)
        self.channel.put_message({"type": "export", "pt": base64.b64encode(pt).decode(),
                                  "json": json.dumps(info, indent=2, ensure_ascii=False)})

    # -- the loop -----------------------------------------------------------------------

    def setup(self, cfg: pcode.Config, version: int | None = None):
        """Draw the data and build the network, optimizer and loss of ``cfg``; the session
        changes only once all of them are made.

        The task (:class:`torchann.classify.tasks.Task`) follows the data: the chapter's
        binary classification, ``multiclass`` for three or more classes (softmax scores,
        CrossEntropyLoss), ``regression`` for the plane and multi-Gaussian sets (MSELoss).
        """
        from torchann.classify.tasks import Task

        if cfg.dataset == "csv":
            data = load_csv(self.csv[0], ratio=cfg.ratio, seed=cfg.seed)
            classes = read_points(self.csv[0])[2]
        else:
            data = make_dataset(cfg.dataset, n=cfg.n, noise=cfg.noise, ratio=cfg.ratio,
                                seed=cfg.seed)
            classes = ["0", "1", "2"] if cfg.dataset == "three" else ["0", "1"]
        kind = pcode.task_kind(cfg, len(classes))
        task = (Task(kind, None, 0.0, 1.0) if kind == "regression"  # the label as it is
                else Task(kind, classes))
        raw_train, y_train, raw_test, y_test = (torch.from_numpy(a) for a in data)
        x_train = pcode.features(cfg, raw_train)
        model = pcode.build_model(cfg, kind, task.n_out)
        trainer = pcode.make_trainer(cfg, model, x_train, y_train, task)
        if version is not None:
            self.version = version
        self.cfg, self.task, self.model, self.trainer = cfg, task, model, trainer
        self.x_train, self.x_test = trainer.x, pcode.features(cfg, raw_test)
        self.y_train = trainer.y
        self.y_test = y_test.long() if kind == "multiclass" else y_test
        self.criterion = trainer.loss_fn
        self.baseline = _blind_loss(task, self.y_train)
        self.epoch, self.stuck = 0, 0
        axis = torch.linspace(-DOMAIN, DOMAIN, GRID)
        gy, gx = torch.meshgrid(axis.flip(0), axis, indexing="ij")  # row 0 is the top
        raw_grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1)
        self.grid = pcode.features(cfg, raw_grid)
        self.step = NEURON_STEP if sum(cfg.layers) <= FINE_NEURONS else 2 * NEURON_STEP
        csv_name = self.csv[1] if self.csv and cfg.dataset == "csv" else "data.csv"
        self.code = pcode.render_code(cfg, csv_name=csv_name, n_classes=len(classes))
        inputs = [_normalized(self.grid[:, i]) for i in range(self.grid.shape[1])]
        self.channel.put_message({
            "type": "setup", "version": self.version, "config": cfg.to_dict(),
            "code": self.code, "chapter": cfg.chapter_shape and kind == "binary",
            "domain": DOMAIN, "task": kind, "classes": task.classes,
            "train": _points(raw_train, y_train), "test": _points(raw_test, y_test),
            "features": cfg.features, "layers": cfg.layers,
            "inputs": [b64(m) for m in inputs], "grid": GRID // self.step,
        })
        self.publish()

    def train(self, epochs: int):
        """Run up to ``epochs`` epochs (stopping early past :data:`FRAME_BUDGET`)."""
        start = time.perf_counter()
        for _ in range(epochs):
            try:
                loss = self.trainer.epoch()
            except RuntimeError:  # BCELoss refuses NaN probabilities: the weights are gone
                loss = math.nan
            self.epoch += 1
            self.check_health(loss)
            if time.perf_counter() - start > FRAME_BUDGET or not self.commands.empty():
                break  # a frame is due, or the page asked for something: answer it first

    def check_health(self, loss: float) -> None:
        """Stop with an explanation when the loss is no longer a number (diverged) or has
        stayed far above a blind guess's (:data:`STUCK_FACTOR`, saturated outputs)."""
        finite = math.isfinite(loss)
        self.stuck = self.stuck + 1 if finite and loss > STUCK_FACTOR * self.baseline else 0
        if finite and self.stuck < STUCK_EPOCHS:
            return
        cfg = self.cfg
        values = {"epoch": self.epoch, "lr": f"{cfg.lr:g}", "opt": pcode.OPTIMIZERS[cfg.opt],
                  "suggest": f"{pcode.suggest_lr(cfg.opt, cfg.lr):g}"}
        if not finite:
            if cfg.reg != "none" and cfg.lr * cfg.rate >= 1.0:
                raise PageError("diverged_reg", epoch=self.epoch, lr=values["lr"],
                                rate=f"{cfg.rate:g}", suggest=f"{pcode.suggest_rate(cfg.lr):g}")
            raise PageError("diverged", **values)
        raise PageError("saturated", loss=f"{loss:.4g}", baseline=f"{self.baseline:.4g}",
                        **values)

    def tick(self):
        self.train(self.cfg.speed)
        self.publish()

    def publish(self):
        """Put the current frame (losses, heatmaps, weights) in the channel's slot."""
        if self.model is None:
            return
        self.channel.put_frame("frame", json.dumps(self.frame()))

    def frame(self) -> dict:
        """Everything the page draws for the network as it is now.

        ``heat`` is the output over the plane as bytes: P(class 1) times 255 (binary), the
        output from -1 to 1 (regression), or the winning class's probability (multiclass,
        with that class's index in ``heat_class``). Numbers that are no longer finite are
        sent as ``null``.
        """
        model, kind = self.model, self.task.kind
        model.eval()
        out = {}
        with torch.no_grad():
            outs = model.layer_outputs(self.grid)
            if kind == "multiclass":
                prob, best = torch.softmax(outs[-1], 1).max(1)
                out["heat_class"] = b64(best.numpy())
            elif kind == "regression":
                prob = (outs[-1].squeeze(1).clamp(-1.0, 1.0) + 1.0) / 2.0
            else:
                prob = torch.sigmoid(outs[-1]).squeeze(1)
            heat = torch.nan_to_num(prob, nan=0.5).reshape(GRID, GRID)
            neurons = []
            for layer in outs[:-1]:
                maps = layer.reshape(GRID, GRID, -1)[::self.step, ::self.step]
                neurons += [b64(_normalized(maps[..., j])) for j in range(maps.shape[-1])]
            for name, x, y in (("train", self.x_train, self.y_train),
                               ("test", self.x_test, self.y_test)):
                p = model(x).squeeze(1)
                finite = bool(torch.isfinite(p).all())  # BCELoss refuses NaN outright
                out[name + "_loss"] = _finite(self.criterion(p, y)) if finite else None
                hits = None if kind == "regression" else (
                    p.argmax(1) == y if kind == "multiclass" else (p >= 0.5).float() == y)
                out[name + "_acc"] = None if hits is None else _finite(hits.float().mean())
            linears = model.linear_layers()
            weights = [_rounded(layer.weight) for layer in linears]
            biases = [_rounded(layer.bias) for layer in linears]
        return {"type": "frame", "version": self.version, "epoch": self.epoch,
                "running": self.running, **out, "heat": b64(heat.numpy() * 255.0 + 0.5),
                "neurons": neurons, "weights": weights, "biases": biases,
                "time": time.time()}


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _rounded(tensor):
    """A parameter as nested lists of 4-decimal floats, non-finite values as 0."""
    return np.round(np.nan_to_num(tensor.numpy(), nan=0.0, posinf=0.0, neginf=0.0),
                    4).tolist()


def _blind_loss(task, y):
    """The loss of a prediction that ignores the inputs: ln 2, ln K, or the variance."""
    if task.kind == "regression":
        return max(float(y.var(unbiased=False)), 1e-6)
    return task.baseline_loss


def _normalized(values):
    """Map values to 0..255 with 127.5 at zero, scaled by their largest magnitude."""
    values = values.detach().numpy() if isinstance(values, torch.Tensor) else values
    peak = float(np.abs(values).max()) or 1.0
    return values / peak * 127.5 + 127.5


def _points(x, y):
    return [[round(float(a), 4), round(float(b), 4), round(float(c), 4)] for (a, b), c in
            zip(x.tolist(), y.tolist())]
