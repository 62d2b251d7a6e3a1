"""3.3 Training a classifier (evaluation lives in :mod:`torchann.classify.evaluation`).

:func:`fit` trains with BCELoss (full batch like the chapter, or in minibatches) and
:func:`evaluate` reports the loss, the accuracy and the confusion counts. Given a
:class:`~torchann.classify.tasks.Task`, :func:`fit` trains a multi-class classifier
(CrossEntropyLoss) or a regression (MSELoss) the same way, with optional weight decay, a
cosine learning-rate schedule and early stopping on a validation split.

A loss is not an error rate: an untrained sigmoid classifier sits near ln 2 ~ 0.693 whatever
its accuracy, so accuracy is reported on its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from torchann.classify.evaluation import (  # noqa: F401 (public names stay importable here)
    PREDICT_CHUNK,
    Evaluation,
    as_tensors,
    evaluate,
    loss_on,
    predict_proba,
    predict_scores,
    target_dtype,
    task_loss,
)
from torchann.errors import TorchannError

OPTIMIZERS = ("sgd", "adam", "lbfgs")
#: Their classes in ``torch.optim``.
PLAIN_NAMES = {"sgd": "SGD", "adam": "Adam", "lbfgs": "LBFGS"}
#: Below this many multiply-adds per epoch (rows x features x hidden), one CPU thread is
#: faster: with tiny matrices more threads only wait on each other.
SMALL_WORK = 1_000_000
#: A training loss that ends this many times above its start (or ln 2) counts as divergence.
SATURATION = 5.0


# --------------------------------------------------------------------------- training


def suggested_threads(n_rows, n_features, hidden):
    """1 for problems below :data:`SMALL_WORK`, else ``None`` (keep torch's default)."""
    return 1 if n_rows * n_features * hidden < SMALL_WORK else None


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes
    ----------
    train_loss : list of float
        Mean training loss of each epoch (for a full batch: the loss before that epoch's step,
        as the chapter logs it).
    test_loss : list of (int, float)
        ``(epoch, test loss)`` at every ``test_every`` epochs and after the last one, when
        test data was given.
    epochs : int
        Epochs run (fewer than asked when early stopping stopped).
    seconds : float
        Wall time of the training loop.
    val_loss : list of float
        Validation loss after each epoch, with early stopping.
    best_epoch : int or None
        With early stopping: the epoch whose weights were restored.
    stopped_early : bool
        Whether early stopping ended training before the last epoch.
    """

    train_loss: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    epochs: int = 0
    seconds: float = 0.0
    val_loss: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False


def make_optimizer(name, params, lr, weight_decay=0.0, plain=False):
    """Build the optimizer called ``name`` (``sgd``, ``adam`` or ``lbfgs``) with rate ``lr``.

    ``lbfgs`` takes one L-BFGS iteration per ``step`` (with a strong-Wolfe line search), so one
    epoch is one iteration. ``weight_decay`` is an L2 penalty added to the gradients (SGD and
    Adam; L-BFGS refuses it). ``plain=True`` builds ``torch.optim.<Name>(params, lr=lr)``
    with torch's own defaults for everything else, as a chapter-style program writes it (the
    playground's code panel; for L-BFGS: up to 20 iterations per step, no line search).
    """
    if plain and name in OPTIMIZERS:
        return getattr(torch.optim, PLAIN_NAMES[name])(params, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        params = list(params)
        try:  # the fused kernel is a third faster on small models; not every device has it
            return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "lbfgs" and weight_decay:
        raise TorchannError("weight_decay works with optimizer sgd or adam, not lbfgs")
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
                raise TorchannError(f"weight_decay {value}: must be 0 or a positive number")
        elif name == "lr_schedule":
            if value not in (None, "constant", "cosine"):
                raise TorchannError(f"lr_schedule {value}: use constant or cosine")
        elif value is not None and not (math.isfinite(value) and value > 0):
            raise TorchannError(f"{name} {value}: must be a positive number")


def diverged(epoch, loss, lr):
    """The error of a run whose loss stopped being finite at ``epoch``."""
    return TorchannError(f"training diverged at epoch {epoch}: the loss is {loss}; "
                         f"lower lr (now {lr:g})")


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
    lr_schedule : {None, "constant", "cosine"}
        ``cosine`` lowers the rate from ``lr`` towards 0 over ``epochs`` (per epoch).
    epochs : int, optional
        The run's length, for the cosine schedule.
    callback : callable(epoch, loss) or None
        Called after each epoch's finite loss is known (full batch: before the step).

    Attributes
    ----------
    epochs_done : int
        Epochs run so far.
    x, y : Tensor
        The training data as tensors on the model's device (a streamed table as given).
    """

    def __init__(self, model, x, y, *, lr=0.03, optimizer="sgd", batch_size=None, task=None,
                 weight_decay=0.0, penalty_kind=None, penalty_rate=0.0, generator=None,
                 lr_schedule=None, epochs=None, callback=None, plain=False):
        from torchann.classify.mlp import in_features

        check_settings(lr=lr, batch_size=batch_size, weight_decay=weight_decay,
                       lr_schedule=lr_schedule)
        self.model, self.lr, self.optimizer_name = model, lr, optimizer
        self.batch_size, self.generator, self.callback = batch_size, generator, callback
        self.penalty_kind, self.penalty_rate = penalty_kind, penalty_rate
        self.device = next(model.parameters()).device
        if hasattr(x, "minibatches"):  # a streamed table: minibatches read each epoch
            if batch_size is None or optimizer == "lbfgs":
                raise TorchannError("a streamed table trains in minibatches; give batch_size "
                                    "and an optimizer other than lbfgs")
        else:
            x, y = as_tensors(x, y, self.device, target_dtype(task))
        n_in = in_features(model)
        if len(x.shape) != 2 or x.shape[1] != n_in:
            raise TorchannError(f"the data has shape {tuple(x.shape)}; the model expects "
                                f"(N, {n_in})")
        if optimizer == "lbfgs" and batch_size is not None:
            raise TorchannError("optimizer lbfgs works on the full batch; drop batch_size")
        self.x, self.y = x, y
        self.opt = make_optimizer(optimizer, model.parameters(), lr, weight_decay, plain)
        self.schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(self.opt, T_max=epochs)
                         if lr_schedule == "cosine" else None)
        self.loss_fn = task.loss_fn() if task is not None else nn.BCELoss()
        self.epochs_done = 0

    def _backward(self, loss):
        reg = penalty(self.model, self.penalty_kind, self.penalty_rate)
        (loss if reg is None else loss + reg).backward()

    def _full_batch(self):
        """The chapter's epoch: forward, report the loss, backward, step."""
        self.opt.zero_grad()
        out = self.loss_fn(self.model(self.x).squeeze(1), self.y)
        loss = out.item()
        if math.isfinite(loss):
            if self.callback is not None:
                self.callback(self.epochs_done, loss)
            self._backward(out)
            self.opt.step()
        return loss

    def _lbfgs(self):
        """One L-BFGS step on the full batch; the loss before it."""
        def closure():
            self.opt.zero_grad()
            out = self.loss_fn(self.model(self.x).squeeze(1), self.y)
            self._backward(out)
            return out
        return self.opt.step(closure).item()

    def _minibatch(self):
        """One pass over the rows in a random order; the mean loss."""
        total, count = torch.zeros((), device=self.device), 0
        for xb, yb in minibatches(self.x, self.y, self.batch_size, self.generator,
                                  self.device):
            self.opt.zero_grad(set_to_none=True)
            out = self.loss_fn(self.model(xb).squeeze(1), yb)
            self._backward(out)
            self.opt.step()
            total += out.detach() * yb.shape[0]
            count += yb.shape[0]
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


def fit(model, x, y, *, epochs=2000, lr=0.03, optimizer="sgd", batch_size=None,
        callback=None, x_test=None, y_test=None, test_every=100, generator=None,
        task=None, weight_decay=0.0, lr_schedule=None, x_val=None, y_val=None,
        patience=None):
    """Train ``model`` on ``(x, y)`` with BCELoss, the chapter's loop by default.

    Parameters
    ----------
    model : NeuralNet or MLP
        Trained in place, on the device its parameters are on.
    x : array_like or Tensor, shape (N, input_size)
    y : array_like or Tensor, shape (N,)
        Labels 0/1, or the targets of ``task`` (:meth:`Task.encode`).
    epochs : int
        Passes over the data (for ``lbfgs``: iterations).
    lr : float
        Learning rate.
    optimizer : {"sgd", "adam", "lbfgs"}
    batch_size : int or None
        ``None`` (or ``>= N``): the full batch each epoch, as in the chapter. Otherwise the
        rows are shuffled each epoch and taken ``batch_size`` at a time by slicing a permuted
        index (no DataLoader, so a batch costs two tensor indexings). Not with ``lbfgs``.
        A :class:`~torchann.classify.dataset.StreamedTable` given as ``x`` (with ``y=None``)
        is read again each epoch and needs a ``batch_size``.
    callback : callable(epoch, loss) or None
        Called after each epoch's loss is known (for a full batch: before the step, as the
        chapter prints it).
    x_test, y_test : array_like, optional
        Evaluated every ``test_every`` epochs and after the last, into ``FitResult.test_loss``.
    test_every : int
    generator : torch.Generator, optional
        Source of the minibatch order.
    task : Task, optional
        The task and its loss (default: binary, BCELoss).
    weight_decay : float
        L2 penalty (0: none).
    lr_schedule : {None, "constant", "cosine"}
        ``cosine`` lowers the rate from ``lr`` towards 0 over ``epochs`` (per epoch).
    x_val, y_val : array_like, optional
        A validation split for early stopping: its loss is computed after every epoch, and
        the weights of the best epoch are restored at the end.
    patience : int, optional
        Stop after this many epochs without a better validation loss (needs ``x_val``).

    Returns
    -------
    FitResult

    Raises
    ------
    TorchannError
        Non-positive epochs/lr/batch size, an unknown optimizer or schedule, or divergence: a
        loss that stops being finite, or ends :data:`SATURATION` times above where it
        started (BCELoss clamps its logarithms, so a saturated sigmoid gives a large finite
        loss). The message names the epoch and advises a lower ``lr``.
    """
    check_settings(epochs=epochs, lr=lr, batch_size=batch_size, patience=patience,
                   weight_decay=weight_decay, lr_schedule=lr_schedule)
    if patience is not None and x_val is None:
        raise TorchannError("early stopping needs a validation split")
    device, y_dtype = next(model.parameters()).device, target_dtype(task)
    streamed = hasattr(x, "minibatches")  # a streamed table: minibatches read each epoch
    if not streamed and batch_size is not None:
        x, y = as_tensors(x, y, device, y_dtype)  # to count its rows
    full_batch = not streamed and (batch_size is None or x.ndim and batch_size >= len(x))
    trainer = Trainer(model, x, y, lr=lr, optimizer=optimizer, task=task,
                      batch_size=None if full_batch else batch_size, generator=generator,
                      weight_decay=weight_decay, lr_schedule=lr_schedule, epochs=epochs,
                      callback=callback)
    loss_fn = trainer.loss_fn
    baseline = task.baseline_loss if task is not None else math.log(2)
    if x_test is not None:
        x_test, y_test = as_tensors(x_test, y_test, device, y_dtype)
    if x_val is not None:
        x_val, y_val = as_tensors(x_val, y_val, device, y_dtype)
    result = FitResult()
    best, best_state, waited = math.inf, None, 0
    start = time.perf_counter()
    for epoch in range(epochs):
        loss = trainer.epoch()
        if not math.isfinite(loss):
            raise diverged(epoch, loss, lr)
        result.train_loss.append(loss)
        result.epochs = epoch + 1
        if x_test is not None and (epoch % test_every == 0 or epoch == epochs - 1):
            result.test_loss.append((epoch, loss_on(model, loss_fn, x_test, y_test)))
        if x_val is not None:
            val = loss_on(model, loss_fn, x_val, y_val)
            result.val_loss.append(val)
            if val < best - 1e-6 * abs(best if math.isfinite(best) else 0):
                best, waited, result.best_epoch = val, 0, epoch
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if patience is not None and waited >= patience:
                    result.stopped_early = epoch < epochs - 1
                    break
    result.seconds = time.perf_counter() - start
    if best_state is not None:
        model.load_state_dict(best_state)
    if not all(torch.isfinite(p).all() for p in model.parameters()):
        raise diverged(result.epochs - 1, "finite but the weights are not", lr)
    first, last = result.train_loss[0], result.train_loss[-1]
    if last > SATURATION * max(first, baseline):
        worst = int(np.argmax(result.train_loss))
        what = ("the sigmoid saturated" if task is None or task.kind == "binary"
                else "the outputs ran away")
        raise TorchannError(f"training diverged: the loss rose from {first:.4g} to {last:.4g} "
                            f"(highest at epoch {worst}; {what}); lower lr "
                            f"(now {lr:g})")
    return result


# --------------------------------------------------------------------------- one call


#: Fraction of the training rows held out for early stopping.
VALIDATION_FRACTION = 0.1


def train_model(x, y, task, *, hidden=(5,), activation="relu", dropout=0.0, epochs=2000,
                lr=0.03, optimizer="sgd", batch_size=None, weight_decay=0.0,
                lr_schedule=None, early_stopping=None, seed=0, device="cpu", callback=None,
                x_test=None, y_test=None, test_every=100, on_start=None):
    """Build the network for ``task`` and train it: the code behind ``train`` and the estimator.

    Parameters
    ----------
    x : ndarray, shape (N, F)
        Prepared (standardized) features.
    y : ndarray, shape (N,)
        Targets encoded by :meth:`Task.encode`.
    task : Task
    hidden, activation, dropout
        The network (:func:`~torchann.classify.mlp.build_model`: the chapter's NeuralNet
        when it is the chapter's shape).
    epochs, lr, optimizer, batch_size, weight_decay, lr_schedule
        As for :func:`fit`.
    early_stopping : int or None
        Patience in epochs: hold out :data:`VALIDATION_FRACTION` of the rows (stratified for
        classification), stop when the validation loss has not improved for that many
        epochs, and restore the best weights.
    seed : int
        Seeds the initial weights, dropout, the validation split and the minibatch order
        (torch's global generator is left as it was).
    device : str or torch.device
    callback, x_test, y_test, test_every
        As for :func:`fit`.
    on_start : callable(model) or None
        Called with the untrained network (e.g. to report its test loss).

    Returns
    -------
    model : NeuralNet or MLP
        Trained, in eval mode.
    result : FitResult
    """
    from torchann.classify.mlp import build_model
    from torchann.classify.tasks import split

    x_val = y_val = None
    if early_stopping is not None and hasattr(x, "minibatches"):
        raise TorchannError("early_stopping needs the table in memory, not a streamed "
                            "table; read it whole (a file under 256 MiB)")
    if early_stopping is not None:
        check_settings(early_stopping=early_stopping)
        try:
            x, x_val, y, y_val = split(x, y, task, VALIDATION_FRACTION, random_state=seed)
        except TorchannError as err:
            raise TorchannError(f"early_stopping holds out {VALIDATION_FRACTION:.0%} of the "
                                f"training rows for validation, and: {err}") from None
    with torch.random.fork_rng(devices=[]):  # seeded here, the caller's generator untouched
        torch.manual_seed(seed)
        model = build_model(x.shape[1], hidden, task.n_out, activation, dropout,
                            task.kind).to(device)
        if on_start is not None:
            on_start(model)
        result = fit(model, x, y, epochs=epochs, lr=lr, optimizer=optimizer,
                     batch_size=batch_size, callback=callback, x_test=x_test, y_test=y_test,
                     test_every=test_every, generator=torch.Generator().manual_seed(seed),
                     task=task, weight_decay=weight_decay, lr_schedule=lr_schedule,
                     x_val=x_val, y_val=y_val, patience=early_stopping)
    model.eval()
    return model, result
