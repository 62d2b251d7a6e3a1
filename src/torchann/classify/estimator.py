"""3.3 for notebooks: scikit-learn-style estimators over the same training code as ``train``.

>>> from torchann.classify.estimator import TorchannClassifier
>>> clf = TorchannClassifier().fit(X_train, y_train)      # preset="auto", as torchann train
>>> clf = TorchannClassifier(hidden=(64, 32), epochs=200).fit(X_train, y_train)
>>> clf.score(X_test, y_test), clf.predict_proba(X_test[:3])
>>> clf.save("model.pt"); TorchannClassifier.load("model.pt").predict(X_test)

:class:`TorchannClassifier` and :class:`TorchannRegressor` follow scikit-learn's conventions
(``get_params``/``set_params``, fitted attributes ending in ``_``, ``n_features_in_`` and
``feature_names_in_`` for pandas input, ``classes_``), so they work in ``cross_val_score``,
``GridSearchCV`` and a ``Pipeline`` with numpy arrays or pandas frames. By default they train
``torchann train``'s configuration for a table, ``preset="auto"``
(:func:`~torchann.classify.presets.auto_preset`, from the rows and the task); a parameter given
overrides its part. ``fit`` standardizes the features (a pandas frame with a text column or a
blank goes through the CLI's own :class:`~torchann.classify.tables.FeatureEncoder`: medians and
indicators for blanks, one-hot text categories), builds the network (the chapter's
``NeuralNet`` for the chapter's shape, else an ``MLP``) and trains it with
:func:`torchann.classify.train.train_model`, exactly as ``torchann train`` does. ``save``
writes ``model.pt`` and ``model.json`` in the CLI's format, so ``torchann predict`` reads them
too.

Invalid input raises :class:`InvalidInput`, a :class:`~torchann.errors.TorchannError` that is
also a ``ValueError`` as scikit-learn expects.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from torchann.classify.presets import ESTIMATOR_PRESET, resolve_config
from torchann.classify.tables import Standardizer
from torchann.classify.tasks import Task
from torchann.errors import TorchannError

#: The training parameters, ``None`` by default: the preset's value.
TRAINING = ("hidden", "activation", "dropout", "weight_decay", "epochs", "lr", "optimizer",
            "batch_size", "early_stopping", "lr_schedule", "label_smoothing", "bins")


class InvalidInput(TorchannError, ValueError):
    """A user's data or parameter the estimator cannot use (a ``ValueError`` for sklearn)."""


def _needs_encoder(X):
    """Whether ``X`` is a pandas frame with a column that is not a number, or a blank."""
    if not (hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "isna")):
        return False
    numeric = all(getattr(d, "kind", "O") in "biuf" for d in X.dtypes)
    return not numeric or bool(X.isna().to_numpy().any())


def _arrow(X):
    """A pandas frame as a :class:`pyarrow.Table` with text column names."""
    import pyarrow as pa

    frame = X.copy()
    frame.columns = [str(c) for c in frame.columns]
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed values in a column: as text
        mixed = {c: frame[c].map(lambda v: v if v is None or v != v else str(v))
                 for c in frame.columns if frame[c].dtype == object}
        return pa.Table.from_pandas(frame.assign(**mixed), preserve_index=False)


class _TorchannEstimator(BaseEstimator):
    """What the classifier and the regressor share: parameters, fitting, saving."""

    def __init__(self, hidden=None, activation=None, dropout=None, weight_decay=None,
                 epochs=None, lr=None, optimizer=None, batch_size=None, early_stopping=None,
                 lr_schedule=None, label_smoothing=None, bins=None, preset=ESTIMATOR_PRESET,
                 random_state=None, device="cpu"):
        self.hidden = hidden
        self.activation = activation
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.lr = lr
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.early_stopping = early_stopping
        self.bins = bins
        self.lr_schedule = lr_schedule
        self.label_smoothing = label_smoothing
        self.preset = preset
        self.random_state = random_state
        self.device = device

    def _hidden_tuple(self):
        hidden = self.hidden if self.hidden is not None else self.config_["hidden"]
        if isinstance(hidden, (int, np.integer)):
            return (int(hidden),)
        return tuple(int(h) for h in hidden)

    def _config(self, n_rows, n_features, task):
        """The training configuration: the preset (for ``auto``, chosen from the rows and the
        task) overridden by the parameters given; ``early_stopping=False`` turns it off."""
        given = {k: getattr(self, k) for k in TRAINING}
        if given["hidden"] is not None and not isinstance(given["hidden"], str):
            given["hidden"] = self._hidden_tuple()
        off = given["early_stopping"] is False
        if off:
            given["early_stopping"] = None
        try:
            config = resolve_config(self.preset, (n_rows, n_features, task.kind), **given)
        except TorchannError as err:
            raise InvalidInput(str(err)) from None
        if off:
            config["early_stopping"] = None
        return config

    def _fit_encoded(self, x, y, task, prepared=False):
        from torchann.classify.train import train_model

        n = x.shape[1]
        self.scaler_ = Standardizer(np.zeros(n), np.ones(n)) if prepared else Standardizer.fit(x)
        self.config_ = config = self._config(x.shape[0], n, task)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        try:
            model, result = train_model(self.scaler_.transform(x), y, task, **config,
                                        seed=seed, device=self.device)
        except TorchannError as err:
            raise InvalidInput(str(err)) from None
        self.task_ = task
        self.model_ = model.cpu()
        self.n_iter_ = result.epochs
        self.loss_curve_ = list(result.train_loss)
        self.best_epoch_ = result.best_epoch
        return self

    def _features(self, X, y, **checks):
        """``X`` as the network's input before scaling, and ``y``: a pandas frame with text
        or blanks through a :class:`FeatureEncoder` (fitted here), else as scikit-learn
        validates it. Returns ``(x, y, prepared)``, ``prepared`` when the encoder scaled it."""
        if not _needs_encoder(X) or y is None:
            x, y = validate_data(self, X, y, dtype=np.float64, **checks)
            return x, y, False
        from sklearn.utils.validation import check_array

        from torchann.classify.tables import FeatureEncoder

        y = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False)
        if len(y) != len(X):
            raise InvalidInput(f"X has {len(X)} rows and y {len(y)}")
        if checks.get("y_numeric"):
            y = y.astype(np.float64)
        table = _arrow(X)
        try:
            self.encoder_ = FeatureEncoder().fit(table)
            x = self.encoder_.transform(table)
        except TorchannError as err:
            raise InvalidInput(str(err)) from None
        self.n_features_in_ = len(X.columns)
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        return x, y, True

    def _scores(self, X):
        from torchann.classify.train import predict_scores

        check_is_fitted(self, "model_")
        encoder = getattr(self, "encoder_", None)  # a frame's or 'torchann train''s encoder
        try:
            if encoder is not None and hasattr(X, "columns"):
                prepared = encoder.transform(_arrow(X))
            else:
                x = validate_data(self, X, reset=False, dtype=np.float64)
                prepared = (encoder.transform_array(x) if encoder is not None
                            else self.scaler_.transform(x))
        except TorchannError as err:
            raise InvalidInput(str(err)) from None
        return self.task_.scores_to_output(predict_scores(self.model_, prepared))

    # ----------------------------------------------------------------- files

    def save(self, path):
        """Write ``model.pt`` (a plain state_dict) and ``model.json`` beside it, atomically.

        Returns
        -------
        (Path, Path)
            The model file and its description; ``torchann predict`` reads both.
        """
        from torchann.classify.files import save_model

        check_is_fitted(self, "model_")
        features = [str(f) for f in getattr(self, "feature_names_in_", [])] or \
            [f"x{i}" for i in range(self.n_features_in_)]
        encoder = getattr(self, "encoder_", None)
        info = {"data": "estimator", "features": features, "label": "label",
                "label_map": self.task_.label_map, "standardize": self.scaler_.to_json(),
                **self.task_.to_json(),
                "estimator": {"class": type(self).__name__, "params": self._json_params(),
                              "classes": self._json_classes(),
                              "named_features": hasattr(self, "feature_names_in_")}}
        if encoder is not None:
            info.update(features=encoder.output_names, standardize=None,
                        encoder=encoder.to_json())
        return save_model(path, self.model_, info)

    def _json_params(self):
        params = self.get_params()
        if params["hidden"] is not None:
            params["hidden"] = list(self._hidden_tuple())
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in params.items()
                if v is None or isinstance(v, (str, int, float, bool, list, np.generic))}

    def _json_classes(self):
        return None

    @classmethod
    def load(cls, path):
        """Rebuild a fitted estimator from files written by :meth:`save` or ``torchann train``.

        Raises
        ------
        TorchannError
            What :func:`~torchann.classify.files.load_model` refuses, or a model of the other
            kind (a regression loaded as a classifier, or the reverse).
        """
        from torchann.classify.files import load_model

        loaded = load_model(path)
        task = loaded.task
        if (task.kind == "regression") != (cls is TorchannRegressor):
            raise TorchannError(f"{path}: holds a {task.kind} model; load it with "
                                + ("TorchannRegressor" if task.kind == "regression"
                                   else "TorchannClassifier"))
        saved = loaded.info.get("estimator") or {}
        params = saved.get("params") or {}
        est = cls(**{k: v for k, v in params.items() if k in cls._get_param_names()})
        if isinstance(est.hidden, list):
            est.hidden = tuple(est.hidden)
        n = loaded.n_features
        features = loaded.features
        encoder = getattr(loaded, "encoder", None)
        if encoder is not None:  # trained by 'torchann train': its encoder prepares the rows
            est.encoder_ = encoder
            features = list(encoder.input_names)
            n = len(features)
        est.n_features_in_ = n
        if features and saved.get("named_features", loaded.info.get("data") != "estimator"):
            est.feature_names_in_ = np.array(features, dtype=object)
        est.scaler_ = loaded.standardizer or Standardizer(np.zeros(n), np.ones(n))
        est.task_ = task
        est.model_ = loaded.model
        est._restore_classes(saved.get("classes"), task)
        return est

    def _restore_classes(self, classes, task):
        pass


class TorchannClassifier(ClassifierMixin, _TorchannEstimator):
    """A neural-network classifier (binary: sigmoid + BCELoss; more classes: softmax + CE).

    Parameters
    ----------
    hidden : int or sequence of int, optional
        Hidden layer widths, e.g. ``(64, 32)``. ``(h,)`` with ReLU, no dropout and two classes
        is the chapter's ``NeuralNet(n_features, h)``.
    activation : {"relu", "tanh", "sigmoid", "gelu"}, optional
    dropout : float, optional
        In [0, 1).
    weight_decay : float, optional
        L2 penalty (Adam's or SGD's ``weight_decay``; AdamW's decoupled decay).
    epochs : int, optional
    lr : float, optional
    optimizer : {"adamw", "adam", "sgd", "lbfgs"}, optional
    batch_size : int, optional
    early_stopping : int or False, optional
        Patience in epochs, on 10% of the rows held out (stratified); the best weights are
        kept. ``False`` turns off ``auto``'s (which is off anyway below
        :data:`~torchann.classify.presets.AUTO_VALIDATION_ROWS` rows).
    lr_schedule : {"constant", "cosine", "warmup_cosine"}, optional
    label_smoothing : float, optional
        In [0, 1).
    bins : int, optional
        Quantile bins per input feature (0: none; ``auto`` chooses).
    preset : {"auto", "seed", "fast", "large"}
        Where the parameters left ``None`` come from (:func:`~torchann.classify.presets.
        resolve_config`); ``auto`` chooses from the training rows and the task
        (:func:`~torchann.classify.presets.auto_preset`), as ``torchann train`` does for a
        table.
    random_state : int, RandomState or None
        Seeds the weights, dropout, the validation split and the batch order.
    device : str

    Attributes
    ----------
    classes_ : ndarray
        The class labels, sorted (as :func:`numpy.unique` sorts them).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had column names (a pandas DataFrame).
    model_ : torch.nn.Module
    scaler_ : Standardizer
    encoder_ : FeatureEncoder
        Only when ``X`` was a pandas frame with text columns or blanks.
    config_ : dict
        The training configuration used (:func:`~torchann.classify.presets.resolve_config`).
    task_ : Task
    n_iter_ : int
        Epochs run.
    loss_curve_ : list of float
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and labels ``y``; returns ``self``."""
        x, y, prepared = self._features(X, y)
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise InvalidInput(f"y has 1 class ({classes[0]!r}); a classifier can't train "
                               "when only one class is present")
        self.classes_ = classes
        kind = "binary" if len(classes) == 2 else "multiclass"
        task = Task(kind, [str(c) for c in classes], reason="the estimator")
        target = codes.astype(np.float32) if kind == "binary" else codes.astype(np.int64)
        return self._fit_encoded(x, target, task, prepared)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        out = self._scores(X)
        if self.task_.kind == "binary":
            return np.column_stack([1.0 - out, out])
        return out

    def predict(self, X):
        """The most probable class of each row (a value of ``classes_``)."""
        check_is_fitted(self, "model_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def _json_classes(self):
        return self.classes_.tolist()

    def _restore_classes(self, classes, task):
        if classes is None:
            classes = task.classes or [0, 1]
        self.classes_ = np.asarray(classes)


class TorchannRegressor(RegressorMixin, _TorchannEstimator):
    """A neural-network regressor: MSELoss on the standardized target.

    Parameters are those of :class:`TorchannClassifier`. Predictions are in ``y``'s units.

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when ``X`` had column names.
    model_, scaler_, task_, n_iter_, loss_curve_
        As for :class:`TorchannClassifier`; ``task_`` holds the target's mean and scale.
    """

    def fit(self, X, y):
        """Train on ``X`` (n_samples, n_features) and targets ``y``; returns ``self``."""
        x, y, prepared = self._features(X, y, y_numeric=True)
        task = Task("regression", reason="the estimator").fit_target(y)
        return self._fit_encoded(x, task.encode(y), task, prepared)

    def predict(self, X):
        """Predictions in the target's units, shape (n_samples,)."""
        return self._scores(X)
