"""Benchmark of reading a user's table and of the memory 'torchann train' needs for it.

(a) Reading: a 1,000,000 x 20 numeric table with a 0/1 label (make_classification-like,
    written once to a temporary folder as CSV and as Parquet). Compared, in this process, the
    best of --repeat runs each: torchann.io.tables.read_table (pyarrow with torchann's checks
    and errors), pyarrow.csv.read_csv / pyarrow.parquet.read_table, and pandas.read_csv /
    pandas.read_parquet. Target: torchann <= 1.5x pyarrow's own time on the CSV.

(b) Memory: peak RSS (ru_maxrss of the child) of 'torchann train --data FILE --label y
    --preset large' in its own process: on the 1M-row CSV read into memory, and on a
    --big-rows (default 10,000,000; about 1.8 GB of CSV) file generated in the temporary
    folder, which is over 256 MiB and so streamed. The big file is deleted afterwards. Run it
    with nice; it takes minutes. Targets: <= 1 GB at 1M rows, <= 1.5 GB at 10M rows.

Usage: python benchmarks/tabular.py [--rows 1000000] [--repeat 3] [--big-rows 10000000]
                                    [--part read|memory|all] [--skip-big] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

FEATURES = 20


def make_part(rows, seed):
    """``rows`` rows of 20 features (10 informative) and a 0/1 label, as a pyarrow table."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float64)
    w = np.random.default_rng(12345).normal(size=10)
    score = x[:, :10] @ w + 0.5 * rng.normal(size=rows)
    x = np.round(x * 1000) / 1000  # 3 decimals, like a real export
    columns = {f"x{i}": x[:, i] for i in range(FEATURES)}
    columns["y"] = (score > 0).astype(np.int64)
    return pa.table(columns)


def write_csv(path, rows, chunk=1_000_000):
    """Write ``rows`` rows to ``path`` in chunks (bounded memory)."""
    with pacsv.CSVWriter(path, make_part(1, 0).schema) as writer:
        for start in range(0, rows, chunk):
            writer.write_table(make_part(min(chunk, rows - start), seed=start))
    return path


def best_of(repeat, fn, path):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(path)
        times.append(time.perf_counter() - start)
    return min(times)


def part_read(folder, rows, repeat):
    import pandas as pd

    from torchann.io.tables import read_table

    csv_path = write_csv(folder / "table.csv", rows)
    parquet_path = folder / "table.parquet"
    pq.write_table(pacsv.read_csv(csv_path), parquet_path)
    size = csv_path.stat().st_size / 1e6
    print(f"\n(a) reading {rows:,} x {FEATURES} + label: CSV {size:.0f} MB, Parquet "
          f"{parquet_path.stat().st_size / 1e6:.0f} MB (best of {repeat})")
    rows_out = []
    for kind, path, ours, arrow, pandas in [
        ("CSV", csv_path, read_table, pacsv.read_csv, pd.read_csv),
        ("Parquet", parquet_path, read_table, pq.read_table, pd.read_parquet),
    ]:
        t_ours = best_of(repeat, ours, path)
        t_arrow = best_of(repeat, arrow, path)
        t_pandas = best_of(repeat, pandas, path)
        rows_out.append((kind, t_ours, t_arrow, t_pandas))
    print(f"{'file':8} {'torchann s':>11} {'pyarrow s':>10} {'pandas s':>9} "
          f"{'torchann/pyarrow':>17} {'torchann/pandas':>16}")
    for kind, t_ours, t_arrow, t_pandas in rows_out:
        print(f"{kind:8} {t_ours:11.3f} {t_arrow:10.3f} {t_pandas:9.3f} "
              f"{t_ours / t_arrow:16.2f}x {t_ours / t_pandas:15.2f}x")
    ratio = rows_out[0][1] / rows_out[0][2]
    print(f"target: reading the CSV <= 1.5x pyarrow's time: {'met' if ratio <= 1.5 else 'MISSED'}"
          f" ({ratio:.2f}x)")
    return csv_path


def peak_rss(argv, nice=0):
    """Run ``torchann`` with ``argv`` in a child; return (exit status, peak RSS in GB
    (10^9 bytes), wall seconds)."""
    code = ("import resource, subprocess, sys; "
            "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
            "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    cmd = [sys.executable, "-c", code, *(["nice", "-n", str(nice)] if nice else []),
           sys.executable, "-m", "torchann", *argv]
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1]) * 1024 / 1e9, time.perf_counter() - start  # KiB -> GB


def part_memory(folder, csv_path, rows, big_rows, skip_big, threads=None):
    extra = ["--threads", str(threads)] if threads else []
    print("\n(b) peak RSS of 'torchann train --data FILE --label y --preset large"
          + (f" --threads {threads}'" if threads else "'"))
    results = []
    if csv_path is None or not csv_path.exists():
        csv_path = write_csv(folder / "table.csv", rows)
    status, gb, seconds = peak_rss(["train", "--data", str(csv_path), "--label", "y",
                                    "--preset", "large", "--log-every", "0",
                                    "--out", str(folder / "out1"), *extra])
    results.append((f"{rows:,} rows, in memory", csv_path.stat().st_size, status, gb, seconds,
                    1.0))
    if not skip_big:
        big = write_csv(folder / "big.csv", big_rows)
        size = big.stat().st_size
        csv_path.unlink()
        try:
            status, gb, seconds = peak_rss(["train", "--data", str(big), "--label", "y",
                                            "--preset", "large", "--log-every", "0",
                                            "--out", str(folder / "out2"), *extra],
                                           nice=5)
        finally:
            big.unlink()
        results.append((f"{big_rows:,} rows, streamed", size, status, gb, seconds, 1.5))
    print(f"{'run':28} {'CSV MB':>8} {'exit':>5} {'peak RSS GB':>12} {'wall s':>8} "
          f"{'target GB':>10}")
    for name, size, status, gb, seconds, target in results:
        verdict = "met" if status == 0 and gb <= target else "MISSED"
        print(f"{name:28} {size / 1e6:8.0f} {status:5d} {gb:12.2f} {seconds:8.1f} "
              f"{'<= ' + str(target):>10} {verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--part", choices=("read", "memory", "all"), default="all")
    parser.add_argument("--threads", type=int,
                        help="--threads for 'torchann train' (default: its own choice); on a "
                             "shared machine 1 avoids threads waiting on each other, and peak "
                             "RSS does not depend on it")
    parser.add_argument("--skip-big", action="store_true",
                        help="leave out the --big-rows run (minutes, ~2 GB of disk)")
    args = parser.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"pyarrow {pa.__version__}")
    with tempfile.TemporaryDirectory(prefix="torchann-tabular-") as tmp:
        folder = Path(tmp)
        csv_path = part_read(folder, args.rows, args.repeat) if args.part != "memory" else None
        if args.part != "read":
            part_memory(folder, csv_path, args.rows, args.big_rows, args.skip_big,
                        args.threads)


if __name__ == "__main__":
    main()
