"""Section 3.2 solvers side by side: the seed's gradient descent against cg, lbfgs and adam.

Run from the repository root::

    python benchmarks/restore.py

Input: the seed's broken image (``../shared/data/broken_image_t.p``) when it is there, else
the built-in demo. The exact solution is computed once by a direct sparse solve of
weird_function's matrix; every row's PSNR is measured against it (data range taken from it).
All rows run in this one process with one torch thread (the CLI's default), except the rows
marked 2 threads, which measure that choice. One-time library imports (torch.optim pulls in
torch._dynamo; autograd with explicit output gradients pulls in sympy) are done before the
first timed row; each row's seconds include its own warm-up.

Targets, as ratios within the run: cg >= 80 dB in <= 1/30 of gd's time; lbfgs >= 60 dB in
<= 1/10 of it.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import torch

from torchann import restore as lib
from torchann.io import load_array

SEED_IMAGE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "broken_image_t.p"
ROWS = [("gd", 1), ("cg", 1), ("lbfgs", 1), ("adam", 1), ("gd", 2), ("cg", 2)]
TARGETS = {"cg": (80.0, 30.0), "lbfgs": (60.0, 10.0)}  # (dB at least, speed-up at least)


def load_input():
    if SEED_IMAGE.is_file():
        return "seed broken_image_t.p", load_array(SEED_IMAGE)
    original = lib.demo_image()
    broken = lib.weird_function(torch.from_numpy(original.reshape(-1)).float())
    return "demo camera 100x100 (shared data absent)", broken.double().numpy()


def warm_imports():
    import torch._dynamo  # noqa: F401  (imported by every torch.optim optimizer)
    import torch.fx.experimental.symbolic_shapes  # noqa: F401  (autograd.grad with outputs)


def main() -> int:
    name, broken = load_input()
    warm_imports()
    torch.set_num_threads(1)
    start = time.perf_counter()
    exact = lib.exact_solution(broken).numpy()
    exact_seconds = time.perf_counter() - start

    rows = []
    for method, threads in ROWS:
        torch.set_num_threads(threads)
        result = lib.restore(broken, method=method)
        psnr = lib.quality(exact, result.x.double().numpy(), ssim=False)["psnr"]
        rows.append((method, threads, result, psnr))
    torch.set_num_threads(1)
    gd_seconds = rows[0][2].seconds

    print(f"Input: {name}; exact solution by sparse direct solve in {exact_seconds:.2f} s")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {os.cpu_count()}-core {platform.machine()} CPU (load average {load:.1f} at "
          f"the end), torch {torch.__version__}, python {platform.python_version()}")
    print()
    print("| method | threads | steps | seconds | final distance | PSNR vs exact (dB) "
          "| speed-up vs gd |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for method, threads, result, psnr in rows:
        print(f"| {method} | {threads} | {result.steps} | {result.seconds:.3f} | "
              f"{result.final_distance:.3e} | {psnr:.1f} | {gd_seconds / result.seconds:.1f}x |")
    print()
    failed = 0
    for method, (min_db, min_speedup) in TARGETS.items():
        _, _, result, psnr = next(r for r in rows if r[0] == method and r[1] == 1)
        speedup = gd_seconds / result.seconds
        ok = psnr >= min_db and speedup >= min_speedup
        failed += not ok
        print(f"target {method}: >= {min_db:.0f} dB in <= 1/{min_speedup:.0f} of gd's time: "
              f"{psnr:.1f} dB, {speedup:.1f}x -> {'met' if ok else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
