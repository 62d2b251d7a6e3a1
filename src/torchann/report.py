"""One self-contained HTML page that shows a run's figures and numbers.

The page has no external resources: the CSS is inline and every image is embedded as a
``data:image/png;base64`` URI, so ``report.html`` can be mailed, archived or opened offline.
The functions here only build text; the commands write it with :func:`torchann.io.save_text`.

Examples
--------
>>> from torchann.report import Image, Section, render_report
>>> page = render_report("Restore", [
...     Section("Result", numbers=[("PSNR", "44.1 dB")], text="Gradient descent, 20,000 steps."),
... ])
>>> page.startswith("<!DOCTYPE html>")
True
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from datetime import datetime, timezone

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans KR", sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1.5rem 2rem 3rem; color: #1d1d1f;
       background: #fff; line-height: 1.45; }
h1 { font-size: 1.7rem; margin: 0 0 0.2rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 0.6rem; padding-bottom: 0.25rem;
     border-bottom: 1px solid #ddd; }
p.subtitle { color: #555; margin: 0 0 1rem; }
p.text { margin: 0.4rem 0 0.8rem; max-width: 52rem; }
table.numbers { border-collapse: collapse; margin: 0.6rem 0 1rem; }
table.numbers th, table.numbers td { border: 1px solid #ddd; padding: 0.3rem 0.8rem; }
table.numbers th { background: #f5f5f7; text-align: left; font-weight: 600; }
table.numbers td { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace;
                   text-align: right; }
div.figures { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; border: 1px solid #eee; padding: 0.5rem; background: #fafafa; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.35rem; }
pre { background: #f5f5f7; padding: 0.8rem; overflow-x: auto; font-size: 0.85rem; }
div.warning { border: 1px solid #d9a400; background: #fff8e1; padding: 0.6rem 0.9rem;
              margin: 0.6rem 0 1rem; max-width: 52rem; }
footer { margin-top: 2.5rem; font-size: 0.8rem; color: #777; }
"""


@dataclass
class Image:
    """One embedded picture.

    Attributes
    ----------
    caption : str
        Shown under the picture and used as its ``alt`` text.
    png : bytes
        The PNG file's bytes (e.g. from :func:`torchann.io.figure_png`).
    """

    caption: str
    png: bytes


@dataclass
class Section:
    """One part of the page: a heading, a short text, a table of key numbers, pictures.

    Attributes
    ----------
    heading : str
        The section's title.
    text : str
        A sentence or two; blank lines start new paragraphs.
    numbers : list of (str, object)
        Name and value pairs, shown as a two-column table in this order. Floats are
        written with :func:`format_value`; anything else with ``str``.
    images : list of Image
        Shown side by side, wrapping on narrow windows.
    code : str
        Preformatted text (a log, a printed tour), shown after the pictures.
    warning : str
        Shown in a box under the heading when not empty (e.g. a result not to be trusted).
    """

    heading: str
    text: str = ""
    numbers: list = field(default_factory=list)
    images: list = field(default_factory=list)
    code: str = ""
    warning: str = ""


def format_value(value) -> str:
    """Write a number for the page: floats with 4 significant digits, others as they are.

    Examples
    --------
    >>> format_value(0.693147), format_value(44.1234), format_value(2000), format_value("1 s")
    ('0.6931', '44.12', '2000', '1 s')
    """
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def png_data_uri(png: bytes) -> str:
    """Return ``png`` as a ``data:image/png;base64,...`` URI.

    Raises
    ------
    ValueError
        When the bytes are not a PNG file (a programming mistake, not a user's).
    """
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("report images must be PNG bytes")
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _section_html(section: Section, lang: str = "en") -> str:
    from torchann.i18n import localize, tr

    def esc(text):  # a catalogue message is said in the page's language
        return html.escape(localize(text, lang))

    parts = [f"<section>\n<h2>{esc(section.heading)}</h2>"]
    if section.warning:
        parts.append(f'<div class="warning"><strong>{esc(tr("report.warning", lang))}</strong> '
                     f"{esc(section.warning)}</div>")
    for paragraph in (p.strip() for p in localize(section.text, lang).split("\n\n")):
        if paragraph:
            parts.append(f'<p class="text">{esc(paragraph)}</p>')
    if section.numbers:
        rows = "\n".join(f"<tr><th>{esc(name)}</th><td>{esc(format_value(value))}</td></tr>"
                         for name, value in section.numbers)
        parts.append(f'<table class="numbers">\n{rows}\n</table>')
    if section.images:
        figures = "\n".join(
            f'<figure><img src="{png_data_uri(img.png)}" alt="{esc(img.caption)}">'
            f"<figcaption>{esc(img.caption)}</figcaption></figure>"
            for img in section.images
        )
        parts.append(f'<div class="figures">\n{figures}\n</div>')
    if section.code:
        parts.append(f"<pre>{esc(section.code)}</pre>")
    parts.append("</section>")
    return "\n".join(parts)


def render_report(title: str, sections, subtitle: str = "", lang: str = "en",
                  note: str = "") -> str:
    """Build the HTML page.

    Parameters
    ----------
    title : str
        Page title and top heading.
    sections : iterable of Section
        Shown in order.
    subtitle : str, optional
        One line under the title (e.g. the command that made the page).
    lang : {"en", "ko"}
        The page's language: its ``<html lang>`` and the words the page adds (the footer,
        "Warning:"); the caller gives the title and sections in that language.
    note : str, optional
        A remark shown once under the subtitle (e.g. how to get Korean figures).

    Returns
    -------
    str
        A complete HTML5 document with inline CSS and embedded images; all text is escaped.
    """
    from torchann import __version__
    from torchann.i18n import tr

    esc = html.escape
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    head = f"<h1>{esc(title)}</h1>"
    if subtitle:
        head += f'\n<p class="subtitle">{esc(subtitle)}</p>'
    if note:
        head += f'\n<div class="warning">{esc(note)}</div>'
    body = "\n".join(_section_html(s, lang) for s in sections)
    footer = tr("report.footer", lang, version=__version__, stamp=stamp)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"{head}\n{body}\n"
        f"<footer>{esc(footer)}</footer>\n"
        "</body>\n</html>\n"
    )
