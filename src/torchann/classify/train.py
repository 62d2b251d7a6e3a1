"""3.3 Training a classifier (evaluation lives in :mod:`torchann.classify.evaluation`).

:func:`fit` trains with BCELoss (full batch like the chapter, or in minibatches) and
:func:`evaluate` reports the loss, the accuracy and the confusion counts. Given a
:class:`~torchann.classify.tasks.Task`, :func:`fit` trains a multi-class classifier
(CrossEntropyLoss) or a regression (MSELoss) the same way, with optional weight decay, a
cosine learning-rate schedule and early stopping on a validation split.

Each epoch is one :meth:`~torchann.classify.trainer.Trainer.epoch` of the one training loop
(:mod:`torchann.classify.trainer`), whose names stay importable here.

A loss is not an error rate: an untrained sigmoid classifier sits near ln 2 ~ 0.693 whatever
its accuracy, so accuracy is reported on its own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

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
from torchann.classify.trainer import (  # noqa: F401 (public names stay importable here)
    OPTIMIZERS,
    Trainer,
    check_settings,
    diverged,
    make_optimizer,
)
from torchann.errors import TorchannError

#: Below this many multiply-adds per epoch (rows x features x hidden), one CPU thread is
#: faster: with tiny matrices more threads only wait on each other.
SMALL_WORK = 1_000_000
#: Minibatches below this size train on one CPU thread: measured on a 2-core CPU shared with
#: other work (3 x 256 hidden, AdamW), 2 threads took 9x to 30x longer per step than 1 at
#: batches of 128 to 4,096.
ONE_THREAD_BATCH = 8192
#: A training loss that ends this many times above its start (or ln 2) counts as divergence.
SATURATION = 5.0


# --------------------------------------------------------------------------- training


def suggested_threads(n_rows, n_features, hidden, batch_size=None):
    """1 for minibatches below :data:`ONE_THREAD_BATCH` rows and for problems below
    :data:`SMALL_WORK`, else ``None`` (keep torch's default)."""
    if batch_size is not None and batch_size < min(ONE_THREAD_BATCH, n_rows + 1):
        return 1
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


def fit(model, x, y, *, epochs=2000, lr=0.03, optimizer="sgd", batch_size=None,
        callback=None, x_test=None, y_test=None, test_every=100, generator=None,
        task=None, weight_decay=0.0, lr_schedule=None, x_val=None, y_val=None,
        patience=None, label_smoothing=0.0, parallel=None):
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
    lr_schedule : {None, "constant", "cosine", "warmup_cosine"}
        ``cosine`` lowers the rate from ``lr`` towards 0 over ``epochs`` (per epoch);
        ``warmup_cosine`` warms up, then falls as a cosine, step by step
        (:func:`~torchann.classify.trainer.warmup_cosine`).
    x_val, y_val : array_like, optional
        A validation split for early stopping: its loss is computed after every epoch, and
        the weights of the best epoch are restored at the end.
    patience : int, optional
        Stop after this many epochs without a better validation loss (needs ``x_val``).
    label_smoothing : float
        Classification targets smoothed for training
        (:func:`~torchann.classify.trainer.training_loss`); reported losses are unsmoothed.
    parallel : Group, optional
        Train as one rank of a group (:class:`~torchann.classify.distributed.Group`), as
        :class:`~torchann.classify.trainer.Trainer` does.

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
                      callback=callback, label_smoothing=label_smoothing, parallel=parallel)
    loss_fn = trainer.loss_fn
    baseline = task.baseline_loss if task is not None else math.log(2)
    if x_test is not None:
        x_test, y_test = as_tensors(x_test, y_test, device, y_dtype)
    if x_val is not None:
        x_val, y_val = as_tensors(x_val, y_val, device, y_dtype)
    scorer = model if parallel is None else parallel.shared(model)  # ranks share test losses
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
            result.test_loss.append((epoch, loss_on(scorer, loss_fn, x_test, y_test)))
        if x_val is not None:
            val = loss_on(scorer, loss_fn, x_val, y_val)
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
        from torchann.i18n import message

        what = message("train.rose." + ("saturated" if task is None or task.kind == "binary"
                                        else "ran_away"))
        raise TorchannError(key="train.rose", first=first, last=last, worst=worst, what=what,
                            lr=lr)
    return result


# --------------------------------------------------------------------------- one call


#: Fraction of the training rows held out for early stopping.
VALIDATION_FRACTION = 0.1


def train_model(x, y, task, *, hidden=(5,), activation="relu", dropout=0.0, epochs=2000,
                lr=0.03, optimizer="sgd", batch_size=None, weight_decay=0.0,
                lr_schedule=None, early_stopping=None, seed=0, device="cpu", callback=None,
                x_test=None, y_test=None, test_every=100, on_start=None, label_smoothing=0.0,
                bins=0, parallel=None):
    """Build the network for ``task`` and train it: the code behind ``train`` and the estimator.

    Parameters
    ----------
    x : ndarray, shape (N, F)
        Prepared (standardized) features.
    y : ndarray, shape (N,)
        Targets encoded by :meth:`Task.encode`.
    task : Task
    hidden, activation, dropout, bins
        The network (:func:`~torchann.classify.mlp.build_model`: the chapter's NeuralNet
        when it is the chapter's shape); with ``bins``, its bin edges are the training
        rows' quantiles.
    epochs, lr, optimizer, batch_size, weight_decay, lr_schedule, label_smoothing
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

    parallel : Group, optional
        Train as one rank of a group of processes (:func:`fit`).

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
        raise TorchannError("`early_stopping` needs the table in memory; drop `stream` or use "
                            "a file under 256 MiB")
    if early_stopping is not None:
        check_settings(early_stopping=early_stopping)
        try:
            x, x_val, y, y_val = split(x, y, task, VALIDATION_FRACTION, random_state=seed)
        except TorchannError as err:
            raise TorchannError(f"`early_stopping` holds out {VALIDATION_FRACTION:.0%} of the "
                                f"training rows for validation, and: {err}") from None
    with torch.random.fork_rng(devices=[]):  # seeded here, the caller's generator untouched
        torch.manual_seed(seed)
        model = build_model(x.shape[1], hidden, task.n_out, activation, dropout,
                            task.kind, bins)
        if bins:
            if hasattr(x, "minibatches"):
                raise TorchannError("`bins` needs the table in memory; use `bins=0` with "
                                    "`stream`")
            model.fit_bins(x)
        model = model.to(device)
        if on_start is not None:
            on_start(model)
        result = fit(model, x, y, epochs=epochs, lr=lr, optimizer=optimizer,
                     batch_size=batch_size, callback=callback, x_test=x_test, y_test=y_test,
                     test_every=test_every, generator=torch.Generator().manual_seed(seed),
                     task=task, weight_decay=weight_decay, lr_schedule=lr_schedule,
                     x_val=x_val, y_val=y_val, patience=early_stopping,
                     label_smoothing=label_smoothing, parallel=parallel)
    model.eval()
    return model, result
