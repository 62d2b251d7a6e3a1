"""How fast ``torchann --help`` answers, against bare Python and against importing torch.

Runs each command as a fresh process several times and prints the median wall time and
the ratio to the target of 0.3 s. Usage: ``python benchmarks/cli_startup.py [--runs N]``.
"""

import argparse
import statistics
import subprocess
import sys
import time

from torchann.commands import COMMANDS

TARGET = 0.3


def wall(cmd, runs):
    times = []
    for _ in range(runs + 1):  # the first run warms the file cache and is not counted
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
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


if __name__ == "__main__":
    main()
