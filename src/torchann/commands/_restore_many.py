"""``torchann restore a.jpg b.jpg ...`` or a folder: every photo into its own folder.

:func:`run_many` restores each photo as a run of its own (``commands/restore.py`` with that
one IMAGE and ``--out OUT/<name>``) in a pool of worker processes, so that both cores work
across images; the CPUs are split among the workers (each gets ``cpus // jobs`` torch
threads). A tqdm bar on stderr counts the photos; one table on stdout sums them up, and
``OUT/photos.json`` holds the same rows. A photo that fails is reported in the table and on
stderr, the others still finish, and the exit status is 1 (2 stays for a mistake in the
command line, found before any photo runs).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from torchann.errors import TorchannError, as_flags

#: What a folder's photos are: the files the picture loader decodes.
PHOTO_SUFFIXES = (".png", ".jpg", ".jpeg")
#: Exit status when one photo or more failed.
FAILED_STATUS = 1


def photo_paths(images) -> list[Path]:
    """The photos that ``images`` names: files as given, a folder's photos in name order."""
    paths = []
    for item in images:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir()
                           if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
            if not found:
                raise TorchannError(key="restore.many.no_photo", folder=path,
                                    suffixes=", ".join(PHOTO_SUFFIXES))
            paths += found
        else:
            paths.append(path)
    return paths


def is_many(images) -> bool:
    """Whether the IMAGE arguments ask for several photos (more than one, or a folder)."""
    return len(images) > 1 or any(Path(i).is_dir() for i in images)


def out_names(paths) -> list[str]:
    """One folder name per photo: its stem, with ``-2``, ``-3``... where stems repeat."""
    names, seen = [], {}
    for path in paths:
        stem = path.stem or "photo"
        seen[stem] = seen.get(stem, 0) + 1
        names.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return names


def _check(args, paths) -> None:
    if args.reference:
        raise TorchannError(key="restore.many.reference")
    if args.shape and any(p.suffix.lower() in PHOTO_SUFFIXES for p in paths):
        raise TorchannError(key="restore.many.shape")


def restore_one(options, path, out, threads) -> dict:
    """Restore one photo as ``torchann restore PATH --out OUT`` would (in a worker process).

    Returns the photo's row: ``status`` ``ok`` with figures from its ``summary.json``, or
    ``failed`` with the one-line ``error`` (a user's mistake in the library's words, as
    flags; any other exception by its type and message). A failed row also carries
    ``_said``, the error in the run's language, which the table prints and ``photos.json``
    leaves out.
    """
    import contextlib
    import io
    import json

    from torchann.commands import restore

    args = argparse.Namespace(**{**options, "image": [str(path)], "out": str(out),
                                 "quiet": True, "threads": threads})
    row = {"photo": str(path), "out": str(out)}
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            restore.run(args)
    except TorchannError as err:
        return row | {"status": "failed", "error": as_flags(" ".join(str(err).split())),
                      "_said": as_flags(" ".join(err.localized(options.get("lang")).split()))}
    except Exception as err:  # noqa: BLE001  (one bad photo must not stop the others)
        return row | {"status": "failed", "error": f"{type(err).__name__}: {err}"}
    summary = json.loads((Path(out) / "summary.json").read_text())
    keep = ("shape", "seconds", "prior", "weight", "noise_sigma", "psnr", "psnr_input",
            "converged", "warning")
    return row | {"status": "ok"} | {k: summary[k] for k in keep if k in summary}


def run_many(args, images) -> int:
    """Restore every photo of ``images`` into ``args.out/<name>/``; print the table."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    from torchann import io
    from torchann.i18n import language, tr

    lang = language(getattr(args, "lang", None))
    paths = photo_paths(images)
    _check(args, paths)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise TorchannError(key="file.out_is_file", out=out)
    options = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs = max(1, min(len(paths), cpus or 1))
    threads = max(1, (cpus or 1) // jobs)
    rows = [None] * len(paths)
    context = multiprocessing.get_context("spawn")  # no torch state shared with a fork
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool, tqdm(
            total=len(paths), desc=tr("restore.many.bar", lang),
            unit=tr("restore.many.unit", lang), file=sys.stderr,
            disable=args.quiet or None) as bar:
        futures = {pool.submit(restore_one, options, path, out / name, threads): i
                   for i, (path, name) in enumerate(zip(paths, out_names(paths)))}
        for future in as_completed(futures):
            i = futures[future]
            try:
                rows[i] = future.result()
            except Exception as err:  # noqa: BLE001  (the worker itself died)
                rows[i] = {"photo": str(paths[i]), "status": "failed",
                           "error": f"{type(err).__name__}: {err}"}
            bar.update(1)
    kept = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    io.save_json(out / "photos.json", {"jobs": jobs, "threads_per_job": threads,
                                       "photos": kept})
    print(format_table(rows, lang))
    failed = [r for r in rows if r["status"] != "ok"]
    for r in failed:
        said = f"{r['photo']}: {r.get('_said', r['error'])}"
        print(tr("cli.error", lang, message=said), file=sys.stderr)
    ok = len(rows) - len(failed)
    if failed:
        print(tr("restore.many.done_failed", lang, ok=ok, total=len(rows), out=out,
                 failed=len(failed)))
    else:
        print(tr("restore.many.done", lang, ok=ok, total=len(rows), out=out))
    return FAILED_STATUS if failed else 0


def format_table(rows, lang="en") -> str:
    """The summary table: one line per photo, its words in ``lang``.

    Columns are aligned by their width on a terminal, where a Hangul letter takes two cells.
    """
    from torchann.i18n import tr

    def cell(row, key, fmt):
        value = row.get(key)
        return "-" if value is None else format(value, fmt)

    header = tuple(tr(f"restore.many.{column}", lang) for column in (
        "photo", "status", "seconds", "weight", "noise", "psnr", "input", "warning"))
    lines = [header]
    for r in rows:
        error = r.get("_said", r.get("error"))
        warning = error or (tr("restore.many.yes", lang) if r.get("warning") else "")
        status = tr(f"restore.many.{r['status']}", lang)
        lines.append((Path(r["photo"]).name, status, cell(r, "seconds", ".2f"),
                      cell(r, "weight", ".3g"), cell(r, "noise_sigma", ".3g"),
                      cell(r, "psnr", ".2f"), cell(r, "psnr_input", ".2f"), warning))
    widths = [max(_width(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(("  ".join(v + " " * (w - _width(v)) for v, w in zip(line[:-1], widths))
                      + "  " + line[-1]).rstrip() for line in lines)


def _width(text) -> int:
    """How many terminal cells ``text`` takes (wide East Asian letters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
