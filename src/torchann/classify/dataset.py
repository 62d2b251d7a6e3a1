"""3.3 A user's table as training data: read whole, or streamed when it is bigger than memory.

:func:`load_in_memory` reads the file (pyarrow), maps the label, splits the rows (stratified,
seeded) and fits the :class:`~torchann.classify.tables.FeatureEncoder` on the training rows
only. :class:`StreamedTable` does the same for a file read in record batches: see its text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from torchann.classify.tables import (
    FeatureEncoder,
    ValueProblem,
    binary_label_map,
    fit_encoder,
    hash_split,
    map_labels,
    read_labelled,
    stratified_split,
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
    y_train, y_test : ndarray of float32
        Labels 0/1.
    encoder : FeatureEncoder
    label_map : dict
        ``{original value (str): 0 or 1}``.
    n_rows : int
        Rows in the file.
    raw : tuple of ndarray or None
        ``(train, test)`` features in their own units, when every feature is a plain number
        (for the figures).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    encoder: FeatureEncoder
    label_map: dict
    n_rows: int
    raw: tuple | None = None
    notes: list = field(default_factory=list)


def _fit_rows(table, rows, label, features, path) -> FeatureEncoder:
    """Fit the encoder on ``rows`` of ``table``; a problem names the file's line."""
    try:
        return FeatureEncoder(features, label).fit(table.take(rows))
    except ValueProblem as err:
        raise ValueProblem(err.column, rows[err.row], err.text, err.problem).at(path) from None
    except TorchannError as err:
        raise TorchannError(f"{path}: {err}") from None


def load_in_memory(path, label, features=None, test_size=0.2, seed=0,
                   split="stratified") -> Prepared:
    """Read a whole CSV or Parquet file for the binary classifier.

    The rows are split with :func:`~torchann.classify.tables.stratified_split` (seeded by
    ``seed``), or with ``split="hash"`` by :func:`~torchann.classify.tables.hash_split` as
    :class:`StreamedTable` splits them (rows stay in file order). The encoder learns from the
    training rows only.

    Raises
    ------
    TorchannError
        Anything reading, labelling, splitting or encoding refuses; values are named by line.
    """
    table, raw = read_labelled(path, label, features)
    mapping = binary_label_map(raw, label, path)
    y = map_labels(raw, mapping)
    fit_encoder(table, label, features, path)  # problems anywhere in the file, by line
    rows = np.arange(table.num_rows)
    if split == "hash":
        test = hash_split(0, len(rows), test_size, seed)
        train_rows, test_rows, y_train, y_test = rows[~test], rows[test], y[~test], y[test]
        if len(test_rows) < 2 or len(train_rows) < 2:
            raise TorchannError(f"too few rows to split: {len(rows)} rows, test size "
                                f"{test_size}; give more rows")
    else:
        train_rows, test_rows, y_train, y_test = stratified_split(rows, y, test_size,
                                                                  random_state=seed)
    encoder = _fit_rows(table, train_rows, label, features, path)
    train, test = table.take(train_rows), table.take(test_rows)
    del table
    prepared = Prepared(encoder.transform(train), y_train, encoder.transform(test), y_test,
                        encoder, mapping, len(rows))
    if encoder.numeric_only:
        prepared.raw = (encoder.transform(train, standardize=False),
                        encoder.transform(test, standardize=False))
    return prepared


# --------------------------------------------------------------------------- streaming

#: Training rows shuffled together when streaming (a window of the file, in file order).
WINDOW = 262_144
#: At most this many test rows are kept in memory when streaming; beyond it, an evenly
#: hashed sample of the test rows (the count is reported).
MAX_TEST_ROWS = 500_000
#: Minibatch size when streaming and none was asked for (a full batch is not possible).
STREAM_BATCH = 2048


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
                 batch_rows=65_536):
        from torchann.classify.tables.split import check_test_size

        check_test_size(test_size)
        self.path, self.label, self.features = path, label, features
        self.test_size, self.seed, self.window = test_size, seed, window
        self.batch_rows = batch_rows
        self.encoder = None
        self.label_map = None
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
        import pyarrow as pa

        from torchann.classify.tables import LabelStats, check_label_column, hash_split
        from torchann.classify.tables.split import row_hash
        from torchann.io.tables import table_columns

        names = table_columns(self.path)
        check_label_column(names, self.label, self.path)
        if self.features is not None:
            if self.label in self.features:
                raise TorchannError(f"--features names the label column {self.label!r}; "
                                    "leave it out")
            absent = [n for n in self.features if n not in names]
            if absent:
                raise TorchannError(f"{self.path}: no column {', '.join(map(repr, absent))}; "
                                    f"the columns are {', '.join(names)}")
        labels = LabelStats()
        encoder = FeatureEncoder(self.features, self.label)
        tests, test_rows, keep = [], [], 1.0
        for offset, batch in self._batches():
            n = batch.num_rows
            labels.update(batch, self.label, offset, self.path)
            test = hash_split(offset, offset + n, self.test_size, self.seed)
            train_idx = np.nonzero(~test)[0]
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
        self.n_rows = labels.rows
        self.n_train = self.n_rows - self.n_test
        try:
            self.encoder = encoder.finish()
        except TorchannError as err:
            raise TorchannError(f"{self.path}: {err}") from None
        if labels.names is None:
            raise TorchannError(f"{self.path}: the label {self.label!r} has more than 1000 "
                                "distinct values; a binary classifier needs exactly two")
        self.label_map = binary_label_map(np.asarray(labels.names, dtype=object), self.label,
                                          self.path)
        if self.n_train < 2 or self.n_test < 2:
            raise TorchannError(f"too few rows to split: {self.n_rows} rows, test size "
                                f"{self.test_size}; give more rows")
        test_table = pa.Table.from_batches(tests) if tests else None
        rows = np.concatenate(test_rows)
        try:
            self.x_test = self.encoder.transform(test_table)
            self.y_test = map_labels(test_table.column(self.label).to_numpy(
                zero_copy_only=False), self.label_map)
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

    def _window(self, parts, batch_size, generator, device):
        import pyarrow as pa
        import torch

        table = pa.Table.from_batches(parts)
        try:
            x = self.encoder.transform(table)
        except ValueProblem as err:  # a test-only problem would have been named by scan
            raise TorchannError(f"{self.path}: {err}") from None
        y = map_labels(table.column(self.label).to_numpy(zero_copy_only=False), self.label_map)
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
