"""Playground settings from the page: one checked parser for every tab's dataclass.

:func:`parse` refuses what is not a JSON object or names an unknown setting, builds the
dataclass, and runs each field's check in order; :func:`choice`, :func:`number` and
:func:`integer` make the usual checks. A check returns the value to keep (e.g. a float for
a number given as an int) or raises :class:`~torchann.errors.TorchannError`.
"""

from __future__ import annotations

import math

from torchann.errors import TorchannError


def parse(cls, data, checks, noun="setting"):
    """Build the dataclass ``cls`` from ``data``, a settings object from the page.

    Parameters
    ----------
    cls : dataclass type
        Every field has a default, so any subset of the fields may be given.
    data : object
        What the page sent.
    checks : sequence of (str, callable)
        Field names and their checks, run in this order.
    noun : str
        What one setting is called in the messages (``"race setting"``).

    Returns
    -------
    cls
    """
    if not isinstance(data, dict):
        raise TorchannError(f"{noun}s must be a JSON object")
    unknown = set(data) - set(cls.__dataclass_fields__)
    if unknown:
        raise TorchannError(f"unknown {noun}(s): {', '.join(sorted(map(str, unknown)))}")
    cfg = cls(**data)
    for name, check in checks:
        setattr(cfg, name, check(getattr(cfg, name)))
    return cfg


def choice(name, allowed):
    """A check that the value is one of ``allowed`` (strings)."""
    def check(value):
        if not isinstance(value, str) or value not in allowed:
            raise TorchannError(f"{name} {str(value)[:40]!r}: use one of {', '.join(allowed)}")
        return value
    return check


def number(name, lo, hi):
    """A check that the value is a number from ``lo`` to ``hi``; it becomes a float."""
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TorchannError(f"{name} must be a number")
        value = float(value)
        if not (math.isfinite(value) and lo <= value <= hi):
            raise TorchannError(f"{name} {value:g} is out of range; use {lo:g} to {hi:g}")
        return value
    return check


def integer(name, lo, hi):
    """A check that the value is a whole number (an int) from ``lo`` to ``hi``."""
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise TorchannError(f"{name} {str(value)[:40]}: use a whole number from {lo} to "
                                f"{hi}")
        return value
    return check
