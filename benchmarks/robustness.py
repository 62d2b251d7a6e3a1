"""Run the whole catalogue of hostile and broken inputs through the real command line.

Every case of ``tests/hostile_inputs.py`` runs as its own ``python -m torchann`` process, and
the long runs are interrupted with SIGINT. One line per input class says what was tried and
what came back; the final line counts inputs tried, clear errors, tracebacks (target 0),
foreign code run (target 0) and partial files left (target 0).

Usage: ``python benchmarks/robustness.py [--jobs N] [--in-process] [--only TEXT]``.
Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
# the judge reads the English 'torchann: error:' line, whatever the locale
os.environ["TORCHANN_LANG"] = "en"

import hostile_inputs as h  # noqa: E402

WIDTH = 30


def run_catalogue(cases, root: Path, jobs: int, in_process: bool):
    """Build every case here (some build in-process), then run them as processes."""
    folders = [root / f"{i:03d}" for i in range(len(cases))]
    prepared = [h.prepare_case(case, folder) for case, folder in zip(cases, folders)]
    if in_process:
        results = [h.run_in_process(argv) for argv, _ in prepared]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda i: h.run_subprocess(prepared[i][0], cwd=folders[i]),
                                    range(len(cases))))
    return [h.judge_case(case, folder, argv, before, result)
            for case, folder, (argv, before), result in zip(cases, folders, prepared, results)]


def class_line(klass, outcomes) -> str:
    n = len(outcomes)
    clear = sum(o.clear for o in outcomes)
    tb = sum(o.traceback for o in outcomes)
    foreign = sum(o.foreign for o in outcomes)
    partial = sum(bool(o.partial) for o in outcomes)
    written = sum(bool(o.written) for o in outcomes)
    changed = sum(bool(o.changed) for o in outcomes)
    statuses = "/".join(f"{s}" for s in sorted({str(o.status) for o in outcomes}))
    tried = ", ".join(o.case.name for o in outcomes)
    if len(tried) > 60:
        tried = tried[:57] + "..."
    return (f"{klass:<{WIDTH}} {n:3d} tried ({tried}) -> exit {statuses}; "
            f"{clear} clear errors, {tb} tracebacks, {foreign} foreign code, "
            f"{partial} partial, {written} wrote outputs, {changed} changed inputs")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="processes at once (default: 2)")
    parser.add_argument("--in-process", action="store_true",
                        help="call torchann.cli.main in this process (fast, no real exit)")
    parser.add_argument("--only", default="", help="run only cases whose id contains this")
    parser.add_argument("--no-interrupts", action="store_true", help="skip the SIGINT runs")
    args = parser.parse_args()

    cases = [c for c in h.catalogue() if args.only.lower() in c.id.lower()]
    with tempfile.TemporaryDirectory(prefix="torchann-robustness-") as tmp:
        root = Path(tmp)
        outcomes = run_catalogue(cases, root, max(1, args.jobs), args.in_process)
        by_class = defaultdict(list)
        for o in outcomes:
            by_class[o.case.klass].append(o)
        interrupts = []
        if not args.no_interrupts and not args.in_process:
            for name, (argv, prefix, pattern) in h.INTERRUPTS.items():
                if args.only.lower() in f"ctrl-c {name}".lower():
                    result = h.interrupt_run(argv, prefix, root / f"sigint-{h.slug(name)}")
                    interrupts.append((name, result, result.problems(pattern)))

    for o in outcomes:
        if not o.ok:
            print("NOT AS PROMISED: " + o.explain().replace("\n", "\n  "), file=sys.stderr)
    for name, _result, problems in interrupts:
        if problems:
            print(f"NOT AS PROMISED: Ctrl-C during {name}: {problems}", file=sys.stderr)

    for klass, group in by_class.items():
        print(class_line(klass, group))
    if interrupts:
        clean = sum(not p for _, _, p in interrupts)
        said = "; ".join(f"{name}: exit {r.status}, "
                         f"'{r.lines[0] if r.lines else ''}'" for name, r, _ in interrupts)
        print(f"{'Ctrl-C (SIGINT)':<{WIDTH}} {len(interrupts):3d} tried -> {clean} clean stops; "
              f"{said}")

    tried = len(outcomes) + len(interrupts)
    clear = sum(o.clear for o in outcomes) + sum(not p for _, _, p in interrupts)
    tracebacks = (sum(o.traceback for o in outcomes)
                  + sum("Traceback" in r.stderr for _, r, _ in interrupts))
    foreign = sum(o.foreign for o in outcomes)
    partial = (sum(len(o.partial) for o in outcomes)
               + sum(len(r.stray) for _, r, _ in interrupts))
    print(f"inputs tried {tried}, clear errors {clear}, tracebacks {tracebacks} (target 0), "
          f"foreign code run {foreign} (target 0), partial files left {partial} (target 0)")
    met = tracebacks == 0 and foreign == 0 and partial == 0 and clear == tried
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
