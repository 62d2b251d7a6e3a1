"""Predict with a trained 3.3 model: a class or a number for one point or every row of a CSV.

torchann predict --model torchann-out/train/model.pt -1 1
    prints the probability that the point (-1, 1) has label 1 (the chapter's question); a
    multi-class model prints the class name and its probability, a regression the number.

torchann predict --model model.pt --csv rows.csv [--output out.csv]
    writes the CSV's columns plus 'probability' and 'label' (the original label value when the
    model's mapping is known; for multi-class the most probable class and its probability),
    or 'prediction' (a regression, in the label's units), to --output, or to stdout.

The model is a plain state_dict, loaded with torch.load(weights_only=True); sizes come from
the weight shapes. Its description model.json beside it (written by 'torchann train') gives
the feature names, the label mapping and the standardization, which is applied here. The
chapter's own model.pt, saved without one, takes the raw feature values.
"""

from __future__ import annotations

from torchann.commands import add_lang
from torchann.errors import TorchannError


def add_arguments(parser):
    """Add this subcommand's options to parser."""
    parser.add_argument("values", nargs="*", type=float, metavar="X",
                        help="the feature values of one point, e.g. -1 1")
    parser.add_argument("--model", default="torchann-out/train/model.pt",
                        help="model file (default: torchann-out/train/model.pt)")
    parser.add_argument("--csv", metavar="FILE",
                        help="predict every row of this CSV or Parquet file")
    parser.add_argument("--output", metavar="FILE",
                        help="where --csv results go: Parquet for a .parquet name, CSV "
                             "otherwise (default: CSV on stdout)")
    parser.add_argument("--features", metavar="A,B,C",
                        help="feature columns of --csv (default: the names in the model's "
                             "model.json; without one, the CSV must have exactly the model's "
                             "number of columns)")
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="probability from which the label is 1, binary models only "
                             "(default: 0.5)")
    add_lang(parser, "the messages and the errors")


def run(args):
    """Run the subcommand."""
    import sys

    from torchann.classify.files import load_model, sidecar_path
    from torchann.classify.prediction import (
        check_threshold,
        check_values,
        predict_point,
        predict_rows,
    )
    from torchann.classify.tables import read_csv
    from torchann.i18n import language, localize, tr
    from torchann.io import check_not_input

    lang = language(args.lang)
    check_values(args.values)
    check_threshold(args.threshold)
    if args.csv and args.values:
        raise TorchannError(key="predict.both")
    if not args.csv and not args.values:
        raise TorchannError(key="predict.neither")
    if args.output and not args.csv:
        raise TorchannError(key="predict.output_without_csv")
    if args.output:
        check_not_input([args.output], [args.csv, args.model, sidecar_path(args.model)])
    loaded = load_model(args.model)
    if args.values:
        print(localize(predict_point(loaded, args.values), lang))
        return 0

    from torchann.io.tables import csv_bytes, write_table

    result, n = predict_rows(loaded, read_csv(args.csv), args.features, args.threshold)
    if args.output:
        write_table(args.output, result)
        print(tr("predict.wrote", lang, n=n, output=args.output), file=sys.stderr)
    else:
        sys.stdout.write(csv_bytes(result).decode("utf-8"))
    return 0
