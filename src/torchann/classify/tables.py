"""3.3 A user's own table: reading a CSV, choosing features and labels, splitting, scaling.

:func:`read_csv` reads a UTF-8 CSV with a header row; :func:`load_labelled_csv` picks the
feature columns and the label, checks them (numbers only, nothing missing, exactly two label
values) and maps the label's two values to 0/1. :func:`stratified_split` and
:class:`Standardizer` prepare the data for training; :func:`feature_matrix` takes the
feature columns of a CSV for prediction.
"""


from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from torchann.errors import TorchannError

_MISSING = {"", "na", "n/a", "nan", "null", "none", "?"}

# --------------------------------------------------------------------------- CSV


@dataclass
class CsvTable:
    """A CSV file as text: its header, its rows (lists of stripped strings), their line numbers."""

    path: str
    header: list
    rows: list
    lines: list = field(default_factory=list)

    def column(self, name):
        """The values of column ``name`` as a list of strings."""
        j = self.header.index(name)
        return [row[j] for row in self.rows]


def read_csv(path) -> CsvTable:
    """Read a UTF-8 CSV with a header row.

    Raises
    ------
    TorchannError
        Missing file, not UTF-8, empty, header only, duplicate or empty column names, or rows
        with a different number of fields than the header.
    """
    path = Path(path)
    if not path.is_file():
        raise TorchannError(f"{path}: no such file; check the path")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise TorchannError(f"{path}: not UTF-8 text (byte {err.start}); save the CSV as "
                            "UTF-8") from None
    except OSError as err:
        raise TorchannError(f"{path}: cannot read it ({err.strerror})") from None
    try:
        lines = [row for row in csv.reader(io.StringIO(text))]
    except csv.Error as err:
        raise TorchannError(f"{path}: not a readable CSV ({err})") from None
    numbered = [(i + 1, [v.strip() for v in row]) for i, row in enumerate(lines)
                if any(v.strip() for v in row)]
    if not numbered:
        raise TorchannError(f"{path}: the file is empty; expected a header row and data rows")
    header = numbered[0][1]
    if any(not name for name in header):
        raise TorchannError(f"{path}: the header has an empty column name (column "
                            f"{header.index('') + 1}); name every column")
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise TorchannError(f"{path}: duplicate column names {', '.join(dupes)}; "
                            "give every column its own name")
    if len(numbered) == 1:
        raise TorchannError(f"{path}: only a header row, no data rows")
    rows = []
    for line, row in numbered[1:]:
        if len(row) != len(header):
            raise TorchannError(f"{path}: line {line} has {len(row)} fields but the header has "
                                f"{len(header)}; fix that row")
        rows.append(row)
    return CsvTable(str(path), header, rows, [line for line, _ in numbered[1:]])


def _parse(table, name, value, row):
    line = table.lines[row]
    if value.lower() in _MISSING:
        raise TorchannError(f"{table.path}: line {line}, column {name!r}: missing value; "
                            "fill it in or drop the row")
    try:
        number = float(value)
    except ValueError:
        raise TorchannError(f"{table.path}: line {line}, column {name!r}: {value!r} is not a "
                            "number") from None
    if not math.isfinite(number):
        raise TorchannError(f"{table.path}: line {line}, column {name!r}: {value!r} is not a "
                            "finite number")
    return number


def _is_number(value):
    try:
        float(value)
    except ValueError:
        return False
    return True


def feature_matrix(table, names) -> np.ndarray:
    """The columns ``names`` of ``table`` as a float64 matrix; every value must be a number.

    Raises
    ------
    TorchannError
        A missing column (the available ones are listed), a missing or non-numeric value (the
        line and column are named).
    """
    absent = [n for n in names if n not in table.header]
    if absent:
        raise TorchannError(f"{table.path}: no column {', '.join(map(repr, absent))}; the "
                            f"columns are {', '.join(table.header)}")
    cols = [table.header.index(n) for n in names]
    return np.array([[_parse(table, table.header[j], row[j], i) for j in cols]
                     for i, row in enumerate(table.rows)], dtype=np.float64)


@dataclass
class LabelledData:
    """Features and 0/1 labels read from a CSV by :func:`load_labelled_csv`.

    Attributes
    ----------
    x : ndarray of float64, shape (N, F)
    y : ndarray of float32, shape (N,)
    features : list of str
    label : str
        The label column's name.
    label_map : dict
        ``{original value (str): 0 or 1}``.
    skipped : list of str
        Text columns left out because none of their values is a number.
    """

    x: np.ndarray
    y: np.ndarray
    features: list
    label: str
    label_map: dict
    skipped: list = field(default_factory=list)


def _label_order(values):
    if all(_is_number(v) for v in values):
        return sorted(values, key=float)
    return sorted(values)


def load_labelled_csv(path, label, features=None) -> LabelledData:
    """Read a CSV for training: the ``label`` column and the feature columns.

    Parameters
    ----------
    path : str or Path
    label : str
        Name of the label column; it must take exactly two distinct values. The smaller
        (numerically when both are numbers, else alphabetically) becomes 0, the other 1.
    features : list of str, optional
        Feature columns. Default: every other column that holds numbers; a column none of
        whose values is a number is skipped (reported in ``skipped``).

    Raises
    ------
    TorchannError
        Any problem :func:`read_csv` or :func:`feature_matrix` finds, a missing label column,
        a missing label value, or a label with other than two classes.
    """
    table = read_csv(path)
    if label not in table.header:
        raise TorchannError(f"{table.path}: no label column {label!r}; the columns are "
                            f"{', '.join(table.header)}; choose one with --label")
    raw = table.column(label)
    for i, value in enumerate(raw):
        if value.lower() in _MISSING:
            raise TorchannError(f"{table.path}: line {table.lines[i]}, column {label!r}: "
                                "missing label; fill it in or drop the row")
    classes = _label_order(sorted(set(raw)))
    if len(classes) != 2:
        shown = ", ".join(map(repr, classes[:10])) + (", ..." if len(classes) > 10 else "")
        raise TorchannError(f"{table.path}: the label {label!r} has {len(classes)} distinct "
                            f"value{'s' if len(classes) != 1 else ''} ({shown}); a binary "
                            "classifier needs exactly two")
    skipped = []
    if features is None:
        features = []
        for name in table.header:
            if name == label:
                continue
            if any(_is_number(v) for v in table.column(name)):
                features.append(name)
            else:
                skipped.append(name)
        if not features:
            raise TorchannError(f"{table.path}: no numeric column besides the label {label!r}; "
                                "a classifier needs at least one feature")
    else:
        if label in features:
            raise TorchannError(f"--features names the label column {label!r}; leave it out")
        dupes = sorted({f for f in features if features.count(f) > 1})
        if dupes:
            raise TorchannError(f"--features names {', '.join(dupes)} more than once")
    x = feature_matrix(table, features)
    mapping = {classes[0]: 0, classes[1]: 1}
    y = np.array([mapping[v] for v in raw], dtype=np.float32)
    return LabelledData(x, y, list(features), label, mapping, skipped)


def stratified_split(x, y, test_size=0.2, random_state=None):
    """Split into train and test sets with the same label proportions (sklearn).

    Raises
    ------
    TorchannError
        When ``test_size`` is not in (0, 1), or there are too few rows: each split needs at
        least one row of each label.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise TorchannError(f"--test-size {test_size}: must be between 0 and 1")
    n = len(y)
    counts = np.unique(y, return_counts=True)[1]
    n_test = math.ceil(test_size * n)
    if counts.min() < 2 or n_test < 2 or n - n_test < 2:
        raise TorchannError(f"too few rows to split: {n} rows, {counts.min()} in the smaller "
                            f"class, test size {test_size}; each split needs both labels, so "
                            "give at least 2 rows of each label and a --test-size that leaves "
                            "2 or more rows on each side")
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=random_state)
    return x_train, x_test, y_train, y_test


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
