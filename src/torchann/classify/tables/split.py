"""Splitting rows into training and test sets, and the chapter-era standardizer.

:func:`stratified_split` (scikit-learn, label proportions kept) serves tables read into
memory. :func:`hash_split` decides each row by a hash of its row number and the seed, so a file
read in batches is split the same way on every pass without keeping a copy of either side.
:class:`Standardizer` is the mean/scale pair older ``model.json`` files carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from torchann.errors import TorchannError

_MASK = (1 << 64) - 1


def check_test_size(test_size) -> None:
    if not (isinstance(test_size, (int, float)) and 0 < test_size < 1):
        raise TorchannError(key="value.between_0_1", name="test_size", value=test_size)


def stratified_split(x, y, test_size=0.2, random_state=None):
    """Split into train and test sets with the same label proportions (sklearn).

    Raises
    ------
    TorchannError
        When ``test_size`` is not in (0, 1), or there are too few rows: each split needs at
        least one row of each label.
    """
    from sklearn.model_selection import train_test_split

    check_test_size(test_size)
    n = len(y)
    counts = np.unique(y, return_counts=True)[1]
    n_test = math.ceil(test_size * n)
    if counts.min() < 2 or n_test < 2 or n - n_test < 2:
        raise TorchannError(f"too few rows to split: {n} rows, {counts.min()} in the smaller "
                            f"class, test size {test_size}; each split needs both labels, so "
                            "give at least 2 rows of each label and a `test_size` that leaves "
                            "2 or more rows on each side")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=random_state)
    return x_train, x_test, y_train, y_test


def row_hash(rows, seed=0) -> np.ndarray:
    """A uniform number in [0, 1) for each row number, from the splitmix64 mix of the row
    number and ``seed``: the same row and seed always give the same number."""
    z = (np.asarray(rows, dtype=np.uint64)
         + np.uint64((0x9E3779B97F4A7C15 * (int(seed) + 1)) & _MASK))
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def hash_split(start, stop, test_size=0.2, seed=0) -> np.ndarray:
    """Whether each row ``start .. stop-1`` is a test row: ``row_hash(row, seed) < test_size``.

    The test split holds about ``test_size`` of the rows; which ones depends only on the row
    numbers and the seed, so every pass over a file agrees without remembering them.
    """
    check_test_size(test_size)
    return row_hash(np.arange(start, stop, dtype=np.uint64), seed) < test_size


@dataclass
class Standardizer:
    """Feature standardization ``(x - mean) / scale`` with statistics of the training split.

    Fitted with sklearn's StandardScaler (a constant column gets scale 1).
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x):
        """Learn mean and scale from ``x`` (the training split only)."""
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(np.asarray(x, dtype=np.float64))
        return cls(scaler.mean_.copy(), scaler.scale_.copy())

    def transform(self, x):
        """Standardize ``x``; returns float32 for the model."""
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale).astype(np.float32)

    def to_json(self):
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}
