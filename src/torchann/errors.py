"""The one error type that carries a user's mistake from the library up to the CLI.

Messages are worded in the library's own parameter names, written in backticks:
``"`lr=10`: training diverged; lower `lr`"``. A notebook user reads them as they are; the CLI
turns each backticked name into its flag (:func:`as_flags`: ``--lr 10``, ``--lr``).
"""

import re

#: A parameter in a message: `name` or `name=value`.
PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)(?:=([^`]*))?`")


class TorchannError(Exception):
    """A mistake the user can fix: a bad file, a wrong shape, an unusable option value.

    The message says what is wrong and what to do, naming parameters in backticks
    (see the module's description). The CLI prints it as one line,
    ``torchann: error: <message>``, with the parameters as flags, and exits with status 2.
    Anything else that is raised is a bug and keeps its traceback.
    """


def as_flags(message: str, flags: dict | None = None) -> str:
    """Write a library message's backticked parameters as command-line flags.

    Parameters
    ----------
    message : str
        A message naming parameters as `name` or `name=value`.
    flags : dict, optional
        Flags whose name is not the parameter's (``{"hidden_size": "--hidden"}``); by default
        ``name`` becomes ``--name`` with ``_`` written ``-``.

    Returns
    -------
    str

    Examples
    --------
    >>> as_flags("`lr=10`: training diverged; lower `lr`")
    '--lr 10: training diverged; lower --lr'
    """
    flags = flags or {}

    def flag(match):
        name = flags.get(match[1], "--" + match[1].replace("_", "-"))
        return name if match[2] is None else f"{name} {match[2]}"

    return PARAMETER.sub(flag, message)
