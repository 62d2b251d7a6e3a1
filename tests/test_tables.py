"""Tables: CSV and Parquet through pyarrow, the feature encoder, the splits and streaming."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from torchann.classify.tables import (
    FeatureEncoder,
    LabelStats,
    ValueProblem,
    hash_split,
    label_values,
    load_labelled_csv,
    row_hash,
)
from torchann.cli import main
from torchann.errors import TorchannError
from torchann.io.tables import iter_batches, read_table, table_format, write_table

# --------------------------------------------------------------------------- reading


def _write(path, text):
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_and_parquet_read_the_same_table(tmp_path):
    csv_path = _write(tmp_path / "t.csv", "a,b,c\n1,2.5,x\n3,,y\n")
    table = read_table(csv_path)
    assert table.column_names == ["a", "b", "c"]
    assert table.column("b").to_pylist() == [2.5, None]
    parquet = write_table(tmp_path / "t.parquet", table)
    assert table_format(parquet) == "parquet" and table_format(csv_path) == "csv"
    assert read_table(parquet).equals(table)


def test_parquet_is_recognised_by_its_bytes_whatever_the_name(tmp_path):
    pq.write_table(pa.table({"a": [1, 2]}), tmp_path / "data.csv")
    assert table_format(tmp_path / "data.csv") == "parquet"
    assert read_table(tmp_path / "data.csv").column("a").to_pylist() == [1, 2]


def test_missing_cell_spellings_are_nulls(tmp_path):
    path = _write(tmp_path / "m.csv", "a\n1\nNA\nn/a\nnan\nNULL\nNone\n?\n\n2\n")
    assert read_table(path).column("a").to_pylist() == [1] + [None] * 6 + [2]


def test_write_table_picks_the_format_by_extension(tmp_path):
    table = pa.table({"name": ["a,b", "c"], "x": [1.5, 2.0]})
    text = write_table(tmp_path / "o.csv", table).read_text()
    assert text.splitlines()[0] == "name,x" and '"a,b"' in text
    assert pq.read_table(write_table(tmp_path / "o.parquet", table)).equals(table)
    assert not list(tmp_path.glob(".*part*"))


@pytest.mark.parametrize("text,pattern", [
    ("", r"empty"),
    ("a,b,y\n", r"only a header row"),
    ("a,a,y\n1,2,3\n", r"duplicate column names a"),
    ("a,,y\n1,2,3\n", r"empty column name \(column 2\)"),
    ("a,b,y\n1,2,3\n\n4,5\n", r"line 4 has 2 fields but the header has 3"),
    (b"a,b,y\n1,2,\xff\n", r"not UTF-8 text \(line 2"),
    ("\u00e4,b\n1,2\n".encode("latin-1"), r"not UTF-8 text \(line 1"),
])
def test_bad_csv_gets_one_clear_error(tmp_path, text, pattern):
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(TorchannError, match=pattern):
        read_table(path)


def test_missing_file_folder_and_broken_parquet(tmp_path):
    with pytest.raises(TorchannError, match="no such file"):
        read_table(tmp_path / "absent.csv")
    with pytest.raises(TorchannError, match="folder"):
        read_table(tmp_path)
    good = write_table(tmp_path / "g.parquet", pa.table({"a": list(range(100))}))
    cut = _write(tmp_path / "cut.parquet", good.read_bytes()[:60])
    with pytest.raises(TorchannError, match="not a readable Parquet file"):
        read_table(cut)
    with pytest.raises(TorchannError, match="not a readable Parquet file"):
        list(iter_batches(cut))
    empty = write_table(tmp_path / "e.parquet", pa.table({"a": pa.array([], pa.int64())}))
    with pytest.raises(TorchannError, match="no data rows"):
        read_table(empty)


def test_iter_batches_streams_the_same_rows(tmp_path):
    n = 30_000
    rng = np.random.default_rng(0)
    table = pa.table({"x": rng.normal(size=n), "k": rng.integers(0, 5, n),
                      "c": rng.choice(["u", "v"], n)})
    path = write_table(tmp_path / "big.csv", table)
    batches = list(iter_batches(path))
    streamed = pa.Table.from_batches(batches)
    assert streamed.num_rows == n
    assert np.allclose(streamed.column("x").to_numpy(), table.column("x").to_numpy())
    assert streamed.schema.field("k").type == pa.float64()  # integers widened for streaming
    parquet = write_table(tmp_path / "big.parquet", table)
    batches = list(iter_batches(parquet, batch_rows=7000))
    assert len(batches) == 5 and sum(b.num_rows for b in batches) == n


def test_streamed_csv_names_the_ragged_line(tmp_path):
    rows = "".join(f"{i},{i}\n" for i in range(200_000))
    path = _write(tmp_path / "r.csv", "a,b\n" + rows + "1\n")
    with pytest.raises(TorchannError, match="line 200002 has 1 fields"):
        list(iter_batches(path))


# --------------------------------------------------------------------------- the encoder


def _table(**columns):
    return pa.table(columns)


def test_numbers_are_standardized_with_the_training_statistics():
    x = np.array([1.0, 2.0, 3.0, 6.0])
    encoder = FeatureEncoder().fit(_table(x=x))
    assert encoder.output_names == ["x"] and encoder.decisions == []
    out = encoder.transform(_table(x=x))
    assert out.dtype == np.float32
    assert np.allclose(out[:, 0], (x - x.mean()) / x.std())
    assert np.allclose(encoder.transform(_table(x=[3.0]))[:, 0], (3 - x.mean()) / x.std())


def test_a_gap_gets_the_median_and_an_indicator():
    encoder = FeatureEncoder().fit(_table(x=[1.0, None, 3.0, 10.0]))
    assert encoder.output_names == ["x", "x_missing"]
    assert encoder.decisions == ["x: 1 missing value filled with the median 3; indicator "
                                 "column x_missing added"]
    raw = encoder.transform(_table(x=[None, 5.0]), standardize=False)
    assert raw.tolist() == [[3.0, 1.0], [5.0, 0.0]]


def test_a_gap_only_at_prediction_is_imputed_without_indicator():
    encoder = FeatureEncoder().fit(_table(x=[1.0, 2.0, 4.0]))
    assert encoder.output_names == ["x"]
    assert encoder.transform(_table(x=[None]), standardize=False).tolist() == [[2.0]]


def test_dates_and_times_from_a_csv_are_numbers_in_days_hours_and_seconds(tmp_path):
    path = _write(tmp_path / "t.csv", "day,stamp,clock,x\n"
                  "1970-01-11,1970-01-02 12:00:00,06:30:00,1\n"
                  ",1970-01-01 00:00:00,18:00:00,2\n"
                  "1970-01-02,1970-01-04 00:00:00,12:00:00,3\n")
    table = read_table(path)
    assert [str(t) for t in table.schema.types][:3] == ["date32[day]", "timestamp[s]", "time32[s]"]
    encoder = FeatureEncoder().fit(table)
    assert encoder.decisions[:2] == [
        "day: dates, used as the number of days since 1970-01-01",
        "day: 1 missing value filled with the median 5.5; indicator column day_missing added"]
    assert "stamp: dates, used as the number of days since 1970-01-01" in encoder.decisions
    assert "clock: times of day, used as the number of hours since midnight" in encoder.decisions
    raw = encoder.transform(table, standardize=False)
    names = encoder.output_names
    assert names == ["day", "day_missing", "stamp", "clock", "x"]
    assert raw[:, 0].tolist() == [10.0, 5.5, 1.0] and raw[:, 1].tolist() == [0, 1, 0]
    assert raw[:, 2].tolist() == [1.5, 0.0, 3.0] and raw[:, 3].tolist() == [6.5, 18.0, 12.0]
    again = FeatureEncoder.from_json(json.loads(json.dumps(encoder.to_json())))
    assert np.array_equal(again.transform(table, standardize=False), raw)


def test_timestamps_and_durations_of_any_unit_agree():
    import datetime

    day = datetime.datetime(1970, 1, 3, 6)
    for unit in ("s", "ms", "us", "ns"):
        out = FeatureEncoder().fit(_table(
            when=pa.array([day, None], pa.timestamp(unit)),
            took=pa.array([90, 30], pa.duration(unit)))).transform(
            _table(when=pa.array([day], pa.timestamp(unit)),
                   took=pa.array([90], pa.duration(unit))), standardize=False)
        scale = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
        assert out[0].tolist() == pytest.approx([2.25, 0.0, 90 / scale]), unit
    dates = pa.array([datetime.date(1970, 1, 2), datetime.date(1970, 2, 1)], pa.date64())
    assert FeatureEncoder().fit(_table(d=dates)).transform(
        _table(d=dates), standardize=False)[:, 0].tolist() == [1.0, 31.0]


def test_a_text_category_is_one_hot_and_unseen_is_other():
    encoder = FeatureEncoder().fit(_table(colour=["red", "blue", "red", None, "green"]))
    assert encoder.output_names == ["colour=blue", "colour=green", "colour=red"]
    assert "one-hot encoded over 3 values (blue, green, red)" in encoder.decisions[0]
    assert "1 missing, also all zeros" in encoder.decisions[0]
    out = encoder.transform(_table(colour=["green", "purple", None, "blue"]))
    assert out.tolist() == [[0, 1, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0]]


@pytest.mark.parametrize("values,reason", [
    ([f"id{i}" for i in range(30)], "more than 20 distinct values"),
    (["a", "b", "c", "d"], "a different value in every row"),
    (["same"] * 5, "a single value ('same')"),
])
def test_text_columns_that_cannot_help_are_skipped_by_name(values, reason):
    encoder = FeatureEncoder().fit(_table(t=values, x=np.arange(len(values), dtype=float)))
    assert encoder.input_names == ["x"]
    assert encoder.skipped[0]["name"] == "t" and reason in encoder.skipped[0]["reason"]
    assert encoder.decisions == [f"t: skipped, {encoder.skipped[0]['reason']}"]


def test_an_all_missing_column_is_skipped():
    encoder = FeatureEncoder().fit(_table(x=[1.0, 2.0], gone=pa.array([None, None], pa.null())))
    assert encoder.skipped == [{"name": "gone", "reason": "every value is missing"}]


def test_a_typo_in_a_numeric_column_is_named():
    with pytest.raises(ValueProblem, match=r"row 3, column 'a': 'three' is not a number"):
        FeatureEncoder().fit(_table(a=["1", "2", "three", "4"]))


def test_infinity_is_refused():
    with pytest.raises(ValueProblem, match="is not a finite number"):
        FeatureEncoder().fit(_table(a=[1.0, float("inf")]))


def test_named_features_that_cannot_be_used_are_an_error():
    with pytest.raises(TorchannError, match="`features` names columns that cannot be used"):
        FeatureEncoder(features=["t"]).fit(_table(t=["same"] * 3))
    with pytest.raises(TorchannError, match="no column 'zz'"):
        FeatureEncoder(features=["zz"]).fit(_table(a=[1.0]))


def test_the_label_is_never_a_feature_and_nothing_usable_is_an_error():
    with pytest.raises(TorchannError, match="no usable feature column .* besides the label"):
        FeatureEncoder(label="y").fit(_table(y=[0, 1], t=["q", "q"]))


def test_fitting_in_batches_equals_fitting_at_once():
    rng = np.random.default_rng(1)
    x = rng.normal(5, 2, 10_000)
    x[rng.random(10_000) < 0.1] = np.nan
    table = _table(x=pa.array(x, from_pandas=True), c=rng.choice(["p", "q", "r"], 10_000))
    whole = FeatureEncoder().fit(table)
    parts = FeatureEncoder().fit(table.to_batches(max_chunksize=777))
    assert whole.decisions == parts.decisions and whole.output_names == parts.output_names
    for key in ("mean", "scale", "median"):
        assert whole.columns[0][key] == pytest.approx(parts.columns[0][key], rel=1e-12)
    assert np.allclose(whole.transform(table), parts.transform(table), atol=1e-6)


def test_the_median_of_a_long_column_comes_from_a_bounded_sample():
    x = np.arange(1_000_001, dtype=float)
    encoder = FeatureEncoder().fit(pa.table({"x": pa.array(np.r_[x, np.nan], from_pandas=True)})
                                   .to_batches(max_chunksize=100_000))
    assert encoder.columns[0]["median"] == pytest.approx(500_000, rel=1e-3)


def test_the_encoder_round_trips_through_json():
    encoder = FeatureEncoder().fit(_table(x=[1.0, None, 3.0], c=["a", "b", "a"]))
    again = FeatureEncoder.from_json(json.loads(json.dumps(encoder.to_json())))
    table = _table(x=[2.0, None], c=["b", "zz"])
    assert np.array_equal(encoder.transform(table), again.transform(table))
    assert again.decisions == encoder.decisions
    with pytest.raises(TorchannError, match="unreadable feature encoder"):
        FeatureEncoder.from_json({"columns": [{"name": "x", "kind": "number"}]})


# --------------------------------------------------------------------------- labels, splits


def test_label_values_are_raw_and_a_missing_label_is_named(tmp_path):
    path = _write(tmp_path / "l.csv", "x,y\n1,cat\n2,dog\n3,\n")
    table = read_table(path)
    with pytest.raises(TorchannError, match=r"line 4, column 'y': missing label"):
        label_values(table, "y", path)
    assert label_values(read_table(_write(tmp_path / "n.csv", "x,y\n1,2.5\n2,3\n")),
                        "y").tolist() == [2.5, 3.0]


def test_label_stats_count_values_until_there_are_too_many():
    stats = LabelStats()
    for part in pa.table({"y": [3, 1, 2, 1] * 10}).to_batches(max_chunksize=7):
        stats.update(part, "y")
    assert stats.rows == 40 and stats.integral and stats.names == ["1", "2", "3"]
    many = LabelStats()
    many.update(pa.table({"y": np.arange(5000) / 7}), "y")
    assert many.names is None and not many.integral and many.numeric


def test_hash_split_is_deterministic_and_about_the_right_size():
    a = hash_split(0, 100_000, 0.2, seed=3)
    assert np.array_equal(a, hash_split(0, 100_000, 0.2, seed=3))
    assert np.array_equal(a[50_000:], hash_split(50_000, 100_000, 0.2, seed=3))
    assert abs(a.mean() - 0.2) < 0.01
    assert not np.array_equal(a, hash_split(0, 100_000, 0.2, seed=4))
    u = row_hash(np.arange(10_000))
    assert 0 <= u.min() and u.max() < 1


# --------------------------------------------------------------------------- the old interface


def test_load_labelled_csv_reads_parquet_with_categories_and_gaps(tmp_path):
    table = pa.table({"size": ["S", "M", "L", None, "M", "S"], "w": [1.0, None, 3, 4, 5, 6],
                      "y": ["a", "b", "a", "b", "a", "b"]})
    data = load_labelled_csv(write_table(tmp_path / "d.parquet", table), "y")
    assert data.features == ["size=L", "size=M", "size=S", "w", "w_missing"]
    assert data.label_map == {"a": 0, "b": 1} and data.y.tolist() == [0, 1, 0, 1, 0, 1]
    assert data.x[1].tolist() == [0, 1, 0, 4, 1] and data.x[3].tolist() == [0, 0, 0, 4, 0]


# --------------------------------------------------------------------------- the command line


def _people(n=80, seed=0):
    rng = np.random.default_rng(seed)
    height = rng.normal(170, 10, n)
    city = rng.choice(["Seoul", "Busan", "Daegu"], n)
    score = (height - 170) / 10 + np.where(city == "Seoul", 1.0, -0.5)
    height = np.where(rng.random(n) < 0.1, np.nan, height)
    return pa.table({"id": [f"p{i}" for i in range(n)],
                     "height": pa.array(height, from_pandas=True), "city": city,
                     "sick": np.where(score > 0, "yes", "no")})


def test_train_prints_and_records_every_decision(tmp_path, capsys):
    data = write_table(tmp_path / "people.csv", _people())
    out = tmp_path / "out"
    assert main(["train", "--data", str(data), "--label", "sick", "--preset", "fast",
                 "--log-every", "0", "--out", str(out)]) == 0
    printed = [line[6:] for line in capsys.readouterr().out.splitlines()
               if line.startswith("Data: ")]
    metrics = json.loads((out / "metrics.json").read_text())
    assert printed == metrics["decisions"] and len(printed) == 3
    assert any(d.startswith("id: skipped") for d in printed)
    assert any(d.startswith("city: text category") for d in printed)
    assert any(d.startswith("height: ") and "height_missing" in d for d in printed)
    info = json.loads((out / "model.json").read_text())
    assert info["features"] == ["height", "height_missing", "city=Busan", "city=Daegu",
                                "city=Seoul"]


def test_predict_reads_parquet_and_writes_parquet_or_csv(tmp_path, capsys):
    table = _people()
    data = write_table(tmp_path / "people.parquet", table)
    out = tmp_path / "out"
    assert main(["train", "--data", str(data), "--label", "sick", "--preset", "fast",
                 "--log-every", "0", "--out", str(out)]) == 0
    new = table.slice(0, 5).drop_columns(["sick"])
    new = new.set_column(2, "city", pa.array(["Seoul", "Incheon", None, "Busan", "Daegu"]))
    rows = write_table(tmp_path / "new.parquet", new)
    for name in ("pred.parquet", "pred.csv"):
        assert main(["predict", "--model", str(out / "model.pt"), "--csv", str(rows),
                     "--output", str(tmp_path / name)]) == 0
    result = pq.read_table(tmp_path / "pred.parquet")
    assert result.column_names == ["id", "height", "city", "probability", "label"]
    prob = result.column("probability").to_numpy()
    assert ((prob >= 0) & (prob <= 1)).all()
    assert result.column("label").to_pylist() == [("yes" if p >= 0.5 else "no") for p in prob]
    again = read_table(tmp_path / "pred.csv")
    assert np.allclose(again.column("probability").to_numpy(), prob)


# --------------------------------------------------------------------------- streaming


def _train(x, y, seed=0):
    import torch

    from torchann.classify.chapter import NeuralNet
    from torchann.classify.train import fit

    torch.manual_seed(seed)
    model = NeuralNet(x.shape[1], 8)
    fit(model, x, y, epochs=3, lr=0.05, optimizer="adam", batch_size=32,
        generator=torch.Generator().manual_seed(seed))
    return model


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_streaming_equals_in_memory_with_the_same_split(tmp_path, suffix):
    from torchann.classify.dataset import StreamedTable, load_in_memory

    path = write_table(tmp_path / f"people{suffix}", _people(n=600))
    memory = load_in_memory(path, "sick", test_size=0.25, seed=5, split="hash")
    stream = StreamedTable(path, "sick", test_size=0.25, seed=5).scan()
    assert stream.encoder.decisions == memory.encoder.decisions
    assert (stream.n_rows, stream.n_train, stream.n_test) == \
        (600, len(memory.y_train), len(memory.y_test))
    assert np.allclose(stream.x_test, memory.x_test, atol=1e-6)
    assert np.array_equal(stream.y_test, memory.y_test)
    a = _train(memory.x_train, memory.y_train).state_dict()
    b = _train(stream, None).state_dict()
    for key in a:
        assert np.allclose(a[key].numpy(), b[key].numpy(), atol=1e-5), key


def test_streaming_shuffles_within_windows_and_sees_every_training_row(tmp_path):
    import torch

    from torchann.classify.dataset import StreamedTable

    n = 5000
    table = pa.table({"x": np.arange(n, dtype=float), "y": np.arange(n) % 2})
    stream = StreamedTable(write_table(tmp_path / "w.parquet", table), "y", window=1000,
                           batch_rows=250).scan()
    mean, scale = stream.encoder.columns[0]["mean"], stream.encoder.columns[0]["scale"]
    seen = [xb[:, 0].numpy() * scale + mean
            for xb, _ in stream.minibatches(100, torch.Generator().manual_seed(0))]
    rows = np.rint(np.concatenate(seen)).astype(int)
    assert len(rows) == stream.n_train and len(set(rows)) == stream.n_train
    assert not np.array_equal(rows, np.sort(rows))  # shuffled
    assert rows[:900].max() < 1300  # but only within the first window of the file


def test_streaming_names_a_bad_value_by_line(tmp_path):
    from torchann.classify.dataset import StreamedTable

    rows = "".join(f"{i},{i % 2}\n" for i in range(100))
    path = _write(tmp_path / "s.csv", "a,y\n" + rows + "inf,1\n")
    with pytest.raises(TorchannError, match=r"line 102, column 'a': 'inf' is not a finite"):
        StreamedTable(path, "y", test_size=0.01).scan()


def test_train_stream_on_the_command_line(tmp_path, capsys):
    data = write_table(tmp_path / "people.csv", _people(n=400))
    out = tmp_path / "out"
    assert main(["train", "--data", str(data), "--label", "sick", "--stream", "--preset",
                 "fast", "--log-every", "0", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Streaming" in printed and "row hash, seed 0" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    stream = metrics["config"]["stream"]
    assert stream["rows"] == 400 and stream["train"] + stream["test"] == 400
    assert metrics["n_train"] == stream["train"] and metrics["config"]["batch_size"] == 2048
    assert main(["predict", "--model", str(out / "model.pt"), "--csv", str(data),
                 "--output", str(tmp_path / "p.csv")]) == 0


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_streaming_decides_the_task_as_in_memory(tmp_path, kind):
    from torchann.classify.dataset import StreamedTable, load_in_memory

    rng = np.random.default_rng(2)
    n = 500
    x = rng.normal(size=n)
    label = (np.digitize(x, [-0.5, 0.5]) if kind == "multiclass"
             else np.round(3 * x + rng.normal(size=n), 3))
    path = write_table(tmp_path / "t.csv", pa.table({"x": x, "target": label}))
    memory = load_in_memory(path, "target", test_size=0.3, seed=1, split="hash")
    stream = StreamedTable(path, "target", test_size=0.3, seed=1).scan()
    assert stream.task.kind == memory.task.kind == kind
    assert stream.task.classes == memory.task.classes
    if kind == "regression":
        assert stream.task.target_mean == pytest.approx(memory.task.target_mean)
        assert stream.task.target_scale == pytest.approx(memory.task.target_scale)
    assert np.allclose(stream.y_test, memory.y_test)
