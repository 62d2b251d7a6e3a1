"""The label column: its raw values, their order, and the binary classifier's 0/1 mapping.

:func:`label_values` returns the label column as it is in the file (numbers stay numbers, text
stays text), refusing a missing column or a missing label. Which task the values call for is
decided elsewhere; :func:`binary_label_map` is the chapter's case: exactly two values, the
smaller (numerically when both are numbers, else alphabetically) becomes 0. For a file read
in batches, :class:`LabelStats` gathers what is needed without keeping every value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from torchann.classify.tables.columns import ValueProblem, is_number, is_numeric_type
from torchann.errors import TorchannError

#: :class:`LabelStats` stops counting distinct values beyond this many.
MAX_TRACKED = 1000


def check_label_column(names, label, path=None) -> None:
    """Refuse a label column that is not among ``names``."""
    if label not in names:
        prefix = f"{path}: " if path is not None else ""
        raise TorchannError(key="table.no_label", prefix=prefix, label=repr(label),
                            columns=", ".join(names))


def _missing_label(label, column):
    row = int(np.argmax(np.asarray(column.is_null())))
    return ValueProblem(label, row, None, "missing label; fill it in or drop the row")


def label_values(table, label, path=None) -> np.ndarray:
    """The label column of ``table`` as a numpy array of its raw values.

    Parameters
    ----------
    table : pyarrow.Table or pyarrow.RecordBatch
    label : str
    path : str or Path, optional
        Named in errors (with the line of a missing label).

    Returns
    -------
    ndarray
        int64 or float64 for a numeric column, object (str) for text.

    Raises
    ------
    TorchannError
        No such column, or a missing label (the line is named).
    """
    check_label_column(table.column_names, label, path)
    column = table.column(label)
    if column.null_count:
        err = _missing_label(label, column)
        raise err.at(path) if path is not None else err
    if is_numeric_type(column.type):
        return column.to_numpy()
    return np.asarray([str(v) for v in column.to_pylist()], dtype=object)


def label_names(values) -> list:
    """The distinct values of ``values`` as strings: numerically ordered when all are numbers,
    alphabetically otherwise."""
    distinct = sorted({str(v) for v in np.unique(values).tolist()})
    if all(is_number(v) for v in distinct):
        return sorted(distinct, key=float)
    return distinct


def label_text(values) -> np.ndarray:
    """``values`` as strings, the way :func:`label_names` spells them."""
    return np.asarray([str(v) for v in np.asarray(values).tolist()], dtype=object)


def binary_label_map(values, label, path=None) -> dict:
    """``{value (str): 0 or 1}`` for a label with exactly two values.

    Raises
    ------
    TorchannError
        Other than two distinct values.
    """
    classes = label_names(values)
    if len(classes) != 2:
        shown = ", ".join(map(repr, classes[:10])) + (", ..." if len(classes) > 10 else "")
        prefix = f"{path}: " if path is not None else ""
        raise TorchannError(f"{prefix}the label {label!r} has {len(classes)} distinct "
                            f"value{'s' if len(classes) != 1 else ''} ({shown}); a binary "
                            "classifier needs exactly two")
    return {classes[0]: 0, classes[1]: 1}


def map_labels(values, mapping) -> np.ndarray:
    """The labels ``values`` mapped through ``mapping`` (keys are strings), as float32."""
    text = label_text(values)
    return np.array([mapping[v] for v in text], dtype=np.float32)


@dataclass
class LabelStats:
    """What a streaming pass learns about the label without keeping every value.

    Attributes
    ----------
    rows : int
    numeric : bool
        Every batch's label column held numbers.
    integral : bool
        Every value so far is a whole number.
    counts : dict or None
        ``{value (str): count}``; ``None`` once more than :data:`MAX_TRACKED` distinct values
        were seen.
    overflow : list
        The distinct values known when counting stopped.
    total, total_sq : float
        Sum and sum of squares of numeric labels.
    """

    rows: int = 0
    numeric: bool = True
    integral: bool = True
    counts: dict | None = field(default_factory=dict)
    total: float = 0.0
    total_sq: float = 0.0
    overflow: list = field(default_factory=list)

    def update(self, batch, label, offset=0, path=None) -> None:
        """Add the labels of ``batch`` (rows ``offset`` onwards of the file)."""
        try:
            values = label_values(batch, label)
        except ValueProblem as err:
            raise err.at(path, offset) from None
        self.rows += len(values)
        if values.dtype.kind in "iufb":
            v = values.astype(np.float64)
            self.total += float(v.sum())
            self.total_sq += float((v * v).sum())
            self.integral = self.integral and bool(np.all(v == np.round(v)))
        else:
            self.numeric = self.integral = False
        if self.counts is not None:
            distinct, counts = np.unique(label_text(values), return_counts=True)
            for v, c in zip(distinct.tolist(), counts.tolist()):
                self.counts[v] = self.counts.get(v, 0) + int(c)
            if len(self.counts) > MAX_TRACKED:
                self.overflow, self.counts = list(self.counts), None

    def merge(self, other) -> None:
        """Add what ``other`` learnt from other rows of the same label column."""
        self.rows += other.rows
        self.numeric = self.numeric and other.numeric
        self.integral = self.integral and other.integral
        self.total += other.total
        self.total_sq += other.total_sq
        if self.counts is not None and other.counts is not None:
            for v, c in other.counts.items():
                self.counts[v] = self.counts.get(v, 0) + c
        known = list(self.counts or self.overflow) + [
            v for v in (other.counts or other.overflow) if v not in (self.counts or {})]
        if self.counts is None or other.counts is None or len(self.counts) > MAX_TRACKED:
            self.overflow, self.counts = list(dict.fromkeys(known)), None

    @property
    def names(self) -> list | None:
        """The distinct values in :func:`label_names` order, or ``None`` when too many."""
        if self.counts is None:
            return None
        return label_names(np.asarray(list(self.counts), dtype=object))
