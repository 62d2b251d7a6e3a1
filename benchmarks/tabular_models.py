"""End to end on tables: 'torchann train' against pandas.read_csv + scikit-learn's MLP, one process.

(a) Scale. Three CSVs written to a temporary folder (values rounded to 5 decimals, as a CSV
    export would have them):
    - binary: --rows (default 1,000,000) x 20, make_classification (10 informative);
    - multiclass: --rows-other (default 200,000) x 20, make_classification with 5 classes;
    - regression: --rows-other x 20, make_friedman1 (5 informative, nonlinear, noise 1).
    torchann: ``torchann train --data F --label y`` with no other flag (the ``auto`` preset and
    its thread count; ``--preset`` and ``--threads`` choose others) in a subprocess, timed from
    start to exit (reading, encoding,
    splitting, training, evaluating and writing every output file); the test metric is read
    from its metrics.json.
    Baseline, in this process: pandas.read_csv, train_test_split (20%, stratified for
    classes), StandardScaler, then MLPClassifier/MLPRegressor with the same hidden size and
    epochs (hidden_layer_sizes=(64,), max_iter=8, batch_size=256, adam, no early stopping;
    scikit-learn's defaults otherwise), predict on the test split.
    Target (issue 12): at 1M x 20, torchann in <= 1/3 of the baseline's time at equal or
    better test accuracy.

(b) Accuracy on scikit-learn's bundled tables, written to CSVs: iris and digits
    (multiclass) and diabetes (regression), each through 'torchann train' with the
    configuration named in the table (through the CLI's entry point in this process), on the
    default split (--seed 0) and as a mean over 5 seeds; against MLPClassifier/MLPRegressor
    on the same splits: the same hidden size and epochs, and (diabetes) the best of a small
    grid.
    Targets: iris >= 0.93, digits >= 0.95, diabetes R² within 0.03 of the grid's best.

Usage: python benchmarks/tabular_models.py [--rows 1000000] [--rows-other 200000]
       [--part a|b] [--threads N] [--preset NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

HIDDEN, EPOCHS, SK_BATCH = 64, 8, 256


def write_csv(path, x, y):
    """Write features x0..x19 and label y with pyarrow (values rounded to 5 decimals)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = {f"x{i}": np.round(x[:, i], 5) for i in range(x.shape[1])}
    cols["y"] = y if y.dtype.kind in "iu" else np.round(y, 5)
    pacsv.write_csv(pa.table(cols), path)


def torchann_in_process(path, out, *extra):
    """'torchann train' through its CLI entry point in this process (no start-up cost);
    return its metrics dict."""
    import contextlib
    import io

    from torchann.cli import main as cli

    argv = ["train", "--data", str(path), "--label", "y", "--log-every", "0", "--out",
            str(out), *map(str, extra)]
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli(argv)
    if status != 0:
        raise SystemExit(f"torchann train {' '.join(argv)} failed with status {status}")
    return json.loads((Path(out) / "metrics.json").read_text())


def torchann_train(path, out, *extra):
    """Run 'torchann train' on path; return (wall seconds, metrics dict)."""
    cmd = [sys.executable, "-m", "torchann", "train", "--data", str(path), "--label", "y",
           "--log-every", "0", "--out", str(out), *map(str, extra)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"torchann train failed: {proc.stderr.strip()}")
    return seconds, json.loads((Path(out) / "metrics.json").read_text())


def sklearn_end_to_end(path, task, hidden=(HIDDEN,), epochs=EPOCHS, seed=0):
    """pandas.read_csv + split + StandardScaler + MLP; return (seconds, test score)."""
    import pandas as pd
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()
    frame = pd.read_csv(path)
    y = frame.pop("y").to_numpy()
    x = frame.to_numpy(dtype=np.float64)
    classify = task != "regression"
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=seed,
                                              stratify=y if classify else None)
    scaler = StandardScaler().fit(x_tr)
    cls = MLPClassifier if classify else MLPRegressor
    model = cls(hidden_layer_sizes=hidden, max_iter=epochs, batch_size=SK_BATCH,
                random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(scaler.transform(x_tr), y_tr)
    score = model.score(scaler.transform(x_te), y_te)
    return time.perf_counter() - start, float(score)


def _metric(metrics):
    return metrics["test_r2"] if metrics["task"] == "regression" else metrics["test_accuracy"]


def part_a(n_rows, n_other, threads, preset):
    from sklearn.datasets import make_classification, make_friedman1

    tables = [
        ("binary", n_rows, lambda n: make_classification(n, 20, n_informative=10,
                                                         random_state=0)),
        ("multiclass", n_other, lambda n: make_classification(
            n, 20, n_informative=10, n_classes=5, random_state=0)),
        ("regression", n_other, lambda n: make_friedman1(n, 20, noise=1.0, random_state=0)),
    ]
    flags = (["--preset", preset] if preset else []) + (["--threads", threads] if threads else [])
    shown = " ".join(map(str, flags)) or "(no flags: auto)"
    print(f"\n(a) end to end: 'torchann train {shown}' (subprocess, wall time) vs "
          "pandas.read_csv + scikit-learn MLP (hidden 64, 8 epochs)\n")
    print("| table | rows | CSV MB | torchann s | sklearn s | time ratio | torchann score | "
          "sklearn score |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for task, n, make in tables:
            if n <= 0:  # --rows-other 0: the 1M row only
                continue
            x, y = make(n)
            path = Path(tmp) / f"{task}.csv"
            write_csv(path, x, y)
            mb = os.path.getsize(path) / 1e6
            del x, y
            t_sec, metrics = torchann_train(path, Path(tmp) / f"out-{task}", "--task", task,
                                            *flags)
            s_sec, s_score = sklearn_end_to_end(path, task)
            what = "R²" if task == "regression" else "accuracy"
            print(f"| {task} ({what}) | {n:,} | {mb:.0f} | {t_sec:.1f} | {s_sec:.1f} | "
                  f"{t_sec / s_sec:.2f}x | {_metric(metrics):.4f} | {s_score:.4f} |",
                  flush=True)
            path.unlink()


def _bundled(tmp):
    import pandas as pd
    from sklearn.datasets import load_diabetes, load_digits, load_iris

    paths = {}
    for name, loader in (("iris", load_iris), ("digits", load_digits),
                         ("diabetes", load_diabetes)):
        data = loader()
        frame = pd.DataFrame(data.data, columns=[f"x{i}" for i in range(data.data.shape[1])])
        frame["y"] = data.target
        paths[name] = Path(tmp) / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    return paths


#: torchann's configuration for each bundled table, and the matching scikit-learn MLP.
BUNDLED = {
    "iris": (["--task", "multiclass"], {"hidden_layer_sizes": (5,), "max_iter": 2000,
                                        "solver": "sgd", "learning_rate_init": 0.03,
                                        "batch_size": 120}),
    "digits": (["--task", "multiclass", "--preset", "fast", "--hidden", "64", "--epochs",
                "100", "--lr", "0.01"],
               {"hidden_layer_sizes": (64,), "max_iter": 100, "learning_rate_init": 0.01,
                "batch_size": 1437}),
    "diabetes": (["--task", "regression", "--preset", "fast", "--epochs", "300", "--lr",
                  "0.01", "--early-stopping", "20"],
                 {"hidden_layer_sizes": (32,), "max_iter": 300, "learning_rate_init": 0.01,
                  "batch_size": 353, "early_stopping": True, "n_iter_no_change": 20}),
}
GRID = [{"hidden_layer_sizes": h, "alpha": a, "max_iter": 2000, "learning_rate_init": 0.01}
        for h in ((32,), (64,), (64, 32)) for a in (1e-4, 1e-2, 1.0)]


def _sklearn_split_score(path, params, seed):
    import pandas as pd
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.preprocessing import StandardScaler

    frame = pd.read_csv(path)
    y = frame.pop("y").to_numpy()
    regression = "diabetes" in path.name
    x_tr, x_te, y_tr, y_te = train_test_split(frame.to_numpy(), y, test_size=0.2,
                                              random_state=seed,
                                              stratify=None if regression else y)
    scaler = StandardScaler().fit(x_tr)
    cls = MLPRegressor if regression else MLPClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = cls(random_state=seed, **params).fit(scaler.transform(x_tr), y_tr)
    return float(model.score(scaler.transform(x_te), y_te))


def part_b():
    print("\n(b) scikit-learn's bundled tables through 'torchann train' (test split 20%)\n")
    print("| table | torchann options | torchann seed 0 | torchann mean of 5 | sklearn same "
          "size, seed 0 | sklearn mean of 5 |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        paths = _bundled(tmp)
        best = None
        for name, (options, sk_params) in BUNDLED.items():
            ours, theirs = [], []
            for seed in range(5):
                metrics = torchann_in_process(paths[name], Path(tmp) / f"o-{name}-{seed}",
                                              *options, "--seed", seed)
                ours.append(_metric(metrics))
                theirs.append(_sklearn_split_score(paths[name], sk_params, seed))
            print(f"| {name} | `{' '.join(options)}` | {ours[0]:.4f} | {np.mean(ours):.4f} | "
                  f"{theirs[0]:.4f} | {np.mean(theirs):.4f} |", flush=True)
            if name == "diabetes":
                grid = [(np.mean([_sklearn_split_score(paths[name], p, s) for s in range(5)]),
                         p) for p in GRID]
                best = max(grid, key=lambda g: g[0])
                diabetes_ours = np.mean(ours), ours[0]
        if best is not None:
            grid_seed0 = _sklearn_split_score(paths["diabetes"], best[1], 0)
            print(f"\ndiabetes: best MLPRegressor of the grid ({len(GRID)} settings, "
                  f"hidden x alpha) is {best[1]['hidden_layer_sizes']}, alpha "
                  f"{best[1]['alpha']}: mean R² {best[0]:.4f} (seed 0: {grid_seed0:.4f}); "
                  f"torchann mean {diabetes_ours[0]:.4f} (seed 0: {diabetes_ours[1]:.4f}), "
                  f"difference {diabetes_ours[0] - best[0]:+.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-other", type=int, default=200_000)
    parser.add_argument("--part", choices=("a", "b"))
    parser.add_argument("--threads", type=int,
                        help="torch threads of 'torchann train' in (a) (default: its own choice)")
    parser.add_argument("--preset", help="preset of 'torchann train' in (a) (default: auto)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")
    if args.part in (None, "b"):
        part_b()
    if args.part in (None, "a"):
        part_a(args.rows, args.rows_other, args.threads, args.preset)


if __name__ == "__main__":
    main()
