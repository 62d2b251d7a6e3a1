"""What the playground tells a page, as a code with values, so that the page words it.

The server sends ``{"type": "error", "code": "diverged", "values": {"lr": "10", ...},
"message": "..."}``. Each code is the key ``playground.<code>`` of the message catalogue
(:mod:`torchann.i18n`, English and Korean). The page reads the catalogue's ``playground.*``
templates from ``/messages/<lang>.json`` and fills in the values itself; ``message`` is the
English sentence, for logs, tests and a page that could not read the catalogue. The codes are
stable names.

A library error without a code (:class:`~torchann.errors.TorchannError` raised outside the
playground) is sent as code ``library`` with its English text as the value ``message``.
"""

from __future__ import annotations

from torchann.errors import TorchannError

#: The catalogue keys of the page's messages: ``PREFIX + code``.
PREFIX = "playground."


class PageError(TorchannError):
    """A playground error with a code and values the page can word in its own language.

    Parameters
    ----------
    code : str
        The message's code: ``playground.<code>`` is a key of the catalogue.
    **values
        Whole numbers and short strings to fill in. A float is sent as its ``:g`` text
        (``"0.03"``), so that the page and Python print it alike.

    Raises
    ------
    KeyError
        When the catalogue has no message for ``code`` (a programming mistake).
    """

    def __init__(self, code: str, **values):
        values = {name: f"{value:g}" if isinstance(value, float) else value
                  for name, value in values.items()}
        self.code, self.values = code, values
        super().__init__(key=PREFIX + code, **values)


def as_message(err: BaseException, version: int | None = None) -> dict:
    """The page's error message for ``err``; ``version`` names the settings it refuses."""
    if isinstance(err, PageError):
        msg = {"type": "error", "code": err.code, "values": err.values, "message": str(err)}
    else:
        msg = {"type": "error", "code": "library", "values": {"message": str(err)},
               "message": str(err)}
    version = getattr(err, "version", version)
    if version is not None:
        msg["version"] = version
    return msg
