"""One column of a table: its kind, its values as numbers, and problems that name a row.

A problem found in a table (a text value in a numeric column, an infinite number) is raised as
:class:`ValueProblem`, which knows the column and the table's row; :meth:`ValueProblem.at`
turns it into an error naming the file and the line (CSV) or row (Parquet).
"""

from __future__ import annotations

import numpy as np

from torchann.errors import TorchannError
from torchann.i18n import message


class ValueProblem(TorchannError):
    """A bad value at row ``row`` (0-based, of the table given) of column ``column``."""

    def __init__(self, column, row, text, problem):
        self.column, self.row, self.text, self.problem = column, int(row), text, problem
        super().__init__(key="classify.tables.columns.row_problem", row=self.row + 1,
                         column=column, what=self._what())

    def _what(self):
        if self.text is None:
            return self.problem
        if len(self.text) <= 40:
            return message("classify.tables.columns.value_problem", text=self.text,
                           problem=self.problem)
        shown = self.text[:20] + "…" + self.text[-10:]
        return message("classify.tables.columns.long_field", n=len(self.text), shown=shown,
                       problem=self.problem)

    def at(self, path, offset=0) -> TorchannError:
        """The same problem as an error that names ``path`` and the line of the row."""
        from torchann.io.tables import row_line, table_columns, table_format

        row = self.row + offset
        place = message("classify.tables.columns.row", row=row + 1)
        text = self.text
        if path is not None and table_format(path) == "csv":
            line, fields = row_line(path, row)
            if line is not None:
                place = message("classify.tables.columns.line", line=line)
                names = table_columns(path) if text is not None else []
                if self.column in names and names.index(self.column) < len(fields):
                    text = fields[names.index(self.column)].strip()
        err = ValueProblem(self.column, row, text, self.problem)
        prefix = f"{path}: " if path is not None else ""
        return TorchannError(key="classify.tables.columns.column", prefix=prefix, place=place,
                             column=self.column, what=err._what())


def is_numeric_type(dtype) -> bool:
    """Whether a pyarrow type holds numbers (integers, floats, decimals, booleans)."""
    import pyarrow as pa

    return (pa.types.is_integer(dtype) or pa.types.is_floating(dtype)
            or pa.types.is_decimal(dtype) or pa.types.is_boolean(dtype))


def is_text_type(dtype) -> bool:
    import pyarrow as pa

    return pa.types.is_string(dtype) or pa.types.is_large_string(dtype) or \
        pa.types.is_dictionary(dtype)


#: How each kind of date or time column (:func:`temporal_kind`) becomes numbers: the seconds
#: in its unit (days since 1970-01-01, hours since midnight, seconds).
TEMPORAL_SECONDS = {"date": 86_400.0, "time": 3_600.0, "duration": 1.0}
_UNIT_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def temporal_kind(dtype):
    """``"date"`` for a pyarrow date or timestamp type, ``"time"`` for a time of day,
    ``"duration"`` for a duration, ``None`` for any other type."""
    import pyarrow as pa

    if pa.types.is_date(dtype) or pa.types.is_timestamp(dtype):
        return "date"
    if pa.types.is_time(dtype):
        return "time"
    return "duration" if pa.types.is_duration(dtype) else None


def as_float(column) -> np.ndarray:
    """A numeric, date or time (or all-missing) pyarrow column as float64, missing values as
    NaN. Dates and timestamps count days since 1970-01-01 (UTC), times of day hours since
    midnight, durations seconds."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype, scale = column.type, 1.0
    if pa.types.is_null(dtype):
        return np.full(len(column), np.nan)
    if pa.types.is_boolean(dtype):
        column = pc.cast(column, pa.int8())
    elif kind := temporal_kind(dtype):  # pyarrow casts these to integers of their own width
        column = pc.cast(column, pa.int32() if dtype.bit_width == 32 else pa.int64())
        unit = (TEMPORAL_SECONDS["date"] if pa.types.is_date32(dtype) else
                1e-3 if pa.types.is_date64(dtype) else _UNIT_SECONDS[dtype.unit])
        scale = unit / TEMPORAL_SECONDS[kind]
    values = pc.cast(column, pa.float64())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    values = values.to_numpy(zero_copy_only=False)
    return values * scale if scale != 1.0 else values


def check_finite(name, values, column=None) -> None:
    """Raise :class:`ValueProblem` for the first infinite value of ``values``."""
    bad = np.isinf(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueProblem(name, row, str(values[row]),
                           message("classify.tables.columns.not_finite"))


def is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def text_values(column) -> list:
    """The distinct non-missing values of a text column, as Python strings."""
    import pyarrow.compute as pc

    return [v for v in pc.unique(column).to_pylist() if v is not None]


def numbers_in_text(name, column, always=False):
    """Raise :class:`ValueProblem` when a text column is mostly numbers with a stray value.

    A text column at least half of whose distinct values are numbers is taken for a numeric
    column with a typo: the first value that is not a number is named. With ``always``, any
    value that is not a number is.
    """
    distinct = text_values(column)
    numbers = sum(is_number(v) for v in distinct)
    if always or (numbers and 2 * numbers >= len(distinct)):
        values = column.to_pylist()
        for row, v in enumerate(values):
            if v is not None and not is_number(v):
                raise ValueProblem(name, row, v, message("classify.tables.columns.not_number"))
