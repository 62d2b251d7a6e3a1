"""Tables in and out: CSV and Parquet through pyarrow, with one clear error per problem.

:func:`read_table` reads a whole file into a :class:`pyarrow.Table`; :func:`iter_batches`
streams it as record batches for files bigger than memory; :func:`write_table` writes CSV or
Parquet (by the output's extension) atomically. :func:`table_format` tells which a file is:
Parquet by its magic bytes ``PAR1`` or a ``.parquet``/``.pq`` extension, CSV otherwise.

A CSV is UTF-8 with a header row. The cells ``""``, ``na``, ``n/a``, ``nan``, ``null``,
``none`` and ``?`` (any case) are missing values. pyarrow parses; on top of it every problem a
user can fix becomes one :class:`~torchann.errors.TorchannError` that names the file and, for a
CSV, the line: missing file, not UTF-8, empty, header only, an empty or duplicate column name,
a row with a different number of fields than the header.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from torchann.errors import TorchannError

#: The cell texts read as missing values (in lower, upper and title case).
MISSING = ("", "na", "n/a", "nan", "null", "none", "?")
NULL_VALUES = sorted({v for m in MISSING for v in (m, m.upper(), m.title())})
PARQUET_SUFFIXES = (".parquet", ".pq")
_MAGIC = b"PAR1"


def _reading(path):
    """A buffered binary reader of ``path`` (input only)."""
    return io.BufferedReader(io.FileIO(path, "r"))


def table_format(path) -> str:
    """``"parquet"`` or ``"csv"``: Parquet by magic bytes or extension, CSV otherwise."""
    path = Path(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return "parquet"
    try:
        with _reading(path) as f:
            if f.read(4) == _MAGIC:
                return "parquet"
    except OSError:
        pass
    return "csv"


def _check_input(path) -> Path:
    path = Path(path)
    if path.exists() and not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file (a device or a pipe)"
        raise TorchannError(f"{path} is {kind}; give a CSV or Parquet file")
    if not path.is_file():
        raise TorchannError(key="file.missing", path=path)
    return path


# --------------------------------------------------------------------------- CSV details


def _header(path) -> list:
    """The header row's names, decoded strictly (pyarrow would replace bad bytes)."""
    try:
        with _reading(path) as f:
            head = f.read(1 << 20)
    except OSError as err:
        raise TorchannError(key="file.unreadable", path=path, reason=err.strerror) from None
    lines = [line for line in head.splitlines() if line.strip()]
    if not lines:
        if len(head) == 1 << 20:
            raise TorchannError(f"{path}: no header row in the first MiB; not a readable CSV")
        raise TorchannError(key="table.empty", path=path)
    line = lines[0]
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as err:
        raise TorchannError(f"{path}: not UTF-8 text (line 1, byte {err.start}); save the CSV "
                            "as UTF-8") from None
    return [v.strip() for v in next(csv.reader([text]), [])]


def _check_names(path, names) -> None:
    names = [str(n).strip() for n in names]
    if any(not name for name in names):
        raise TorchannError(f"{path}: the header has an empty column name (column "
                            f"{names.index('') + 1}); name every column")
    dupes = sorted({name for name in names if names.count(name) > 1})
    if dupes:
        raise TorchannError(f"{path}: duplicate column names {', '.join(dupes)}; "
                            "give every column its own name")


def data_rows(path):
    """Yield ``(line number, fields)`` for each data row of a CSV (the error path).

    Blank lines are skipped as pyarrow skips them, so the ``i``-th item is the table's row
    ``i``. Used only to name the line of a problem, so its speed does not matter.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        with io.TextIOWrapper(_reading(path), encoding="utf-8-sig", errors="replace",
                              newline="") as f:
            reader = csv.reader(f)
            first = True
            for fields in reader:
                if not fields or not any(v.strip() for v in fields) and len(fields) == 1:
                    continue
                if first:
                    first = False
                    continue
                yield reader.line_num, fields
    finally:
        csv.field_size_limit(limit)


def row_line(path, row):
    """The line number and fields of data row ``row`` (0-based) of a CSV, or ``(None, None)``."""
    for i, (line, fields) in enumerate(data_rows(path)):
        if i == row:
            return line, fields
    return None, None


def where(path, row) -> str:
    """``"line L"`` for a CSV, ``"row R"`` for Parquet: where data row ``row`` is."""
    if table_format(path) == "csv":
        line, _ = row_line(path, row)
        if line is not None:
            return f"line {line}"
    return f"row {row + 1}"


def _ragged(path, width):
    for line, fields in data_rows(path):
        if len(fields) != width:
            return TorchannError(key="table.ragged", path=path, line=line, got=len(fields),
                                 width=width)
    return None


def _not_utf8(path):
    with _reading(path) as f:
        for number, line in enumerate(f, 1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                return TorchannError(f"{path}: not UTF-8 text (line {number}, byte {err.start}"
                                     "); save the CSV as UTF-8")
    return TorchannError(key="table.not_utf8", path=path)


def _csv_error(path, err, width):
    message = str(err)
    if "Expected" in message and "columns" in message:
        return _ragged(path, width) or TorchannError(f"{path}: a row has a different number of "
                                                     f"fields than the header ({message})")
    if "Empty CSV" in message:
        return TorchannError(key="table.empty", path=path)
    if "UTF8" in message or "UTF-8" in message:
        return _not_utf8(path)
    if "conversion error" in message:
        return TorchannError(f"{path}: a column changes type part-way through ({message}); "
                             "fix that value")
    return TorchannError(f"{path}: not a readable CSV ({message.splitlines()[0][:200]})")


def _csv_options(column_types=None, columns=None, block_size=None):
    import pyarrow.csv as pc

    read = pc.ReadOptions(block_size=block_size) if block_size else pc.ReadOptions()
    convert = pc.ConvertOptions(null_values=NULL_VALUES, strings_can_be_null=True,
                                column_types=column_types, include_columns=columns)
    return read, pc.ParseOptions(), convert


def _checked_csv(path, table):
    import pyarrow as pa

    for column in table.columns:
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            raise _not_utf8(path)
    if table.num_rows == 0:
        raise TorchannError(key="table.header_only", path=path)
    return table


# --------------------------------------------------------------------------- reading


def _parquet_error(path, err):
    return TorchannError(f"{path}: not a readable Parquet file ({str(err)[:200]})")


def _parquet_file(path):
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except Exception as err:  # ArrowInvalid, OSError: truncated footer, not Parquet at all
        raise _parquet_error(path, err) from None


def _opened(path, columns=None):
    """Check ``path`` and its column names without reading the data.

    Returns
    -------
    (Path, pyarrow.parquet.ParquetFile or None, list of str, list of str or None)
        The path; the open Parquet file (``None`` for a CSV); the column names; the names of
        ``columns`` that the file has (``None``: all).
    """
    path = _check_input(path)
    parquet = _parquet_file(path) if table_format(path) == "parquet" else None
    names = list(parquet.schema_arrow.names) if parquet is not None else _header(path)
    _check_names(path, names)
    keep = None if columns is None else [c for c in columns if c in names]
    return path, parquet, names, keep


def read_table(path, columns=None):
    """Read a CSV or Parquet file into a :class:`pyarrow.Table`.

    Parameters
    ----------
    path : str or Path
    columns : list of str, optional
        Read only these columns (all by default). A missing one is not an error here.

    Returns
    -------
    pyarrow.Table
        At least one row, unique non-empty column names. CSV types are pyarrow's inference
        (int64, double, string, bool, ...) with :data:`MISSING` cells as nulls.

    Raises
    ------
    TorchannError
        See the module's description.
    """
    import pyarrow as pa
    import pyarrow.csv as pc

    path, parquet, names, keep = _opened(path, columns)
    if parquet is not None:
        try:
            table = parquet.read(columns=keep)
        except Exception as err:
            raise _parquet_error(path, err) from None
        if table.num_rows == 0:
            raise TorchannError(f"{path}: no data rows")
        return table
    try:
        table = pc.read_csv(path, *_csv_options(columns=keep))
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        raise _csv_error(path, err, len(names)) from None
    except OSError as err:
        raise TorchannError(f"{path}: cannot read it ({err.strerror or err})") from None
    return _checked_csv(path, table)


def table_columns(path) -> list:
    """The column names of a CSV or Parquet file, checked, without reading the data."""
    return _opened(path)[2]


def _stream_types(path, names, columns):
    """Column types for streaming a CSV: pyarrow's inference on the first MiB, integers
    widened to float64 and all-missing columns read as text (later blocks must fit them)."""
    import pyarrow as pa
    import pyarrow.csv as pc

    try:
        reader = pc.open_csv(path, *_csv_options(columns=columns, block_size=1 << 20))
        schema = reader.schema
        reader.close()
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        raise _csv_error(path, err, len(names)) from None
    types = {}
    for field in schema:
        if pa.types.is_integer(field.type) or pa.types.is_floating(field.type):
            types[field.name] = pa.float64()
        elif pa.types.is_null(field.type):
            types[field.name] = pa.string()
    return types


def iter_batches(path, columns=None, batch_rows=65_536):
    """Yield a CSV or Parquet file as :class:`pyarrow.RecordBatch` objects, in file order.

    Memory stays bounded by the batch size whatever the file size. For a CSV the column types
    come from the first MiB (integers read as float64); a value further down that does not fit
    its column's type is an error that names it.

    Parameters
    ----------
    path : str or Path
    columns : list of str, optional
    batch_rows : int
        Rows per batch for Parquet; a CSV's batches are about 8 MiB of text each.

    Raises
    ------
    TorchannError
        As :func:`read_table`.
    """
    import pyarrow as pa
    import pyarrow.csv as pc

    path, parquet, names, keep = _opened(path, columns)
    if parquet is not None:
        try:
            yield from parquet.iter_batches(batch_size=batch_rows, columns=keep)
        except (pa.ArrowException, OSError) as err:
            raise _parquet_error(path, err) from None
        return
    types = _stream_types(path, names, keep)
    try:
        reader = pc.open_csv(path, *_csv_options(types, keep, block_size=8 << 20))
        rows = 0
        for batch in reader:
            for column in batch.columns:
                if pa.types.is_binary(column.type):
                    raise _not_utf8(path)
            rows += batch.num_rows
            yield batch
    except (pa.ArrowInvalid, pa.ArrowException) as err:
        raise _csv_error(path, err, len(names)) from None
    if rows == 0:
        raise TorchannError(key="table.header_only", path=path)


def parquet_rows(path):
    """The number of rows of a Parquet file, from its footer; ``None`` for a CSV."""
    path, parquet, _, _ = _opened(path)
    return None if parquet is None else parquet.metadata.num_rows


def iter_row_range(path, start, stop, columns=None, batch_rows=65_536):
    """Yield ``(offset, batch)``: rows ``start`` to ``stop - 1`` of a Parquet file as record
    batches, ``offset`` the file row of each batch's first row, reading only the row groups
    that hold them (one process's share of a file read by several).

    Raises
    ------
    TorchannError
        As :func:`read_table`, or for a CSV (it has no index to start from).
    """
    import pyarrow as pa

    path, parquet, _, keep = _opened(path, columns)
    if parquet is None:
        raise TorchannError(f"{path}: a range of rows is read from Parquet only")
    groups, offset, at = [], None, 0
    for i in range(parquet.metadata.num_row_groups):
        n = parquet.metadata.row_group(i).num_rows
        if at < stop and at + n > start:
            groups.append(i)
            offset = at if offset is None else offset
        at += n
    if not groups:
        return
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows, row_groups=groups,
                                          columns=keep):
            lo, hi = max(start - offset, 0), min(stop - offset, batch.num_rows)
            if hi > lo:
                yield offset + lo, batch.slice(lo, hi - lo)
            offset += batch.num_rows
            if offset >= stop:
                return
    except (pa.ArrowException, OSError) as err:
        raise _parquet_error(path, err) from None


# --------------------------------------------------------------------------- writing


def _write_csv(table, sink):
    """A header row quoted only where needed, then pyarrow's rows."""
    import pyarrow.csv as pc

    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow(table.column_names)
    sink.write(head.getvalue().encode("utf-8"))
    pc.write_csv(table, sink, pc.WriteOptions(include_header=False))


def csv_bytes(table) -> bytes:
    """``table`` as CSV text (UTF-8 bytes), as :func:`write_table` writes it."""
    buf = io.BytesIO()
    _write_csv(table, buf)
    return buf.getvalue()


def write_table(path, table):
    """Write ``table`` atomically: Parquet for a ``.parquet``/``.pq`` name, CSV otherwise.

    Returns
    -------
    Path
    """
    import pyarrow.parquet as pq

    from torchann.io.writers import atomic_write

    path = Path(path)
    with atomic_write(path) as tmp:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            pq.write_table(table, tmp)
        else:
            with open(tmp, "wb") as f:
                _write_csv(table, f)
    return path
