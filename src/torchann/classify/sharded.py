"""3.3 beyond one process: each rank's share of a table (:class:`ShardedTable`).

A :class:`~torchann.classify.dataset.StreamedTable` read by one rank of several, so that no row
is read twice and the ranks' rows partition the file. Of a Parquet file, rank ``r`` of ``N``
reads the ``r``-th of ``N`` equal ranges of rows, and only the row groups that hold them
(:func:`~torchann.io.tables.iter_row_range`). A CSV has no index to start from: every rank
parses its blocks, cuts each into ``N`` contiguous slices and keeps slice ``r``. The
train/test split is the same hash of the row number as in one process. The first pass's
statistics (label values and classes, the encoder's means, scales, medians and category
vocabularies, a regression target's moments) are gathered from every rank and merged, so
every rank fits the same encoder on all the training rows; the test rows are gathered too.

The ranks hold about the same number of training rows but rarely exactly the same (the hash
split is random). To keep the ranks in step, every rank takes, each epoch, the smallest
rank's count of rows (``rows_per_rank``) in minibatches of exactly ``batch_size`` rows (the
last one shorter, the same on every rank): the few rows a larger share holds beyond it are
left out of that epoch, a different few each epoch as they fall at random at the end of the
last shuffled window.
"""

from __future__ import annotations

import numpy as np

from torchann.classify.dataset import MAX_TEST_ROWS, StreamedTable


def even_batches(stream, batch_size, total):
    """Re-cut a stream of ``(x, y)`` minibatches into ``ceil(total / batch_size)`` batches of
    ``batch_size`` rows (the last one shorter), ``total`` rows in all; the rest is dropped."""
    import torch

    xs, ys, have, given = [], [], 0, 0
    for xb, yb in stream:
        xs.append(xb)
        ys.append(yb)
        have += len(yb)
        while have >= batch_size and given < total:
            x, y = (torch.cat(xs), torch.cat(ys)) if len(xs) > 1 else (xs[0], ys[0])
            take = min(batch_size, total - given)
            yield x[:take], y[:take]
            given, have = given + take, have - take
            xs, ys = [x[take:]], [y[take:]]
        if given >= total:
            return
    if have and given < total:
        x, y = torch.cat(xs), torch.cat(ys)
        yield x[:total - given], y[:total - given]


def merge_states(states, seed):
    """The first-pass statistics of every rank (:meth:`StreamedTable.accumulate`, in rank
    order) as one, as if one process had read the whole file; the test rows are thinned to
    :data:`~torchann.classify.dataset.MAX_TEST_ROWS` by the same hash and put in file order."""
    import pyarrow as pa

    from torchann.classify.tables.split import row_hash

    first = states[0]
    for other in states[1:]:
        first["labels"].merge(other["labels"])
        first["target"].merge(other["target"])
        first["encoder"].merge(other["encoder"])
    keep = min(s["keep"] for s in states)
    parts = [t for s in states for t in s["tests"] if t.num_rows]
    rows = np.concatenate([r for s in states for r in s["test_rows"]] or [np.empty(0, int)])
    kept = row_hash(rows, seed + 1) < keep
    while kept.sum() > MAX_TEST_ROWS:
        keep /= 2
        kept = row_hash(rows, seed + 1) < keep
    tests, test_rows = [], []
    if parts:
        table = pa.Table.from_batches(parts).filter(pa.array(kept))
        order = np.argsort(rows[kept], kind="stable")
        tests = table.take(pa.array(order)).combine_chunks().to_batches()
        test_rows = [rows[kept][order]]
    return {**first, "tests": tests, "test_rows": test_rows,
            "n_test": sum(s["n_test"] for s in states), "keep": keep}


class ShardedTable(StreamedTable):
    """Rank ``rank``'s share of a table of ``world_size`` ranks; see the module's text.

    Parameters
    ----------
    path, label, features, test_size, seed, task
        As :class:`~torchann.classify.dataset.StreamedTable`'s.
    rank, world_size : int
    group : Group, optional
        The ranks' collectives (:class:`~torchann.classify.distributed.Group`); needed by
        :meth:`scan`, not by :meth:`training_rows`.

    Attributes
    ----------
    n_train : int
        Training rows in the whole file.
    rows_per_rank : int
        Training rows each rank takes per epoch (after :meth:`scan`).
    shard_rows : list of int
        Each rank's own training rows (after :meth:`scan`).
    rows_read : int
        Training rows this rank trained on in the last epoch.
    """

    def __init__(self, path, label, features=None, test_size=0.2, seed=0, *, rank=0,
                 world_size=1, group=None, task="auto"):
        super().__init__(path, label, features, test_size, seed, task=task)
        self.rank, self.world_size, self.group = rank, world_size, group
        self.rows_per_rank = self.rows_read = 0
        self.shard_rows = []

    def _batches(self):
        from torchann.io.tables import iter_row_range, parquet_rows

        total = parquet_rows(self.path)
        if total is not None:  # Parquet: this rank's rows, and only the row groups with them
            columns = None if self.features is None else [*self.features, self.label]
            yield from iter_row_range(self.path, total * self.rank // self.world_size,
                                      total * (self.rank + 1) // self.world_size, columns,
                                      self.batch_rows)
            return
        for offset, batch in super()._batches():  # CSV: a slice of every block
            n = batch.num_rows
            lo, hi = n * self.rank // self.world_size, n * (self.rank + 1) // self.world_size
            if hi > lo:
                yield offset + lo, batch.slice(lo, hi - lo)

    def training_rows(self) -> np.ndarray:
        """The row numbers (0 = the first data row) of this rank's training rows, in file
        order (one pass over the file's row count, no values decoded)."""
        from torchann.classify.tables import hash_split

        parts = [offset + np.nonzero(~hash_split(offset, offset + batch.num_rows,
                                                 self.test_size, self.seed))[0]
                 for offset, batch in self._batches()]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def scan(self):
        """The first pass on this rank's rows, merged with every other rank's
        (:func:`merge_states`). Returns ``self``."""
        state = self.accumulate()
        mine = state["labels"].rows - state["n_test"]
        states = self.group.gather(state)
        self.shard_rows = [s["labels"].rows - s["n_test"] for s in states]
        if self.shard_rows[self.rank] != mine:
            raise AssertionError("the gathered statistics are not in rank order")
        self.conclude(merge_states(states, self.seed))
        self.rows_per_rank = min(self.shard_rows)
        return self

    @property
    def shape(self):
        """``(training rows of each rank per epoch, encoded features)``."""
        return (self.rows_per_rank, len(self.encoder.output_names))

    def minibatches(self, batch_size, generator=None, device="cpu"):
        """One epoch of this rank: ``rows_per_rank`` training rows in minibatches of
        ``batch_size`` (:func:`even_batches`), so every rank takes the same steps."""
        self.rows_read = 0
        for xb, yb in even_batches(super().minibatches(batch_size, generator, device),
                                   batch_size, self.rows_per_rank):
            self.rows_read += len(yb)
            yield xb, yb
