"""Benchmark of the 3.3 classifier against scikit-learn's MLPClassifier, in one process.

(a) The chapter's data over many seeds (default 100): for each seed, 80 training points drawn
    with random_state=seed and 20 test points with a derived state, as 'torchann train
    --seed' draws them. Compared: the chapter's configuration, the fast preset
    (--preset fast), and MLPClassifier with the chapter's hidden size (5) once per solver
    (sgd, adam, lbfgs; scikit-learn's defaults otherwise). Reported: mean and worst test
    accuracy, the fraction of runs below 100%, and the mean fit time.
    Target: the fast preset has mean accuracy >= 99.5%, no run below 90%, and a
    mean fit time no more than scikit-learn's fastest solver among those at least as accurate
    (it is checked against the fastest solver of all).

(b) Scale: 200,000 rows x 20 features (make_classification, n_informative 10, split 80/20,
    standardized with the training split's statistics), one hidden layer of 64, Adam.
    Baseline: MLPClassifier(hidden_layer_sizes=(64,), batch_size=256, max_iter=10).
    torchann: the same ``fit`` the CLI uses, with --preset large (minibatches of 2048 by
    slicing a permuted index, lr 0.02, 8 epochs) on --threads torch threads (default 1:
    scikit-learn's BLAS keeps its own default). Fit times are the median of --repeat runs.
    Target: torchann's test accuracy >= scikit-learn's, in <= 1/2 of its time.

Usage: python benchmarks/classify.py [--seeds 100] [--rows 200000] [--repeat 3] [--part a|b]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from torchann.classify import NeuralNet, chapter_data, evaluate, fit, suggested_threads
from torchann.classify.presets import PRESETS


def torch_run(config, x_train, y_train, x_test, y_test, seed, threads=None):
    """Train NeuralNet with a preset on one split; return (test accuracy, fit seconds).

    ``threads`` defaults to what 'torchann train' picks (1 for small data, else torch's).
    """
    threads = threads or suggested_threads(*x_train.shape, config["hidden"]) or DEFAULT_THREADS
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = NeuralNet(x_train.shape[1], config["hidden"])
    result = fit(model, x_train, y_train, epochs=config["epochs"], lr=config["lr"],
                 optimizer=config["optimizer"], batch_size=config["batch_size"],
                 generator=torch.Generator().manual_seed(seed))
    return evaluate(model, x_test, y_test).accuracy, result.seconds


def sklearn_run(params, x_train, y_train, x_test, y_test, seed):
    """Fit an MLPClassifier; return (test accuracy, fit seconds)."""
    model = MLPClassifier(random_state=seed, **params)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    return float(model.score(x_test, y_test)), seconds


def part_a(n_seeds):
    rows = [("torchann, chapter's config (hidden 5, SGD lr 0.03, 2000 epochs)",
             lambda *d: torch_run(PRESETS["seed"], *d)),
            ("torchann --preset fast (hidden 32, Adam lr 0.1, 10 epochs)",
             lambda *d: torch_run(PRESETS["fast"], *d))]
    for solver in ("sgd", "adam", "lbfgs"):
        rows.append((f"sklearn MLPClassifier(5,), solver={solver}",
                     lambda *d, s=solver: sklearn_run({"hidden_layer_sizes": (5,), "solver": s},
                                                      *d)))
    splits = [chapter_data(seed) for seed in range(n_seeds)]
    stats = []
    for name, runner in rows:
        acc, sec = zip(*(runner(*split, seed) for seed, split in enumerate(splits)))
        acc = np.array(acc)
        stats.append((name, acc.mean(), acc.min(), np.mean(acc < 1), np.mean(sec)))
    rec = stats[1]
    print(f"\n(a) The chapter's blobs, {n_seeds} seeds (80 train / 20 test each)\n")
    print("| configuration | mean acc | worst acc | runs < 100% | mean fit (ms) | "
          "fit time / fast |")
    print("|---|---|---|---|---|---|")
    for name, mean, worst, below, sec in stats:
        print(f"| {name} | {mean:.2%} | {worst:.0%} | {below:.0%} | {sec * 1e3:.1f} | "
              f"{sec / rec[4]:.2f} |")
    sk = stats[2:]
    fastest = min(sk, key=lambda s: s[4])
    better = [s for s in sk if s[1] >= rec[1]]
    ok = rec[1] >= 0.995 and rec[2] >= 0.90 and rec[4] <= fastest[4]
    print(f"\nRecommended: mean {rec[1]:.2%} (target >= 99.5%), worst {rec[2]:.0%} "
          f"(target >= 90%), {rec[4] * 1e3:.1f} ms vs scikit-learn's fastest solver "
          f"{fastest[4] * 1e3:.1f} ms ({fastest[0].split('=')[1]}); scikit-learn solvers at "
          f"least as accurate: {', '.join(s[0].split('=')[1] for s in better) or 'none'}. "
          f"Target {'met' if ok else 'MISSED'}.")
    return ok


def part_b(n_rows, repeat, threads):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = make_classification(n_samples=n_rows, n_features=20, n_informative=10,
                               random_state=0)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=0)
    scaler = StandardScaler().fit(x_train)
    x_train = scaler.transform(x_train).astype(np.float32)
    x_test = scaler.transform(x_test).astype(np.float32)
    y_train, y_test = y_train.astype(np.float32), y_test.astype(np.float32)
    large = PRESETS["large"]
    runs = {"sk": [], "ta": []}
    for i in range(repeat):
        runs["sk"].append(sklearn_run({"hidden_layer_sizes": (64,), "batch_size": 256,
                                       "max_iter": 10}, x_train, y_train, x_test, y_test, i))
        runs["ta"].append(torch_run(large, x_train, y_train, x_test, y_test, i, threads))
    (sk_acc, sk_sec), (ta_acc, ta_sec) = (
        (statistics.median(a for a, _ in runs[k]), statistics.median(s for _, s in runs[k]))
        for k in ("sk", "ta"))
    print(f"\n(b) Scale: {n_rows:,} x 20 make_classification (n_informative 10, standardized), "
          f"80/20 split, hidden 64, Adam; median of {repeat} runs\n")
    print("| method | test acc | fit (s) | time / sklearn |")
    print("|---|---|---|---|")
    print(f"| sklearn MLPClassifier((64,), batch_size=256, max_iter=10) | {sk_acc:.2%} | "
          f"{sk_sec:.2f} | 1.00 |")
    plural = "s" if threads > 1 else ""
    print(f"| torchann fit, --preset large (batch {large['batch_size']}, lr {large['lr']}, "
          f"{large['epochs']} epochs, {threads} thread{plural}) | {ta_acc:.2%} | {ta_sec:.2f} | "
          f"{ta_sec / sk_sec:.2f} |")
    ok = ta_acc >= sk_acc and ta_sec <= sk_sec / 2
    print(f"\ntorchann {ta_acc:.2%} vs {sk_acc:.2%} in {ta_sec / sk_sec:.2f} of the time "
          f"(target: same accuracy in <= 0.50). Target {'met' if ok else 'MISSED'}.")
    return ok


DEFAULT_THREADS = torch.get_num_threads()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100, help="seeds for (a) (default: 100)")
    parser.add_argument("--rows", type=int, default=200_000, help="rows for (b)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (b) (default: 3)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for (b) (default: 1; on a shared 2-core machine a "
                             "second thread mostly waits)")
    parser.add_argument("--part", choices=("a", "b", "both"), default="both")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {DEFAULT_THREADS} torch threads by default, "
          f"torch {torch.__version__}")
    if args.part in ("a", "both"):
        part_a(args.seeds)
    if args.part in ("b", "both"):
        part_b(args.rows, args.repeat, args.threads)


if __name__ == "__main__":
    main()
