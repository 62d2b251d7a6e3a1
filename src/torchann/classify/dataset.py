"""3.3 A user's table as training data: read whole, or streamed when it is bigger than memory.

:func:`load_in_memory` reads the file (pyarrow), maps the label, splits the rows (stratified,
seeded) and fits the :class:`~torchann.classify.tables.FeatureEncoder` on the training rows
only. :class:`StreamedTable` does the same for a file read in record batches: see its text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from torchann.classify.tables import (
    FeatureEncoder,
    ValueProblem,
    hash_split,
    read_training_table,
)
from torchann.errors import TorchannError

#: Files larger than this many bytes are streamed (``--stream`` forces it for any size).
STREAM_BYTES = 256 << 20


@dataclass
class Prepared:
    """Training and test arrays ready for the network, and how they were made.

    Attributes
    ----------
    x_train, x_test : ndarray of float32
        Encoded by ``encoder`` (standardized numbers, indicators, one-hot columns).
    y_train, y_test : ndarray
        Targets encoded by ``task`` (:meth:`~torchann.classify.tasks.Task.encode`).
    encoder : FeatureEncoder
    task : Task
    n_rows : int
        Rows in the file.
    raw : tuple of ndarray or None
        ``(train, test)`` features in their own units, when there are exactly two plain
        numeric features (for the figures).
    raw_test : ndarray
        The test rows' label values as read.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    encoder: FeatureEncoder
    task: object
    n_rows: int
    raw: tuple | None = None
    raw_test: np.ndarray | None = None

    @property
    def label_map(self):
        return self.task.label_map


def _fit_rows(table, rows, label, features, path) -> FeatureEncoder:
    """Fit the encoder on ``rows`` of ``table``; a problem names the file's line."""
    try:
        return FeatureEncoder(features, label).fit(table.take(rows))
    except ValueProblem as err:
        raise ValueProblem(err.column, rows[err.row], err.text, err.problem).at(path) from None
    except TorchannError as err:
        raise err.in_file(path) from None


def decide(values, task, label, path):
    """:func:`~torchann.classify.tasks.decide_task`, its errors naming ``path``."""
    from torchann.classify.tasks import decide_task

    try:
        return decide_task(values, task, label)
    except TorchannError as err:
        raise err.in_file(path) from None


def load_in_memory(path, label, features=None, test_size=0.2, seed=0, split="stratified",
                   task="auto") -> Prepared:
    """Read a whole CSV or Parquet file for training.

    The task is decided from the label (:func:`~torchann.classify.tasks.decide_task`). The
    rows are split with :func:`~torchann.classify.tasks.split` (stratified by class, seeded by
    ``seed``), or with ``split="hash"`` by :func:`~torchann.classify.tables.hash_split` as
    :class:`StreamedTable` splits them (rows stay in file order). The encoder and a
    regression's target scaling learn from the training rows only.

    Raises
    ------
    TorchannError
        Anything reading, labelling, splitting or encoding refuses; values are named by line.
    """
    from torchann.classify.tasks import split as task_split

    table, raw, decided, _ = read_training_table(  # problems anywhere in the file, by line
        path, label, features, lambda values: decide(values, task, label, path))
    rows = np.arange(table.num_rows)
    if split == "hash":
        test = hash_split(0, len(rows), test_size, seed)
        train_rows, test_rows, raw_train, raw_test = rows[~test], rows[test], raw[~test], raw[test]
        if len(test_rows) < 2 or len(train_rows) < 2:
            raise TorchannError(f"too few rows to split: {len(rows)} rows, test size "
                                f"{test_size}; give more rows")
    else:
        train_rows, test_rows, raw_train, raw_test = task_split(rows, raw, decided, test_size,
                                                                random_state=seed)
    decided.fit_target(raw_train)
    encoder = _fit_rows(table, train_rows, label, features, path)
    x_train = encoder.transform(table.take(train_rows))
    x_test = encoder.transform(table.take(test_rows))
    raw = None
    if encoder.numeric_only and len(encoder.columns) == 2:  # for the figures
        raw = (encoder.transform(table.take(train_rows), standardize=False),
               encoder.transform(table.take(test_rows), standardize=False))
    del table
    _release_arrow_memory()
    return Prepared(x_train, decided.encode(raw_train), x_test, decided.encode(raw_test),
                    encoder, decided, len(rows), raw=raw, raw_test=raw_test)


def _release_arrow_memory():
    """Give the memory pyarrow's pool no longer uses back to the system."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


# --------------------------------------------------------------------------- streaming

#: Training rows shuffled together when streaming (a window of the file, in file order).
WINDOW = 262_144
#: At most this many test rows are kept in memory when streaming; beyond it, an evenly
#: hashed sample of the test rows (the count is reported).
MAX_TEST_ROWS = 500_000
#: Minibatch size when streaming and none was asked for (a full batch is not possible).
STREAM_BATCH = 2048


class _Moments:
    """Running mean and population standard deviation (Chan et al.), for a regression target."""

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, values):
        values = np.asarray(values, dtype=np.float64)
        if not len(values):
            return
        n, mean = len(values), float(values.mean())
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += float(((values - mean) ** 2).sum()) + delta * delta * self.n * n / total
        self.n = total

    def merge(self, other):
        """Add the moments of ``other`` (other values of the same quantity)."""
        total = self.n + other.n
        if other.n:
            delta = other.mean - self.mean
            self.m2 += other.m2 + delta * delta * self.n * other.n / total
            self.mean += delta * other.n / total
            self.n = total
        return self

    @property
    def scale(self):
        scale = float(np.sqrt(self.m2 / self.n)) if self.n else 0.0
        return scale if scale > 0 and np.isfinite(scale) else 1.0


def _label_sample(stats) -> np.ndarray:
    """Label values standing for the whole column in :func:`decide`: every distinct value
    with its count (scaled down to about a million rows), numbers as numbers."""
    if stats.counts is None:
        values = np.asarray(stats.overflow, dtype=object)
        counts = np.ones(len(values), dtype=np.int64)
    else:
        values = np.asarray(list(stats.counts), dtype=object)
        counts = np.asarray(list(stats.counts.values()), dtype=np.int64)
        if counts.sum() > 1_000_000:
            counts = np.maximum(1, counts * 1_000_000 // counts.sum())
    if stats.numeric:
        values = values.astype(np.float64)
    return np.repeat(values, counts)


def _columns_needed(features, label):
    return None if features is None else [*features, label]


class StreamedTable:
    """A CSV or Parquet file used for training without reading it into memory.

    1. :meth:`scan`, one pass over the file in record batches: the label's values and the row
       count (:class:`~torchann.classify.tables.LabelStats`), the encoder's statistics from
       the training rows (running mean and variance, a bounded sample for the median, the
       category vocabularies) and the test rows.
    2. Each epoch, :meth:`minibatches` reads the file again, keeps the training rows, gathers
       them into windows of :data:`WINDOW` rows, encodes a window, permutes it with
       ``torch.randperm`` on the generator given (the command seeds it with ``--seed``) and
       yields minibatches from it.

    A row is a test row when ``row_hash(row number, seed) < test_size``
    (:func:`~torchann.classify.tables.hash_split`): every pass agrees without keeping a copy of
    either side. Test rows beyond :data:`MAX_TEST_ROWS` are thinned by a second hash, so memory
    stays bounded by the window, the batch and that cap, whatever the file size.
    """

    def __init__(self, path, label, features=None, test_size=0.2, seed=0, window=WINDOW,
                 batch_rows=65_536, task="auto"):
        from torchann.classify.tables.split import check_test_size

        check_test_size(test_size)
        self.path, self.label, self.features = path, label, features
        self.test_size, self.seed, self.window = test_size, seed, window
        self.batch_rows, self.asked = batch_rows, task
        self.encoder = self.task = None
        self.n_rows = self.n_train = self.n_test = 0
        self.x_test = self.y_test = None

    # ----------------------------------------------------------------------- first pass

    def _batches(self):
        from torchann.io.tables import iter_batches

        offset = 0
        for batch in iter_batches(self.path, _columns_needed(self.features, self.label),
                                  self.batch_rows):
            yield offset, batch
            offset += batch.num_rows

    def scan(self):
        """The first pass (see the class's text). Returns ``self``.

        Raises
        ------
        TorchannError
            As :func:`load_in_memory`, values named by line.
        """
        return self.conclude(self.accumulate())

    def accumulate(self) -> dict:
        """The first pass over :meth:`_batches`: the statistics of :meth:`scan` before they
        are turned into an encoder, a task and test arrays (:meth:`conclude`), as a dict
        (``labels``, ``target``, ``encoder``, ``tests``, ``test_rows``, ``n_test``,
        ``keep``) that another process's share can be added to."""
        import pyarrow as pa

        from torchann.classify.tables import (
            LabelStats,
            check_label_column,
            hash_split,
            label_values,
        )
        from torchann.classify.tables.split import row_hash
        from torchann.io.tables import table_columns

        names = table_columns(self.path)
        check_label_column(names, self.label, self.path)
        if self.features is not None:
            if self.label in self.features:
                raise TorchannError(f"`features` names the label column {self.label!r}; "
                                     "leave it out")
            absent = [n for n in self.features if n not in names]
            if absent:
                raise TorchannError(f"{self.path}: no column {', '.join(map(repr, absent))}; "
                                    f"the columns are {', '.join(names)}")
        labels, target = LabelStats(), _Moments()
        encoder = FeatureEncoder(self.features, self.label)
        tests, test_rows, keep = [], [], 1.0
        for offset, batch in self._batches():
            n = batch.num_rows
            labels.update(batch, self.label, offset, self.path)
            test = hash_split(offset, offset + n, self.test_size, self.seed)
            train_idx = np.nonzero(~test)[0]
            if labels.numeric:
                target.update(label_values(batch, self.label)[train_idx])
            try:
                encoder.partial_fit(batch.take(pa.array(train_idx)))
            except ValueProblem as err:
                raise ValueProblem(err.column, offset + train_idx[err.row], err.text,
                                   err.problem).at(self.path) from None
            rows = offset + np.nonzero(test)[0]
            self.n_test += len(rows)
            rows = rows[row_hash(rows, self.seed + 1) < keep]
            tests.append(batch.take(pa.array(rows - offset)))
            test_rows.append(rows)
            while sum(len(r) for r in test_rows) > MAX_TEST_ROWS:
                keep /= 2
                for i, r in enumerate(test_rows):
                    kept = row_hash(r, self.seed + 1) < keep
                    tests[i], test_rows[i] = tests[i].filter(pa.array(kept)), r[kept]
        return {"labels": labels, "target": target, "encoder": encoder, "tests": tests,
                "test_rows": test_rows, "n_test": self.n_test, "keep": keep}

    def conclude(self, state):
        """Turn :meth:`accumulate`'s ``state`` into the encoder, the task and the test
        arrays. Returns ``self``."""
        import pyarrow as pa

        from torchann.classify.tables import label_values

        labels, target, encoder = state["labels"], state["target"], state["encoder"]
        tests, test_rows, self.n_test = state["tests"], state["test_rows"], state["n_test"]
        self.n_rows = labels.rows
        self.n_train = self.n_rows - self.n_test
        try:
            self.encoder = encoder.finish()
        except TorchannError as err:
            raise err.in_file(self.path) from None
        self.task = decide(_label_sample(labels), self.asked, self.label, self.path)
        if self.task.kind == "regression":
            self.task.target_mean = target.mean
            self.task.target_scale = target.scale
        if self.n_train < 2 or self.n_test < 2:
            raise TorchannError(f"too few rows to split: {self.n_rows} rows, test size "
                                f"{self.test_size}; give more rows")
        test_table = pa.Table.from_batches(tests) if tests else None
        rows = np.concatenate(test_rows)
        try:
            self.x_test = self.encoder.transform(test_table)
            self.raw_test = label_values(test_table, self.label)
            self.y_test = self.task.encode(self.raw_test)
        except ValueProblem as err:
            raise ValueProblem(err.column, rows[err.row], err.text, err.problem
                               ).at(self.path) from None
        self.n_test_kept = len(rows)
        return self

    # ----------------------------------------------------------------------- epochs

    @property
    def shape(self):
        """``(training rows, encoded features)``, like an array's."""
        return (self.n_train, len(self.encoder.output_names))

    @property
    def label_map(self):
        return self.task.label_map

    def _window(self, parts, batch_size, generator, device):
        import pyarrow as pa
        import torch

        from torchann.classify.tables import label_values

        table = pa.Table.from_batches(parts)
        try:
            x = self.encoder.transform(table)
        except ValueProblem as err:  # a test-only problem would have been named by scan
            raise TorchannError(f"{self.path}: {err}") from None
        y = self.task.encode(label_values(table, self.label))
        x = torch.from_numpy(x).to(device)
        y = torch.from_numpy(y).to(device)
        order = torch.randperm(len(y), generator=generator).to(device)
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            yield x[idx], y[idx]

    def minibatches(self, batch_size, generator=None, device="cpu"):
        """One epoch: ``(x, y)`` float32 tensors of training rows, shuffled within windows."""
        import pyarrow as pa

        from torchann.classify.tables import hash_split

        parts, rows = [], 0
        for offset, batch in self._batches():
            train = ~hash_split(offset, offset + batch.num_rows, self.test_size, self.seed)
            part = batch.filter(pa.array(train))
            parts.append(part)
            rows += part.num_rows
            if rows >= self.window:
                yield from self._window(parts, batch_size, generator, device)
                parts, rows = [], 0
        if rows:
            yield from self._window(parts, batch_size, generator, device)
