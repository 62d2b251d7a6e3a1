"""3.3 The experiment: load -> task -> split -> encode -> train -> evaluate, in the library.

One :class:`Experiment` is what ``torchann train`` runs, on the chapter's blobs or on a user's
table (read into memory, or streamed when it is large), and what ``torchann demo`` trains. It
takes plain data (a request: the parameters below) and returns an :class:`ExperimentResult`
holding the model, the numbers of ``metrics.json`` and ``model.json``, the figures and the
lines that say how it went. It never prints or writes: lines go to a ``say`` callback, each
epoch's loss to a progress ``callback``.

>>> from torchann.classify.experiment import run_experiment
>>> result = run_experiment(preset="fast")           # the chapter's blobs
>>> result.metrics["test_accuracy"], result.warning
>>> result = run_experiment(data="table.csv", label="price", preset="fast")
>>> result.metrics["test_r2"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from torchann.classify.experiment_data import (  # noqa: F401 (importable here too)
    ExperimentData,
    blob_data,
    feature_list,
    is_streamed,
    sharded_data,
    table_data,
)
from torchann.classify.presets import OPTIONS, describe_auto, resolve_config
from torchann.errors import TorchannError

#: A request's parameters and their defaults (those of ``torchann train``): ``preset`` ``None``
#: is ``auto`` for a table and ``seed`` for the chapter's blobs; a training parameter that is
#: ``None`` keeps the preset's value.
REQUEST = {
    "preset": None, "hidden": None, "optimizer": None, "lr": None, "epochs": None,
    "batch_size": None, **dict.fromkeys(OPTIONS),
    "seed": 0, "device": "cpu", "threads": None, "log_every": 100,
    "n_train": 80, "n_test": 20, "cluster_std": 0.3,
    "data": None, "label": None, "task": "auto", "features": None, "test_size": 0.2,
    "stream": False,
}
_TRAINING = ("hidden", "optimizer", "lr", "epochs", "batch_size", *OPTIONS)

#: The advice that goes with a poor result (:meth:`~torchann.classify.tasks.Task.poor_result`).
POOR_ADVICE = "train longer (more epochs) or change the learning rate (lr)"


@dataclass
class ExperimentResult:
    """What an experiment produced.

    Attributes
    ----------
    model : NeuralNet or MLP
        Trained, in eval mode.
    task : Task
    history : FitResult
    config : dict
        The run's configuration as ``metrics.json`` and ``model.json`` record it.
    metrics : dict
        The content of ``metrics.json``.
    model_info : dict
        The content of ``model.json`` (:func:`~torchann.classify.files.save_model`'s info).
    test, train : dict or None
        :meth:`~torchann.classify.tasks.Task.evaluate` on the test and training rows
        (``train`` is ``None`` when they were streamed).
    figures : dict
        ``loss.png``, and ``data.png`` and ``boundary.png`` for a binary task with two
        features: matplotlib Figures, open.
    title : str
        The network and the data, e.g. ``NeuralNet(2, 5) on blobs``.
    numbers : list of (str, object)
        The report's numbers.
    lines : list of str
        What happened after training, to be shown in this order.
    figures_note : str or None
        Why ``data.png`` and ``boundary.png`` were not drawn, if they were not.
    finding : str or None
        Why the result is no better than a guess (:meth:`Task.poor_result`).
    warning : str or None
        ``finding`` with :data:`POOR_ADVICE`.
    baseline : dict or None
        The constant and linear baselines (:func:`~torchann.classify.baselines.fit_baselines`),
        ``None`` for a streamed table.
    baseline_warning : str or None
        Why the network is no better than the linear baseline
        (:func:`~torchann.classify.baselines.baseline_warning`).
    """

    model: object
    task: object
    history: object
    config: dict
    metrics: dict
    model_info: dict
    test: dict
    train: dict | None
    figures: dict = field(default_factory=dict)
    title: str = ""
    numbers: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    figures_note: str | None = None
    finding: str | None = None
    warning: str | None = None
    baseline: dict | None = None
    baseline_warning: str | None = None


def _quiet(line):
    pass


def check_request(request):
    """Refuse a request whose data parameters do not fit together (see :class:`Experiment`)."""
    data, task = request["data"], request["task"]
    if data is None and task not in ("auto", "binary"):
        raise TorchannError(key="classify.experiment.task_needs_data", task=task)
    if request["log_every"] < 0:
        raise TorchannError(key="classify.experiment.log_every_must", request=request['log_every'])
    if data is None and (request["label"] or request["features"]):
        raise TorchannError(key="classify.experiment.label_features_need")
    if data is not None and not request["label"]:
        raise TorchannError(key="classify.experiment.data_needs_label")


def network_name(model, config):
    """``NeuralNet(2, 5)``, or ``MLP(n_in, [widths], n_out; activation[, dropout p])``."""
    from torchann.classify.chapter import NeuralNet

    if isinstance(model, NeuralNet):
        return f"NeuralNet({model.linear_1.in_features}, {model.linear_1.out_features})"
    hidden = ",".join(map(str, config["hidden"]))
    extra = f", dropout {config['dropout']:g}" if config["dropout"] else ""
    return f"MLP({model.n_in}, [{hidden}], {model.n_out}; {config['activation']}{extra})"


class Experiment:
    """One training run, step by step: :meth:`load`, :meth:`train`, :meth:`evaluate`.

    Parameters
    ----------
    request : dict, optional
        Parameters (any of :data:`REQUEST`; the rest keep their defaults), also given as
        keywords: the training configuration of
        :func:`~torchann.classify.presets.resolve_config` (``preset``: ``None`` is ``auto``
        for a table, chosen from its rows and task when it is loaded, and ``seed`` for the
        chapter's blobs; ``hidden``, ``lr``, ...), ``seed``, ``device``, ``threads`` (``None``: what
        :func:`~torchann.classify.train.suggested_threads` suggests), ``log_every`` (the test
        loss is recorded every so many epochs, 100 when 0); the chapter's blobs
        (``n_train``, ``n_test``, ``cluster_std``) when ``data`` is ``None``, else a table
        (``data``, ``label``, ``task``, ``features``, ``test_size``, ``stream``).

    Raises
    ------
    TorchannError
        An unknown parameter, what :func:`resolve_config` refuses, and data parameters that
        do not fit together (:func:`check_request`).
    """

    def __init__(self, request=None, **parameters):
        from torchann.runtime import resolve_device

        request = {**(request or {}), **parameters}
        unknown = sorted(set(request) - set(REQUEST))
        if unknown:
            raise TorchannError(key="classify.presets.unknown_parameter", unknown=unknown[0])
        self.request = req = {**REQUEST, **request}
        self.preset = req["preset"] or ("seed" if req["data"] is None else "auto")
        self.config = resolve_config(self.preset, **self._given())
        self.auto = None
        check_request(req)
        self.device = resolve_device(req["device"])
        self.data = self.model = self.history = None
        self.threads = self.before_loss = self.seconds = None
        self.group = None  # a Group of ranks (torchann.classify.distributed) to train in

    def distribute(self, group):
        """Train as one rank of ``group`` (a :class:`~torchann.classify.distributed.Group`
        already started): this rank's share of the table, DDP, statistics and losses
        over the ranks. Returns ``self``."""
        self.group = group
        return self

    def _given(self):
        return {k: self.request[k] for k in _TRAINING}

    def load(self, say=_quiet):
        """Read the data, decide the task (and ``auto``'s configuration); ``say`` the
        decisions. Returns ``self``."""
        from torchann.i18n import message

        req = self.request
        if self.group is not None:
            self.data = sharded_data(req["data"], req["label"], self.group, req["features"],
                                     req["test_size"], req["seed"], req["task"], say)
            say(self.data.task.describe())
        elif req["data"] is None:
            self.data = blob_data(req["seed"], req["n_train"], req["n_test"], req["cluster_std"])
        else:
            self.data = table_data(req["data"], req["label"], req["features"],
                                   req["test_size"], req["seed"], req["task"], req["stream"],
                                   say)
            say(self.data.task.describe())
            for line in self.data.info.get("decisions", []):
                say(message("data.line", decision=line))
        if self.preset == "auto":
            rows, features = self.data.x_train.shape
            rows = self.data.info.get("distributed", {}).get("train_rows", rows)
            shape = (rows, features, self.data.task.kind, self.data.streamed)
            self.config = resolve_config("auto", shape, **self._given())
            line = describe_auto(self.config)
            self.auto = {"rows": rows, "features": features, "line": line,
                         "given": sorted(k for k, v in self._given().items() if v is not None)}
            say(line)
        return self

    def train(self, callback=None, say=_quiet, on_start=None):
        """Train (:func:`~torchann.classify.train.train_model`), ``say`` the untrained test
        loss first; ``callback(epoch, loss)`` and ``on_start(model)`` as there. Returns
        ``self``."""
        from torchann.classify import train as lib
        from torchann.classify.evaluation import task_loss
        from torchann.runtime import set_threads

        data, config, req = self.data, self.config, self.request
        if data.streamed and config["batch_size"] is None:
            from torchann.classify.dataset import STREAM_BATCH

            config["batch_size"] = STREAM_BATCH  # a full batch is not possible
        threads, batch, group = req["threads"], config["batch_size"], self.group
        if threads is None:
            threads = lib.suggested_threads(*data.x_train.shape, sum(config["hidden"]),
                                            config["batch_size"])
            threads = threads if group is None else group.threads(threads)
        self.threads = set_threads(threads)
        if group is not None:  # the same global minibatch, shared by the ranks
            batch = group.batch_per_rank(batch)

        def started(model):
            self.before_loss = task_loss(self._scorer(model), data.task, data.x_test,
                                         data.y_test)
            say(f"Before training, test loss is {self.before_loss}")
            if on_start is not None:
                on_start(model)

        start = time.perf_counter()
        self.model, self.history = lib.train_model(
            data.x_train, data.y_train, data.task,
            **{k: config[k] for k in _TRAINING if k != "batch_size"}, batch_size=batch,
            seed=req["seed"], device=self.device, callback=callback, x_test=data.x_test,
            y_test=data.y_test, test_every=req["log_every"] or 100, on_start=started,
            parallel=group)
        self.seconds = time.perf_counter() - start
        return self

    def evaluate(self):
        """Evaluate the trained model, fit the baselines on the same split and draw the
        figures: an :class:`ExperimentResult`."""
        from torchann.classify import baselines
        from torchann.classify.evaluation import task_loss
        from torchann.classify.figures import experiment_figures
        from torchann.i18n import message

        data, model, history, task = self.data, self.model, self.history, self.data.task
        scorer = self._scorer(model)  # the ranks share the work of evaluating
        after_loss = task_loss(scorer, task, data.x_test, data.y_test)
        lines = [f"After training, test loss is {after_loss}"]
        if self.config["early_stopping"] is not None:
            lines.append(message("train.early_stopping", loss=min(history.val_loss),
                                 best=history.best_epoch, how=message(
                                     "train.stopped_after", epoch=history.epochs - 1)
                                 if history.stopped_early else message("train.ran_every")))
        test = task.evaluate(scorer, data.x_test, data.y_test)
        train = None if data.streamed else task.evaluate(model, data.x_train, data.y_train)
        lines += task.summary_lines(test)
        baseline, baseline_warning = self._baselines(test)
        if baseline is not None:
            lines.append(baselines.baseline_line(baseline, baselines.network_score(task, test)))
        else:
            lines.append(message("train.baselines_streamed"))
        finding = task.poor_result(test, data.y_test if data.streamed else data.y_train)
        warning = f"warning: {finding}; {POOR_ADVICE}" if finding else None
        figures, note = experiment_figures(model, history, data)
        config = self._run_config()
        metrics = self._metrics(after_loss, test, train, config, warning)
        metrics["baseline"] = baseline if baseline is not None else baselines.STREAMED
        if baseline_warning:
            metrics["baseline_warning"] = baseline_warning
        info = data.info
        model_info = {k: info[k] for k in ("data", "features", "label", "label_map",
                                           "standardize", "encoder") if k in info}
        model_info.update(task.to_json())
        model_info["config"] = config
        said = {k: message(f"train.n_{k}") for k in ("task", "loss_before", "loss_after",
                                                        "warning", "epochs", "seconds")}
        numbers = [(said["task"], task.kind), (said["loss_before"], self.before_loss),
                   (said["loss_after"], after_loss), *task.report_numbers(test),
                   *(baselines.report_numbers(baseline) if baseline else []),
                   *([(said["warning"], baseline_warning)] if baseline_warning else []),
                   (said["epochs"], history.epochs), (said["seconds"], self.seconds)]
        return ExperimentResult(
            model, task, history, config, metrics, model_info, test, train, figures,
            title=message("train.report_title", network=network_name(model, self.config),
                          data=info["data"]), numbers=numbers,
            lines=lines, figures_note=note, finding=finding, warning=warning,
            baseline=baseline, baseline_warning=baseline_warning)

    def _scorer(self, model):
        """``model``, or with ranks, ``model`` whose evaluation the ranks share
        (:meth:`~torchann.classify.distributed.Group.shared`)."""
        return model if self.group is None else self.group.shared(model)

    def _baselines(self, test):
        """The baselines on this split and the warning when the network loses to the linear
        one; ``(None, None)`` for a streamed table."""
        from torchann.classify import baselines

        data = self.data
        if data.streamed:
            return None, None
        baseline = baselines.fit_baselines(data.task, data.x_train, data.y_train, data.x_test,
                                           data.y_test)
        score = baselines.network_score(data.task, test)
        return baseline, baselines.baseline_warning(baseline, score, self.preset)

    def _run_config(self):
        """The configuration as ``metrics.json`` and ``model.json`` record it."""
        req, config, info = self.request, self.config, self.data.info
        hidden = config["hidden"]
        run_config = {**config, "hidden": hidden[0] if len(hidden) == 1 else list(hidden),
                      "preset": self.preset, "seed": req["seed"], "device": str(self.device),
                      "threads": self.threads, "log_every": req["log_every"],
                      "task": self.data.task.kind}
        if req["data"] is not None:
            run_config.update(data=info["data"], label=req["label"],
                              test_size=req["test_size"], stream=info.get("streamed"))
        else:
            run_config.update(n_train=req["n_train"], n_test=req["n_test"],
                              cluster_std=req["cluster_std"])
        return run_config

    def _metrics(self, after_loss, test, train, config, warning):
        """The content of ``metrics.json``."""
        data, history, task = self.data, self.history, self.data.task
        metrics = {
            "task": task.kind, "task_reason": task.reason,
            "test_loss_before": self.before_loss, "test_loss_after": after_loss,
            "n_train": data.info.get("distributed", {}).get("train_rows",
                                                             data.x_train.shape[0]),
            "n_test": len(data.y_test),
            "epochs": history.epochs, "seconds": self.seconds,
            "final_train_loss": history.train_loss[-1],
            "test_loss_log": [[e, loss] for e, loss in history.test_loss], "config": config,
            **task.metrics_fields(test, train),
        }
        if self.config["early_stopping"] is not None:
            metrics.update(best_epoch=history.best_epoch, stopped_early=history.stopped_early,
                           validation_loss=history.val_loss)
        if warning:
            metrics["warning"] = warning
        metrics["decisions"] = data.info.get("decisions", [])
        if self.group is not None:
            metrics.update(world_size=self.group.world_size,
                           rows_per_rank=self.group.gather(data.x_train.rows_read),
                           batch_per_rank=self.group.batch_per_rank(self.config["batch_size"]),
                           backend=self.group.backend)
        if self.auto is not None:
            metrics["auto"] = self.auto
        return metrics


def run_experiment(request=None, callback=None, say=_quiet, **parameters):
    """Run a whole :class:`Experiment` (same parameters): load, train, evaluate.

    Parameters
    ----------
    request : dict, optional
    callback : callable(epoch, loss), optional
        Called after each epoch (e.g. a progress bar).
    say : callable(str), optional
        Called with each line that says what was decided or measured, in order.
    **parameters
        As :class:`Experiment`'s.

    Returns
    -------
    ExperimentResult
    """
    experiment = Experiment(request, **parameters).load(say).train(callback, say)
    result = experiment.evaluate()
    for line in result.lines + ([result.figures_note] if result.figures_note else []):
        say(line)
    return result
