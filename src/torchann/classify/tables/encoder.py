"""From a table's columns to the network's input: numbers, gaps and categories.

:class:`FeatureEncoder` is fitted on the training rows (a :class:`pyarrow.Table` or record
batches one after another, so a file bigger than memory works) and decides, column by column:

- a **numeric** column is standardized, ``(x - mean) / scale`` with the mean and the
  population standard deviation of its values (a constant column gets scale 1);
- a **date**, timestamp, time of day or duration column is a numeric column of days since
  1970-01-01, hours since midnight or seconds (:func:`~torchann.classify.tables.columns.as_float`);
- a numeric column with **missing values** gets them replaced by the training median and
  gains an indicator column ``<name>_missing`` (1 where the value was missing); a value missing
  only at prediction time is imputed the same way, without an indicator;
- a **text** column with 2 to :data:`MAX_CATEGORIES` distinct values is one-hot encoded with
  its sorted vocabulary (``<name>=<value>`` columns); a value not in the vocabulary, or missing,
  becomes all zeros (no column of its own, so a real category called ``other`` keeps its
  own column);
- a text column with more distinct values, with a different value in every row (an
  identifier), with one value only, or with nothing but missing values is **skipped**, and so
  is a column whose values are all missing;
- a text column most of whose values are numbers is a numeric column with a typo: the value
  is named in an error.

Every decision is a plain-English line in :attr:`FeatureEncoder.decisions`. The median of a
column comes from an evenly strided sample of at most :data:`MEDIAN_SAMPLE` values, exact
below that size. :meth:`FeatureEncoder.to_json` and :meth:`FeatureEncoder.from_json` carry
the encoder in ``model.json``.
"""

from __future__ import annotations

import numpy as np

from torchann.classify.tables.columns import (
    ValueProblem,
    as_float,
    check_finite,
    is_numeric_type,
    is_text_type,
    numbers_in_text,
    temporal_kind,
)
from torchann.errors import TorchannError
from torchann.i18n import message

#: Text columns with at most this many distinct values are one-hot encoded.
MAX_CATEGORIES = 20
#: The median is taken from at most this many values per column.
MEDIAN_SAMPLE = 65_536


class _Numbers:
    """Running count, mean, M2 (Chan et al.) and a strided sample of one numeric column."""

    def __init__(self):
        self.n = self.missing = self.seen = 0
        self.mean = self.m2 = 0.0
        self.kind = None  # "date", "time" or "duration" for such a column (temporal_kind)
        self.sample = np.empty(0)
        self.stride = 1

    def update(self, values):
        present = values[~np.isnan(values)]
        self.missing += len(values) - len(present)
        if len(present):
            n, mean = len(present), float(present.mean())
            m2 = float(((present - mean) ** 2).sum())
            total = self.n + n
            delta = mean - self.mean
            self.mean += delta * n / total
            self.m2 += m2 + delta * delta * self.n * n / total
            self.n = total
            first = (-self.seen) % self.stride
            self.sample = np.concatenate([self.sample, present[first::self.stride]])
            self.seen += n
            self._thin()

    def _thin(self):
        while len(self.sample) > MEDIAN_SAMPLE:
            self.sample = self.sample[::2]
            self.stride *= 2

    def merge(self, other):
        """Add the statistics of ``other`` (the same column, other rows); the samples are
        thinned to the coarser stride so each still stands for its share of the rows."""
        total = self.n + other.n
        if other.n:
            delta = other.mean - self.mean
            self.m2 += other.m2 + delta * delta * self.n * other.n / total
            self.mean += delta * other.n / total
        stride = max(self.stride, other.stride)
        self.sample = np.concatenate([self.sample[::stride // self.stride],
                                      other.sample[::stride // other.stride]])
        self.n, self.stride = total, stride
        self.missing += other.missing
        self.seen += other.seen
        self.kind = self.kind or other.kind
        self._thin()
        return self


class _Texts:
    """Value counts of one text column, until it has more than :data:`MAX_CATEGORIES`."""

    def __init__(self):
        self.counts = {}
        self.missing = self.rows = 0
        self.many = False

    def update(self, column):
        import pyarrow.compute as pc

        self.rows += len(column)
        self.missing += column.null_count
        if self.many:
            return
        for item in pc.value_counts(column.drop_null()).to_pylist():
            self.counts[item["values"]] = self.counts.get(item["values"], 0) + item["counts"]
        if len(self.counts) > MAX_CATEGORIES:
            self.many, self.counts = True, {}

    def merge(self, other):
        """Add the counts of ``other`` (the same column, other rows)."""
        self.rows += other.rows
        self.missing += other.missing
        self.many = self.many or other.many
        for value, count in ({} if self.many else other.counts).items():
            self.counts[value] = self.counts.get(value, 0) + count
        if self.many or len(self.counts) > MAX_CATEGORIES:
            self.many, self.counts = True, {}
        return self


def _columns(table):
    return list(zip(table.column_names, table.columns))


class FeatureEncoder:
    """Turns the feature columns of a table into a float32 matrix; see the module's text.

    Parameters
    ----------
    features : list of str, optional
        The columns to use (default: every column except ``label``). Named columns that cannot
        be used are an error, not a skip.
    label : str, optional
        The label column, never a feature.

    Attributes
    ----------
    columns : list of dict
        One spec per used column: ``{"name", "kind": "number", "mean", "scale", "median",
        "indicator"}`` or ``{"name", "kind": "category", "vocabulary"}``.
    skipped : list of dict
        ``{"name", "reason"}`` for each column left out.
    decisions : list of str
    """

    def __init__(self, features=None, label=None):
        self.features = None if features is None else list(features)
        self.label = label
        self.columns = []
        self.skipped = []
        self.decisions = []
        self._stats = None

    # ----------------------------------------------------------------------- fitting

    def fit(self, data):
        """Fit on a :class:`pyarrow.Table` or record batch, or an iterable of them.

        Returns ``self``. Raises :class:`ValueProblem` (with the row within all the data
        given) for a stray text value in a numeric column or an infinite number.
        """
        import pyarrow as pa

        parts = [data] if isinstance(data, (pa.Table, pa.RecordBatch)) else data
        offset = 0
        for part in parts:
            self.partial_fit(part, offset)
            offset += part.num_rows
        return self.finish()

    def _names(self, table):
        names = table.column_names
        if self.features is None:
            return [n for n in names if n != self.label]
        absent = [n for n in self.features if n not in names]
        if absent:
            raise TorchannError(key="classify.tables.encoder.no_column",
                                column=', '.join(map(repr, absent)), columns=', '.join(names))
        return self.features

    def partial_fit(self, table, offset=0):
        """Add one table or batch (rows ``offset`` onwards of the data) to the statistics."""
        if self._stats is None:
            self._stats = {}
        for name in self._names(table):
            column = table.column(name)
            stats = self._stats.get(name)
            try:
                if is_text_type(column.type):
                    numbers_in_text(name, column)
                    stats = self._stats.setdefault(name, _Texts())
                    if not isinstance(stats, _Texts):
                        raise ValueProblem(name, int(np.argmax(np.asarray(
                            column.is_valid()))), str(column.drop_null()[0]),
                            message("classify.tables.columns.not_number"))
                    stats.update(column)
                elif (is_numeric_type(column.type) or temporal_kind(column.type)
                      or str(column.type) == "null"):
                    values = as_float(column)
                    check_finite(name, values)
                    if isinstance(stats, _Texts):
                        stats = self._stats[name] = _Numbers()  # text so far was missing
                    stats = self._stats.setdefault(name, _Numbers())
                    stats.kind = stats.kind or temporal_kind(column.type)
                    stats.update(values)
                else:
                    self._stats.setdefault(name, None)
            except ValueProblem as err:
                raise ValueProblem(err.column, err.row + offset, err.text, err.problem
                                   ) from None
        return self

    def merge(self, other):
        """Add the statistics ``other`` gathered by :meth:`partial_fit` on other rows of the
        same data (another process's share), as if this encoder had seen them too. Returns
        ``self``; :meth:`finish` then fits on all of them."""
        mine = self._stats = self._stats if self._stats is not None else {}
        for name, stats in (other._stats or {}).items():
            have = mine.get(name)
            if have is None or stats is None:
                mine[name] = have if stats is None else stats
            elif type(have) is type(stats):
                have.merge(stats)
            else:  # a column all missing in one share is text there and numbers elsewhere
                numbers, texts = (have, stats) if isinstance(have, _Numbers) else (stats, have)
                if texts.rows > texts.missing:
                    raise TorchannError(key="classify.tables.encoder.column_holds_text", name=name)
                numbers.missing += texts.missing
                mine[name] = numbers
        return self

    def _skip(self, name, reason):
        self.skipped.append({"name": name, "reason": reason})
        self.decisions.append(message("data.skipped", name=name, reason=reason))

    def finish(self):
        """Turn the statistics into the column specs and decisions. Returns ``self``."""
        self.columns, self.skipped, self.decisions = [], [], []
        for name, stats in (self._stats or {}).items():
            if stats is None:
                self._skip(name, message("data.why.neither"))
            elif isinstance(stats, _Numbers):
                self._fit_number(name, stats)
            else:
                self._fit_text(name, stats)
        self._stats = None
        named = self.features is not None
        if named and self.skipped:
            raise TorchannError(key="classify.tables.encoder.unusable_features", skipped="; ".join(
                f"{s['name']} ({s['reason']})" for s in self.skipped))
        if not self.columns:
            besides = (message("classify.tables.encoder.besides_label", label=repr(self.label))
                       if self.label else "")
            raise TorchannError(key="classify.tables.encoder.no_usable_column",
                                max_categories=MAX_CATEGORIES, besides=besides)
        return self

    def _fit_number(self, name, s):
        if s.n == 0:
            self._skip(name, message("data.why.missing"))
            return
        scale = float(np.sqrt(s.m2 / s.n))
        scale = scale if scale > 0 and np.isfinite(scale) else 1.0
        median = float(np.median(s.sample))
        spec = {"name": name, "kind": "number", "mean": s.mean, "scale": scale,
                "median": median, "indicator": bool(s.missing)}
        self.columns.append(spec)
        if s.kind:
            self.decisions.append(message(f"data.temporal.{s.kind}", name=name))
        if s.missing:
            self.decisions.append(message("data.filled" if s.missing != 1 else "data.filled_one",
                                          name=name, missing=s.missing, median=median))

    def _fit_text(self, name, s):
        present = s.rows - s.missing
        if present == 0:
            self._skip(name, message("data.why.missing"))
        elif s.many:
            self._skip(name, message("data.why.many", most=MAX_CATEGORIES))
        elif len(s.counts) == 1:
            self._skip(name, message("data.why.single", value=repr(next(iter(s.counts)))))
        elif len(s.counts) == present and present > 2:
            self._skip(name, message("data.why.every_row", rows=present))
        else:
            vocabulary = sorted(s.counts)
            self.columns.append({"name": name, "kind": "category", "vocabulary": vocabulary})
            gaps = message("data.gaps", missing=s.missing) if s.missing else ""
            self.decisions.append(message("data.category", name=name, k=len(vocabulary),
                                          values=", ".join(vocabulary), gaps=gaps))

    # ----------------------------------------------------------------------- using

    @property
    def output_names(self) -> list:
        """The names of the matrix's columns, in order."""
        names = []
        for spec in self.columns:
            if spec["kind"] == "number":
                names.append(spec["name"])
                if spec["indicator"]:
                    names.append(f"{spec['name']}_missing")
            else:
                names.extend(f"{spec['name']}={v}" for v in spec["vocabulary"])
        return names

    @property
    def input_names(self) -> list:
        """The table columns the encoder reads."""
        return [spec["name"] for spec in self.columns]

    @property
    def numeric_only(self) -> bool:
        """Whether every output is a standardized number (no indicators, no categories)."""
        return all(s["kind"] == "number" and not s["indicator"] for s in self.columns)

    def transform(self, table, standardize=True) -> np.ndarray:
        """Encode a :class:`pyarrow.Table` or record batch; returns float32 ``(N, outputs)``.

        With ``standardize=False`` numbers are imputed but keep their units (float64).

        Raises
        ------
        TorchannError
            A column the encoder needs is absent; :class:`ValueProblem` for a value that is
            not a number in a numeric column, or is infinite.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        names = table.column_names
        absent = [n for n in self.input_names if n not in names]
        if absent:
            raise TorchannError(key="classify.tables.encoder.no_column",
                                column=', '.join(map(repr, absent)), columns=', '.join(names))
        n = table.num_rows
        out = np.empty((n, len(self.output_names)),
                       dtype=np.float32 if standardize else np.float64)
        j = 0
        for spec in self.columns:
            column = table.column(spec["name"])
            if spec["kind"] == "number":
                if is_text_type(column.type):
                    numbers_in_text(spec["name"], column, always=True)
                    column = pc.cast(column, pa.float64())
                values = as_float(column)
                check_finite(spec["name"], values)
                missing = np.isnan(values)
                values = np.where(missing, spec["median"], values)
                out[:, j] = ((values - spec["mean"]) / spec["scale"] if standardize
                             else values)
                j += 1
                if spec["indicator"]:
                    out[:, j] = missing
                    j += 1
            else:
                vocab = spec["vocabulary"]
                column = pc.cast(column, pa.string())
                index = pc.index_in(column, value_set=pa.array(vocab, pa.string()))
                index = np.asarray(index.to_numpy(zero_copy_only=False), dtype=np.float64)
                block = np.zeros((n, len(vocab)), dtype=np.float32)
                known = ~np.isnan(index)
                block[np.nonzero(known)[0], index[known].astype(np.int64)] = 1.0
                out[:, j:j + len(vocab)] = block
                j += len(vocab)
        return out

    def transform_array(self, x) -> np.ndarray:
        """Encode raw rows of numbers (one value per input column); numeric encoders only."""
        x = np.asarray(x, dtype=np.float64)
        if not all(s["kind"] == "number" for s in self.columns):
            raise TorchannError(key="classify.tables.encoder.model_text_category")
        if x.ndim != 2 or x.shape[1] != len(self.columns):
            raise TorchannError(key="classify.tables.encoder.model_takes_feature",
                                n=len(self.columns), v=', '.join(self.input_names),
                                shape=str(x.shape[-1]))
        import pyarrow as pa

        table = pa.table({s["name"]: x[:, i] for i, s in enumerate(self.columns)})
        return self.transform(table)

    # ----------------------------------------------------------------------- files

    def to_json(self) -> dict:
        """A JSON-ready description (``model.json``)."""
        return {"columns": self.columns, "skipped": self.skipped, "decisions": self.decisions}

    @classmethod
    def from_json(cls, spec):
        """Rebuild from :meth:`to_json`'s output; raises TorchannError when malformed."""
        encoder = cls()
        try:
            for c in spec["columns"]:
                if c["kind"] == "number":
                    col = {"name": str(c["name"]), "kind": "number", "mean": float(c["mean"]),
                           "scale": float(c["scale"]), "median": float(c["median"]),
                           "indicator": bool(c["indicator"])}
                    if not (np.isfinite([col["mean"], col["scale"], col["median"]]).all()
                            and col["scale"] > 0):
                        raise ValueError
                elif c["kind"] == "category":
                    vocab = [str(v) for v in c["vocabulary"]]
                    if not vocab:
                        raise ValueError
                    col = {"name": str(c["name"]), "kind": "category", "vocabulary": vocab}
                else:
                    raise ValueError
                encoder.columns.append(col)
            encoder.skipped = list(spec.get("skipped", []))
            encoder.decisions = [str(d) for d in spec.get("decisions", [])]
        except (KeyError, TypeError, ValueError, AttributeError):
            raise TorchannError(key="classify.tables.encoder.unreadable") from None
        if not encoder.columns:
            raise TorchannError(key="classify.tables.encoder.no_columns")
        return encoder
