"""How fast ``torchann --help`` answers, against bare Python and against importing torch.

Runs each command as a fresh process several times and prints the median wall time and
the ratio to the target of 0.3 s. Then a whole small run, ``torchann restore
broken_image_t.p --method cg`` on the chapter's image (from ``../shared/data``; the row is
skipped with a note when the file is absent), against ``python -c "import torch"`` measured
in the same run (target: at most 1.5x). Usage:
``python benchmarks/cli_startup.py [--runs N]``.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from torchann.commands import COMMANDS

TARGET = 0.3
RESTORE_TARGET = 1.5  # whole-process restore --method cg, in multiples of importing torch
SEED_IMAGE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "broken_image_t.p"


def once(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def wall(cmd, runs):
    once(cmd)  # the first run warms the file cache and is not counted
    return statistics.median(once(cmd) for _ in range(runs))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--restore-only", action="store_true",
                        help="time only the restore run against import torch")
    parser.add_argument("--image", type=Path, default=SEED_IMAGE,
                        help="the chapter's broken_image_t.p (default: %(default)s)")
    options = parser.parse_args()
    runs = options.runs
    if options.restore_only:
        restore_row([sys.executable], runs, options.image)
        return
    py = [sys.executable]
    cases = [("python -c pass", py + ["-c", "pass"]),
             ("torchann --help", py + ["-m", "torchann", "--help"])]
    cases += [(f"torchann {c} --help", py + ["-m", "torchann", c, "--help"]) for c in COMMANDS]
    cases.append(("python -c 'import torch'", py + ["-c", "import torch"]))
    print(f"| command | median wall (s) | / target {TARGET} s |")
    print("|---|---:|---:|")
    for name, cmd in cases:
        t = wall(cmd, runs)
        print(f"| `{name}` | {t:.3f} | {t / TARGET:.2f} |")
    restore_row(py, runs, options.image)


def restore_row(py, runs, image):
    """The whole-process restore run against ``import torch``, timed alternately."""
    print()
    if not image.is_file():
        print(f"(restore row skipped: {image} is absent)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        restore = py + ["-m", "torchann", "restore", str(image), "--method", "cg",
                        "--quiet", "--out", tmp]
        torch_times, restore_times = [], []
        for i in range(runs + 1):  # alternate, so that a change in load hits both alike
            t_torch, t_restore = once(py + ["-c", "import torch"]), once(restore)
            if i:  # the first pair warms the file cache
                torch_times.append(t_torch)
                restore_times.append(t_restore)
    t_torch, t_restore = statistics.median(torch_times), statistics.median(restore_times)
    print("| command | median wall (s) | / import torch | target |")
    print("|---|---:|---:|---:|")
    print(f"| `python -c 'import torch'` | {t_torch:.3f} | 1.00 | |")
    print(f"| `torchann restore broken_image_t.p --method cg` | {t_restore:.3f} | "
          f"{t_restore / t_torch:.2f} | {RESTORE_TARGET} |")


if __name__ == "__main__":
    main()
