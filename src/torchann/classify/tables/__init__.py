"""3.3 A user's own table: reading it, choosing features and labels, encoding, splitting.

Files are read by :mod:`torchann.io.tables` (pyarrow, CSV or Parquet). Here:

- :mod:`~torchann.classify.tables.columns`: one column's kind and values, problems that name
  the line;
- :mod:`~torchann.classify.tables.labels`: the label column's raw values, the binary mapping,
  label statistics for files read in batches;
- :mod:`~torchann.classify.tables.encoder`: :class:`FeatureEncoder`, numbers standardized,
  gaps imputed with an indicator, text categories one-hot, the rest skipped with a reason;
- :mod:`~torchann.classify.tables.split`: stratified and hash splits, :class:`Standardizer`.

:func:`read_training_table` is how every reader of a user's table starts
(:func:`~torchann.classify.dataset.load_in_memory` for training, :func:`load_labelled_csv`, the
older one-call interface for a binary label); :func:`feature_matrix` reads a model's plain
numeric features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from torchann.classify.tables.columns import ValueProblem, as_float, is_numeric_type
from torchann.classify.tables.encoder import MAX_CATEGORIES, MEDIAN_SAMPLE, FeatureEncoder
from torchann.classify.tables.labels import (
    LabelStats,
    binary_label_map,
    check_label_column,
    label_names,
    label_values,
    map_labels,
)
from torchann.classify.tables.split import (
    Standardizer,
    hash_split,
    row_hash,
    stratified_split,
)
from torchann.errors import TorchannError

__all__ = [
    "MAX_CATEGORIES", "MEDIAN_SAMPLE", "CsvTable", "FeatureEncoder", "LabelStats",
    "LabelledData", "Standardizer", "ValueProblem", "binary_label_map", "check_label_column",
    "feature_matrix", "hash_split", "label_names", "label_values", "load_labelled_csv",
    "map_labels", "read_csv", "read_labelled", "read_training_table", "row_hash",
    "stratified_split",
]


@dataclass
class CsvTable:
    """A table read by :func:`read_csv`: its path and the :class:`pyarrow.Table`."""

    path: str
    table: object

    @property
    def header(self) -> list:
        return list(self.table.column_names)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def column(self, name):
        """The values of column ``name`` as a list (missing values are ``None``)."""
        return self.table.column(name).to_pylist()


def read_csv(path) -> CsvTable:
    """Read a CSV or Parquet file (:func:`torchann.io.tables.read_table`)."""
    from torchann.io.tables import read_table

    return CsvTable(str(path), read_table(path))


def feature_matrix(table, names) -> np.ndarray:
    """The columns ``names`` of ``table`` as a float64 matrix; every value must be a number.

    For a model without a feature encoder (the chapter's). ``table`` is a :class:`CsvTable`.

    Raises
    ------
    TorchannError
        A missing column (the available ones are listed), a missing, infinite or non-numeric
        value (the line and column are named).
    """
    from torchann.classify.tables.columns import check_finite, numbers_in_text

    absent = [n for n in names if n not in table.header]
    if absent:
        raise TorchannError(f"{table.path}: no column {', '.join(map(repr, absent))}; the "
                            f"columns are {', '.join(table.header)}")
    out = np.empty((table.num_rows, len(names)))
    try:
        for j, name in enumerate(names):
            column = table.table.column(name)
            if not (is_numeric_type(column.type) or str(column.type) == "null"):
                numbers_in_text(name, column, always=True)
            values = as_float(column) if column.null_count < len(column) else \
                np.full(len(column), np.nan)
            if np.isnan(values).any():
                row = int(np.argmax(np.isnan(values)))
                raise ValueProblem(name, row, None, "missing value; fill it in or drop the row "
                                   "(this model has no imputation)")
            check_finite(name, values)
            out[:, j] = values
    except ValueProblem as err:
        raise err.at(table.path) from None
    return out


@dataclass
class LabelledData:
    """Features and 0/1 labels read from a table by :func:`load_labelled_csv`.

    Attributes
    ----------
    x : ndarray of float64, shape (N, F)
        Encoded features in their own units: numbers (missing ones imputed), indicator and
        one-hot columns; not standardized.
    y : ndarray of float32, shape (N,)
    features : list of str
        The names of ``x``'s columns.
    label : str
    label_map : dict
        ``{original value (str): 0 or 1}``.
    skipped : list of str
        Columns left out (see ``encoder.skipped`` for the reasons).
    encoder : FeatureEncoder
    """

    x: np.ndarray
    y: np.ndarray
    features: list
    label: str
    label_map: dict
    skipped: list = field(default_factory=list)
    encoder: FeatureEncoder | None = None


def read_labelled(path, label, features=None):
    """Read a table and check its label and feature names: ``(table, raw label values)``.

    Raises
    ------
    TorchannError
        Anything :func:`torchann.io.tables.read_table` refuses, a missing label column or
        label value, ``features`` naming the label or a column twice.
    """
    from torchann.io.tables import read_table

    if features is not None:
        if label in features:
            raise TorchannError(f"`features` names the label column {label!r}; leave it "
                                 "out")
        dupes = sorted({f for f in features if features.count(f) > 1})
        if dupes:
            raise TorchannError(f"`features` names {', '.join(dupes)} more than once")
    table = read_table(path)
    check_label_column(table.column_names, label, path)
    if features is not None:
        absent = [n for n in features if n not in table.column_names]
        if absent:
            raise TorchannError(f"{path}: no column {', '.join(map(repr, absent))}; the "
                                f"columns are {', '.join(table.column_names)}")
    return table, label_values(table, label, path)


def fit_encoder(table, label, features=None, path=None) -> FeatureEncoder:
    """A :class:`FeatureEncoder` fitted on ``table``; problems name ``path``'s lines."""
    try:
        return FeatureEncoder(features, label).fit(table)
    except ValueProblem as err:
        raise err.at(path) from None
    except TorchannError as err:
        raise (err.in_file(path) if path is not None else err) from None


def read_training_table(path, label, features=None, labels=None):
    """Read a labelled table for training: the one path every reader of a user's table takes.

    Reads the table and its label column (:func:`read_labelled`), turns the label values into
    what the caller needs (``labels(raw)``: a task, a 0/1 mapping), and checks every feature
    value by fitting an encoder on the whole table (a problem names the file's line).

    Returns
    -------
    table : pyarrow.Table
    raw : ndarray
        The label values as read.
    decided
        ``labels(raw)``, or ``None`` without ``labels``.
    encoder : FeatureEncoder
        Fitted on every row.
    """
    table, raw = read_labelled(path, label, features)
    decided = labels(raw) if labels is not None else None
    return table, raw, decided, fit_encoder(table, label, features, path)


def load_labelled_csv(path, label, features=None) -> LabelledData:
    """Read a table for a binary classifier: the ``label`` column and the encoded features.

    Parameters
    ----------
    path : str or Path
        CSV or Parquet.
    label : str
        Name of the label column; it must take exactly two distinct values. The smaller
        (numerically when both are numbers, else alphabetically) becomes 0, the other 1.
    features : list of str, optional
        Feature columns. Default: every other column the :class:`FeatureEncoder` can use.

    Raises
    ------
    TorchannError
        Any problem reading the file, a missing label column or value, a label with other
        than two classes, a non-numeric value in a numeric column.
    """
    table, raw, mapping, encoder = read_training_table(
        path, label, features, lambda raw: binary_label_map(raw, label, path))
    try:
        x = encoder.transform(table, standardize=False)
    except ValueProblem as err:
        raise err.at(path) from None
    return LabelledData(x, map_labels(raw, mapping), encoder.output_names, label, mapping,
                        [s["name"] for s in encoder.skipped], encoder)
