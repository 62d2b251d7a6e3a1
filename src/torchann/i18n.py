"""The message catalogue: every sentence the commands, reports and playground say, in English
and Korean.

Messages are keyed (``"train.summary.baseline"``) and live in gettext catalogues,
``locale/{en,ko}/LC_MESSAGES/torchann.po``, compiled to the ``.mo`` files read here by Python's
:mod:`gettext`. A template names its values in braces (``"{steps} steps"``), filled with
:meth:`str.format`. Compile after editing a ``.po`` file::

    pybabel compile -d src/torchann/locale -D torchann

(``tests/test_i18n.py`` fails when a ``.mo`` is stale or a key lacks a language.)

The library itself stays English for a notebook's reader: where it words a line or an error
the CLI shows, it makes a :class:`Message` with :func:`message`, a plain ``str`` in English
that remembers its key and values, so that :func:`localize` can say it again in Korean.

Examples
--------
>>> from torchann.i18n import message, localize, tr
>>> tr("cli.error", "ko", message="...")
'torchann: 오류: ...'
>>> m = message("demo.done", seconds=1.5)
>>> localize(m, "en") == m
True
"""

from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path

#: The gettext domain: the catalogue's file name.
DOMAIN = "torchann"
#: Where the compiled catalogues are (shipped as package data).
LOCALEDIR = Path(__file__).resolve().parent / "locale"
#: The languages every message has.
LANGUAGES = ("en", "ko")
#: The environment variable that picks the language before the locale does.
ENV = "TORCHANN_LANG"


def language(lang: str | None = None) -> str:
    """The language to speak: ``lang`` when given, then ``TORCHANN_LANG``, then the locale.

    Parameters
    ----------
    lang : {"en", "ko"}, optional
        An explicit choice (a ``--lang`` option); wins over everything else.

    Returns
    -------
    str
        ``"ko"`` when ``lang`` is ``"ko"``, or else ``TORCHANN_LANG`` says ``ko``, or else the
        locale (``LC_ALL``, ``LC_MESSAGES``, then ``LANG``, the first one set) starts with
        ``ko`` (``ko_KR.UTF-8``); ``"en"`` otherwise.

    Raises
    ------
    ValueError
        When ``lang`` is given and is not one of :data:`LANGUAGES`.
    """
    if lang is not None:
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, not {lang!r}")
        return lang
    chosen = os.environ.get(ENV, "").strip().lower()
    if chosen:
        return "ko" if chosen.startswith("ko") else "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


@functools.cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue of ``lang`` (read once; a missing ``.mo`` raises OSError)."""
    return gettext.translation(DOMAIN, LOCALEDIR, languages=[lang])


def has(key: str) -> bool:
    """Whether the catalogue has ``key`` (in English, which every key has)."""
    return catalogue("en").gettext(key) != key


def template(key: str, lang: str | None = None) -> str:
    """The raw template of ``key`` in ``lang``, its values still in braces.

    Raises
    ------
    KeyError
        When the catalogue has no such key (a programming mistake).
    """
    lang = language(lang)
    for source in (lang, "en"):
        text = catalogue(source).gettext(key)
        if text != key:
            return text
    raise KeyError(f"no message {key!r} in the catalogue")


def keys(prefix: str = "") -> list:
    """Every key of the catalogue that starts with ``prefix``, sorted."""
    english = catalogue("en")._catalog  # gettext keeps no public list of a catalogue's keys
    return sorted(k for k in english if isinstance(k, str) and k and k.startswith(prefix))


def entries(prefix: str, lang: str | None = None) -> dict:
    """``{key: template}`` of the keys starting with ``prefix``, in ``lang``, values still in
    braces (for a page that fills them itself, such as the playground's)."""
    return {key: template(key, lang) for key in keys(prefix)}


def tr(key: str, lang: str | None = None, **values) -> str:
    """Say message ``key`` in ``lang`` with ``values`` filled in.

    Parameters
    ----------
    key : str
        A message key, e.g. ``"train.summary.baseline"``.
    lang : {"en", "ko"}, optional
        Default: :func:`language`.
    **values
        The template's named values. A value that is itself a :class:`Message` is said in
        ``lang`` too; a list or tuple is said item by item and joined with ``", "``.

    Returns
    -------
    str
    """
    lang = language(lang)
    shown = {name: _said(value, lang) for name, value in values.items()}
    return template(key, lang).format(**shown)


def _said(value, lang):
    if isinstance(value, (list, tuple)):
        return ", ".join(localize(v, lang) for v in value)
    return localize(value, lang) if isinstance(value, Message) else value


class Message(str):
    """An English sentence that remembers its catalogue key and values.

    It is a ``str`` (the English text), so the library can return or raise it as any other
    sentence; :func:`localize` says it in another language.
    """

    key: str
    values: dict

    def __new__(cls, key: str, **values):
        text = super().__new__(cls, tr(key, "en", **values))
        text.key, text.values = key, values
        return text

    def __reduce__(self):
        return (_rebuild, (self.key, self.values))


def _rebuild(key, values):
    return Message(key, **values)


def message(key: str, **values) -> Message:
    """A :class:`Message`: the English text of ``key`` with its key and values kept."""
    return Message(key, **values)


def recognize(text: str, prefix: str):
    """Read an English sentence made elsewhere from one of the catalogue's templates back into
    a :class:`Message`, or ``None`` when no template under ``prefix`` fits.

    For sentences that another library words in English from its own fixed templates (the
    ``argparse.*`` messages are argparse's). A value that itself fits a template under
    ``prefix`` is read back too.
    """
    import re
    import string

    for key in keys(prefix):
        pattern, names = "", []
        for literal, name, _, _ in string.Formatter().parse(template(key, "en")):
            pattern += re.escape(literal)
            if name:
                pattern += f"(?P<{name}>.+?)"
                names.append(name)
        found = re.fullmatch(pattern, text, flags=re.S)
        if found:
            values = {n: recognize(found[n], prefix) or found[n] for n in names}
            return Message(key, **values)
    return None


def localize(text, lang: str | None = None) -> str:
    """Say ``text`` in ``lang`` when it is a :class:`Message`; anything else as it is."""
    if isinstance(text, Message):
        return tr(text.key, lang, **text.values)
    if isinstance(text, (list, tuple)):  # a line built of parts
        return "".join(localize(part, lang) for part in text)
    return text if isinstance(text, str) else str(text)


#: Names of fonts with Hangul, in order of preference (matched as a prefix).
KOREAN_FONTS = ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "Malgun Gothic",
                "Apple SD Gothic Neo", "Noto Sans CJK")


def korean_font() -> str | None:
    """The name of a font with Hangul that matplotlib's font manager finds, or ``None``.

    Fonts installed after matplotlib built its cache are found on the system's font path and
    added to the font manager.
    """
    from matplotlib import font_manager

    def first():
        names = sorted({f.name for f in font_manager.fontManager.ttflist})
        return next((n for want in KOREAN_FONTS for n in names if n.startswith(want)), None)

    if first() is None:
        for path in font_manager.findSystemFonts():
            if any(w in Path(path).name for w in ("CJK", "KR", "Nanum", "malgun")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
    return first()


def figure_language(lang: str | None = None):
    """The language the figures can be drawn in, and a note when it is not ``lang``.

    Korean labels need a font with Hangul: where :func:`korean_font` finds one, matplotlib is
    set to use it and the answer is ``("ko", None)``; where none is found, the figures stay
    English and the note (a :class:`Message`) says how to install one.

    Returns
    -------
    lang : {"en", "ko"}
    note : Message or None
    """
    if language(lang) == "en":
        return "en", None
    font = korean_font()
    if font is None:
        return "en", message("figures.font_note")
    import matplotlib

    if matplotlib.rcParams["font.sans-serif"][:1] != [font]:
        matplotlib.rcParams["font.sans-serif"] = [font, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["font.family"] = "sans-serif"
    return "ko", None


def translate_figure(fig, lang: str | None = None):
    """Say the titles, axis labels and legend entries of ``fig`` in ``lang``, in place.

    A text is replaced where it is, word for word, the English of a ``figures.*`` message;
    anything else (numbers, names of columns, formulas) stays. Call :func:`figure_language`
    first: it says whether Korean can be drawn at all.
    """
    lang = language(lang)
    if lang == "en":
        return fig
    said = {template(key, "en"): tr(key, lang) for key in keys("figures.")
            if "{" not in template(key, "en")}
    for ax in fig.axes:
        for loc in ("center", "left", "right"):
            if ax.get_title(loc) in said:
                ax.set_title(said[ax.get_title(loc)], loc=loc)
        texts = [ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
        for text in texts:
            if text.get_text() in said:
                text.set_text(said[text.get_text()])
    return fig
