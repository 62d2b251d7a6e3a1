"""Train the 3.3 classifier (NeuralNet: Linear, ReLU, Linear, Sigmoid) or a deeper network.

By default this is the chapter's run: 80 training and 20 test points from four Gaussian blobs
in an XOR layout (std 0.3), NeuralNet(2, 5), BCELoss, SGD with lr 0.03, 2000 full-batch epochs,
logging "Train loss at {epoch} is {loss}" every 100 epochs; then the test loss, accuracy and
confusion counts (a loss is not an error rate).

--preset fast (hidden 32, Adam lr 0.1, 10 full-batch epochs) is for data like the chapter's,
--preset large (hidden 64, Adam lr 0.02, batches of 2048, 8 epochs) for many rows.

Your own data: --data FILE.csv --label COLUMN (features: every other column that is a number,
a date or time, or text with 2 to 20 values, one-hot encoded; or --features a,b,c). With --data the
default is --preset auto: the network, optimizer, schedule, epochs and batch size are chosen
from the table's rows and task (AdamW with warm-up and cosine decay, dropout, weight decay,
label smoothing for classes, minibatches, early stopping keeping the best epoch) and printed
in one line beginning "auto:"; --preset seed gives a table the chapter's configuration. Every
run also fits two baselines on the same split and features, the most common class (or the
mean) and a logistic (or ridge) regression, prints them on one line and warns when the network
does not beat the linear model. --task auto (the default) decides from the label and prints
what it decided: text, two values, or a few whole numbers (at most 20, 5+ rows each on
average) make a classification, other numbers a regression. Binary keeps the chapter's sigmoid
and BCELoss, multiclass uses CrossEntropyLoss and reports per-class precision/recall and the
confusion matrix, regression uses MSELoss on the standardized label and reports RMSE, MAE and
R² in its units. The rows are split with --test-size (stratified for classes), and the
features are standardized with the training split's mean and scale; all of it is saved in
model.json beside model.pt and applied by 'torchann predict'.

Beyond the chapter's network: --hidden 64,32 (any depth), --activation, --dropout,
--weight-decay, --lr-schedule cosine and --early-stopping [PATIENCE] (10% of the training
rows held out; the best epoch's weights are kept). The chapter's shape (one hidden layer,
ReLU, no dropout, binary) stays the chapter's NeuralNet; anything else is an MLP whose
state_dict keys say what they are (hidden.0.linear.weight, ..., output.weight).

--nproc N trains on N processes (torch.distributed's DDP, its elastic launcher), each on its
share of --data; the same command runs under torchrun across machines (see the README).

Files written to --out, only once training has finished: model.pt (a plain state_dict),
model.json, data.png and boundary.png (2 features), loss.png, metrics.json, report.html.
"""

from __future__ import annotations

import argparse

from torchann.commands import add_lang


def add_arguments(parser):
    """Add this subcommand's options to parser."""
    from torchann.classify.presets import PRESETS

    def preset_help(text, key):
        return (f"{text} (default: {PRESETS['seed'][key]}; "
                + "; ".join(f"{p}: {PRESETS[p][key]}" for p in ("fast", "large"))
                + "; auto: chosen from the table)")

    group = parser.add_argument_group("model and training")
    group.add_argument("--preset", choices=sorted(PRESETS),
                       help="starting configuration: 'auto' chosen from the table's rows and "
                            "task, 'seed' the chapter's, 'fast' for small data like the "
                            "chapter's, 'large' for many rows (default: auto with --data, "
                            "seed without)")
    group.add_argument("--hidden", metavar="H[,H...]",
                       help=preset_help("hidden layer sizes, e.g. 64,32 for two layers",
                                        "hidden"))
    group.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "gelu"),
                       help="activation of the hidden layers (default: relu)")
    group.add_argument("--dropout", type=float,
                       help="dropout after each hidden layer, in [0, 1) (default: 0; auto: "
                            "chosen)")
    group.add_argument("--weight-decay", type=float,
                       help="L2 penalty on the weights with sgd or adam, decoupled decay with "
                            "adamw (default: 0; auto: chosen)")
    group.add_argument("--bins", type=int,
                       help="also cut each input at N quantiles of the training rows, each bin "
                            "a learned vector (0: none; default: 0; auto: 48 on 5,000 to 100,000 "
                            "rows, none for 3+ classes)")
    group.add_argument("--label-smoothing", type=float,
                       help="classification targets smoothed towards uniform by this much "
                            "while training, in [0, 1) (default: 0; auto: 0.1)")
    group.add_argument("--early-stopping", type=int, nargs="?", const=10, metavar="PATIENCE",
                       help="hold out 10%% of the training rows, stop after PATIENCE epochs "
                            "(default 10) without a better validation loss, keep the best "
                            "weights (default: off; auto: on)")
    group.add_argument("--lr-schedule", choices=("constant", "cosine", "warmup_cosine"),
                       help="learning rate over the epochs: cosine per epoch, warmup_cosine "
                            "per step after a linear warm-up (default: constant; auto: "
                            "warmup_cosine)")
    group.add_argument("--epochs", type=int, help=preset_help("training epochs", "epochs"))
    group.add_argument("--lr", type=float, help=preset_help("learning rate", "lr"))
    group.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "lbfgs"),
                       help=preset_help("optimizer", "optimizer"))
    group.add_argument("--batch-size", type=int,
                       help="minibatch size (default: the full batch, as in the chapter; "
                            f"large: {PRESETS['large']['batch_size']}; auto: chosen)")
    group.add_argument("--seed", type=int, default=0,
                       help="seeds the data and the initial weights; the same seed gives the "
                            "same numbers (default: 0)")
    group.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                       help="where to train (default: cpu)")
    group.add_argument("--threads", type=int,
                       help="CPU threads for torch (default: 1 for minibatches under 8192 "
                            "rows and for small data like the chapter's, where more threads "
                            "only wait on each other; torch's default otherwise)")
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
                     help="feature columns (default: every other column that is a number, "
                          "a date or time, or text with 2 to 20 distinct values, one-hot encoded)")
    own.add_argument("--test-size", type=float, default=0.2,
                     help="fraction of --data rows held out, stratified for classes "
                          "(default: 0.2)")
    own.add_argument("--stream", action="store_true",
                     help="read --data in batches each epoch instead of into memory (the "
                          "default for files over 256 MiB); the test rows are chosen by a "
                          "hash of the row number and --seed")

    _add_ranks(parser)
    parser.add_argument("--out", default="torchann-out/train",
                        help="output folder (default: torchann-out/train)")
    add_lang(parser, "the summary, the warnings, report.html and the figures")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _add_ranks(parser):
    """The options of training on several processes."""
    ranks = parser.add_argument_group("several processes (see the README)")
    ranks.add_argument("--nproc", type=int, metavar="N",
                       help="train on N processes of this machine (torch.distributed, DDP on "
                            "gloo or nccl), each on its share of --data; the minibatch is "
                            "shared by them (default: one process; under torchrun: its "
                            "processes)")
    ranks.add_argument("--master-port", type=int, metavar="PORT",
                       help="the port where the --nproc processes meet (default: "
                            "$MASTER_PORT, or a free one)")


#: The advice that goes with a poor result, in this command's flags.
POOR_ADVICE = "train longer (--epochs) or change --lr"
#: The files written to --out, in the order they are named.
FILES = ("model.pt", "model.json", "data.png", "boundary.png", "loss.png", "metrics.json",
         "report.html")


def run(args):
    """Run the subcommand: here, as N processes (--nproc), or as one of them (under a
    launcher such as torchrun)."""
    import sys

    from torchann.classify.distributed import Group, launch

    group = Group.from_env()
    if group is None and args.nproc is not None:
        from torchann.classify.experiment import REQUEST, Experiment
        from torchann.errors import TorchannError

        if args.data is None:
            raise TorchannError(key="commands.train.nproc_needs_data")
        Experiment({k: getattr(args, k) for k in REQUEST})  # a mistake is said before the start
        launched = launch(getattr(args, "_argv", None) or sys.argv[1:], args.nproc,
                          args.master_port)
        print(launched.stderr, end="", file=sys.stderr)
        return 0
    if group is None:
        return _train(args)
    from torchann.runtime import resolve_device

    group.start(resolve_device(args.device))
    try:
        return _train(args, group)
    finally:
        group.close()


def _train(args, group=None):
    """Train, report and write (on rank 0 of a ``group`` only)."""
    import sys
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")

    from torchann.classify.experiment import REQUEST, Experiment
    from torchann.classify.files import save_model
    from torchann.commands._progress import Progress
    from torchann.errors import as_flags
    from torchann.i18n import figure_language, language, localize, tr, translate_figure
    from torchann.io import check_not_input, figure_png, prepare_out_dir, save_bytes, save_json
    from torchann.report import Image, Section, render_report

    lang = language(args.lang)
    main = group is None or group.main

    def say(line, file=sys.stdout):  # the chapter's log lines are plain text and stay as they are
        if main:
            print(localize(line, lang), file=file)

    experiment = Experiment({k: getattr(args, k) for k in REQUEST}).distribute(group)
    inputs = [args.data] if args.data else []
    out = prepare_out_dir(args.out, inputs) if main else Path(args.out)
    check_not_input([out / n for n in FILES], inputs)
    experiment.load(say=say)
    with Progress(experiment.config["epochs"], args.log_every, "Train loss at {step} is {loss}",
                  what="epoch", quiet=not main) as progress:
        experiment.train(callback=progress, say=say)
    result = experiment.evaluate()
    if not main:
        return 0
    for line in result.lines:
        say(line)
    if result.finding:
        result.metrics["warning"] = f"warning: {result.finding}; {POOR_ADVICE}"
        say(tr("cli.warning", lang, message=tr("train.poor.advice", lang,
                                                finding=result.finding)), file=sys.stderr)
    if result.baseline_warning:
        result.metrics["baseline_warning"] = as_flags(result.baseline_warning)
        say(f"torchann: {as_flags(localize(result.baseline_warning, lang))}", file=sys.stderr)
    fig_lang, font_note = figure_language(lang)
    for note in filter(None, (result.figures_note, font_note)):
        say(note)

    # everything is computed before anything is written
    files = {name: figure_png(translate_figure(fig, fig_lang))
             for name, fig in result.figures.items()}
    images = [Image(n, files[n]) for n in ("data.png", "boundary.png", "loss.png") if n in files]
    files["report.html"] = render_report(
        tr("train.title", lang), [Section(result.title, numbers=result.numbers, images=images)],
        lang=lang, note=localize(font_note or "", lang)).encode("utf-8")
    save_model(out / "model.pt", result.model, result.model_info)
    for name, data in files.items():
        save_bytes(out / name, data)
    save_json(out / "metrics.json", result.metrics)
    written = [n for n in FILES if n in files or not n.endswith(".png")]
    say(tr("train.wrote", lang, files=", ".join(str(Path(out) / n) for n in written)))
    return 0
