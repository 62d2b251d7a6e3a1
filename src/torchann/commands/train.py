"""Train the 3.3 classifier (NeuralNet: Linear, ReLU, Linear, Sigmoid) on the blobs or a CSV.

By default this is the chapter's run: 80 training and 20 test points from four Gaussian blobs
in an XOR layout (std 0.3), NeuralNet(2, 5), BCELoss, SGD with lr 0.03, 2000 full-batch epochs,
logging "Train loss at {epoch} is {loss}" every 100 epochs. It reports the test loss before
and after training, and the test accuracy and confusion counts (a loss is not an error rate).

--preset fast is the recommended configuration, chosen by measurement over 100 seeds
(benchmarks/classify.py): hidden 32, Adam with lr 0.1, 10 full-batch epochs. It reaches about
99.8% mean test accuracy (the blobs' Bayes accuracy), none below 95%, in about 2 ms per fit,
where the chapter's configuration averages about 97.5% and ends below 100% in about 1 run of 5.
--preset large is for many rows: hidden 64, Adam with lr 0.02, minibatches of 2048, 8 epochs
(on 200,000 x 20 rows it matches scikit-learn's MLPClassifier in a fraction of its time).
Options given explicitly override the preset.

Your own data: --data FILE.csv --label COLUMN (features: every other numeric column, or
--features a,b,c). The label's two values are mapped to 0/1, the rows are split with a
stratified --test-size, and the features are standardized with the training split's mean and
scale; both are saved in model.json beside model.pt and applied by 'torchann predict'.

Files written to --out: model.pt (a plain state_dict the chapter's code loads), model.json,
data.png, boundary.png (both only for 2 features), loss.png, metrics.json and report.html
(figures and numbers on one page). Nothing is written until training has finished.
"""

from __future__ import annotations

import argparse
import math

from torchann.errors import TorchannError

#: Configurations by name, chosen by measurement with benchmarks/classify.py: ``seed`` is the
#: chapter's, ``fast`` the recommended one for small data like the chapter's, ``large`` the one
#: for many rows (minibatches of 2048).
PRESETS = {
    "seed": {"hidden": 5, "optimizer": "sgd", "lr": 0.03, "epochs": 2000, "batch_size": None},
    "fast": {"hidden": 32, "optimizer": "adam", "lr": 0.1, "epochs": 10, "batch_size": None},
    "large": {"hidden": 64, "optimizer": "adam", "lr": 0.02, "epochs": 8, "batch_size": 2048},
}


def add_arguments(parser):
    """Add this subcommand's options to parser."""
    def preset_help(text, key):
        return (f"{text} (default: {PRESETS['seed'][key]}; "
                + "; ".join(f"{p}: {PRESETS[p][key]}" for p in PRESETS if p != "seed") + ")")

    group = parser.add_argument_group("model and training")
    group.add_argument("--preset", choices=sorted(PRESETS), default="seed",
                       help="starting configuration: 'seed' is the chapter's, 'fast' the "
                            "recommended one, 'large' for many rows (default: seed)")
    group.add_argument("--hidden", type=int, help=preset_help("hidden layer size", "hidden"))
    group.add_argument("--epochs", type=int, help=preset_help("training epochs", "epochs"))
    group.add_argument("--lr", type=float, help=preset_help("learning rate", "lr"))
    group.add_argument("--optimizer", choices=("sgd", "adam", "lbfgs"),
                       help=preset_help("optimizer", "optimizer"))
    group.add_argument("--batch-size", type=int,
                       help="minibatch size (default: the full batch, as in the chapter; "
                            f"large: {PRESETS['large']['batch_size']})")
    group.add_argument("--seed", type=int, default=0,
                       help="seeds the data and the initial weights; the same seed gives the "
                            "same numbers (default: 0)")
    group.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                       help="where to train (default: cpu)")
    group.add_argument("--threads", type=int,
                       help="CPU threads for torch (default: 1 for small data like the "
                            "chapter's, where more threads only wait on each other; torch's "
                            "default otherwise)")
    group.add_argument("--log-every", type=int, default=100,
                       help="print the training loss every N epochs, 0 never (default: 100)")

    blobs = parser.add_argument_group("the chapter's blobs (without --data)")
    blobs.add_argument("--n-train", type=int, default=80, help="training points (default: 80)")
    blobs.add_argument("--n-test", type=int, default=20, help="test points (default: 20)")
    blobs.add_argument("--cluster-std", type=float, default=0.3,
                       help="standard deviation of each blob (default: 0.3)")

    own = parser.add_argument_group("your own data")
    own.add_argument("--data", metavar="FILE", help="a CSV with a header row, or Parquet")
    own.add_argument("--label", help="the label column of --data (two distinct values)")
    own.add_argument("--features", metavar="A,B,C",
                     help="feature columns (default: every other numeric column)")
    own.add_argument("--test-size", type=float, default=0.2,
                     help="fraction of --data rows held out, stratified (default: 0.2)")
    own.add_argument("--stream", action="store_true",
                     help="read --data in batches each epoch instead of into memory (the "
                          "default for files over 256 MiB); the test rows are chosen by a "
                          "hash of the row number and --seed")

    parser.add_argument("--out", default="torchann-out/train",
                        help="output folder (default: torchann-out/train)")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _config(args):
    """The run's configuration: the preset, overridden by the options given."""
    config = dict(PRESETS[args.preset])
    for key in config:
        if getattr(args, key) is not None:
            config[key] = getattr(args, key)
    for key in ("hidden", "epochs", "lr", "batch_size"):
        value = config[key]
        if value is not None and not (math.isfinite(value) and value > 0):
            raise TorchannError(f"--{key.replace('_', '-')} {value}: must be a positive number")
    if args.log_every < 0:
        raise TorchannError(f"--log-every {args.log_every}: must be 0 (never) or positive")
    if args.data is None and (args.label or args.features):
        raise TorchannError("--label and --features need --data FILE.csv")
    if args.data is not None and not args.label:
        raise TorchannError("--data needs --label COLUMN, the column to predict")
    return config


def _blob_data(args):
    from torchann.classify.chapter import chapter_data

    for name in ("n_train", "n_test"):
        if getattr(args, name) < 1:
            raise TorchannError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be "
                                "positive")
    x_train, y_train, x_test, y_test = chapter_data(args.seed, args.n_train, args.n_test,
                                                    args.cluster_std)
    info = {"data": "blobs", "features": ["x1", "x2"], "label": "label",
            "label_map": None, "standardize": None}
    return x_train, y_train, x_test, y_test, info


def _csv_data(args):
    from pathlib import Path

    from torchann.classify.dataset import load_in_memory

    features = None
    if args.features is not None:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        if not features:
            raise TorchannError("--features is empty; name the feature columns, e.g. a,b,c")
    streamed = _streamed(args)
    if streamed:
        return _stream_data(args, features)
    data = load_in_memory(args.data, args.label, features, args.test_size, args.seed)
    encoder = data.encoder
    info = {"data": str(Path(args.data).resolve()), "features": encoder.output_names,
            "label": args.label, "label_map": data.label_map, "standardize": None,
            "encoder": encoder.to_json(), "decisions": encoder.decisions,
            "skipped_columns": [s["name"] for s in encoder.skipped]}
    if data.raw is not None:
        info.update(raw=data.raw, prepare=encoder.transform_array)
    return data.x_train, data.y_train, data.x_test, data.y_test, info


def _streamed(args):
    """Whether --data is streamed: --stream, or a file over STREAM_BYTES."""
    import os

    from torchann.classify.dataset import STREAM_BYTES

    try:
        size = os.path.getsize(args.data)
    except OSError:
        return args.stream  # reading it names the problem
    return args.stream or size > STREAM_BYTES


def _stream_data(args, features):
    from pathlib import Path

    from torchann.classify.dataset import StreamedTable

    data = StreamedTable(args.data, args.label, features, args.test_size, args.seed).scan()
    encoder = data.encoder
    kept = (f"; {data.n_test_kept:,} of the {data.n_test:,} test rows kept for evaluation"
            if data.n_test_kept < data.n_test else "")
    print(f"Streaming {args.data}: {data.n_rows:,} rows, {data.n_train:,} for training and "
          f"{data.n_test:,} for testing (row hash, seed {args.seed}), read in windows of "
          f"{data.window:,} shuffled rows each epoch{kept}")
    info = {"data": str(Path(args.data).resolve()), "features": encoder.output_names,
            "label": args.label, "label_map": data.label_map, "standardize": None,
            "encoder": encoder.to_json(), "decisions": encoder.decisions,
            "skipped_columns": [s["name"] for s in encoder.skipped],
            "streamed": {"rows": data.n_rows, "train": data.n_train, "test": data.n_test,
                         "test_evaluated": data.n_test_kept, "window": data.window}}
    return data, None, data.x_test, data.y_test, info


def run(args):
    """Run the subcommand."""
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import torch

    from torchann import classifier as clf
    from torchann.classify.files import save_model
    from torchann.commands._progress import Progress
    from torchann.io import check_not_input, figure_png, prepare_out_dir, save_bytes, save_json
    from torchann.runtime import resolve_device, set_threads

    config = _config(args)
    device = resolve_device(args.device)
    out = prepare_out_dir(args.out, [args.data] if args.data else [])
    names = ["model.pt", "model.json", "data.png", "boundary.png", "loss.png", "metrics.json",
             "report.html"]
    check_not_input([out / n for n in names], [args.data] if args.data else [])

    x_train, y_train, x_test, y_test, info = (_csv_data(args) if args.data else _blob_data(args))
    streamed = y_train is None
    if streamed and config["batch_size"] is None:
        from torchann.classify.dataset import STREAM_BATCH

        config["batch_size"] = STREAM_BATCH  # a full batch is not possible
    for line in info.get("decisions", []):
        print(f"Data: {line}")
    threads = args.threads
    if threads is None:
        threads = clf.suggested_threads(*x_train.shape, config["hidden"])
    threads = set_threads(threads)
    torch.manual_seed(args.seed)
    model = clf.NeuralNet(x_train.shape[1], config["hidden"]).to(device)
    before = clf.evaluate(model, x_test, y_test)
    print(f"Before training, test loss is {before.loss}")
    start = time.perf_counter()
    with Progress(config["epochs"], args.log_every, "Train loss at {step} is {loss}",
                  what="epoch") as progress:
        history = clf.fit(model, x_train, y_train, epochs=config["epochs"], lr=config["lr"],
                          optimizer=config["optimizer"], batch_size=config["batch_size"],
                          callback=progress, x_test=x_test, y_test=y_test,
                          test_every=args.log_every or 100,
                          generator=torch.Generator().manual_seed(args.seed))
    seconds = time.perf_counter() - start
    after = clf.evaluate(model, x_test, y_test)
    train_accuracy = None if streamed else clf.evaluate(model, x_train, y_train).accuracy
    c = after.confusion
    n_right = round(after.accuracy * len(y_test))
    print(f"After training, test loss is {after.loss}")
    print(f"Test accuracy: {after.accuracy:.1%} ({n_right}/{len(y_test)}); confusion "
          f"(label 1 positive): tn {c['tn']}, fp {c['fp']}, fn {c['fn']}, tp {c['tp']}")

    # everything is computed before anything is written
    files = {"loss.png": figure_png(clf.loss_figure(history))}
    if streamed:
        print("data.png and boundary.png are not drawn for streamed data")
    elif x_train.shape[1] == 2:
        prepare = info.get("prepare")
        raw_train, raw_test = info.get("raw", (x_train, x_test))
        axes = info["features"]

        def proba(points):
            points = prepare(points) if prepare else points
            return clf.predict_proba(model, points)

        files["data.png"] = figure_png(clf.data_figure(raw_train, y_train, raw_test, y_test,
                                                       names=axes))
        files["boundary.png"] = figure_png(clf.boundary_figure(proba, raw_train, y_train,
                                                               raw_test, y_test, names=axes))
    else:
        print(f"data.png and boundary.png need 2 features; this data has {x_train.shape[1]}")
    run_config = {**config, "preset": args.preset, "seed": args.seed, "device": str(device),
                  "threads": threads, "log_every": args.log_every}
    if args.data:
        run_config.update(data=info["data"], label=args.label, test_size=args.test_size,
                          stream=info.get("streamed"))
    else:
        run_config.update(n_train=args.n_train, n_test=args.n_test,
                          cluster_std=args.cluster_std)
    metrics = {
        "test_loss_before": before.loss, "test_loss_after": after.loss,
        "test_accuracy": after.accuracy, "train_accuracy": train_accuracy,
        "confusion": after.confusion, "n_train": x_train.shape[0], "n_test": len(y_test),
        "epochs": history.epochs, "seconds": seconds, "final_train_loss": history.train_loss[-1],
        "test_loss_log": [[e, loss] for e, loss in history.test_loss], "config": run_config,
        "decisions": info.get("decisions", []),
    }
    model_info = {k: info[k] for k in ("data", "features", "label", "label_map", "standardize",
                                       "encoder") if k in info}
    model_info["config"] = run_config
    from torchann.report import Image, Section, render_report

    files["report.html"] = render_report("torchann train", [Section(
        f"NeuralNet({x_train.shape[1]}, {config['hidden']}) on {info['data']}",
        numbers=[("test loss before", before.loss), ("test loss after", after.loss),
                 ("test accuracy", f"{after.accuracy:.1%}"), ("confusion (label 1 positive)",
                  ", ".join(f"{k} {v}" for k, v in after.confusion.items())),
                 ("epochs", history.epochs), ("seconds", seconds)],
        images=[Image(n, files[n]) for n in ("data.png", "boundary.png", "loss.png") if n in files],
    )]).encode("utf-8")

    save_model(out / "model.pt", model, model_info)
    for name, png in files.items():
        save_bytes(out / name, png)
    save_json(out / "metrics.json", metrics)
    written = [n for n in names if n in files or not n.endswith(".png")]
    print(f"Wrote {', '.join(str(Path(out) / n) for n in written)}")
    return 0
