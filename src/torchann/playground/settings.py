"""Playground settings from the page: one checked parser for every tab's dataclass.

:func:`parse` refuses what is not a JSON object or names an unknown setting, builds the
dataclass, and runs each field's check in order; :func:`choice`, :func:`number` and
:func:`integer` make the usual checks. A check returns the value to keep (e.g. a float for
a number given as an int) or raises :class:`~torchann.playground.messages.PageError`.
"""

from __future__ import annotations

import math

from torchann.playground.messages import PageError


def parse(cls, data, checks):
    """Build the dataclass ``cls`` from ``data``, a settings object from the page.

    Parameters
    ----------
    cls : dataclass type
        Every field has a default, so any subset of the fields may be given.
    data : object
        What the page sent.
    checks : sequence of (str, callable)
        Field names and their checks, run in this order.

    Returns
    -------
    cls
    """
    if not isinstance(data, dict):
        raise PageError("settings_object")
    unknown = set(data) - set(cls.__dataclass_fields__)
    if unknown:
        raise PageError("setting_unknown", names=", ".join(sorted(map(str, unknown)))[:200])
    cfg = cls(**data)
    for name, check in checks:
        setattr(cfg, name, check(getattr(cfg, name)))
    return cfg


def choice(name, allowed):
    """A check that the value is one of ``allowed`` (strings)."""
    def check(value):
        if not isinstance(value, str) or value not in allowed:
            raise PageError("setting_choice", name=name, value=repr(str(value)[:40]),
                            allowed=", ".join(allowed))
        return value
    return check


def number(name, lo, hi):
    """A check that the value is a number from ``lo`` to ``hi``; it becomes a float."""
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PageError("setting_number", name=name)
        try:
            value = float(value)
        except OverflowError:  # a JSON integer with hundreds of digits
            value = math.inf
        if not (math.isfinite(value) and lo <= value <= hi):
            raise PageError("setting_range", name=name, value=f"{value:g}", lo=f"{lo:g}",
                            hi=f"{hi:g}")
        return value
    return check


def integer(name, lo, hi):
    """A check that the value is a whole number (an int) from ``lo`` to ``hi``."""
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise PageError("setting_integer", name=name, value=_short(value), lo=lo, hi=hi)
        return value
    return check


def _short(value) -> str:
    """At most 40 characters of a value, even of a JSON integer with thousands of digits."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 40:
        return f"{'-' if value < 0 else ''}10^{len(str(abs(value)).lstrip('0')) - 1}+"
    return str(value)[:40]
