"""3.3 The experiment's data: the chapter's blobs or a user's table, as :class:`ExperimentData`.

:func:`blob_data` draws the chapter's blobs; :func:`table_data` reads a user's table into
memory, or streams it when it is large (:func:`is_streamed`). Both return the arrays an
:class:`~torchann.classify.experiment.Experiment` trains and tests on, with what
``model.json`` says about them.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchann.errors import TorchannError


def _quiet(line):
    pass


@dataclass
class ExperimentData:
    """The arrays an experiment trains and tests on, and where they came from.

    ``x_train`` is a :class:`~torchann.classify.dataset.StreamedTable` and ``y_train``
    ``None`` when the training rows are streamed. ``info`` holds what ``model.json`` says about
    the data (``data``, ``features``, ``label``, ``label_map``, ``standardize``, ``encoder``)
    and ``decisions``/``streamed`` when there are any. ``raw`` is ``(train, test)`` in the
    features' own units and ``prepare`` turns such rows into the network's input, for the
    boundary figure of a table with two numeric features.
    """

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    task: object
    info: dict
    raw: tuple | None = None
    prepare: object = None

    @property
    def streamed(self):
        return self.y_train is None


def feature_list(features):
    """``features`` as a list of names: a list, or text such as ``"a,b,c"``; ``None`` stays."""
    if features is None:
        return None
    names = features.split(",") if isinstance(features, str) else list(features)
    names = [str(f).strip() for f in names if str(f).strip()]
    if not names:
        raise TorchannError(key="classify.experiment_data.features_empty_name")
    return names


def is_streamed(path, stream=False):
    """Whether ``path`` is streamed: ``stream``, or a file over
    :data:`~torchann.classify.dataset.STREAM_BYTES`."""
    import os

    from torchann.classify.dataset import STREAM_BYTES

    try:
        size = os.path.getsize(path)
    except OSError:
        return stream  # reading it names the problem
    return stream or size > STREAM_BYTES


def blob_data(seed=0, n_train=80, n_test=20, cluster_std=0.3):
    """The chapter's blobs (:func:`~torchann.classify.chapter.chapter_data`) as
    :class:`ExperimentData`."""
    from torchann.classify.chapter import chapter_data
    from torchann.classify.tasks import Task

    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if value < 1:
            raise TorchannError(key="classify.experiment_data.must_positive", name=name,
                                value=value)
    x_train, y_train, x_test, y_test = chapter_data(seed, n_train, n_test, cluster_std)
    info = {"data": "blobs", "features": ["x1", "x2"], "label": "label",
            "label_map": None, "standardize": None}
    task = Task("binary", ["0", "1"], reason="the chapter's blobs")
    return ExperimentData(x_train, y_train, x_test, y_test, task, info)


def _table_info(path, label, data):
    from pathlib import Path

    encoder = data.encoder
    return {"data": str(Path(path).resolve()), "features": encoder.output_names,
            "label": label, "label_map": data.task.label_map, "standardize": None,
            "encoder": encoder.to_json(), "decisions": encoder.decisions,
            "skipped_columns": [s["name"] for s in encoder.skipped]}


def table_data(path, label, features=None, test_size=0.2, seed=0, task="auto", stream=False,
               say=_quiet):
    """A user's table as :class:`ExperimentData`: read into memory
    (:func:`~torchann.classify.dataset.load_in_memory`), or streamed
    (:class:`~torchann.classify.dataset.StreamedTable`, saying how) when :func:`is_streamed`.
    """
    from torchann.classify.dataset import StreamedTable, load_in_memory

    features = feature_list(features)
    if not is_streamed(path, stream):
        data = load_in_memory(path, label, features, test_size, seed, task=task)
        info = _table_info(path, label, data)
        prepare = data.encoder.transform_array if data.raw is not None else None
        return ExperimentData(data.x_train, data.y_train, data.x_test, data.y_test, data.task,
                              info, raw=data.raw, prepare=prepare)
    data = StreamedTable(path, label, features, test_size, seed, task=task).scan()
    from torchann.i18n import message

    kept = (message("data.streaming_kept", kept=data.n_test_kept, n_test=data.n_test)
            if data.n_test_kept < data.n_test else "")
    say(message("data.streaming", path=path, rows=data.n_rows, n_train=data.n_train,
                n_test=data.n_test, seed=seed, window=data.window, kept=kept))
    info = _table_info(path, label, data)
    info["streamed"] = {"rows": data.n_rows, "train": data.n_train, "test": data.n_test,
                        "test_evaluated": data.n_test_kept, "window": data.window}
    return ExperimentData(data, None, data.x_test, data.y_test, data.task, info)


def sharded_data(path, label, group, features=None, test_size=0.2, seed=0, task="auto",
                 say=_quiet):
    """This rank's share of a user's table as :class:`ExperimentData`
    (:class:`~torchann.classify.sharded.ShardedTable`, its statistics merged over the ranks of
    ``group``, a :class:`~torchann.classify.distributed.Group`), saying how it was shared."""
    from torchann.classify.sharded import ShardedTable
    from torchann.i18n import message

    if path is None:
        raise TorchannError(key="classify.experiment_data.training_several_processes")
    data = ShardedTable(path, label, feature_list(features), test_size, seed, rank=group.rank,
                        world_size=group.world_size, group=group, task=task).scan()
    left = data.n_train - data.rows_per_rank * group.world_size
    say(message("train.sharing", path=str(path), n=group.world_size, rows=data.n_rows,
                train=data.n_train, test=data.n_test, seed=seed, per_rank=data.rows_per_rank,
                left=message("train.sharing_left", left=left) if left else ""))
    info = _table_info(path, label, data)
    info["streamed"] = {"rows": data.n_rows, "train": data.n_train, "test": data.n_test,
                        "test_evaluated": data.n_test_kept, "window": data.window}
    info["distributed"] = {"world_size": group.world_size, "backend": group.backend,
                           "train_rows": data.n_train, "rows_per_rank": data.rows_per_rank,
                           "shard_rows": data.shard_rows}
    return ExperimentData(data, None, data.x_test, data.y_test, data.task, info)
