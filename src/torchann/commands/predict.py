"""Predict with a trained 3.3 classifier: P(label = 1) for one point or every row of a CSV.

torchann predict --model torchann-out/train/model.pt -1 1
    prints the probability that the point (-1, 1) has label 1 (the chapter's question).

torchann predict --model model.pt --csv rows.csv [--output out.csv]
    writes the table's columns plus 'probability' and 'label' (the original label value when
    the model's mapping is known) to --output, or to stdout. --csv also reads Parquet, and an
    --output ending in .parquet is written as Parquet.

The model is a plain state_dict, loaded with torch.load(weights_only=True); sizes come from
the weight shapes. Its description model.json beside it (written by 'torchann train') gives
the feature names, the label mapping and the standardization, which is applied here. The
chapter's own model.pt, saved without one, takes the raw feature values.
"""

from __future__ import annotations

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
                        help="probability from which the label is 1 (default: 0.5)")


def _csv_features(loaded, table, option):
    n = loaded.model.linear_1.in_features
    if option:
        names = [f.strip() for f in option.split(",") if f.strip()]
    elif loaded.features:
        names = list(loaded.features)
    elif len(table.header) == n:
        names = list(table.header)
    else:
        raise TorchannError(f"the model takes {n} features but {table.path} has "
                            f"{len(table.header)} columns and the model has no model.json "
                            "naming them; choose them with --features")
    if len(names) != n:
        raise TorchannError(f"--features names {len(names)} columns; the model takes {n}")
    return names


def _unique(name, header):
    while name in header:
        name = f"predicted_{name}"
    return name


def run(args):
    """Run the subcommand."""
    import math
    import sys

    import numpy as np

    from torchann.classify.files import load_model, sidecar_path
    from torchann.classify.tables import feature_matrix, read_csv
    from torchann.classify.train import predict_proba
    from torchann.io import check_not_input

    if args.values and not all(math.isfinite(v) for v in args.values):
        bad = next(v for v in args.values if not math.isfinite(v))
        raise TorchannError(f"the feature value {bad} is not a finite number; give finite "
                            "values")
    if not 0 < args.threshold < 1:
        raise TorchannError(f"--threshold {args.threshold}: must be between 0 and 1")
    if args.csv and args.values:
        raise TorchannError("give either feature values or --csv FILE, not both")
    if not args.csv and not args.values:
        raise TorchannError("give the feature values of a point (e.g. -1 1) or --csv FILE")
    if args.output and not args.csv:
        raise TorchannError("--output goes with --csv FILE")
    if args.output:
        check_not_input([args.output], [args.csv, args.model, sidecar_path(args.model)])
    loaded = load_model(args.model)
    if args.values and loaded.encoder is not None:
        prob = predict_proba(loaded.model, loaded.prepare(np.array([args.values])))[0]
        print(f"{prob:.6f}")
        return 0
    if args.values:
        n = loaded.model.linear_1.in_features
        if len(args.values) != n:
            names = f" ({', '.join(loaded.features)})" if loaded.features else ""
            raise TorchannError(f"the model takes {n} feature values{names}, got "
                                f"{len(args.values)}")
        prob = predict_proba(loaded.model, loaded.prepare(np.array([args.values])))[0]
        print(f"{prob:.6f}")
        return 0

    import pyarrow as pa

    from torchann.classify.tables import ValueProblem
    from torchann.io.tables import csv_bytes, write_table

    table = read_csv(args.csv)
    if loaded.encoder is not None and not args.features:
        try:
            x = loaded.encoder.transform(table.table)
        except ValueProblem as err:
            raise err.at(args.csv) from None
        except TorchannError as err:
            raise TorchannError(f"{args.csv}: {err}") from None
        prob = predict_proba(loaded.model, x)
    else:
        x = feature_matrix(table, _csv_features(loaded, table, args.features))
        prob = predict_proba(loaded.model, loaded.prepare(x))
    labels = [loaded.label_of(int(p >= args.threshold)) for p in prob]
    prob_name = _unique("probability", table.header)
    label_name = _unique("label", table.header + [prob_name])
    result = table.table.append_column(prob_name, pa.array(prob, pa.float64()))
    result = result.append_column(label_name, pa.array([str(v) for v in labels]))
    if args.output:
        write_table(args.output, result)
        print(f"Wrote {len(prob)} predictions to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(csv_bytes(result).decode("utf-8"))
    return 0
