"""3.3 Configurations by name, and a run's configuration: a preset overridden by what is given.

``seed`` is the chapter's run (NeuralNet(2, 5), SGD with lr 0.03, 2000 full-batch epochs);
``fast`` the recommended one for small data like the chapter's, chosen by measurement over
100 seeds with ``benchmarks/classify.py`` (hidden 32, Adam with lr 0.1, 10 epochs); ``large``
the one for many rows (minibatches of 2048). :data:`ESTIMATOR_PRESET` holds the defaults of
the scikit-learn-style estimators.

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

#: The defaults of :class:`~torchann.classify.estimator.TorchannClassifier` and
#: :class:`~torchann.classify.estimator.TorchannRegressor`: a preset of their own.
ESTIMATOR_PRESET = {"hidden": (32,), "optimizer": "adam", "lr": 0.01, "epochs": 200,
                    "batch_size": None}

#: What a run may set beyond the preset's keys, with the values it takes when not given.
OPTIONS = {"activation": "relu", "dropout": 0.0, "weight_decay": 0.0, "early_stopping": None,
           "lr_schedule": "constant"}


def resolve_config(preset="seed", **given):
    """A run's training configuration: ``preset``'s values overridden by ``given``.

    Parameters
    ----------
    preset : {"seed", "fast", "large"}
    **given
        ``hidden`` (int, sequence of int, or text such as ``"64,32"``), ``optimizer``, ``lr``,
        ``epochs``, ``batch_size``, ``activation``, ``dropout``, ``weight_decay``,
        ``early_stopping``, ``lr_schedule``; ``None`` keeps the preset's (or the default)
        value.

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
        raise TorchannError(f"`preset={preset!r}`: use one of {', '.join(sorted(PRESETS))}")
    unknown = sorted(set(given) - set(PRESETS[preset]) - set(OPTIONS))
    if unknown:
        raise TorchannError(f"unknown parameter `{unknown[0]}`")
    config = {**PRESETS[preset], **OPTIONS}
    config.update({k: v for k, v in given.items() if v is not None})
    for key in ("epochs", "lr", "batch_size"):
        value = config[key]
        if value is not None and not (math.isfinite(value) and value > 0):
            raise TorchannError(f"`{key}={value}`: must be a positive number")
    hidden = config["hidden"]
    if isinstance(hidden, str):
        config["hidden"] = parse_hidden(hidden)
    else:
        config["hidden"] = ((int(hidden),) if isinstance(hidden, (int, float))
                            else tuple(int(h) for h in hidden))
    check_network(config["hidden"], config["activation"], config["dropout"])
    decay = config["weight_decay"]
    if not (math.isfinite(decay) and decay >= 0):
        raise TorchannError(f"`weight_decay={decay}`: must be 0 or a positive number, "
                             "e.g. 0.0001")
    if decay and config["optimizer"] == "lbfgs":
        raise TorchannError("`weight_decay` works with `optimizer` sgd or adam, not lbfgs")
    patience = config["early_stopping"]
    if patience is not None and patience < 1:
        raise TorchannError(f"`early_stopping={patience}`: the patience must be a positive "
                             "number of epochs")
    return config
