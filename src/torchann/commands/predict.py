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


def _csv_features(loaded, table, option):
    n = loaded.n_features
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
    kind = loaded.task.kind
    if args.values:
        n = len(loaded.encoder.columns) if loaded.encoder is not None else loaded.n_features
        if loaded.encoder is not None and not loaded.encoder.numeric_only:
            raise TorchannError("this model was trained on a table with text categories or "
                                "gaps; give it a table with --csv FILE")
        if len(args.values) != n:
            names = f" ({', '.join(loaded.features)})" if loaded.features else ""
            raise TorchannError(f"the model takes {n} feature values{names}, got "
                                f"{len(args.values)}")
        out = loaded.predict(np.array([args.values]))
        if kind == "binary":
            print(f"{out[0]:.6f}")
        elif kind == "multiclass":
            best = int(out[0].argmax())
            print(f"{loaded.task.classes[best]} (probability {out[0, best]:.6f})")
        else:
            print(f"{out[0]:.8g}")
        return 0

    import pyarrow as pa

    from torchann.classify.tables import ValueProblem
    from torchann.io.tables import csv_bytes, write_table

    table = read_csv(args.csv)
    if loaded.encoder is not None and not args.features:
        try:
            out = loaded.predict_table(table.table)
        except ValueProblem as err:
            raise err.at(args.csv) from None
        except TorchannError as err:
            raise TorchannError(f"{args.csv}: {err}") from None
    else:
        out = loaded.predict(feature_matrix(table, _csv_features(loaded, table, args.features)))
    header = table.header
    if kind == "regression":
        extra = {_unique("prediction", header): pa.array(np.asarray(out, dtype=np.float64))}
    else:
        if kind == "binary":
            prob = out
            labels = [loaded.label_of(int(p >= args.threshold)) for p in prob]
        else:
            best = out.argmax(axis=1)
            prob = out[np.arange(len(out)), best]
            labels = [loaded.task.classes[i] for i in best]
        prob_name = _unique("probability", header)
        extra = {prob_name: pa.array(np.asarray(prob, dtype=np.float64)),
                 _unique("label", header + [prob_name]): pa.array([str(v) for v in labels])}
    result = table.table
    for name, column in extra.items():
        result = result.append_column(name, column)
    if args.output:
        write_table(args.output, result)
        print(f"Wrote {len(out)} predictions to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(csv_bytes(result).decode("utf-8"))
    return 0
