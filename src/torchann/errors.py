"""The one error type that carries a user's mistake from the library up to the CLI.

Messages are worded in the library's own parameter names, written in backticks:
``"`lr=10`: training diverged; lower `lr`"``. A notebook user reads them as they are; the CLI
turns each backticked name into its flag (:func:`as_flags`: ``--lr 10``, ``--lr``).
"""

from __future__ import annotations

import re

from torchann.i18n import Message, localize

#: A parameter in a message: `name` or `name=value`.
PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)(?:=([^`]*))?`")


class TorchannError(Exception):
    """A mistake the user can fix: a bad file, a wrong shape, an unusable option value.

    The message says what is wrong and what to do, naming parameters in backticks
    (see the module's description). The CLI prints it as one line,
    ``torchann: error: <message>``, with the parameters as flags, and exits with status 2.
    Anything else that is raised is a bug and keeps its traceback.

    Parameters
    ----------
    message : str, optional
        The English message. A :class:`torchann.i18n.Message` keeps its catalogue key, so
        that the CLI can say it in the user's language (:meth:`localized`).
    key : str, optional
        Instead of ``message``: a key of the message catalogue (``"file.missing"``), with
        the template's values as keyword arguments.

    Examples
    --------
    >>> err = TorchannError(key="file.missing", path="x.png")
    >>> str(err)
    'x.png: no such file; check the path'
    >>> err.localized("ko")
    'x.png: 그런 파일이 없습니다. 경로를 확인하세요'
    """

    def __init__(self, *args, key=None, **values):
        if key is not None:
            args = (Message(key, **values), *args)
        super().__init__(*args)

    @property
    def key(self):
        """The catalogue key of the message, or ``None`` for a message said only in English."""
        return getattr(self.args[0], "key", None) if self.args else None

    def in_file(self, path) -> TorchannError:
        """The same mistake, said of the file ``path`` (``"<path>: <message>"``)."""
        return TorchannError(key="error.in_file", path=path,
                             error=self.args[0] if self.args else "")

    def localized(self, lang=None) -> str:
        """The message in ``lang`` (``"en"`` or ``"ko"``; default: the user's language).

        A message without a catalogue key is returned in English as it is.
        """
        return localize(self.args[0], lang) if self.args else ""


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
