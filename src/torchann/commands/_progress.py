"""Progress reporting for long loops: the seed's log lines, a tqdm bar, and the step reached.

The library's loops take a ``callback(step, loss)``; the CLI passes a :class:`Progress`.
It prints one line in the seed's format every ``log_every`` steps on stdout (a step whose loss
was not measured, ``None``, prints none), draws a tqdm
bar on stderr when stderr is a terminal, and remembers the last step so that Ctrl-C can
say where it stopped.
"""

from __future__ import annotations

import sys

_last = {"what": None, "step": None}


def interrupted_message(written: int = 0):
    """Say where a run stopped after Ctrl-C (used by the CLI), as a catalogue message.

    ``written`` is how many output files the run had already put in place (whole ones: every
    write is atomic), which happens only when Ctrl-C comes after the computation.
    """
    from torchann.i18n import has, message

    if written:
        return message("cli.interrupted.writing", written=written)
    if _last["what"] is None:
        return message("cli.interrupted.start")
    what = _last["what"]
    if has(f"cli.what.{what}"):
        what = message(f"cli.what.{what}")
    return message("cli.interrupted.at", what=what, step=_last["step"])


class Progress:
    """A ``callback(step, loss)`` that logs like the seed and draws a progress bar.

    Parameters
    ----------
    total : int
        Number of steps expected (for the bar).
    log_every : int
        Print a log line every this many steps (0 or less: never).
    fmt : str
        Log line format with ``{step}`` and ``{loss}``, e.g. ``"Loss at {step} = {loss}"``.
    what : str
        What a step is called in the interrupt message ("step", "epoch").
    quiet : bool
        Print no log lines (the bar still shows on a terminal).
    delay : float
        Seconds before the bar appears, so that a short run draws none (default 0).
    """

    def __init__(self, total, log_every, fmt, what="step", quiet=False, desc=None, delay=0.0):
        self.log_every = log_every
        self.fmt = fmt
        self.quiet = quiet
        self.bar = None
        self._bar_at = 0
        _last.update(what=what, step=0)
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit=what, leave=False, file=sys.stderr,
                            delay=delay)

    def __call__(self, step: int, loss: float) -> None:
        _last["step"] = step
        if (not self.quiet and self.log_every > 0 and step % self.log_every == 0
                and loss is not None):  # None: not measured at this step
            line = self.fmt.format(step=step, loss=loss)
            if self.bar is not None:
                self.bar.write(line, file=sys.stdout)
            else:
                print(line, flush=True)
        if self.bar is not None:
            self.bar.update(step + 1 - self._bar_at)
            self._bar_at = step + 1

    def close(self) -> None:
        """Remove the bar; the run is over."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        _last.update(what=None, step=None)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest):
        # keep the step for the interrupt message, but always take the bar down
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if exc_type is None:
            _last.update(what=None, step=None)
        return False
