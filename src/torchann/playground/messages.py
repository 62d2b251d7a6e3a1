"""What the playground tells a page, as a code with values, so that the page words it.

The server sends ``{"type": "error", "code": "diverged", "values": {"lr": 10, ...},
"message": "..."}``. The page looks the code up in its own table of sentences (English and
Korean, ``static/i18n.js``) and fills in the values; ``message`` is the English sentence, for
logs, tests and a page that does not know the code. The codes are stable names: the English
templates below and the page's tables are keyed by them.

A library error without a code (:class:`~torchann.errors.TorchannError` raised outside the
playground) is sent as code ``library`` with its English text as the value ``message``.
"""

from __future__ import annotations

from torchann.errors import TorchannError

#: English sentence of each code; ``{name}`` is replaced by the value ``name``.
ENGLISH = {
    "library": "{message}",
    "bug": "training stopped: {kind}: {message}; press reset to start over",
    "diverged": "training diverged at epoch {epoch}: the loss is no longer a number; the "
                "learning rate {lr} is too high for {opt} here; try {suggest}, then press "
                "reset",
    "diverged_reg": "training diverged at epoch {epoch}: with learning rate {lr}, the "
                    "regularization rate {rate} pushes every weight past zero and back at each "
                    "step; try a rate of {suggest} or less, then press reset",
    "saturated": "training is stuck at epoch {epoch}: the loss has stayed at {loss} (a blind "
                 "guess scores {baseline}) because the outputs are saturated; the learning "
                 "rate {lr} is too high for {opt} here; try {suggest}, then press reset",
    "csv_first": "choose a CSV file to upload first (x1,x2,label)",
    "nothing_to_export": "nothing to export yet",
    "settings_object": "settings must be a JSON object",
    "setting_unknown": "unknown setting(s): {names}",
    "setting_choice": "{name} {value}: use one of {allowed}",
    "setting_number": "{name} must be a number",
    "setting_range": "{name} {value} is out of range; use {lo} to {hi}",
    "setting_integer": "{name} {value}: use a whole number from {lo} to {hi}",
    "setting_layers": "layers must be a list of 0 to {most} widths",
    "setting_features": "features must be a non-empty list of {allowed}",
    "csv_size": "the CSV is {size} bytes; the playground takes at most {most}",
    "csv_encoding": "the CSV is not UTF-8 text",
    "csv_syntax": "the CSV cannot be read: {detail} (a stray quote?)",
    "csv_many_rows": "the CSV has {rows} rows; the playground takes at most {most}",
    "csv_few_rows": "the CSV needs at least 4 rows of x1,x2,label",
    "csv_fields": "CSV row {row} has {fields} fields; expected 3: x1,x2,label",
    "csv_numbers": "CSV row {row}: {a}, {b} are not numbers",
    "csv_finite": "CSV row {row}: features must be finite numbers",
    "csv_labels": "the label column holds {count} distinct value(s); the playground needs "
                  "2 to {most}",
    "upload_text": "the upload must be base64 text",
    "upload_size": "the file is larger than {most} bytes, the most the playground accepts",
    "upload_base64": "the upload is not valid base64",
    "message_binary": "binary messages are not understood; send JSON text",
    "message_size": "the message is {size} characters; the most is {most}",
    "message_json": "the message is not valid JSON",
    "message_integer": "the message holds a whole number too long to read ({detail})",
    "message_object": "a message must be a JSON object with a \"type\"",
    "message_type": "unknown message type {type}",
    "version_integer": "version must be a whole number",
    "pages_full": "{most} playground pages are open already; close one and reload this page",
    "race_lr": "learning rate {value}: use a number above 0, at most 100",
    "race_file": "{name}: choose a .p, .npy, PNG or JPEG file",
    "race_signal_size": "{name}: {height}x{width} values; the race takes at most {most}",
    "race_signal_nan": "{name}: the signal holds NaN or infinite values",
    "race_pixels": "{name}: {pixels} pixels; the race decodes pictures of at most {most}",
    "race_unreadable": "{name}: {detail}",
}


class PageError(TorchannError):
    """A playground error with a code and values the page can word in its own language.

    Parameters
    ----------
    code : str
        A key of :data:`ENGLISH`.
    **values
        Numbers and short strings to fill in.
    """

    def __init__(self, code: str, **values):
        self.code, self.values = code, values
        super().__init__(ENGLISH[code].format(**values))


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
