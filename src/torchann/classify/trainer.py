"""3.3 The training loop, one epoch at a time: what every face trains with.

:class:`Trainer` runs one epoch per :meth:`~Trainer.epoch` call on the full batch (the
chapter's loop, which logs its loss before the step), in shuffled minibatches, or as one
L-BFGS step, with an optional L1/L2 penalty on the weights (:func:`penalty`) and the
optimizer of :func:`make_optimizer`. :func:`torchann.classify.train.fit` runs it to the end
(test and validation losses, early stopping, divergence); the playground runs a few epochs
per frame.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from torchann.classify.evaluation import as_tensors, target_dtype
from torchann.errors import TorchannError

OPTIMIZERS = ("sgd", "adam", "adamw", "lbfgs")
#: The classes in ``torch.optim`` of the optimizers a chapter-style program writes.
PLAIN_NAMES = {"sgd": "SGD", "adam": "Adam", "lbfgs": "LBFGS"}
#: Learning-rate schedules: ``cosine`` per epoch; ``warmup_cosine`` per step, rising linearly
#: over the first :data:`WARMUP` of the steps and then falling as a cosine towards 0.
SCHEDULES = ("constant", "cosine", "warmup_cosine")
#: Fraction of the steps spent warming up with ``warmup_cosine``.
WARMUP = 0.05


def make_optimizer(name, params, lr, weight_decay=0.0, plain=False):
    """Build the optimizer called ``name`` (``sgd``, ``adam``, ``adamw`` or ``lbfgs``), rate ``lr``.

    ``lbfgs`` takes one L-BFGS iteration per ``step`` (with a strong-Wolfe line search), so one
    epoch is one iteration. ``weight_decay`` is an L2 penalty added to the gradients (SGD and
    Adam), or AdamW's decoupled decay of the weights (L-BFGS refuses it). ``plain=True``
    builds ``torch.optim.<Name>(params, lr=lr)`` with torch's own defaults for everything
    else, as a chapter-style program writes it (the playground's code panel; for L-BFGS: up
    to 20 iterations per step, no line search).
    """
    if plain and name in PLAIN_NAMES:
        return getattr(torch.optim, PLAIN_NAMES[name])(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name in ("adam", "adamw"):
        params, cls = list(params), torch.optim.Adam if name == "adam" else torch.optim.AdamW
        try:  # the fused kernel is a third faster on small models; not every device has it
            return cls(params, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return cls(params, lr=lr, weight_decay=weight_decay)
    if name == "lbfgs" and weight_decay:
        raise TorchannError("`weight_decay` works with `optimizer=sgd` or adam, not lbfgs")
    if name == "lbfgs":
        return torch.optim.LBFGS(params, lr=lr, max_iter=1, history_size=20,
                                 line_search_fn="strong_wolfe")
    raise TorchannError(f"unknown optimizer {name!r}; use one of {', '.join(OPTIMIZERS)}")


def penalty(model, kind, rate):
    """The L1 (``kind="l1"``) or L2 (``"l2"``) penalty on the weights (not the biases), times
    ``rate``; ``None`` for ``kind=None``."""
    if kind is None:
        return None
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    if kind == "l1":
        return rate * sum(p.abs().sum() for p in weights)
    return rate * sum(p.pow(2).sum() for p in weights)


def check_settings(**values):
    """Refuse settings no training can use: non-positive ``epochs``, ``lr``, ``batch_size``,
    ``patience`` or ``early_stopping``, a negative ``weight_decay``, an unknown
    ``lr_schedule`` (each checked when given, in the order given)."""
    for name, value in values.items():
        if name == "weight_decay":
            if not (math.isfinite(value) and value >= 0):
                raise TorchannError(f"`weight_decay={value}`: must be 0 or a positive number")
        elif name == "lr_schedule":
            if value not in (None, *SCHEDULES):
                raise TorchannError(f"`lr_schedule={value}`: use one of {', '.join(SCHEDULES)}")
        elif name == "label_smoothing":
            if not (math.isfinite(value) and 0 <= value < 1):
                raise TorchannError(f"`label_smoothing={value}`: must be at least 0 and below "
                                    "1, e.g. 0.1")
        elif value is not None and not (math.isfinite(value) and value > 0):
            raise TorchannError(key="value.positive", name=name, value=value)


def warmup_cosine(total_steps, warmup=WARMUP):
    """The ``warmup_cosine`` factor of the rate after ``step`` steps, as a function of
    ``step``: linear from near 0 to 1 over ``warmup`` of ``total_steps``, then a cosine
    to 0."""
    total = max(int(total_steps), 1)
    rise = max(int(round(warmup * total)), 1)

    def factor(step):
        if step < rise:
            return (step + 1) / rise
        return 0.5 * (1 + math.cos(math.pi * min(step - rise, total - rise) / max(total - rise, 1)))
    return factor


def training_loss(task, label_smoothing=0.0):
    """The loss a network trains on: the task's (:meth:`Task.loss_fn`, BCELoss without a
    task), with classification targets smoothed towards the uniform by ``label_smoothing``
    (binary: ``y (1 - s) + s / 2``; multiclass: CrossEntropyLoss's own ``label_smoothing``)."""
    loss_fn = task.loss_fn() if task is not None else nn.BCELoss()
    if not label_smoothing or (task is not None and task.kind == "regression"):
        return loss_fn
    if task is not None and task.kind == "multiclass":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def smoothed(out, y):
        return loss_fn(out, y * (1 - label_smoothing) + label_smoothing / 2)
    return smoothed


def diverged(epoch, loss, lr):
    """The error of a run whose loss stopped being finite at ``epoch``."""
    return TorchannError(key="train.diverged", epoch=epoch, loss=loss, lr=lr)


def minibatches(x, y, batch_size, generator, device):
    """``(x, y)`` minibatches of one epoch: slices of one permuted index (no DataLoader), or
    the batches of a streamed table (an object with ``minibatches``)."""
    if hasattr(x, "minibatches"):
        yield from x.minibatches(batch_size, generator, device)
        return
    n = x.shape[0]
    order = torch.randperm(n, generator=generator).to(x.device)
    for i in range(0, n, batch_size):
        idx = order[i:i + batch_size]
        yield x[idx], y[idx]


class Trainer:
    """One training run, an epoch per :meth:`epoch` call: :func:`fit` runs it to the end, the
    playground a few epochs per frame.

    Parameters
    ----------
    model : NeuralNet or MLP
        Trained in place, on the device its parameters are on.
    x, y : array_like or Tensor
        The training rows and targets (or a streamed table as ``x`` with ``y=None``).
    lr, optimizer, weight_decay, plain
        As for :func:`make_optimizer`.
    batch_size : int or None
        ``None``: the full batch each epoch, as in the chapter (logged before its step).
        Otherwise the rows are shuffled each epoch (``generator``) and taken ``batch_size``
        at a time, even when that is all of them in one batch. Not with ``lbfgs``.
    task : Task, optional
        The task and its loss (default: binary, BCELoss).
    penalty_kind : {None, "l1", "l2"}
        A penalty on the weights added to the loss before each backward pass, times
        ``penalty_rate`` (:func:`penalty`); the loss reported leaves it out.
    generator : torch.Generator, optional
        Source of the minibatch order.
    lr_schedule : {None, "constant", "cosine", "warmup_cosine"}
        ``cosine`` lowers the rate from ``lr`` towards 0 over ``epochs`` (per epoch);
        ``warmup_cosine`` changes it after every step (:func:`warmup_cosine`).
    epochs : int, optional
        The run's length, for the cosine schedules.
    label_smoothing : float
        Classification targets smoothed for training (:func:`training_loss`); the loss
        reported, ``loss_fn``, is the task's own.
    callback : callable(epoch, loss) or None
        Called after each epoch's finite loss is known (full batch: before the step).
    parallel : Group, optional
        Train as one rank of a group of processes
        (:class:`~torchann.classify.distributed.Group`): the forward passes go through
        ``parallel.wrap(model)`` (DistributedDataParallel, which averages the gradients over
        the ranks) and an epoch's loss is the mean over every rank's rows. Minibatches only.

    Attributes
    ----------
    epochs_done : int
        Epochs run so far.
    x, y : Tensor
        The training data as tensors on the model's device (a streamed table as given).
    """

    def __init__(self, model, x, y, *, lr=0.03, optimizer="sgd", batch_size=None, task=None,
                 weight_decay=0.0, penalty_kind=None, penalty_rate=0.0, generator=None,
                 lr_schedule=None, epochs=None, callback=None, plain=False,
                 label_smoothing=0.0, parallel=None):
        from torchann.classify.mlp import in_features

        check_settings(lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                       lr_schedule=lr_schedule, label_smoothing=label_smoothing)
        self.model, self.lr, self.optimizer_name = model, lr, optimizer
        self.batch_size, self.generator, self.callback = batch_size, generator, callback
        self.penalty_kind, self.penalty_rate = penalty_kind, penalty_rate
        self.device = next(model.parameters()).device
        if hasattr(x, "minibatches"):  # a streamed table: minibatches read each epoch
            if batch_size is None or optimizer == "lbfgs":
                raise TorchannError("a streamed table trains in minibatches; give `batch_size` "
                                    "and an optimizer other than lbfgs")
        else:
            x, y = as_tensors(x, y, self.device, target_dtype(task))
        n_in = in_features(model)
        if len(x.shape) != 2 or x.shape[1] != n_in:
            raise TorchannError(f"the data has shape {tuple(x.shape)}; the model expects "
                                f"(N, {n_in})")
        if optimizer == "lbfgs" and batch_size is not None:
            raise TorchannError("`optimizer=lbfgs` works on the full batch; drop `batch_size`")
        if parallel is not None and (batch_size is None or optimizer == "lbfgs"):
            raise TorchannError("training on several processes works in minibatches; give "
                                "`batch_size` and an optimizer other than lbfgs")
        self.x, self.y, self.parallel = x, y, parallel
        self.forward = model if parallel is None else parallel.wrap(model)
        self.opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay, plain)
        self.schedule = self.step_schedule = None
        if lr_schedule == "cosine":
            self.schedule = torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=epochs)
        elif lr_schedule == "warmup_cosine":
            steps = 1 if batch_size is None else -(-int(x.shape[0]) // batch_size)
            self.step_schedule = torch.optim.lr_scheduler.LambdaLR(
                self.opt, warmup_cosine(steps * (epochs or 1)))
        self.loss_fn = task.loss_fn() if task is not None else nn.BCELoss()
        self.train_loss_fn = training_loss(task, label_smoothing)
        self.epochs_done = 0

    def _backward(self, loss):
        reg = penalty(self.model, self.penalty_kind, self.penalty_rate)
        (loss if reg is None else loss + reg).backward()

    def _full_batch(self):
        """The chapter's epoch: forward, report the loss, backward, step."""
        self.opt.zero_grad()
        out = self.train_loss_fn(self.model(self.x).squeeze(1), self.y)
        loss = out.item()
        if math.isfinite(loss):
            if self.callback is not None:
                self.callback(self.epochs_done, loss)
            self._backward(out)
            self._step()
        return loss

    def _step(self):
        self.opt.step()
        if self.step_schedule is not None:
            self.step_schedule.step()

    def _lbfgs(self):
        """One L-BFGS step on the full batch; the loss before it."""
        def closure():
            self.opt.zero_grad()
            out = self.train_loss_fn(self.model(self.x).squeeze(1), self.y)
            self._backward(out)
            return out
        return self.opt.step(closure).item()

    def _minibatch(self):
        """One pass over the rows in a random order; the mean loss."""
        total, count = torch.zeros((), device=self.device), 0
        for xb, yb in minibatches(self.x, self.y, self.batch_size, self.generator,
                                  self.device):
            self.opt.zero_grad(set_to_none=True)
            out = self.train_loss_fn(self.forward(xb).squeeze(1), yb)
            self._backward(out)
            self._step()
            total += out.detach() * yb.shape[0]
            count += yb.shape[0]
        if self.parallel is not None:
            total, count = self.parallel.sum_loss(total, count)
        return total.item() / count

    def epoch(self):
        """Run one epoch; return its loss (NaN once the weights are no longer finite).

        Raises
        ------
        RuntimeError
            From torch, when the weights are still finite (anything else is a bug).
        """
        self.model.train()
        try:
            if self.optimizer_name == "lbfgs":
                loss = self._lbfgs()
            elif self.batch_size is None:
                loss = self._full_batch()
            else:
                loss = self._minibatch()
        except RuntimeError:  # BCELoss refuses NaN probabilities: the weights are gone
            if all(torch.isfinite(p).all() for p in self.model.parameters()):
                raise
            loss = float("nan")
        if math.isfinite(loss):
            if self.schedule is not None:
                self.schedule.step()
            if self.callback is not None and (self.batch_size is not None
                                              or self.optimizer_name == "lbfgs"):
                self.callback(self.epochs_done, loss)
        self.epochs_done += 1
        return loss
