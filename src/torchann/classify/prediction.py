"""3.3 Predicting with a saved model: one point, or every row of a table.

A model read by :func:`~torchann.classify.files.load_model` predicts P(class 1) (binary),
the class probabilities (multiclass) or a number in the label's units (regression); its
:class:`~torchann.classify.tasks.Task` turns those into text (:func:`predict_point`) or into
the columns added to a table (:func:`predict_rows`).
"""

from __future__ import annotations

import math

import numpy as np

from torchann.errors import TorchannError


def check_threshold(threshold):
    """Refuse a binary decision threshold outside (0, 1)."""
    if not 0 < threshold < 1:
        raise TorchannError(key="value.between_0_1", name="threshold", value=threshold)


def check_values(values):
    """Refuse a feature value that is not a finite number."""
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        raise TorchannError(key="predict.not_finite", value=bad[0])


def predict_point(loaded, values):
    """One point's prediction as text (:meth:`~torchann.classify.tasks.Task.format_prediction`).

    Parameters
    ----------
    loaded : LoadedModel
    values : sequence of float
        The point's feature values, in the model's feature order.

    Raises
    ------
    TorchannError
        A value that is not finite, a model that needs a table (text categories or gaps),
        or the wrong number of values.
    """
    check_values(values)
    encoder = loaded.encoder
    n = len(encoder.columns) if encoder is not None else loaded.n_features
    if encoder is not None and not encoder.numeric_only:
        raise TorchannError(key="predict.needs_table")
    if len(values) != n:
        names = f" ({', '.join(loaded.features)})" if loaded.features else ""
        raise TorchannError(key="predict.feature_count", n=n, names=names, got=len(values))
    return loaded.task.format_prediction(loaded.predict(np.array([values]))[0])


def _feature_names(loaded, table, features):
    """The columns of ``table`` (a :class:`~torchann.classify.tables.CsvTable`) that feed a
    model without a feature encoder."""
    n = loaded.n_features
    if features:
        names = [f.strip() for f in features.split(",") if f.strip()] \
            if isinstance(features, str) else list(features)
    elif loaded.features:
        names = list(loaded.features)
    elif len(table.header) == n:
        names = list(table.header)
    else:
        raise TorchannError(f"the model takes {n} features but {table.path} has "
                             f"{len(table.header)} columns and the model has no model.json "
                             "naming them; choose them with `features`")
    if len(names) != n:
        raise TorchannError(f"`features` names {len(names)} columns; the model takes {n}")
    return names


def _unique(name, header):
    while name in header:
        name = f"predicted_{name}"
    return name


def predict_rows(loaded, table, features=None, threshold=0.5):
    """Every row's prediction, added to the table as new columns.

    Parameters
    ----------
    loaded : LoadedModel
    table : CsvTable
        From :func:`~torchann.classify.tables.read_csv`.
    features : list of str or str, optional
        The feature columns (``"a,b,c"`` or a list), for a model without a feature encoder;
        default the names in its ``model.json``.
    threshold : float
        P(class 1) from which a binary model answers class 1.

    Returns
    -------
    result : pyarrow.Table
        ``table``'s columns, then ``prediction`` (regression) or ``probability`` and
        ``label``, each prefixed with ``predicted_`` while its name is taken.
    n : int
        The number of predictions.

    Raises
    ------
    TorchannError
        What the model's encoder refuses (the file's line is named), missing feature
        columns, a wrong number of them.
    """
    import pyarrow as pa

    from torchann.classify.tables import ValueProblem, feature_matrix

    check_threshold(threshold)
    if loaded.encoder is not None and not features:
        try:
            out = loaded.predict_table(table.table)
        except ValueProblem as err:
            raise err.at(table.path) from None
        except TorchannError as err:
            raise err.in_file(table.path) from None
    else:
        out = loaded.predict(feature_matrix(table, _feature_names(loaded, table, features)))
    columns = loaded.task.prediction_columns(out, threshold, loaded.label_of)
    result, header = table.table, list(table.header)
    for name, values in columns.items():
        name = _unique(name, header)
        header.append(name)
        result = result.append_column(name, pa.array(values))
    return result, len(out)
