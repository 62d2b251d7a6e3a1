"""3.3 The chapter's own code: its data, its labels, its network and its picture.

- :func:`make_blob_data` draws the points (``make_blobs`` around :data:`CENTERS`) and
  :func:`label_map` turns the four clusters into two labels (an XOR layout);
- :class:`NeuralNet` is ``linear_1`` -> ReLU -> ``linear_2`` -> Sigmoid, with the chapter's
  layer names, so its ``state_dict`` keys are the chapter's; it is the one-hidden-layer case
  of the network family (:class:`~torchann.classify.mlp.Network`);
- :func:`vis_data` plots points as the chapter does.
"""

from __future__ import annotations

import math

import numpy as np
from torch import nn

from torchann.classify.mlp import Network
from torchann.errors import TorchannError

#: The chapter's four cluster centers; clusters 0 and 1 get label 0, clusters 2 and 3 label 1.
CENTERS = ((1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0))


# --------------------------------------------------------------------------- data


def label_map(y, from_labels=(0, 1, 2, 3), to_labels=(0, 0, 1, 1)):
    """Relabel the blob clusters: 0 and 1 become 0, 2 and 3 become 1 (an XOR layout).

    Parameters
    ----------
    y : array_like of int
        Cluster indices from ``make_blobs``.
    from_labels, to_labels : sequence of int
        The mapping, the chapter's by default.

    Returns
    -------
    ndarray
        A copy of ``y`` with every ``from_labels[i]`` replaced by ``to_labels[i]``.
    """
    y = np.asarray(y)
    out = y.copy()
    for f, t in zip(from_labels, to_labels):
        out[y == f] = t
    return out


def make_blob_data(n_samples, cluster_std=0.3, random_state=None):
    """Draw the chapter's data: ``n_samples`` points around :data:`CENTERS`, labelled 0/1.

    Parameters
    ----------
    n_samples : int
        Number of points (the chapter uses 80 for training and 20 for testing).
    cluster_std : float
        Standard deviation of each blob (0.3 in the chapter).
    random_state : int or None
        Seed for ``sklearn.datasets.make_blobs``.

    Returns
    -------
    x : ndarray of float32, shape (n_samples, 2)
    y : ndarray of float32, shape (n_samples,)
        Labels after :func:`label_map`.
    """
    from sklearn.datasets import make_blobs

    if n_samples < 1:
        raise TorchannError(key="classify.chapter.number_points_must", n_samples=n_samples)
    if not (math.isfinite(cluster_std) and cluster_std > 0):
        raise TorchannError(key="value.positive", name="cluster_std", value=cluster_std)
    x, y = make_blobs(n_samples=n_samples, n_features=2, centers=[list(c) for c in CENTERS],
                      cluster_std=cluster_std, shuffle=True, random_state=random_state)
    return x.astype(np.float32), label_map(y).astype(np.float32)


def chapter_data(seed=0, n_train=80, n_test=20, cluster_std=0.3):
    """The chapter's training and test sets, drawn by two separate ``make_blobs`` calls.

    Parameters
    ----------
    seed : int
        Seeds the training draw; the test draw uses a state derived from it
        (``SeedSequence([seed, 1])``), so the two sets never coincide.
    n_train, n_test : int
        Points in each set (the chapter: 80 and 20).
    cluster_std : float
        Standard deviation of each blob (the chapter: 0.3).

    Returns
    -------
    x_train, y_train, x_test, y_test : ndarray of float32
    """
    test_state = int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])
    x_train, y_train = make_blob_data(n_train, cluster_std, random_state=seed)
    x_test, y_test = make_blob_data(n_test, cluster_std, random_state=test_state)
    return x_train, y_train, x_test, y_test


# --------------------------------------------------------------------------- model


class NeuralNet(Network):
    """The chapter's classifier: ``linear_1`` -> ReLU -> ``linear_2`` -> Sigmoid.

    Parameters
    ----------
    input_size : int
        Number of features (2 for the blobs).
    hidden_size : int
        Width of the hidden layer (5 in the chapter).

    Notes
    -----
    The output is P(label = 1), shape ``(N, 1)``. The ``state_dict`` keys are
    ``linear_1.weight`` ``[hidden, input]``, ``linear_1.bias`` ``[hidden]``,
    ``linear_2.weight`` ``[1, hidden]`` and ``linear_2.bias`` ``[1]``.
    """

    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.linear_1 = nn.Linear(input_size, hidden_size)
        self.relu = nn.ReLU()
        self.linear_2 = nn.Linear(hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, input_tensor):
        linear1 = self.linear_1(input_tensor)
        relu = self.relu(linear1)
        linear2 = self.linear_2(relu)
        return self.sigmoid(linear2)

    def layer_outputs(self, input_tensor):
        """The hidden layer's activations, then ``linear_2``'s raw score (before the sigmoid)."""
        relu = self.relu(self.linear_1(input_tensor))
        return [relu, self.linear_2(relu)]

    def architecture(self):
        """A JSON-ready description for ``model.json``."""
        return {"kind": "NeuralNet", "n_in": self.linear_1.in_features,
                "hidden": [self.linear_1.out_features], "n_out": 1, "activation": "relu",
                "dropout": 0.0, "output_activation": "sigmoid"}


# --------------------------------------------------------------------------- figures


def vis_data(x, y, ax=None, c="r", label=None):
    """Plot points as the chapter does: label 0 as circles, label 1 as plus signs.

    Parameters
    ----------
    x : array_like, shape (N, 2)
    y : array_like, shape (N,)
    ax : matplotlib Axes, optional
        A new figure's axes when omitted.
    c : str
        Colour.
    label : str, optional
        Legend prefix (e.g. "train").

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if ax is None:
        ax = plt.figure().add_subplot()
    x, y = np.asarray(x), np.asarray(y)
    prefix = f"{label}, " if label else ""
    zero, one = x[y == 0], x[y == 1]
    ax.plot(zero[:, 0], zero[:, 1], "o", mfc="none", color=c, label=f"{prefix}label 0")
    ax.plot(one[:, 0], one[:, 1], "+", color=c, label=f"{prefix}label 1")
    return ax
