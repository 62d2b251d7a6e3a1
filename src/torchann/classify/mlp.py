"""3.3 beyond the chapter: the network family, and the choice between its two shapes.

:class:`Network` is what every network of the family has: its linear layers in order
(:meth:`~Network.linear_layers`) and each layer's output (:meth:`~Network.layer_outputs`,
what the playground draws as neuron maps). The chapter's
:class:`~torchann.classify.chapter.NeuralNet` is its one-hidden-layer case with the chapter's
names; :class:`MLP` stacks any number of hidden layers (``Linear`` -> activation -> optional
dropout) and one output layer. Its ``state_dict`` keys say what they are:
``hidden.0.linear.weight``, ``hidden.0.linear.bias``, ``hidden.1.linear.weight``, ...,
``output.weight``, ``output.bias``. With ``bins``, each input is also cut at quantiles of
the training data (``edges``, set by :meth:`MLP.fit_bins`) and each bin adds a learned vector
to the first hidden layer (``bin_embedding``), which lets the network follow steps and
thresholds of a numeric column as trees do (a piecewise-constant numeric embedding).

:func:`build_model` returns the chapter's own :class:`~torchann.classify.chapter.NeuralNet`
when the network asked for is the chapter's shape (one hidden layer, ReLU, no dropout, a
binary task), so that ``model.pt`` stays loadable by the chapter's code, and an :class:`MLP`
otherwise. :func:`architecture` describes either as JSON for ``model.json``, and
:func:`from_architecture` rebuilds it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from torchann.errors import TorchannError

#: Hidden-layer activations by name (``linear``: none, the layers stay linear).
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
               "linear": nn.Identity}
#: Widest hidden layer and deepest network accepted (beyond these a typo is likelier).
MAX_WIDTH = 65536
MAX_DEPTH = 64
#: Most quantile bins per input (:class:`MLP`'s ``bins``).
MAX_BINS = 256
#: Rows of the training data from which :meth:`MLP.fit_bins` takes the quantiles.
BIN_SAMPLE = 100_000


class Network(nn.Module):
    """The family's common ground: linear layers, an activation between them, one output.

    Subclasses give :meth:`layer_outputs` and :meth:`architecture`; ``forward`` applies the
    output activation (a sigmoid for a binary classifier) to the last of the layer outputs.
    """

    def linear_layers(self):
        """The ``nn.Linear`` layers from input to output, in the order they were created."""
        return [m for m in self.modules() if isinstance(m, nn.Linear)]

    @property
    def n_in(self):
        """Number of input features."""
        return self.linear_layers()[0].in_features

    def layer_outputs(self, x):  # pragma: no cover - overridden
        """Each hidden layer's activations, then the output layer's raw scores."""
        raise NotImplementedError

    def architecture(self):  # pragma: no cover - overridden
        """A JSON-ready description for ``model.json`` (:func:`from_architecture`)."""
        raise NotImplementedError


class HiddenLayer(nn.Module):
    """``linear`` -> activation -> dropout (when ``dropout > 0``)."""

    def __init__(self, n_in, n_out, activation="relu", dropout=0.0):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return self.dropout(self.activation(self.linear(x)))


class MLP(Network):
    """A multilayer perceptron: hidden layers, then one linear output layer.

    Parameters
    ----------
    n_in : int
        Number of input features.
    hidden : sequence of int
        Width of each hidden layer, e.g. ``(64, 32)``; empty for a linear model.
    n_out : int
        Outputs: 1 for a binary classifier or a regression, the number of classes otherwise.
    activation : {"relu", "tanh", "sigmoid", "gelu", "linear"}
        Activation after every hidden layer.
    dropout : float
        Dropout probability after every hidden layer's activation (0: none), in [0, 1).
    output_activation : {None, "sigmoid"}
        ``"sigmoid"`` turns the single output into a probability, as the chapter's network
        does (binary tasks); ``None`` leaves raw scores (softmax lives in the loss).
    bins : int
        0, or the number of quantile bins per input (2 to :data:`MAX_BINS`, with at least one
        hidden layer); call :meth:`fit_bins` on the training inputs before training.

    Notes
    -----
    ``state_dict`` keys: ``hidden.<i>.linear.weight`` ``[width_i, width_{i-1}]``,
    ``hidden.<i>.linear.bias`` ``[width_i]``, ``output.weight`` ``[n_out, width_last]``,
    ``output.bias`` ``[n_out]``; with bins also ``edges`` ``[n_in, bins - 1]`` and
    ``bin_embedding.weight`` ``[n_in * bins, width_0]``.
    """

    def __init__(self, n_in, hidden=(64, 32), n_out=1, activation="relu", dropout=0.0,
                 output_activation=None, bins=0):
        super().__init__()
        check_network(hidden, activation, dropout, bins)
        if output_activation not in (None, "sigmoid"):
            raise TorchannError(f"unknown output activation {output_activation!r}")
        self.n_out = int(n_out)
        self.widths = tuple(int(h) for h in hidden)
        self.activation_name, self.dropout_p = activation, float(dropout)
        self.output_activation = output_activation
        sizes = (int(n_in), *self.widths)
        self.hidden = nn.ModuleList(HiddenLayer(a, b, activation, dropout)
                                    for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(sizes[-1], self.n_out)
        self.sigmoid = nn.Sigmoid() if output_activation == "sigmoid" else nn.Identity()
        self.bins = int(bins)
        if self.bins:
            self.register_buffer("edges", torch.zeros(sizes[0], self.bins - 1))
            self.register_buffer("offsets", torch.arange(sizes[0]) * self.bins,
                                 persistent=False)
            self.bin_embedding = nn.EmbeddingBag(sizes[0] * self.bins, self.widths[0],
                                                 mode="sum")
            nn.init.zeros_(self.bin_embedding.weight)  # starts as the plain network

    @torch.no_grad()
    def fit_bins(self, x):
        """Set the bin edges to quantiles of each input column of ``x`` (the training inputs,
        at most :data:`BIN_SAMPLE` evenly spaced rows of them)."""
        if not self.bins:
            return
        x = torch.as_tensor(x, dtype=torch.float32)
        x = x[::max(1, -(-x.shape[0] // BIN_SAMPLE))]
        q = torch.linspace(0, 1, self.bins + 1, dtype=torch.float32)[1:-1]
        self.edges.copy_(torch.quantile(x, q.to(x.device), dim=0).T.to(self.edges.device))

    def _hidden_outputs(self, x):
        """Each hidden layer's output; the first adds the bins' vectors before its activation."""
        if self.bins:
            first = self.hidden[0]
            index = torch.searchsorted(self.edges, x.T.contiguous()).T + self.offsets
            z = first.linear(x) + self.bin_embedding(index)
            x = first.dropout(first.activation(z))
            yield x
        for layer in self.hidden[1 if self.bins else 0:]:
            x = layer(x)
            yield x

    def forward(self, x):
        h = x
        for h in self._hidden_outputs(x):  # noqa: B007 - the last hidden output goes on
            pass
        return self.sigmoid(self.output(h))

    def layer_outputs(self, x):
        """Each hidden layer's activations, then the output layer's raw scores."""
        outs = list(self._hidden_outputs(x))
        return [*outs, self.output(outs[-1] if outs else x)]

    def architecture(self):
        """A JSON-ready description for ``model.json`` (:func:`from_architecture`)."""
        spec = {"kind": "MLP", "n_in": self.n_in, "hidden": list(self.widths),
                "n_out": self.n_out, "activation": self.activation_name,
                "dropout": self.dropout_p, "output_activation": self.output_activation}
        if self.bins:
            spec["bins"] = self.bins
        return spec


def check_network(hidden, activation="relu", dropout=0.0, bins=0):
    """Refuse hidden sizes, an activation, a dropout or bins that cannot build a network.

    Raises
    ------
    TorchannError
        The message names the parameter (``hidden``, ``activation``, ``dropout``, ``bins``).
    """
    hidden = tuple(hidden)
    if len(hidden) > MAX_DEPTH:
        raise TorchannError(f"`hidden` has {len(hidden)} layers; at most {MAX_DEPTH}")
    for h in hidden:
        if isinstance(h, bool) or not float(h).is_integer() or not 1 <= h <= MAX_WIDTH:
            raise TorchannError(f"`hidden={h}`: must be a positive number, a whole layer width "
                                f"from 1 to {MAX_WIDTH}, e.g. `hidden=64,32`")
    if activation not in ACTIVATIONS:
        raise TorchannError(f"`activation={activation}`: use one of {', '.join(ACTIVATIONS)}")
    if not (isinstance(dropout, (int, float)) and math.isfinite(dropout) and 0 <= dropout < 1):
        raise TorchannError(f"`dropout={dropout}`: must be at least 0 and below 1, e.g. 0.1")
    if isinstance(bins, bool) or not float(bins).is_integer() or not (
            bins == 0 or 2 <= bins <= MAX_BINS):
        raise TorchannError(f"`bins={bins}`: must be 0 (none) or a whole number from 2 to "
                            f"{MAX_BINS}, e.g. `bins=32`")
    if bins and not hidden:
        raise TorchannError(f"`bins={bins}` needs at least one hidden layer")


def parse_hidden(text):
    """Parse ``"64,32"`` into ``(64, 32)``; one number gives one layer.

    Raises
    ------
    TorchannError
        Empty, non-integer or out-of-range widths.
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise TorchannError(f"`hidden={text}`: give layer widths as whole numbers separated by "
                            "commas, e.g. `hidden=64,32`") from None
    if not widths:
        raise TorchannError("`hidden` is empty; give layer widths, e.g. `hidden=64,32`")
    check_network(widths)
    return widths


def is_chapter_shape(hidden, activation, dropout, task, bins=0):
    """Whether the network asked for is the chapter's NeuralNet: one ReLU layer, binary."""
    return (len(tuple(hidden)) == 1 and activation == "relu" and not dropout and not bins
            and task == "binary")


def build_model(n_in, hidden, n_out=1, activation="relu", dropout=0.0, task="binary", bins=0):
    """The chapter's :class:`NeuralNet` when the shape is the chapter's, else an :class:`MLP`.

    Parameters
    ----------
    n_in : int
    hidden : sequence of int
    n_out : int
        1 for binary and regression, the number of classes for multiclass.
    activation : str
    dropout : float
    task : {"binary", "multiclass", "regression"}
        A binary network ends in a sigmoid (the chapter's BCELoss); the others give raw scores.
    bins : int
        Quantile bins per input (:class:`MLP`); 0 for none.

    Returns
    -------
    torch.nn.Module
    """
    from torchann.classify.chapter import NeuralNet

    hidden = tuple(hidden)
    check_network(hidden, activation, dropout, bins)
    if is_chapter_shape(hidden, activation, dropout, task, bins):
        return NeuralNet(n_in, hidden[0])
    return MLP(n_in, hidden, n_out, activation, dropout,
               output_activation="sigmoid" if task == "binary" else None, bins=bins)


def in_features(model):
    """Number of input features of a NeuralNet or an MLP."""
    return model.n_in


def architecture(model):
    """A JSON-ready description of ``model`` for ``model.json``."""
    return model.architecture()


def from_architecture(spec):
    """Rebuild an untrained network from :func:`architecture`'s description.

    Raises
    ------
    TorchannError
        A description that is not one (unknown kind, missing or impossible sizes).
    """
    from torchann.classify.chapter import NeuralNet

    try:
        kind = spec["kind"]
        n_in, n_out = int(spec["n_in"]), int(spec["n_out"])
        hidden = tuple(int(h) for h in spec["hidden"])
        activation = spec.get("activation", "relu")
        dropout = float(spec.get("dropout", 0.0))
        output_activation = spec.get("output_activation")
        bins = int(spec.get("bins", 0))
    except (KeyError, TypeError, ValueError):
        raise TorchannError("the model description's architecture is incomplete or "
                            "unreadable; retrain the model") from None
    if n_in < 1 or n_out < 1:
        raise TorchannError("the model description's architecture has no inputs or outputs; "
                            "retrain the model")
    if kind == "NeuralNet" and len(hidden) == 1:
        return NeuralNet(n_in, hidden[0])
    if kind != "MLP":
        raise TorchannError(f"the model description names an unknown network {kind!r}; "
                            "retrain the model")
    return MLP(n_in, hidden, n_out, activation, dropout, output_activation, bins)
