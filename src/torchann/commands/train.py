"""Train the 3.3 classifier (NeuralNet: Linear, ReLU, Linear, Sigmoid) or a deeper network.

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
--features a,b,c). --task auto (the default) decides from the label and prints what it
decided: text, two values, or a few whole numbers (at most 20, 5+ rows each on average) make
a classification, other numbers a regression. Binary keeps the chapter's sigmoid and BCELoss,
multiclass uses CrossEntropyLoss and reports per-class precision/recall and the confusion
matrix, regression uses MSELoss on the standardized label and reports RMSE, MAE and R² in
its units. The rows are split with --test-size (stratified for classes), and the features
are standardized with the training split's mean and scale; all of it is saved in model.json
beside model.pt and applied by 'torchann predict'.

Beyond the chapter's network: --hidden 64,32 (any depth), --activation, --dropout,
--weight-decay, --lr-schedule cosine and --early-stopping [PATIENCE] (10% of the training
rows held out; the best epoch's weights are kept). The chapter's shape (one hidden layer,
ReLU, no dropout, binary) stays the chapter's NeuralNet; anything else is an MLP whose
state_dict keys say what they are (hidden.0.linear.weight, ..., output.weight).

Files written to --out: model.pt (a plain state_dict the chapter's code loads), model.json,
data.png, boundary.png (both only for 2 features), loss.png, metrics.json and report.html
(figures and numbers on one page). Nothing is written until training has finished.
"""

from __future__ import annotations

import argparse

from torchann.errors import TorchannError


def add_arguments(parser):
    """Add this subcommand's options to parser."""
    from torchann.classify.presets import PRESETS

    def preset_help(text, key):
        return (f"{text} (default: {PRESETS['seed'][key]}; "
                + "; ".join(f"{p}: {PRESETS[p][key]}" for p in PRESETS if p != "seed") + ")")

    group = parser.add_argument_group("model and training")
    group.add_argument("--preset", choices=sorted(PRESETS), default="seed",
                       help="starting configuration: 'seed' is the chapter's, 'fast' the "
                            "recommended one, 'large' for many rows (default: seed)")
    group.add_argument("--hidden", metavar="H[,H...]",
                       help=preset_help("hidden layer sizes, e.g. 64,32 for two layers",
                                        "hidden"))
    group.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "gelu"),
                       default="relu", help="activation of the hidden layers (default: relu)")
    group.add_argument("--dropout", type=float, default=0.0,
                       help="dropout after each hidden layer, in [0, 1) (default: 0)")
    group.add_argument("--weight-decay", type=float, default=0.0,
                       help="L2 penalty on the weights, with sgd or adam (default: 0)")
    group.add_argument("--early-stopping", type=int, nargs="?", const=10, metavar="PATIENCE",
                       help="hold out 10%% of the training rows, stop after PATIENCE epochs "
                            "(default 10) without a better validation loss, keep the best "
                            "weights (default: off)")
    group.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                       help="learning rate over the epochs (default: constant)")
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
    own.add_argument("--label", help="the label column of --data")
    own.add_argument("--task", choices=("auto", "binary", "multiclass", "regression"),
                     default="auto",
                     help="what to learn; auto decides from the label and says what it "
                          "decided (default: auto)")
    own.add_argument("--features", metavar="A,B,C",
                     help="feature columns (default: every other numeric column)")
    own.add_argument("--test-size", type=float, default=0.2,
                     help="fraction of --data rows held out, stratified for classes "
                          "(default: 0.2)")
    own.add_argument("--stream", action="store_true",
                     help="read --data in batches each epoch instead of into memory (the "
                          "default for files over 256 MiB); the test rows are chosen by a "
                          "hash of the row number and --seed")

    parser.add_argument("--out", default="torchann-out/train",
                        help="output folder (default: torchann-out/train)")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _config(args):
    """The run's configuration: the preset, overridden by the options given."""
    from torchann.classify.presets import resolve_config

    config = resolve_config(args.preset, **{k: getattr(args, k) for k in (
        "hidden", "optimizer", "lr", "epochs", "batch_size", "activation", "dropout",
        "weight_decay", "early_stopping", "lr_schedule")})
    if args.data is None and args.task not in ("auto", "binary"):
        raise TorchannError(f"--task {args.task} needs --data FILE.csv; the chapter's blobs "
                            "are binary")
    if args.log_every < 0:
        raise TorchannError(f"--log-every {args.log_every}: must be 0 (never) or positive")
    if args.data is None and (args.label or args.features):
        raise TorchannError("--label and --features need --data FILE.csv")
    if args.data is not None and not args.label:
        raise TorchannError("--data needs --label COLUMN, the column to predict")
    return config


def _blob_data(args):
    from torchann.classify.chapter import chapter_data
    from torchann.classify.tasks import Task

    for name in ("n_train", "n_test"):
        if getattr(args, name) < 1:
            raise TorchannError(f"--{name.replace('_', '-')} {getattr(args, name)}: must be "
                                "positive")
    x_train, y_train, x_test, y_test = chapter_data(args.seed, args.n_train, args.n_test,
                                                    args.cluster_std)
    info = {"data": "blobs", "features": ["x1", "x2"], "label": "label",
            "label_map": None, "standardize": None}
    task = Task("binary", ["0", "1"], reason="the chapter's blobs")
    return x_train, y_train, x_test, y_test, info, task


def _csv_data(args):

    from torchann.classify.dataset import load_in_memory

    features = None
    if args.features is not None:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        if not features:
            raise TorchannError("--features is empty; name the feature columns, e.g. a,b,c")
    if _streamed(args):
        return _stream_data(args, features)
    data = load_in_memory(args.data, args.label, features, args.test_size, args.seed,
                          task=args.task)
    info = _table_info(args, data)
    info["raw_test"] = data.raw_test
    if data.raw is not None:
        info.update(raw=data.raw, prepare=data.encoder.transform_array)
    return data.x_train, data.y_train, data.x_test, data.y_test, info, data.task


def _table_info(args, data):
    from pathlib import Path

    encoder = data.encoder
    return {"data": str(Path(args.data).resolve()), "features": encoder.output_names,
            "label": args.label, "label_map": data.task.label_map, "standardize": None,
            "encoder": encoder.to_json(), "decisions": encoder.decisions,
            "skipped_columns": [s["name"] for s in encoder.skipped]}


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
    from torchann.classify.dataset import StreamedTable

    data = StreamedTable(args.data, args.label, features, args.test_size, args.seed,
                         task=args.task).scan()
    kept = (f"; {data.n_test_kept:,} of the {data.n_test:,} test rows kept for evaluation"
            if data.n_test_kept < data.n_test else "")
    print(f"Streaming {args.data}: {data.n_rows:,} rows, {data.n_train:,} for training and "
          f"{data.n_test:,} for testing (row hash, seed {args.seed}), read in windows of "
          f"{data.window:,} shuffled rows each epoch{kept}")
    info = _table_info(args, data)
    info["raw_test"] = data.raw_test
    info["streamed"] = {"rows": data.n_rows, "train": data.n_train, "test": data.n_test,
                        "test_evaluated": data.n_test_kept, "window": data.window}
    return data, None, data.x_test, data.y_test, info, data.task


def _network_name(model, config, task):
    from torchann.classify.chapter import NeuralNet

    if isinstance(model, NeuralNet):
        return f"NeuralNet({model.linear_1.in_features}, {model.linear_1.out_features})"
    hidden = ",".join(map(str, config["hidden"]))
    extra = f", dropout {config['dropout']:g}" if config["dropout"] else ""
    return f"MLP({model.n_in}, [{hidden}], {model.n_out}; {config['activation']}{extra})"


def _task_metrics(model, task, x, y, info, threshold=0.5):
    """Test metrics of any task (sklearn.metrics), in the label's units for a regression."""
    from torchann.classify.metrics import classification_metrics, regression_metrics
    from torchann.classify.train import predict_scores

    out = task.scores_to_output(predict_scores(model, x))
    if task.kind == "regression":
        truth = y * task.target_scale + task.target_mean
        return regression_metrics(truth, out)
    return classification_metrics(y, task.output_to_index(out, threshold), task.classes)


def _warn_if_poor(task, metrics, y_train):
    """A line for stderr when the test result is no better than a know-nothing guess."""
    import numpy as np

    if task.kind == "regression":
        if metrics["r2"] < 0:
            return (f"warning: the test R² is {metrics['r2']:.3f}, worse than predicting the "
                    "mean; train longer (--epochs) or change --lr")
        return None
    majority = np.unique(np.asarray(y_train), return_counts=True)[1].max() / len(y_train)
    if metrics["accuracy"] <= majority:
        return (f"warning: the test accuracy {metrics['accuracy']:.1%} is no better than "
                f"always answering the most common class ({majority:.1%}); train longer "
                "(--epochs) or change --lr")
    return None


def run(args):
    """Run the subcommand."""
    import sys
    import time
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")

    from torchann import classify as clf
    from torchann.classify.files import save_model
    from torchann.classify.metrics import summary_lines
    from torchann.classify.train import task_loss, train_model
    from torchann.commands._progress import Progress
    from torchann.io import check_not_input, figure_png, prepare_out_dir, save_bytes, save_json
    from torchann.runtime import resolve_device, set_threads

    config = _config(args)
    device = resolve_device(args.device)
    out = prepare_out_dir(args.out, [args.data] if args.data else [])
    names = ["model.pt", "model.json", "data.png", "boundary.png", "loss.png", "metrics.json",
             "report.html"]
    check_not_input([out / n for n in names], [args.data] if args.data else [])

    x_train, y_train, x_test, y_test, info, task = (_csv_data(args) if args.data
                                                    else _blob_data(args))
    if info["data"] != "blobs":
        print(task.describe())
        for line in info.get("decisions", []):
            print(f"Data: {line}")
    streamed = y_train is None
    if streamed and config["batch_size"] is None:
        from torchann.classify.dataset import STREAM_BATCH

        config["batch_size"] = STREAM_BATCH  # a full batch is not possible
    threads = args.threads
    if threads is None:
        threads = clf.suggested_threads(*x_train.shape, sum(config["hidden"]))
    threads = set_threads(threads)
    before = {}

    def on_start(model):
        before["loss"] = task_loss(model, task, x_test, y_test)
        print(f"Before training, test loss is {before['loss']}")

    start = time.perf_counter()
    with Progress(config["epochs"], args.log_every, "Train loss at {step} is {loss}",
                  what="epoch") as progress:
        model, history = train_model(
            x_train, y_train, task, hidden=config["hidden"], activation=config["activation"],
            dropout=config["dropout"], epochs=config["epochs"], lr=config["lr"],
            optimizer=config["optimizer"], batch_size=config["batch_size"],
            weight_decay=config["weight_decay"], lr_schedule=config["lr_schedule"],
            early_stopping=config["early_stopping"], seed=args.seed, device=device,
            callback=progress, x_test=x_test, y_test=y_test,
            test_every=args.log_every or 100, on_start=on_start)
    seconds = time.perf_counter() - start
    after_loss = task_loss(model, task, x_test, y_test)
    print(f"After training, test loss is {after_loss}")
    if config["early_stopping"] is not None:
        print(f"Early stopping: best validation loss {min(history.val_loss):.6g} at epoch "
              f"{history.best_epoch}; "
              + (f"stopped after epoch {history.epochs - 1}" if history.stopped_early
                 else "ran every epoch") + "; the best epoch's weights are kept")
    test = _task_metrics(model, task, x_test, y_test, info)
    train = None if streamed else _task_metrics(model, task, x_train, y_train, info)
    if task.kind == "binary":
        after = clf.evaluate(model, x_test, y_test)
        c = after.confusion
        n_right = round(after.accuracy * len(y_test))
        print(f"Test accuracy: {after.accuracy:.1%} ({n_right}/{len(y_test)}); confusion "
              f"(label 1 positive): tn {c['tn']}, fp {c['fp']}, fn {c['fn']}, tp {c['tp']}")
    else:
        for line in summary_lines(test):
            print(line)
    warning = _warn_if_poor(task, test, y_test if streamed else y_train)
    if warning:
        print(f"torchann: {warning}", file=sys.stderr)

    # everything is computed before anything is written
    files = {"loss.png": figure_png(clf.loss_figure(history))}
    if streamed:
        print("data.png and boundary.png are not drawn for streamed data")
    elif x_train.shape[1] == 2 and task.kind == "binary":
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
    elif task.kind == "binary":
        print(f"data.png and boundary.png need 2 features; this data has {x_train.shape[1]}")
    else:
        print(f"data.png and boundary.png are drawn for binary tasks; this one is {task.kind}")
    hidden = config["hidden"]
    run_config = {**config, "hidden": hidden[0] if len(hidden) == 1 else list(hidden),
                  "preset": args.preset,
                  "seed": args.seed, "device": str(device), "threads": threads,
                  "log_every": args.log_every, "task": task.kind}
    if args.data:
        run_config.update(data=info["data"], label=args.label, test_size=args.test_size,
                          stream=info.get("streamed"))
    else:
        run_config.update(n_train=args.n_train, n_test=args.n_test,
                          cluster_std=args.cluster_std)
    metrics = {
        "task": task.kind, "task_reason": task.reason,
        "test_loss_before": before["loss"], "test_loss_after": after_loss,
        "n_train": x_train.shape[0], "n_test": len(y_test), "epochs": history.epochs,
        "seconds": seconds, "final_train_loss": history.train_loss[-1],
        "test_loss_log": [[e, loss] for e, loss in history.test_loss], "config": run_config,
    }
    if task.kind == "binary":
        metrics.update(test_accuracy=after.accuracy,
                       train_accuracy=train and train["accuracy"], confusion=after.confusion,
                       per_class=test["per_class"])
    elif task.kind == "multiclass":
        metrics.update(test_accuracy=test["accuracy"],
                       train_accuracy=train and train["accuracy"],
                       per_class=test["per_class"], confusion_matrix=test["confusion_matrix"],
                       classes=test["classes"])
    else:
        metrics.update(test_rmse=test["rmse"], test_mae=test["mae"], test_r2=test["r2"],
                       train_r2=train and train["r2"], train_rmse=train and train["rmse"])
    if config["early_stopping"] is not None:
        metrics.update(best_epoch=history.best_epoch, stopped_early=history.stopped_early,
                       validation_loss=history.val_loss)
    if warning:
        metrics["warning"] = warning
    metrics["decisions"] = info.get("decisions", [])
    model_info = {k: info[k] for k in ("data", "features", "label", "label_map", "standardize",
                                       "encoder") if k in info}
    model_info.update(task.to_json())
    model_info["config"] = run_config
    from torchann.report import Image, Section, render_report

    if task.kind == "regression":
        numbers = [("test R²", f"{test['r2']:.4f}"), ("test RMSE", f"{test['rmse']:.4g}"),
                   ("test MAE", f"{test['mae']:.4g}")]
    elif task.kind == "binary":
        numbers = [("test accuracy", f"{after.accuracy:.1%}"), ("confusion (label 1 positive)",
                    ", ".join(f"{k} {v}" for k, v in after.confusion.items()))]
    else:
        numbers = [("test accuracy", f"{test['accuracy']:.1%}"),
                   ("confusion matrix (rows true)", "; ".join(
                       " ".join(map(str, row)) for row in test["confusion_matrix"]))]
    files["report.html"] = render_report("torchann train", [Section(
        f"{_network_name(model, config, task)} on {info['data']}",
        numbers=[("task", task.kind), ("test loss before", before["loss"]),
                 ("test loss after", after_loss), *numbers,
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
