"""3.3 playground data: the chapter's XOR blobs, circle, Gaussians, spiral, three classes,
TF Playground's two regression sets (plane, multi-Gaussian), or a CSV upload.

Every dataset is two features in about [-2, 2] and a label, split into training and test
points: class indices 0, 1 (2, ...) for classification, a number in about [-1, 1] for the
regression sets. The default is the chapter's own data
(:func:`torchann.classify.chapter.chapter_data`: 80 training and 20 test points,
``cluster_std`` 0.3).
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from torchann.playground.messages import PageError

#: Names of the built-in datasets, the chapter's first.
DATASETS = ("xor", "circle", "gauss", "spiral", "three", "plane", "mgauss")
#: Every point lies in [-DOMAIN, DOMAIN]^2 (a CSV is scaled into [-2, 2]).
DOMAIN = 2.5
#: The largest CSV accepted, in bytes, and its most rows.
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 5_000
#: The most classes a CSV's label column may hold.
MAX_CSV_CLASSES = 6


def _split(x, y, ratio, rng):
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    n_train = min(max(int(round(len(x) * ratio)), 1), len(x) - 1)
    return (x[:n_train].astype(np.float32), y[:n_train].astype(np.float32),
            x[n_train:].astype(np.float32), y[n_train:].astype(np.float32))


def _circle(n, noise, rng):
    n_in = n // 2
    radius = np.concatenate([rng.uniform(0.0, 1.0, n_in), rng.uniform(1.4, 2.0, n - n_in)])
    angle = rng.uniform(0.0, 2 * math.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1)
    y = np.concatenate([np.ones(n_in), np.zeros(n - n_in)])
    return x + rng.normal(0.0, noise * 0.3, x.shape), y


def _gauss(n, noise, rng):
    n_one = n // 2
    centers = np.concatenate([np.tile([1.0, 1.0], (n_one, 1)), np.tile([-1.0, -1.0],
                                                                        (n - n_one, 1))])
    y = np.concatenate([np.ones(n_one), np.zeros(n - n_one)])
    return centers + rng.normal(0.0, max(noise, 1e-3), centers.shape), y


def _spiral(n, noise, rng):
    half = n // 2
    xs, ys = [], []
    for label, count, delta in ((1, half, 0.0), (0, n - half, math.pi)):
        t = np.arange(count) / max(count, 1)
        radius = 1.9 * t
        angle = 1.75 * t * 2 * math.pi + delta
        pts = np.stack([radius * np.sin(angle), radius * np.cos(angle)], 1)
        xs.append(pts + rng.normal(0.0, noise * 0.3, pts.shape))
        ys.append(np.full(count, label))
    return np.concatenate(xs), np.concatenate(ys)


def _three(n, noise, rng):
    """Three Gaussian blobs, classes 0, 1, 2, at 90, 210 and 330 degrees."""
    y = np.arange(n) % 3
    angle = math.pi / 2 + y * 2 * math.pi / 3
    centers = 1.2 * np.stack([np.cos(angle), np.sin(angle)], 1)
    return centers + rng.normal(0.0, max(noise, 1e-3), centers.shape), y


def _plane(n, noise, rng):
    """TF Playground's regression plane, scaled from its [-6, 6] to [-2, 2]: the label is
    ``0.3 (x1 + x2)`` of the point moved by up to ``noise`` in each coordinate."""
    x = rng.uniform(-2.0, 2.0, (n, 2))
    moved = x + rng.uniform(-1.0, 1.0, x.shape) * noise
    return x, 0.3 * moved.sum(1)


#: TF Playground's six Gaussians of the multi-Gaussian regression set, scaled to [-2, 2]:
#: (x1, x2, sign).
_BUMPS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def _mgauss(n, noise, rng):
    """TF Playground's multi-Gaussian regression set: the label is the signed bump
    ``sign * max(0, 1 - distance / (2/3))`` of the strongest centre."""
    x = rng.uniform(-2.0, 2.0, (n, 2))
    moved = x + rng.uniform(-1.0, 1.0, x.shape) * noise
    bumps = np.asarray(_BUMPS, dtype=np.float64) * [1 / 3, 1 / 3, 1]
    dist = np.linalg.norm(moved[:, None, :] - bumps[None, :, :2], axis=2)
    values = bumps[None, :, 2] * np.clip(1.0 - dist * 1.5, 0.0, None)
    return x, values[np.arange(n), np.abs(values).argmax(1)]


_MAKERS = {"circle": _circle, "gauss": _gauss, "spiral": _spiral, "three": _three,
           "plane": _plane, "mgauss": _mgauss}


def make_dataset(name="xor", n=100, noise=0.3, ratio=0.8, seed=0):
    """Draw a built-in dataset and split it into training and test points.

    Parameters
    ----------
    name : {'xor', 'circle', 'gauss', 'spiral', 'three', 'plane', 'mgauss'}
        ``xor`` is the chapter's four blobs (:func:`torchann.classify.chapter.chapter_data`,
        training and test drawn separately); the others are drawn once and split.
    n : int
        Points in all (the chapter: 100, 80 of them for training).
    noise : float
        The blobs' ``cluster_std`` for ``xor`` and ``gauss`` (the chapter: 0.3); for
        ``circle`` and ``spiral`` the jitter is ``0.3 * noise``.
    ratio : float
        Fraction of the points used for training.
    seed : int

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray of float32
        Points of shape ``(N, 2)`` and labels of shape ``(N,)``: 0/1, 0/1/2 for ``three``,
        numbers for ``plane`` and ``mgauss``.
    """
    if name == "xor":
        from torchann.classify.chapter import chapter_data

        n_train = min(max(int(round(n * ratio)), 1), n - 1)
        return chapter_data(seed=seed, n_train=n_train, n_test=n - n_train,
                            cluster_std=max(float(noise), 1e-3))
    if name not in _MAKERS:
        raise PageError("setting_choice", name="dataset", value=repr(str(name)[:40]),
                        allowed=", ".join(DATASETS))
    rng = np.random.default_rng(seed)
    x, y = _MAKERS[name](n, float(noise), rng)
    return _split(np.clip(x, -DOMAIN, DOMAIN), y, ratio, rng)


def read_points(data: bytes):
    """Read a 2-feature CSV (``x1,x2,label``, header optional) as it is, unscaled.

    Parameters
    ----------
    data : bytes
        The file's contents (at most :data:`MAX_CSV_BYTES`).

    Returns
    -------
    x : ndarray of float64, shape (N, 2)
        The two feature columns.
    y : ndarray of float64, shape (N,)
        Class indices 0, 1, ...: the label column must hold 2 to :data:`MAX_CSV_CLASSES`
        distinct values, numbers in their order (or text in its), the first becoming 0.
    classes : list of str
        The label values, as written in the file, for 0, 1, ...
    header : list of str or None
        The three column names, when the file has a header.
    """
    if len(data) > MAX_CSV_BYTES:
        raise PageError("csv_size", size=f"{len(data):,}", most=f"{MAX_CSV_BYTES:,}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PageError("csv_encoding") from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delimiter)
                if any(c.strip() for c in r)]
    except csv.Error as err:  # e.g. a stray quote: the rest of the file is one huge field
        raise PageError("csv_syntax", detail=str(err)[:80]) from None
    header = None
    if rows and not _is_number(rows[0][0] if rows[0] else ""):
        header, rows = [c.strip() for c in rows[0]], rows[1:]
    if len(rows) > MAX_CSV_ROWS:
        raise PageError("csv_many_rows", rows=f"{len(rows):,}", most=f"{MAX_CSV_ROWS:,}")
    if len(rows) < 4:
        raise PageError("csv_few_rows")
    feats, labels = [], []
    for i, row in enumerate(rows, 1):
        if len(row) != 3:
            raise PageError("csv_fields", row=i, fields=len(row))
        try:
            a, b = float(row[0]), float(row[1])
        except ValueError:
            raise PageError("csv_numbers", row=i, a=repr(row[0][:20]),
                            b=repr(row[1][:20])) from None
        if not (math.isfinite(a) and math.isfinite(b)):
            raise PageError("csv_finite", row=i)
        feats.append((a, b))
        labels.append(row[2].strip())
    values = sorted(set(labels), key=lambda v: (not _is_number(v), float(v) if _is_number(v)
                                                 else 0.0, v))
    if not 2 <= len(values) <= MAX_CSV_CLASSES:
        raise PageError("csv_labels", count=len(values), most=MAX_CSV_CLASSES)
    y = np.asarray([values.index(v) for v in labels], dtype=np.float64)
    if header is not None and len(header) != 3:
        header = None
    return np.asarray(feats, dtype=np.float64), y, values, header


def csv_scaling(x):
    """``(lo, width)`` of each column: a CSV's features are scaled by
    ``(x - lo) / width * 4 - 2`` into [-2, 2] (a constant column: width 1)."""
    lo, hi = x.min(0), x.max(0)
    return lo, np.where(hi > lo, hi - lo, 1.0)


def load_csv(data: bytes, ratio=0.8, seed=0):
    """Read a 2-feature CSV (``x1,x2,label``, header optional), scale it and split it.

    The two feature columns are scaled linearly into [-2, 2] (:func:`csv_scaling`); the
    label column's values become class indices (:func:`read_points`).

    Parameters
    ----------
    data : bytes
        The file's contents (at most :data:`MAX_CSV_BYTES`).
    ratio : float
        Fraction of the rows used for training.
    seed : int
        Seeds the shuffle before the split.

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray of float32
    """
    x, y, _, _ = read_points(data)
    lo, width = csv_scaling(x)
    x = (x - lo) / width * 4.0 - 2.0
    return _split(x, y, ratio, np.random.default_rng(seed))


def csv_model_info(data: bytes):
    """What a model trained on this CSV needs in its ``model.json`` to predict from the raw
    file as the page does: the scaling as a standardization (``(x - mean) / scale`` with
    ``mean = lo + width / 2`` and ``scale = width / 4``), the label mapping
    ``{label value: class index}``, and the column names when the file has a header."""
    x, _, classes, header = read_points(data)
    lo, width = csv_scaling(x)
    info = {"standardize": {"mean": (lo + width / 2).tolist(), "scale": (width / 4).tolist()},
            "label_map": {value: i for i, value in enumerate(classes)}}
    if header is not None:
        info.update(features=header[:2], label=header[2])
    return info


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
