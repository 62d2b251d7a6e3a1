"""3.3 Model files.

Model files
-----------
A model is two files side by side:

- ``model.pt``: a plain ``state_dict`` (keys ``linear_1.weight``, ``linear_1.bias``,
  ``linear_2.weight``, ``linear_2.bias``), which the chapter's own code loads with
  ``NeuralNet(2, 5).load_state_dict(torch.load("model.pt"))``;
- ``model.json``: everything else (sizes, feature names, the label mapping
  ``{original value: 0/1}``, the standardization mean and scale, the data source).

A network beyond the chapter's (an :class:`~torchann.classify.mlp.MLP`: several layers,
another activation, dropout, or a multi-class or regression task) keeps its own
``state_dict`` keys (``hidden.0.linear.weight``, ..., ``output.bias``); its ``model.json``
adds ``architecture`` (kind, sizes, activation, dropout), ``task``, ``classes`` and, for a
regression, the target's ``mean`` and ``scale``, and ``predict`` rebuilds the network from it.

:func:`load_model` reads ``model.pt`` with ``torch.load(weights_only=True)``, infers the sizes
from the weight shapes and checks keys and shapes. Without ``model.json`` it is taken for the
chapter's model (raw features, labels 0/1), unless the ``.pt`` itself says that a sidecar with
standardization belongs to it. :func:`save_model` writes both files atomically;
:func:`model_files` gives their contents in memory (the playground's export).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from torchann.classify.chapter import NeuralNet
from torchann.classify.mlp import architecture, from_architecture, in_features
from torchann.classify.tables import FeatureEncoder, Standardizer
from torchann.classify.tasks import Task
from torchann.errors import TorchannError
from torchann.io import atomic_write, save_json

#: Format name written into ``model.json``.
MODEL_FORMAT = "torchann-classifier"
_SIDECAR_KEY = "torchann_sidecar"  # in the state_dict's _metadata: the .pt needs its sidecar


# --------------------------------------------------------------------------- model files


def sidecar_path(model_path) -> Path:
    """Where the sidecar of ``model_path`` lives: the same name with ``.json``."""
    return Path(model_path).with_suffix(".json")


def model_files(model, info, sidecar_name="model.json") -> tuple:
    """What :func:`save_model` writes, in memory: the state_dict and the description.

    Parameters
    ----------
    model : NeuralNet or MLP
    info : dict
        The description, with ``format``, ``input_size``, ``hidden_size`` (the first hidden
        layer) and ``architecture`` added in front (keys of ``info`` win).
        ``standardize`` (``{"mean": [...], "scale": [...]}`` or ``None``), ``features``,
        ``label`` and ``label_map`` are read back by :func:`load_model`.
    sidecar_name : str
        The description's file name, recorded in the state_dict's metadata when the model
        cannot be used without it (standardized or encoded inputs, a network that is not the
        chapter's).

    Returns
    -------
    state : OrderedDict
        The model's state_dict on the CPU, for ``torch.save``.
    info : dict
        The description, for ``model.json``.
    """
    state = model.state_dict()
    state = type(state)((k, v.detach().cpu()) for k, v in state.items())
    spec = architecture(model)
    if info.get("standardize") or info.get("encoder") or spec["kind"] != "NeuralNet":
        state._metadata = {"": {"version": 1, _SIDECAR_KEY: sidecar_name}}
    info = {"format": MODEL_FORMAT, "input_size": spec["n_in"],
            "hidden_size": (spec["hidden"] or [0])[0], "architecture": spec, **info}
    return state, info


def save_model(path, model, info) -> tuple:
    """Save ``model``'s state_dict to ``path`` and ``info`` to its sidecar, both atomically.

    Parameters
    ----------
    path : str or Path
        The ``.pt`` file.
    model : NeuralNet or MLP
    info : dict
        Written to the sidecar as :func:`model_files` completes it.

    Returns
    -------
    (Path, Path)
        The model file and the sidecar.
    """
    path = Path(path)
    side = sidecar_path(path)
    if side.resolve() == path.resolve():
        raise TorchannError(f"{path}: the model file must not end in .json")
    state, info = model_files(model, info, side.name)
    with atomic_write(path) as tmp:
        torch.save(state, tmp)
    save_json(side, info)
    return path, side


def _expected(input_size="input", hidden_size="hidden"):
    return (f"linear_1.weight [{hidden_size}, {input_size}], linear_1.bias [{hidden_size}], "
            f"linear_2.weight [1, {hidden_size}], linear_2.bias [1]")


def state_dict_sizes(state) -> tuple:
    """Check that ``state`` is a NeuralNet state_dict; return ``(input_size, hidden_size)``.

    Raises
    ------
    TorchannError
        Other keys, or shapes that do not fit together; the message names what was expected.
    """
    if not isinstance(state, dict):
        raise TorchannError(f"the model file holds a {type(state).__name__}, not a state_dict; "
                            f"expected the keys {_expected()}")
    keys = {"linear_1.weight", "linear_1.bias", "linear_2.weight", "linear_2.bias"}
    if set(state) != keys or not all(torch.is_tensor(v) for v in state.values()):
        missing = sorted(keys - set(state))
        extra = sorted(set(state) - keys)
        raise TorchannError(f"the state_dict has keys {', '.join(map(str, state)) or 'none'}"
                            f"{'; missing ' + ', '.join(missing) if missing else ''}"
                            f"{'; unexpected ' + ', '.join(map(str, extra)) if extra else ''}; "
                            f"expected NeuralNet's {_expected()}")
    w1 = state["linear_1.weight"]
    if w1.ndim != 2 or 0 in w1.shape:
        raise TorchannError(f"linear_1.weight has shape {list(w1.shape)}; expected "
                            f"{_expected()}")
    hidden, inputs = w1.shape
    want = {"linear_1.bias": [hidden], "linear_2.weight": [1, hidden], "linear_2.bias": [1]}
    for key, shape in want.items():
        if list(state[key].shape) != shape or not state[key].is_floating_point():
            raise TorchannError(f"{key} has shape {list(state[key].shape)} but linear_1.weight "
                                f"{list(w1.shape)} needs {shape}; expected "
                                f"{_expected(inputs, hidden)}")
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise TorchannError("the model's weights contain NaN or infinite values; retrain it")
    return int(inputs), int(hidden)


@dataclass
class LoadedModel:
    """A model read by :func:`load_model`, with what its sidecar says.

    Attributes
    ----------
    model : NeuralNet or MLP
        In eval mode, on the CPU.
    features : list of str or None
        Feature names, when known.
    label_map : dict or None
        ``{original value: 0/1}``, when known.
    standardizer : Standardizer or None
    info : dict
        The sidecar's content (empty without one).
    task : Task
        What the model predicts (binary unless the sidecar says otherwise).
    encoder : FeatureEncoder or None
        How a table's columns become the model's input (models trained on a table).
    """

    model: NeuralNet
    features: list | None = None
    label_map: dict | None = None
    standardizer: Standardizer | None = None
    info: dict = field(default_factory=dict)
    task: Task | None = None
    encoder: FeatureEncoder | None = None

    @property
    def n_features(self):
        """Number of input features the network takes."""
        return in_features(self.model)

    def prepare(self, x):
        """Turn raw feature rows into the model's input (standardized when trained so)."""
        x = np.asarray(x, dtype=np.float64)
        if self.encoder is not None:
            return self.encoder.transform_array(x)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise TorchannError(f"the model takes {self.n_features} feature "
                                f"value(s) per point, got {x.shape[-1]}")
        return self.standardizer.transform(x) if self.standardizer else x.astype(np.float32)

    def predict(self, x):
        """Outputs for raw feature rows: P(class 1) (binary), class probabilities (N, K)
        (multiclass) or predictions in the label's units (regression)."""
        from torchann.classify.train import predict_scores

        task = self.task or Task("binary", ["0", "1"])
        return task.scores_to_output(predict_scores(self.model, self.prepare(x)))

    def predict_table(self, table):
        """Outputs, as :meth:`predict`, for the rows of a :class:`pyarrow.Table` encoded by
        the model's feature encoder."""
        from torchann.classify.train import predict_scores

        task = self.task or Task("binary", ["0", "1"])
        return task.scores_to_output(predict_scores(self.model, self.encoder.transform(table)))

    def label_of(self, label01):
        """The original label value for a predicted 0/1 label (0/1 itself when unknown)."""
        if not self.label_map:
            return label01
        inverse = {v: k for k, v in self.label_map.items()}
        return inverse[int(label01)]


def _read_sidecar(side, inputs):
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TorchannError(f"{side}: not a readable model description ({type(err).__name__}); "
                            "restore it or retrain the model") from None
    if not isinstance(info, dict):
        raise TorchannError(f"{side}: not a model description (expected a JSON object)")
    features = info.get("features")
    if features is not None and (not isinstance(features, list) or len(features) != inputs):
        raise TorchannError(f"{side}: lists {features!r} as features but the model takes "
                            f"{inputs}; the sidecar does not belong to this model")
    mapping = info.get("label_map")
    if mapping is not None and (not isinstance(mapping, dict) or len(mapping) < 2
                                or sorted(mapping.values()) != list(range(len(mapping)))):
        raise TorchannError(f"{side}: label_map {mapping!r} is not a mapping of the classes "
                            "to 0, 1, ...")
    scaler = None
    spec = info.get("standardize")
    if spec:
        try:
            mean = np.asarray(spec["mean"], dtype=np.float64)
            scale = np.asarray(spec["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError):
            raise TorchannError(f"{side}: says the features are standardized but its mean and "
                                "scale are missing or unreadable; retrain the model") from None
        if mean.shape != (inputs,) or scale.shape != (inputs,) or not (scale > 0).all():
            raise TorchannError(f"{side}: standardization needs {inputs} means and {inputs} "
                                "positive scales; the file does not match the model")
        scaler = Standardizer(mean, scale)
    try:
        task = Task.from_json(info, mapping)
    except TorchannError as err:
        raise TorchannError(f"{side}: {err}") from None
    encoder = None
    if info.get("encoder"):
        try:
            encoder = FeatureEncoder.from_json(info["encoder"])
        except TorchannError as err:
            raise TorchannError(f"{side}: {err}") from None
        if len(encoder.output_names) != inputs:
            raise TorchannError(f"{side}: its feature encoder makes "
                                f"{len(encoder.output_names)} inputs but the model takes "
                                f"{inputs}; the description does not belong to this model")
    return LoadedModel(None, features, mapping, scaler, info, task, encoder)


def _general_model(path, state, side):
    """An MLP described by the sidecar ``side``, with ``state`` loaded into it."""
    if not side.is_file():
        raise TorchannError(f"{path}: this network is not the chapter's NeuralNet and needs "
                            f"its description {side.name} beside it; copy it there")
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
        spec = info["architecture"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise TorchannError(f"{side}: not a readable description of this network; restore "
                            "the model's own .json or retrain") from None
    try:
        model = from_architecture(spec)
    except TorchannError as err:
        raise TorchannError(f"{side}: {err}") from None
    want = {k: list(v.shape) for k, v in model.state_dict().items()}
    have = {k: list(v.shape) for k, v in state.items() if torch.is_tensor(v)}
    if want != have or not all(torch.is_tensor(v) and v.is_floating_point()
                               for v in state.values()):
        raise TorchannError(f"{path}: its weights {have} do not match the network {side.name} "
                            f"describes ({want}); the files do not belong together")
    if not all(torch.isfinite(v).all() for v in state.values()):
        raise TorchannError("the model's weights contain NaN or infinite values; retrain it")
    loaded = _read_sidecar(side, in_features(model))
    model.load_state_dict({k: v.float() for k, v in state.items()})
    model.eval()
    loaded.model = model
    return loaded


def load_model(path) -> LoadedModel:
    """Load a classifier saved by :func:`save_model`, or the chapter's plain ``model.pt``.

    Parameters
    ----------
    path : str or Path
        The ``.pt`` file; its sidecar ``.json`` is read when present.

    Returns
    -------
    LoadedModel

    Raises
    ------
    TorchannError
        Missing, truncated or corrupt file; a file that is not a plain state_dict (a pickle
        that would run code is refused); wrong keys or shapes; a model that needs its sidecar
        (it was trained on standardized features) when the sidecar is missing or incomplete.
    """
    path = Path(path)
    if not path.is_file():
        raise TorchannError(key="file.no_model", path=path)
    try:
        with warnings.catch_warnings():  # e.g. an odd pickle protocol: the checks below decide
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, random bytes, a pickle naming forbidden globals
        code = "weights_only" in str(err) or "global" in str(err).lower()
        reason = "it asks to run code" if code else "truncated, corrupt or not a torch.save file"
        raise TorchannError(f"{path}: not a readable state_dict ({reason}); only plain "
                            "state_dicts saved with torch.save load") from None
    side = sidecar_path(path)
    if isinstance(state, dict) and "output.weight" in state:
        return _general_model(path, state, side)
    try:
        inputs, hidden = state_dict_sizes(state)
    except TorchannError as err:
        raise TorchannError(f"{path}: {err}") from None
    needs = (getattr(state, "_metadata", None) or {}).get("", {}).get(_SIDECAR_KEY)
    if side.is_file():
        loaded = _read_sidecar(side, inputs)
        if needs and not (loaded.standardizer or loaded.encoder):
            raise TorchannError(f"{side}: lacks the standardization this model was trained "
                                "with; restore the model's own .json or retrain")
    elif needs:
        raise TorchannError(f"{path}: this model was trained on standardized features and "
                            f"needs its description {side.name} beside it; copy it there")
    else:
        loaded = LoadedModel(None, task=Task("binary", ["0", "1"]))
    if loaded.task.kind != "binary":
        raise TorchannError(f"{side}: describes a {loaded.task.kind} model but {path.name} "
                            "holds the chapter's binary NeuralNet; the files do not belong "
                            "together")
    model = NeuralNet(inputs, hidden)
    state = {k: v.float() for k, v in state.items()}
    model.load_state_dict(state)
    model.eval()
    loaded.model = model
    return loaded
