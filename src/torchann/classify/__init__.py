"""3.3 A first neural network: the section's front door.

The chapter's program (:mod:`~torchann.classify.chapter`): ``NeuralNet``, ``label_map``,
``make_blob_data``, ``chapter_data``, ``vis_data``. Training and evaluation
(:mod:`~torchann.classify.train`, :mod:`~torchann.classify.evaluation`): ``fit``,
``evaluate``, ``predict_proba``. Figures: ``data_figure``, ``boundary_figure``,
``loss_figure``. A user's table (:mod:`~torchann.classify.tables`): ``read_csv``,
``load_labelled_csv``, ``FeatureEncoder``. Model files (:mod:`~torchann.classify.files`):
``save_model``, ``load_model``. The whole run of ``torchann train``
(:mod:`~torchann.classify.experiment`): ``run_experiment``, with the configurations of
:mod:`~torchann.classify.presets` (``auto_preset``: the one chosen from a table) and the
baselines every run is compared with (:mod:`~torchann.classify.baselines`:
``fit_baselines``). The scikit-learn face: ``TorchannClassifier`` and
``TorchannRegressor``.

Every name is imported when it is first used, so that ``import torchann.classify.tasks``
does not pay for matplotlib or scikit-learn.

Examples
--------
>>> from torchann.classify import NeuralNet, chapter_data, fit
>>> x_train, y_train, x_test, y_test = chapter_data(seed=0)
>>> model = fit(NeuralNet(2, 5), x_train, y_train, epochs=2000, lr=0.03).model
"""

from __future__ import annotations

import importlib

_NAMES = {
    "chapter": ("CENTERS", "NeuralNet", "chapter_data", "label_map", "make_blob_data",
                "vis_data"),
    "figures": ("boundary_figure", "data_figure", "loss_figure"),
    "train": ("OPTIMIZERS", "SATURATION", "SMALL_WORK", "FitResult", "fit", "make_optimizer",
              "suggested_threads"),
    "evaluation": ("Evaluation", "evaluate", "predict_proba"),
    "files": ("MODEL_FORMAT", "LoadedModel", "load_model", "save_model", "sidecar_path",
              "state_dict_sizes"),
    "tables": ("CsvTable", "FeatureEncoder", "LabelledData", "Standardizer", "feature_matrix",
               "load_labelled_csv", "read_csv", "stratified_split"),
    "estimator": ("TorchannClassifier", "TorchannRegressor"),
    "experiment": ("Experiment", "ExperimentResult", "run_experiment"),
    "presets": ("PRESETS", "auto_preset", "describe_auto", "resolve_config"),
    "baselines": ("fit_baselines",),
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'torchann.classify' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"torchann.classify.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
