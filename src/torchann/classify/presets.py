"""3.3 Configurations by name, and a run's configuration: a preset overridden by what is given.

``seed`` is the chapter's run (NeuralNet(2, 5), SGD with lr 0.03, 2000 full-batch epochs);
``fast`` the one for small data like the chapter's, chosen by measurement over
100 seeds with ``benchmarks/classify.py`` (hidden 32, Adam with lr 0.1, 10 epochs); ``large``
the one for many rows (minibatches of 2048). ``auto``, the default for a user's table, is
chosen from the table's rows and task by :func:`auto_preset`. :data:`ESTIMATOR_PRESET` holds
the defaults of the scikit-learn-style estimators.

:func:`resolve_config` checks every value and raises
:class:`~torchann.errors.TorchannError` worded with these parameter names (``lr``,
``epochs``, ``batch_size``, ``weight_decay``, ``early_stopping``).
"""

from __future__ import annotations

import math

from torchann.errors import TorchannError

#: Configurations by name, chosen by measurement with benchmarks/classify.py.
PRESETS = {
    "seed": {"hidden": 5, "optimizer": "sgd", "lr": 0.03, "epochs": 2000, "batch_size": None},
    "fast": {"hidden": 32, "optimizer": "adam", "lr": 0.1, "epochs": 10, "batch_size": None},
    "large": {"hidden": 64, "optimizer": "adam", "lr": 0.02, "epochs": 8, "batch_size": 2048},
}

#: The preset of :class:`~torchann.classify.estimator.TorchannClassifier` and
#: :class:`~torchann.classify.estimator.TorchannRegressor` by default: ``auto``, as
#: ``torchann train`` on a table.
ESTIMATOR_PRESET = "auto"

#: What a run may set beyond the preset's keys, with the values it takes when not given.
OPTIONS = {"activation": "relu", "dropout": 0.0, "weight_decay": 0.0, "early_stopping": None,
           "lr_schedule": "constant", "label_smoothing": 0.0, "bins": 0}

#: ``auto``'s steps of training: epochs are chosen so that a run takes about this many
#: minibatch steps, within :data:`AUTO_EPOCHS` (early stopping usually ends it sooner), and
#: from :data:`AUTO_LARGE` rows about :data:`AUTO_STEPS_LARGE`. 2,000 rather than 800 raised
#: randhie's R² from 0.117 to 0.154 (3 splits) and left the other tables within their spread.
AUTO_STEPS, AUTO_STEPS_LARGE = 2000, 800
#: Fewest and most epochs ``auto`` chooses.
AUTO_EPOCHS = (4, 100)
#: Training rows below which a table is small for ``auto`` (a smaller, more regularized
#: network) and above which it is large (a narrower one, for speed).
AUTO_SMALL, AUTO_LARGE = 1000, 100_000
#: Quantile bins per input (:class:`~torchann.classify.mlp.MLP`'s ``bins``) that ``auto``
#: gives binary and regression tables from :data:`AUTO_BINS_ROWS` to :data:`AUTO_LARGE` rows.
#: Measured with ``benchmarks/tabular_suite.py --ablation`` (3 splits): randhie's R² 0.075 ->
#: 0.117 and diamonds' price 0.989 -> 0.991 with them, fair's accuracy 0.720 -> 0.725 (within
#: its spread); on digits (1,797 rows) they cost 1.6 points, hence none below 5,000 rows. On
#: multiclass tables they overfit: diamonds' cut (5 classes) reached 0.761 with them and 0.791
#: without (3 splits); on split 0 its validation loss was lowest at epoch 8 of 26 with them
#: and at 25 without, hence none for more than two classes.
AUTO_BINS, AUTO_BINS_ROWS = 48, 5000
#: Below this many training rows ``auto`` leaves early stopping off: too few rows to hold out
#: a validation split of every class.
AUTO_VALIDATION_ROWS = 200


def auto_preset(n_rows, n_features=None, task="binary", streamed=False):
    """``auto``'s configuration for a table of ``n_rows`` training rows.

    Measured on scikit-learn's bundled tables and the customer table
    (``benchmarks/customers.py``) on a 2-core CPU, after the defaults of RealMLP-TD and TabM:
    AdamW with a warm-up and a cosine decay step by step, weight decay, dropout, label
    smoothing 0.1 for classification, and early stopping on a validation split, keeping the
    best epoch. Small tables (under :data:`AUTO_SMALL` rows) get 2 hidden layers of 128 with
    a lower rate and more regularization; others 3 of 256, and from :data:`AUTO_LARGE` rows
    2 of 64 in batches of 2048 at lr 1e-2, for speed (on 1,000,000 x 20 rows as accurate as
    3 x 128 in batches of 1024 at lr 2e-3, in half the time; on 200,000 rows 0.5 points more
    accurate than 3 x 256, in 40% of the time). The batch grows with the rows (64 to
    2048) and the epochs give about :data:`AUTO_STEPS` steps (:data:`AUTO_STEPS_LARGE` from
    :data:`AUTO_LARGE` rows), within :data:`AUTO_EPOCHS`.

    Parameters
    ----------
    n_rows : int
        Training rows (before the validation split is held out).
    n_features : int, optional
        The network's inputs (recorded only).
    task : {"binary", "multiclass", "regression"}
    streamed : bool
        A streamed table: no early stopping (it needs the rows in memory), nor below
        :data:`AUTO_VALIDATION_ROWS` rows.

    Returns
    -------
    dict
        Every key of a preset and of :data:`OPTIONS`.
    """
    n = max(int(n_rows), 1)
    small = n < AUTO_SMALL
    hidden = (128, 128) if small else (64, 64) if n >= AUTO_LARGE else (256, 256, 256)
    batch = (64 if n < 1000 else 128 if n < 5000 else 256 if n < 20_000
             else 512 if n < AUTO_LARGE else 2048)
    steps = -(-int(n * 0.9) // batch)
    target = AUTO_STEPS_LARGE if n >= AUTO_LARGE else AUTO_STEPS
    epochs = min(max(round(target / max(steps, 1)), AUTO_EPOCHS[0]), AUTO_EPOCHS[1])
    lr = 1e-3 if small else 1e-2 if n >= AUTO_LARGE else 2e-3
    return {"hidden": hidden, "optimizer": "adamw", "lr": lr,
            "epochs": epochs, "batch_size": batch, "activation": "relu",
            "dropout": 0.15 if small else 0.1, "weight_decay": 0.1 if small else 0.01,
            "early_stopping": (None if streamed or n < AUTO_VALIDATION_ROWS
                               else max(8, epochs // 3)),
            "lr_schedule": "warmup_cosine",
            "label_smoothing": 0.0 if task == "regression" else 0.1,
            "bins": (AUTO_BINS if AUTO_BINS_ROWS <= n < AUTO_LARGE and not streamed
                     and task != "multiclass" else 0)}


#: ``auto`` before the table is known: its choice for a mid-sized table.
PRESETS["auto"] = auto_preset(5000)


def describe_auto(config):
    """One line saying what ``auto`` chose, e.g. ``auto: 3 hidden layers of 256, AdamW lr
    2e-3, ...``."""
    from torchann.i18n import message

    hidden = config["hidden"]
    parts = [message("auto.layers", n=len(hidden), width=hidden[0]) if len(set(hidden)) == 1
             else message("auto.hidden", sizes=",".join(map(str, hidden))),
             f"{config['optimizer'].replace('adamw', 'AdamW')} lr {config['lr']:g}"]
    for key in ("weight_decay", "dropout", "bins", "label_smoothing"):
        if config[key]:
            parts.append(message(f"auto.{key}", value=config[key]))
    if config["lr_schedule"] == "warmup_cosine":
        parts.append(message("auto.warmup_cosine"))
    batch = config["batch_size"]
    parts.append(message("auto.batches", epochs=config["epochs"], batch=batch) if batch
                 else message("auto.full_batch", epochs=config["epochs"]))
    if config["early_stopping"] is not None:
        parts.append(message("auto.early_stopping", patience=config["early_stopping"]))
    return message("auto.line", parts=parts)


def resolve_config(preset="seed", shape=None, **given):
    """A run's training configuration: ``preset``'s values overridden by ``given``.

    Parameters
    ----------
    preset : {"seed", "fast", "large", "auto"}
    shape : (int, int, str) or (int, int, str, bool), optional
        For ``auto``: the table's training rows, features, task (and whether it is
        streamed), for :func:`auto_preset`; without it, ``auto`` is its mid-sized choice.
    **given
        ``hidden`` (int, sequence of int, or text such as ``"64,32"``), ``optimizer``, ``lr``,
        ``epochs``, ``batch_size``, ``activation``, ``dropout``, ``weight_decay``,
        ``early_stopping``, ``lr_schedule``, ``label_smoothing``, ``bins``; ``None`` keeps
        the preset's (or the default) value.

    Returns
    -------
    dict
        Every key of the preset and of :data:`OPTIONS`; ``hidden`` as a tuple of widths.

    Raises
    ------
    TorchannError
        An unknown preset or parameter; ``epochs``, ``lr`` or ``batch_size`` not a positive
        number; a negative or non-finite ``weight_decay``, or one with ``optimizer`` lbfgs; an
        ``early_stopping`` patience below 1.
    TorchannError
        What :func:`~torchann.classify.mlp.check_network` refuses.
    """
    from torchann.classify.mlp import check_network, parse_hidden

    if preset not in PRESETS:
        raise TorchannError(key="classify.presets.preset_choices", preset=preset,
                            choices=', '.join(sorted(PRESETS)))
    unknown = sorted(set(given) - set(PRESETS[preset]) - set(OPTIONS))
    if unknown:
        raise TorchannError(key="classify.presets.unknown_parameter", unknown=unknown[0])
    values = auto_preset(*shape) if preset == "auto" and shape else PRESETS[preset]
    config = {**OPTIONS, **values}
    config.update({k: v for k, v in given.items() if v is not None})
    for key in ("epochs", "lr", "batch_size"):
        value = config[key]
        if value is not None and not (math.isfinite(value) and value > 0):
            raise TorchannError(key="value.positive", name=key, value=value)
    hidden = config["hidden"]
    if isinstance(hidden, str):
        config["hidden"] = parse_hidden(hidden)
    else:
        config["hidden"] = ((int(hidden),) if isinstance(hidden, (int, float))
                            else tuple(int(h) for h in hidden))
    check_network(config["hidden"], config["activation"], config["dropout"], config["bins"])
    decay = config["weight_decay"]
    if not (math.isfinite(decay) and decay >= 0):
        raise TorchannError(key="classify.presets.weight_decay_must", decay=decay)
    if decay and config["optimizer"] == "lbfgs":
        raise TorchannError(key="classify.presets.weight_decay_works")
    smoothing = config["label_smoothing"]
    if not (math.isfinite(smoothing) and 0 <= smoothing < 1):
        raise TorchannError(key="value.fraction", name="label_smoothing", value=smoothing)
    patience = config["early_stopping"]
    if patience is not None and patience < 1:
        raise TorchannError(key="classify.presets.early_stopping_patience", patience=patience)
    return config
