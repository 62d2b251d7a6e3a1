"""3.3 playground: a page's network as the library's model files (``model.pt`` + ``model.json``)."""

from __future__ import annotations

from torchann.playground.datasets import csv_model_info


def export_model(cfg, model, epoch, code_text, csv_data=None, task=None):
    """``model.pt`` bytes and the ``model.json`` description, as ``torchann train`` writes
    them (:func:`torchann.classify.files.model_files`).

    The chapter's shape gives the chapter's format: ``NeuralNet(2, hidden)`` loads the
    ``.pt``. ``torchann predict`` reads the pair; for a model trained on an uploaded CSV
    (``csv_data``) with the features x1, x2, the description holds the page's scaling and
    label mapping, so that predictions from the raw file agree with the page. ``task``
    (:class:`torchann.classify.tasks.Task`, binary by default) is recorded for a
    multi-class or regression network.
    """
    from torchann.classify.files import model_files
    from torchann.io import state_dict_bytes

    chapter = cfg.chapter_shape and (task is None or task.kind == "binary")
    info = {"format": "torchann-classifier" if chapter else "torchann-playground",
            "features": list(cfg.features), "standardize": None}
    if cfg.dataset == "csv":
        described = csv_model_info(csv_data)
        if cfg.features == ["x1", "x2"]:
            info.update(described)
        else:  # the inputs are computed from the scaled columns: only the labels carry over
            info["label_map"] = described["label_map"]
    if task is not None and task.kind != "binary":
        info.update(task.to_json())
    info.update(epoch=epoch, playground=cfg.to_dict(), code=code_text)
    if not chapter:
        info.update(hidden_sizes=list(cfg.layers), activation=cfg.act)
    state, info = model_files(model, info, "model.json")
    return state_dict_bytes(state), info
