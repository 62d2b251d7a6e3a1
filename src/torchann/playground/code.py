"""3.3 playground settings, the network they describe, and the PyTorch code shown in the page.

:class:`Config` holds every setting, checked against hard caps before anything is allocated.
:func:`render_code` writes the chapter-style program (``class NeuralNet(nn.Module)``, the
loop, ``BCELoss``) for a configuration; :func:`build_model` builds the library's network for
it and :func:`make_trainer` sets up the library's training loop to do exactly what that
program does, step for step, so the page trains the network its code panel shows (a test
executes the code and compares the losses).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from torchann.classify.trainer import PLAIN_NAMES as OPTIMIZERS
from torchann.playground.messages import PageError
from torchann.playground.settings import choice, integer, number, parse

FEATURES = {  # name: (code expression on x, function)
    "x1": ("x[:, 0]", lambda x: x[:, 0]),
    "x2": ("x[:, 1]", lambda x: x[:, 1]),
    "x1sq": ("x[:, 0] ** 2", lambda x: x[:, 0] ** 2),
    "x2sq": ("x[:, 1] ** 2", lambda x: x[:, 1] ** 2),
    "x1x2": ("x[:, 0] * x[:, 1]", lambda x: x[:, 0] * x[:, 1]),
    "sinx1": ("torch.sin(x[:, 0])", lambda x: torch.sin(x[:, 0])),
    "sinx2": ("torch.sin(x[:, 1])", lambda x: torch.sin(x[:, 1])),
}
ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": None}
REGULARIZATIONS = ("none", "l1", "l2")
DATASET_NAMES = ("xor", "circle", "gauss", "spiral", "three", "plane", "mgauss", "csv")
#: Datasets whose label is a number to predict (TF Playground's two regression sets).
REGRESSION = ("plane", "mgauss")
#: The learning rates and regularization rates the page offers.
LEARNING_RATES = (1e-5, 1e-4, 1e-3, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REG_RATES = (0.0, 1e-4, 1e-3, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
#: A learning rate that trains each optimizer well on the page's data.
GOOD_LR = {"sgd": 0.03, "adam": 0.01, "lbfgs": 0.1}

#: Hard caps, checked before anything is allocated.
MAX_LAYERS = 6
MAX_NEURONS = 16
MIN_POINTS, MAX_POINTS = 10, 1000
MAX_SPEED = 100
_SEED_LOCK = threading.Lock()


@dataclass
class Config:
    """Every setting of the 3.3 tab; the defaults are the chapter's.

    ``layers`` lists the hidden layers' widths (0 to 6 layers of 1 to 16 neurons);
    ``batch`` 0 means the full batch, as the chapter trains; ``speed`` is epochs per frame
    and is not part of the code.
    """

    dataset: str = "xor"
    noise: float = 0.3
    ratio: float = 0.8
    n: int = 100
    batch: int = 0
    layers: list = field(default_factory=lambda: [5])
    act: str = "relu"
    features: list = field(default_factory=lambda: ["x1", "x2"])
    opt: str = "sgd"
    lr: float = 0.03
    reg: str = "none"
    rate: float = 0.001
    seed: int = 0
    speed: int = 10

    @classmethod
    def from_dict(cls, data) -> Config:
        """Check a settings object from the page; raise
        :class:`~torchann.playground.messages.PageError` when unusable."""
        return parse(cls, data, [
            ("dataset", choice("dataset", DATASET_NAMES)), ("act", choice("act", ACTIVATIONS)),
            ("opt", choice("opt", OPTIMIZERS)), ("reg", choice("reg", REGULARIZATIONS)),
            ("noise", number("noise", 0.0, 2.0)), ("ratio", number("ratio", 0.1, 0.9)),
            ("lr", number("lr", 1e-5, 10.0)), ("rate", number("rate", 0.0, 1.0)),
            ("n", integer("n", MIN_POINTS, MAX_POINTS)),
            ("batch", integer("batch", 0, MAX_POINTS)), ("seed", integer("seed", 0, 2**31 - 1)),
            ("speed", integer("speed", 1, MAX_SPEED)), ("layers", _layers),
            ("features", _features)])

    def to_dict(self) -> dict:
        """The settings as plain JSON types."""
        return asdict(self)

    @property
    def chapter_shape(self) -> bool:
        """True for the chapter's network: x1, x2 -> one ReLU layer -> sigmoid."""
        return self.features == ["x1", "x2"] and len(self.layers) == 1 and self.act == "relu"

    @property
    def full_batch(self) -> bool:
        """True when each epoch is one step on every training point (LBFGS always is)."""
        n_train = int(round(self.n * self.ratio))
        return self.batch == 0 or self.batch >= n_train or self.opt == "lbfgs"


def suggest_lr(opt: str, lr: float) -> float:
    """A learning rate to try after ``lr`` failed with ``opt``: a tenth of it or less, at
    most :data:`GOOD_LR`, one of :data:`LEARNING_RATES`."""
    target = min(lr / 10.0, GOOD_LR[opt])
    return max([v for v in LEARNING_RATES if v <= target] or [LEARNING_RATES[0]])


def suggest_rate(lr: float) -> float:
    """A regularization rate that, with learning rate ``lr``, shrinks a weight by at most
    half per step (``2 lr rate <= 1``), one of :data:`REG_RATES`."""
    return max(v for v in REG_RATES if 2.0 * lr * v <= 1.0)


def task_kind(cfg: Config, n_classes: int = 2) -> str:
    """``"regression"`` for :data:`REGRESSION`, ``"multiclass"`` for three or more classes,
    else the chapter's ``"binary"``."""
    if cfg.dataset in REGRESSION:
        return "regression"
    return "multiclass" if n_classes > 2 else "binary"


def _layers(value):
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise PageError("setting_layers", most=MAX_LAYERS)
    return [integer("neurons", 1, MAX_NEURONS)(w) for w in value]


def _features(value):
    if not isinstance(value, list) or not value or len(value) > len(FEATURES):
        raise PageError("setting_features", allowed=", ".join(FEATURES))
    chosen = {choice("feature", FEATURES)(f) for f in value}
    return [f for f in FEATURES if f in chosen]  # canonical order


# --------------------------------------------------------------------------- the network


def build_model(cfg: Config, kind: str = "binary", n_out: int = 1) -> nn.Module:
    """Seed torch with ``cfg.seed`` and build the network of the code panel.

    The network is the library's (:func:`torchann.classify.mlp.build_model`): the chapter's
    own :class:`~torchann.classify.chapter.NeuralNet` for one ReLU layer, otherwise an
    :class:`~torchann.classify.mlp.MLP` whose layers are created in the order the code
    panel's ``NeuralNet`` creates ``linear_1``, ``linear_2``, ..., so the same seed gives the
    same initial weights. A ``multiclass`` (``n_out`` scores) or ``regression`` network has
    no sigmoid at its end.
    """
    from torchann.classify.mlp import build_model as build_network

    with _SEED_LOCK:  # torch's global generator is shared by every page's thread
        torch.default_generator.manual_seed(cfg.seed)  # torch.manual_seed(seed) on a CPU
        return build_network(len(cfg.features), cfg.layers, n_out, cfg.act, task=kind)


def features(cfg: Config, x: torch.Tensor) -> torch.Tensor:
    """The input features chosen in ``cfg`` computed from raw points ``x`` of shape (N, 2)."""
    if cfg.features == ["x1", "x2"]:
        return x
    return torch.stack([FEATURES[f][1](x) for f in cfg.features], dim=1)


def make_trainer(cfg: Config, model, x_train, y_train, task=None):
    """The library's step-wise trainer (:class:`torchann.classify.trainer.Trainer`) set up to
    run the code panel's loop: its optimizer as the panel writes it, its batches, its L1 or
    L2 penalty on the weights, and its minibatch order (a generator seeded with ``cfg.seed``).
    ``task`` (:class:`torchann.classify.tasks.Task`) gives the loss: BCELoss by default.
    """
    from torchann.classify.trainer import Trainer

    return Trainer(model, x_train, y_train, lr=cfg.lr, optimizer=cfg.opt, plain=True,
                   batch_size=None if cfg.full_batch else cfg.batch,
                   penalty_kind=None if cfg.reg == "none" else cfg.reg, penalty_rate=cfg.rate,
                   generator=torch.Generator().manual_seed(cfg.seed), task=task)


# --------------------------------------------------------------------------- the code panel


_CHAPTER_NET = '''class NeuralNet(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(NeuralNet, self).__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.linear_1 = nn.Linear(self.input_size, self.hidden_size)
        self.relu = nn.ReLU()
        self.linear_2 = nn.Linear(self.hidden_size, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, input_tensor):
        linear1 = self.linear_1(input_tensor)
        relu = self.relu(linear1)
        linear2 = self.linear_2(relu)
        output = self.sigmoid(linear2)
        return output
'''


def _general_net(cfg, kind="binary", n_out=1):
    sizes = [len(cfg.features), *cfg.layers, n_out]
    act = ACTIVATIONS[cfg.act]
    init = ["class NeuralNet(nn.Module):", "    def __init__(self, input_size):",
            "        super(NeuralNet, self).__init__()"]
    for i in range(len(sizes) - 1):
        source = "input_size" if i == 0 else str(sizes[i])
        init.append(f"        self.linear_{i + 1} = nn.Linear({source}, {sizes[i + 1]})")
    if act and len(sizes) > 2:
        init.append(f"        self.{cfg.act} = nn.{act}()")
    if kind == "binary":
        init.append("        self.sigmoid = nn.Sigmoid()")
    body = ["", "    def forward(self, input_tensor):"]
    prev = "input_tensor"
    for i in range(len(sizes) - 1):
        body.append(f"        linear{i + 1} = self.linear_{i + 1}({prev})")
        prev = f"linear{i + 1}"
        if act and i < len(sizes) - 2:
            body.append(f"        {cfg.act}{i + 1} = self.{cfg.act}({prev})")
            prev = f"{cfg.act}{i + 1}"
    if kind == "binary":
        body += [f"        output = self.sigmoid({prev})", "        return output", ""]
    else:
        note = ("scores: the softmax is inside CrossEntropyLoss" if kind == "multiclass"
                else "a number: no sigmoid")
        body += [f"        return {prev}  # {note}", ""]
    return "\n".join(init + body)


def _data_lines(cfg, csv_name):
    n_train = min(max(int(round(cfg.n * cfg.ratio)), 1), cfg.n - 1)
    if cfg.dataset == "xor":
        return ["from torchann.classify.chapter import chapter_data",
                "",
                "# the chapter's XOR blobs: make_blobs around (1,1), (-1,-1), (1,-1), (-1,1)",
                "x_train, y_train, x_test, y_test = map(torch.FloatTensor, chapter_data(",
                f"    seed={cfg.seed}, n_train={n_train}, n_test={cfg.n - n_train}, "
                f"cluster_std={max(cfg.noise, 1e-3)!r}))"]
    if cfg.dataset == "csv":
        return ["from torchann.playground.datasets import load_csv",
                "",
                "# your CSV (x1,x2,label), features scaled into [-2, 2]",
                f"with open({csv_name!r}, 'rb') as f:",
                "    x_train, y_train, x_test, y_test = map(torch.FloatTensor, load_csv(",
                f"        f.read(), ratio={cfg.ratio!r}, seed={cfg.seed}))"]
    return ["from torchann.playground.datasets import make_dataset",
            "",
            "x_train, y_train, x_test, y_test = map(torch.FloatTensor, make_dataset(",
            f"    {cfg.dataset!r}, n={cfg.n}, noise={cfg.noise!r}, ratio={cfg.ratio!r}, "
            f"seed={cfg.seed}))"]


def render_code(cfg: Config, epochs: int = 2000, csv_name: str = "data.csv",
                n_classes: int = 2) -> str:
    """The PyTorch program of ``cfg``, in the chapter's style, ready to run.

    Parameters
    ----------
    cfg : Config
    epochs : int
        Length of the loop (the chapter: 2000).
    csv_name : str
        File name shown for an uploaded CSV.
    n_classes : int
        Classes in the data (three or more: softmax scores and CrossEntropyLoss).

    Returns
    -------
    str
        Python source. Run, it trains the network the playground trains and leaves
        ``model`` and ``test_loss`` defined.
    """
    kind = task_kind(cfg, n_classes)
    lines = ["import torch", "import torch.nn as nn", ""]
    lines += _data_lines(cfg, csv_name)
    if kind == "multiclass":
        lines += ["y_train, y_test = y_train.long(), y_test.long()  # class indices 0, 1, 2, ..."]
    if cfg.features != ["x1", "x2"]:
        exprs = ", ".join(FEATURES[f][0] for f in cfg.features)
        lines += ["", "", "def features(x):  # " + ", ".join(cfg.features),
                  f"    return torch.stack([{exprs}], dim=1)", "",
                  "", "x_train, x_test = features(x_train), features(x_test)"]
    lines += ["", "", f"torch.manual_seed({cfg.seed})", ""]
    chapter = cfg.chapter_shape and kind == "binary"
    lines.append(_CHAPTER_NET if chapter else _general_net(cfg, kind, n_classes if
                                                           kind == "multiclass" else 1))
    if chapter:
        lines.append(f"model = NeuralNet({len(cfg.features)}, {cfg.layers[0]})")
    else:
        lines.append(f"model = NeuralNet({len(cfg.features)})")
    opt = OPTIMIZERS[cfg.opt]
    lines += [f"learning_rate = {cfg.lr!r}",
              "criterion = nn." + {"binary": "BCELoss", "multiclass": "CrossEntropyLoss",
                                   "regression": "MSELoss"}[kind] + "()",
              f"epochs = {epochs}",
              f"optimizer = torch.optim.{opt}(model.parameters(), lr=learning_rate)"]
    reg = None
    if cfg.reg != "none":
        lines.append(f"reg_rate = {cfg.rate!r}  # {cfg.reg.upper()} on the weights")
        term = "p.abs().sum()" if cfg.reg == "l1" else "p.pow(2).sum()"
        reg = (f"reg_rate * sum({term} for name, p in model.named_parameters() "
               "if name.endswith('weight'))")
    loss_line = "    train_loss.backward()" if reg is None else \
        f"    (train_loss + {reg}).backward()"
    lines.append("")
    if cfg.opt == "lbfgs":
        lines += ["", "def closure():",
                  "    optimizer.zero_grad()",
                  "    train_loss = criterion(model(x_train).squeeze(1), y_train)",
                  loss_line, "    return train_loss", "", "",
                  "for epoch in range(epochs):",
                  "    model.train()",
                  "    train_loss = optimizer.step(closure)",
                  "    if epoch % 100 == 0:",
                  "        print('Train loss at {} is {}'.format(epoch, train_loss.item()))"]
    elif cfg.full_batch:
        lines += ["for epoch in range(epochs):",
                  "    model.train()",
                  "    optimizer.zero_grad()",
                  "    train_output = model(x_train)",
                  "    train_loss = criterion(train_output.squeeze(1), y_train)",
                  "    if epoch % 100 == 0:",
                  "        print('Train loss at {} is {}'.format(epoch, train_loss.item()))",
                  loss_line,
                  "    optimizer.step()"]
    else:
        lines += [f"batch_size = {cfg.batch}",
                  f"generator = torch.Generator().manual_seed({cfg.seed})",
                  "for epoch in range(epochs):",
                  "    model.train()",
                  "    permutation = torch.randperm(len(x_train), generator=generator)",
                  "    for start in range(0, len(x_train), batch_size):",
                  "        batch = permutation[start:start + batch_size]",
                  "        optimizer.zero_grad()",
                  "        train_output = model(x_train[batch])",
                  "        train_loss = criterion(train_output.squeeze(1), y_train[batch])",
                  "    " + loss_line,
                  "        optimizer.step()",
                  "    if epoch % 100 == 0:",
                  "        print('Train loss at {} is {}'.format(epoch, train_loss.item()))"]
    lines += ["",
              "model.eval()",
              "test_loss = criterion(model(x_test).squeeze(1), y_test)",
              "print('After Training, test loss is {}'.format(test_loss.item()))", ""]
    return "\n".join(lines)
