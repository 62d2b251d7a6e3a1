"""3.3 beyond the chapter: what is being learned (binary, multi-class or regression) and its loss.

The task is decided from the label column (:func:`decide_task`), or given:

- ``binary``: two label values; the chapter's sigmoid output and ``BCELoss``;
- ``multiclass``: three or more values (two are allowed when asked for); raw scores and
  ``CrossEntropyLoss`` (softmax inside the loss, and for probabilities);
- ``regression``: a number; ``MSELoss`` on the target standardized with the training
  split's mean and standard deviation, predictions turned back into the original units.

The ``auto`` rule
-----------------
1. A label with any value that is not a number (text, e.g. ``setosa``) is a classification.
2. A label with exactly two distinct values is binary, whatever they are.
3. A label whose values are all whole numbers (``3`` or ``3.0``) with at most
   :data:`MAX_AUTO_CLASSES` (20) distinct values, and at least :data:`MIN_ROWS_PER_CLASS` (5)
   rows per distinct value on average, is a classification (iris' 0/1/2, digits' 0-9).
4. Anything else (fractional numbers, or many distinct whole numbers such as prices or ages)
   is a regression.

Classification with two values is binary, with more multiclass. Give ``--task`` when the rule
guesses wrong (e.g. a count with few values that should be a regression).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch import nn

from torchann.classify.metrics import TaskMetrics
from torchann.errors import TorchannError

TASKS = ("auto", "binary", "multiclass", "regression")
#: ``auto``: most distinct whole-number values that still count as classes.
MAX_AUTO_CLASSES = 20
#: ``auto``: fewest rows per distinct whole-number value (on average) for classes.
MIN_ROWS_PER_CLASS = 5
#: Most classes accepted at all (a label with more is an ID or a number).
MAX_CLASSES = 1000


def _as_number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number


def _class_order(values):
    """Distinct values sorted numerically when all are numbers, else as text."""
    numbers = [_as_number(v) for v in values]
    if all(n is not None for n in numbers):
        return [v for _, v in sorted(zip(numbers, values))]
    return sorted(values)


def _shown(values, limit=10):
    return ", ".join(map(repr, values[:limit])) + (", ..." if len(values) > limit else "")


def _label_strings(y):
    """Label values as strings (the CSV's text, or numbers written as they print)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return np.array([format(v, "g") if float(v).is_integer() else repr(float(v))
                         for v in y.tolist()], dtype=object)
    return y.astype(str).astype(object)


@dataclass
class Task(TaskMetrics):
    """A learning task and the label encoding it implies.

    Attributes
    ----------
    kind : {"binary", "multiclass", "regression"}
    classes : list of str or None
        Class names in output order (index 0 first); ``None`` for regression.
    target_mean, target_scale : float or None
        Standardization of a regression target (training split only).
    reason : str
        Why this task: what ``auto`` saw, or "asked for".

    Its metrics, the lines and report numbers that say how they came out, and whether the
    result is poor come from :class:`~torchann.classify.metrics.TaskMetrics`.
    """

    kind: str
    classes: list | None = None
    target_mean: float | None = None
    target_scale: float | None = None
    reason: str = ""

    @property
    def n_out(self):
        """Network outputs: one for binary and regression, one per class for multiclass."""
        return len(self.classes) if self.kind == "multiclass" else 1

    @property
    def is_classification(self):
        return self.kind != "regression"

    @property
    def label_map(self):
        """``{class name: index}`` for classification, else ``None``."""
        return {c: i for i, c in enumerate(self.classes)} if self.classes else None

    def describe(self):
        """One line saying what was decided, e.g. ``task: multiclass (3 classes: ...)``."""
        from torchann.i18n import message

        if self.kind == "regression":
            what = message("task.regression")
        else:
            what = message("task.classes", kind=self.kind, k=len(self.classes),
                           classes=_shown(self.classes, 6))
        if self.reason:
            return message("task.line", what=what, reason=self.reason)
        return message("task.line_bare", what=what)

    def fit_target(self, y):
        """Learn the regression target's mean and scale from the training split ``y``."""
        if self.kind != "regression":
            return self
        y = np.asarray(y, dtype=np.float64)
        scale = float(y.std())
        self.target_mean = float(y.mean())
        self.target_scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        return self

    def encode(self, y):
        """Label values to training targets.

        Binary: float32 0/1; multiclass: int64 class indices; regression: float32
        standardized values (call :meth:`fit_target` first).

        Raises
        ------
        TorchannError
            A class never seen in training, or a regression value that is not a number.
        """
        if self.kind == "regression":
            from torchann.i18n import message

            values = _numbers(y, message("classify.tasks.the_label"))
            mean = self.target_mean or 0.0
            scale = self.target_scale or 1.0
            return ((values - mean) / scale).astype(np.float32)
        index = self.label_map
        names = _label_strings(y)
        try:
            codes = np.array([index[v] for v in names], dtype=np.int64)
        except KeyError as err:
            raise TorchannError(key="classify.tasks.label_value_one", args=err.args[0],
                                v=str(_shown(self.classes))) from None
        return codes.astype(np.float32) if self.kind == "binary" else codes

    def loss_fn(self):
        """The training loss: BCELoss, CrossEntropyLoss or MSELoss."""
        return {"binary": nn.BCELoss, "multiclass": nn.CrossEntropyLoss,
                "regression": nn.MSELoss}[self.kind]()

    @property
    def baseline_loss(self):
        """The loss of a know-nothing prediction: ln 2, ln K, or 1 (standardized MSE)."""
        if self.kind == "binary":
            return math.log(2)
        if self.kind == "multiclass":
            return math.log(len(self.classes))
        return 1.0

    def scores_to_output(self, scores):
        """Network outputs (numpy, shape (N,) or (N, K)) to probabilities or original units.

        Binary: P(class 1), shape (N,); multiclass: softmax probabilities (N, K);
        regression: predictions in the label's units, shape (N,).
        """
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "multiclass":
            shifted = scores - scores.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            return e / e.sum(axis=1, keepdims=True)
        scores = scores.reshape(-1)
        if self.kind == "regression":
            return scores * (self.target_scale or 1.0) + (self.target_mean or 0.0)
        return scores

    def output_to_index(self, output, threshold=0.5):
        """Probabilities from :meth:`scores_to_output` to class indices."""
        output = np.asarray(output)
        if self.kind == "binary":
            return (output >= threshold).astype(np.int64)
        return output.argmax(axis=1)

    def format_prediction(self, output):
        """One point's output (a row of :meth:`scores_to_output`) as a line of text:
        P(class 1), the most probable class and its probability, or the number."""
        if self.kind == "binary":
            return f"{output:.6f}"
        if self.kind == "multiclass":
            best = int(np.argmax(output))
            from torchann.i18n import message

            return message("predict.probability", label=self.classes[best], p=output[best])
        return f"{output:.8g}"

    def prediction_columns(self, output, threshold=0.5, label_of=None):
        """Columns for a table of predictions: ``{"prediction": values}`` (regression), or
        ``{"probability": ..., "label": ...}``, the label as text (binary: ``label_of``
        maps the 0/1 decision at ``threshold`` to the original value; multiclass: the most
        probable class with its probability)."""
        output = np.asarray(output)
        if self.kind == "regression":
            return {"prediction": np.asarray(output, dtype=np.float64)}
        if self.kind == "binary":
            prob = output
            label_of = label_of or (lambda index: index)
            labels = [label_of(int(p >= threshold)) for p in prob]
        else:
            best = output.argmax(axis=1)
            prob = output[np.arange(len(output)), best]
            labels = [self.classes[i] for i in best]
        return {"probability": np.asarray(prob, dtype=np.float64),
                "label": [str(v) for v in labels]}

    def to_json(self):
        return {"task": self.kind, "classes": self.classes,
                "target": None if self.kind != "regression" else
                {"mean": self.target_mean, "scale": self.target_scale},
                "task_reason": self.reason}

    @classmethod
    def from_json(cls, info, label_map=None):
        """Rebuild from ``model.json``; a file without ``task`` is the chapter's binary."""
        kind = info.get("task", "binary")
        if kind not in TASKS[1:]:
            raise TorchannError(key="classify.tasks.model_description_names", kind=kind)
        classes = info.get("classes")
        if classes is None and label_map:
            classes = [k for k, _ in sorted(label_map.items(), key=lambda kv: kv[1])]
        if kind == "regression":
            target = info.get("target") or {}
            try:
                mean, scale = float(target["mean"]), float(target["scale"])
            except (KeyError, TypeError, ValueError):
                raise TorchannError(key="classify.tasks.model_description_lacks") from None
            if not (math.isfinite(mean) and math.isfinite(scale) and scale > 0):
                raise TorchannError(key="classify.tasks.target_scale_bad")
            return cls(kind, None, mean, scale, info.get("task_reason", ""))
        if classes is not None and (not isinstance(classes, list) or len(classes) < 2
                                    or (kind == "binary" and len(classes) != 2)):
            raise TorchannError(key="classify.tasks.model_description_lists",
                                classes=repr(classes), kind=kind)
        return cls(kind, classes, None, None, info.get("task_reason", ""))


def _numbers(y, what):
    y = np.asarray(y)
    if y.dtype.kind in "fiub":
        values = y.astype(np.float64)
    else:
        values = np.array([_as_number(v) if _as_number(v) is not None else np.nan
                           for v in y.tolist()], dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        first = y.tolist()[int(np.argmax(bad))]
        raise TorchannError(key="classify.tasks.value_finite_number", what=what, first=first)
    return values


def decide_task(y, task="auto", label="label"):
    """Decide the task from the label values (see the module's ``auto`` rule).

    Parameters
    ----------
    y : array_like
        The label column (strings from a CSV, or numbers, or any values).
    task : {"auto", "binary", "multiclass", "regression"}
    label : str
        The label's name, for messages.

    Returns
    -------
    Task
        Unfitted for regression (call :meth:`Task.fit_target` on the training split).

    Raises
    ------
    TorchannError
        An unknown task; a label with one value; ``binary`` with other than two values;
        ``regression`` on text; more than :data:`MAX_CLASSES` classes.
    """
    if task not in TASKS:
        raise TorchannError(key="classify.tasks.task_choices", task=task, choices=', '.join(TASKS))
    y = np.asarray(y)
    if y.ndim != 1:
        y = y.reshape(-1)
    names = _label_strings(y)
    distinct = _class_order(sorted(set(names.tolist())))
    n, k = len(names), len(distinct)
    if k < 2:
        raise TorchannError(key="classify.tasks.label_distinct_value", label=label, k=k,
                            plural='s' if k != 1 else '', v2=_shown(distinct))
    numbers = [_as_number(v) for v in distinct]
    numeric = all(x is not None and math.isfinite(x) for x in numbers)
    whole = numeric and all(float(x).is_integer() for x in numbers)
    from torchann.i18n import message

    if task == "auto":
        if not numeric:
            task, why = ("binary" if k == 2 else "multiclass"), message("task.why.text")
        elif k == 2:
            task, why = "binary", message("task.why.two")
        elif whole and k <= MAX_AUTO_CLASSES and n >= MIN_ROWS_PER_CLASS * k:
            task = "multiclass"
            why = message("task.why.whole", k=k, most=MAX_AUTO_CLASSES,
                          rows=MIN_ROWS_PER_CLASS)
        else:
            task = "regression"
            why = message("task.why.numbers" if whole else "task.why.numbers_not_whole", k=k)
        reason = message("task.why.auto", why=why)
    else:
        reason = message("task.why.asked")
    if task == "binary" and k != 2:
        raise TorchannError(key="table.not_binary", label=repr(label), k=k,
                            values=_shown(distinct))
    if task == "regression":
        if not numeric:
            text = next(v for v, x in zip(distinct, numbers) if x is None or not math.isfinite(x))
            raise TorchannError(key="classify.tasks.label_holds_number", label=label, text=text)
        return Task("regression", reason=reason)
    if k > MAX_CLASSES and not numeric:  # text (an ID, a date) is no regression either
        raise TorchannError(key="classify.tasks.label_distinct_text", label=label, k=k,
                            max_classes=MAX_CLASSES, first=distinct[0])
    if k > MAX_CLASSES:
        raise TorchannError(key="classify.tasks.label_distinct_values", label=label, k=k,
                            max_classes=MAX_CLASSES)
    return Task(task, [str(c) for c in distinct], reason=reason)


def split(x, y, task, test_size=0.2, random_state=None):
    """Split rows into train and test sets, stratified by class for classification.

    Parameters
    ----------
    x : ndarray, shape (N, F)
    y : ndarray, shape (N,)
        Encoded targets (:meth:`Task.encode`) or raw values.
    task : Task
    test_size : float
        Fraction held out, in (0, 1).
    random_state : int or None

    Returns
    -------
    x_train, x_test, y_train, y_test

    Raises
    ------
    TorchannError
        ``test_size`` outside (0, 1), or too few rows for each split to hold every class.
    """
    from sklearn.model_selection import train_test_split

    if not (isinstance(test_size, (int, float)) and 0 < test_size < 1):
        raise TorchannError(key="value.between_0_1", name="test_size", value=test_size)
    n = len(y)
    n_test = math.ceil(test_size * n)
    if task.is_classification:
        counts = np.unique(np.asarray(y), return_counts=True)[1]
        k = len(counts)
        if counts.min() < 2 or n_test < k or n - n_test < k:
            raise TorchannError(key="classify.tasks.too_few_rows", n=n, v=counts.min(),
                                test_size=test_size)
        stratify = y
    else:
        if n_test < 2 or n - n_test < 2:
            raise TorchannError(key="classify.tasks.too_few_rows2", n=n, test_size=test_size)
        stratify = None
    return train_test_split(x, y, test_size=test_size, stratify=stratify,
                            random_state=random_state)
