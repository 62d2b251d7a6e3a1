"""``torchann restore``'s one writer, for every kind of run.

A run (``commands/restore.py`` or ``commands/_deblur.py``) hands an :class:`Outcome` to
:func:`write_outcome`, which adds PSNR and SSIM, builds the line, the summary and the report,
and only then touches the disk.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from torchann.errors import as_flags
from torchann.i18n import message

OUTPUTS = ("restored.npy", "restored.png", "comparison.png", "loss.png", "summary.json",
           "report.html")


def grey_png(image, lo, hi) -> bytes:
    """A grayscale 8-bit PNG of ``image`` with grey levels ``lo``..``hi``."""
    import io

    import numpy as np
    from PIL import Image

    scaled = np.clip((np.asarray(image, dtype=np.float64) - lo) / (hi - lo), 0.0, 1.0)
    buf = io.BytesIO()
    Image.fromarray(np.round(scaled * 255).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def headline(result, prior=None):
    """The printed line and the figure's title of a result, before PSNR is known.

    ``prior`` names the prior of a regularized solve (None for the others). The line is a
    list of parts, catalogue messages among them (:func:`torchann.i18n.localize` says it).
    """
    from torchann.i18n import message

    line = [message("restore.line", method=result.method, steps=result.steps,
                    seconds=result.seconds, distance=result.final_distance,
                    residual=result.relative_residual)]
    if prior is None:
        return line, message("restore.title", method=result.method, steps=result.steps)
    chosen = result.extra["weight"]
    line.append(message("restore.prior", prior=prior, weight=chosen))
    if "noise_sigma" in result.extra:
        line.append(message("restore.auto", sigma=result.extra["noise_sigma"]))
    return line, message("restore.title_prior", method=result.method, prior=prior,
                         weight=chosen, steps=result.steps)


def base_summary(request, name, shape, result, threads) -> dict:
    """The summary's first keys, common to every run; a blur's name the prior used."""
    summary = {
        "input": name, "shape": list(shape), "corruption": request.corruption_label,
        "method": result.method, "steps": result.steps, "stopped": result.stopped,
        "seconds": round(result.seconds, 4), "final_distance": result.final_distance,
        "relative_residual": result.relative_residual, **result.extra, "threads": threads,
    }
    if request.blur:
        summary.update(prior=request.prior, prior_requested=request.prior_requested)
    return summary


def shown_numbers(summary, lang, warning) -> list:
    """The report's table of ``summary``: the warning as said in ``lang``, and each value that
    is the English of a ``restore.value.*`` message (``"random start"``) said in ``lang``;
    ``summary.json`` keeps the English."""
    from torchann.i18n import keys, template, tr

    said = {template(key, "en"): tr(key, lang) for key in keys("restore.value.")}
    return [(name, warning if name == "warning" and value else
             said.get(value, value) if isinstance(value, str) else value)
            for name, value in summary.items()]


@dataclass
class Outcome:
    """What a run hands to :func:`write_outcome`.

    ``shown`` holds the comparison's three panels (broken, restored, reference or None),
    ``restored_png`` the restored image's PNG and ``array`` what ``restored.npy`` holds.
    """

    name: str
    result: object
    summary: dict
    line: list
    title: str  # a catalogue message
    broken: object
    restored: object
    reference: object
    shown: tuple
    restored_png: bytes
    array: object
    inputs: list


def write_outcome(request, outcome, lang="en") -> int:
    """Add PSNR and SSIM, build the report, then write every output at once and print the line
    (in ``lang``)."""
    from torchann import io
    from torchann import restore as lib
    from torchann.i18n import figure_language, localize, tr, translate_figure
    from torchann.report import Image, Section, render_report

    o = outcome
    fig_lang, font_note = figure_language(lang)
    line, title, summary = list(o.line), [o.title], o.summary
    if o.reference is not None:
        scores = lib.quality(o.reference, o.restored)
        summary.update(psnr=scores["psnr"], ssim=scores["ssim"])
        line.append(message("restore.scores", psnr=scores["psnr"], ssim=scores["ssim"]))
        title.append(f": PSNR {scores['psnr']:.1f} dB")
        if request.blur:  # a blurred image is itself an estimate: say what was gained
            before = lib.quality(o.reference, o.broken, ssim=False)["psnr"]
            summary["psnr_input"] = before
            line.append(message("restore.input", before=before))
    loss = translate_figure(lib.plot_loss(o.result.history, o.result.method), fig_lang)
    files = {
        "restored.png": o.restored_png,
        "comparison.png": io.figure_png(translate_figure(
            lib.plot_comparison(*o.shown, localize(title, fig_lang)), fig_lang)),
        "loss.png": io.figure_png(loss),
    }
    warning = as_flags(localize(o.result.warning or "", lang))
    files["report.html"] = render_report("torchann restore", [Section(
        o.name, numbers=shown_numbers(summary, lang, warning), warning=warning,
        images=[Image(localize(title, lang), files["comparison.png"]),
                Image(tr("figures.loss_per_step", lang), files["loss.png"])],
    )], subtitle=localize(line, lang), lang=lang,
        note=localize(font_note or "", lang)).encode("utf-8")
    out = request.out
    io.prepare_out_dir(out, o.inputs)
    io.save_npy(out / "restored.npy", o.array)
    for file_name, data in files.items():
        io.save_bytes(out / file_name, data)
    io.save_json(out / "summary.json", summary)
    print(tr("restore.wrote", lang, line=localize(line, lang), out=out))
    if o.result.warning:
        print(tr("cli.warning", lang, message=warning), file=sys.stderr)
    return 0
