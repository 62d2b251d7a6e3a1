"""Training on several processes (classify/distributed.py, classify/sharded.py, train --nproc).

The quick tests check the pieces in this process: the shares of a table, the merging of the
first pass's statistics, the even minibatches, the port check. The slow ones start real gloo
ranks through the elastic launcher on a small table: the same result as one process, the
shares that partition the training rows, a rank that is killed or fails, Ctrl-C.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hostile_inputs import terminal_signals

from torchann.classify.dataset import StreamedTable
from torchann.classify.distributed import Group, check_port
from torchann.classify.sharded import ShardedTable, even_batches, merge_states
from torchann.classify.tables import hash_split
from torchann.errors import TorchannError

ROWS = 3000
TRAIN = ["--label", "y", "--epochs", "4", "--batch-size", "128", "--hidden", "32",
         "--log-every", "1"]


def _table(path, rows=ROWS, bad_row=None):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    colour = rng.choice(["red", "green", "blue"], rows)
    y = (x[:, 0] * x[:, 1] + 0.7 * x[:, 2] + (colour == "red") > 0.2)
    lines = ["p,q,r,colour,y"] + [f"{a:.5f},{b:.5f},{c:.5f},{k},{'yes' if t else 'no'}"
                                  for (a, b, c), k, t in zip(x, colour, y)]
    if bad_row is not None:
        lines[1 + bad_row] = "oops" + lines[1 + bad_row][lines[1 + bad_row].index(","):]
    path.write_text("\n".join(lines) + "\n")
    return path


class _Solo:
    """The collectives of a group, run in one process over every rank's part."""

    def __init__(self, parts):
        self.parts = parts

    def gather(self, obj):
        return self.parts


# --------------------------------------------------------------------------- quick


def _parquet(path, csv, row_group_size=700):
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    pq.write_table(pc.read_csv(csv), path, row_group_size=row_group_size)
    return path


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_shares_partition_the_training_rows_and_split_like_one_process(tmp_path, kind):
    path = _table(tmp_path / "t.csv")
    if kind == "parquet":
        path = _parquet(tmp_path / "t.parquet", path)
    shares = [ShardedTable(path, "y", rank=r, world_size=3).training_rows() for r in range(3)]
    joined = np.concatenate(shares)
    assert len(np.unique(joined)) == len(joined)  # no row in two shares
    assert np.array_equal(np.sort(joined), np.nonzero(~hash_split(0, ROWS, 0.2, 0))[0])
    assert max(map(len, shares)) - min(map(len, shares)) < 0.1 * len(joined) / 3


@pytest.mark.parametrize("label,kind", [("y", "csv"), ("r", "csv"), ("y", "parquet")])
def test_merged_statistics_are_those_of_one_process(tmp_path, label, kind):
    # classes, a regression's target moments; slices of CSV blocks, ranges of Parquet rows
    path = _table(tmp_path / "t.csv")
    if kind == "parquet":
        path = _parquet(tmp_path / "t.parquet", path)
    one = StreamedTable(path, label).scan()
    states = [ShardedTable(path, label, rank=r, world_size=3).accumulate() for r in range(3)]
    merged = ShardedTable(path, label, rank=0, world_size=3).conclude(merge_states(states, 0))
    assert merged.task.kind == one.task.kind and merged.task.classes == one.task.classes
    assert (merged.task.target_mean, merged.task.target_scale) == pytest.approx(
        (one.task.target_mean, one.task.target_scale))
    assert (merged.n_train, merged.n_test) == (one.n_train, one.n_test)
    for a, b in zip(merged.encoder.columns, one.encoder.columns):
        assert a["name"] == b["name"] and a.get("vocabulary") == b.get("vocabulary")
        if a["kind"] == "number":
            assert (a["mean"], a["scale"], a["median"]) == pytest.approx(
                (b["mean"], b["scale"], b["median"]))
    assert np.allclose(merged.x_test, one.x_test) and np.array_equal(merged.y_test, one.y_test)


def test_a_parquet_share_reads_only_its_row_groups(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    path = _parquet(tmp_path / "t.parquet", _table(tmp_path / "t.csv"))
    asked = []
    real = pq.ParquetFile.iter_batches

    def spy(self, *args, row_groups=None, **kwargs):
        asked.append(list(row_groups))
        return real(self, *args, row_groups=row_groups, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    rows = ShardedTable(path, "y", rank=1, world_size=3).training_rows()
    assert asked == [[1, 2]]  # rows 1000..1999 lie in the groups of rows 700..2099
    assert rows.min() >= 1000 and rows.max() < 2000


def test_every_rank_takes_the_same_steps(tmp_path):
    path = _table(tmp_path / "t.csv")
    states = [ShardedTable(path, "y", rank=r, world_size=2).accumulate() for r in range(2)]
    steps = []
    for rank in range(2):
        table = ShardedTable(path, "y", rank=rank, world_size=2, group=_Solo(states)).scan()
        sizes = [len(y) for _, y in table.minibatches(100, torch.Generator().manual_seed(0))]
        steps.append(sizes)
        assert table.rows_read == table.rows_per_rank == sum(sizes)
    assert steps[0] == steps[1] and set(steps[0][:-1]) == {100}


def test_even_batches_cut_a_ragged_stream():
    stream = [(torch.arange(n), torch.arange(n)) for n in (7, 3, 9, 2)]
    sizes = [len(y) for _, y in even_batches(iter(stream), 4, 19)]
    assert sizes == [4, 4, 4, 4, 3]
    assert torch.cat([y for _, y in even_batches(iter(stream), 4, 10)]).tolist() == \
        [0, 1, 2, 3, 4, 5, 6, 0, 1, 2]


def test_group_from_the_launchers_variables():
    assert Group.from_env({}) is None
    group = Group.from_env({"RANK": "3", "WORLD_SIZE": "8", "LOCAL_RANK": "1",
                            "LOCAL_WORLD_SIZE": "4"})
    assert (group.rank, group.world_size, group.local_rank, group.main) == (3, 8, 1, False)
    assert group.batch_per_rank(2048) == 256
    with pytest.raises(TorchannError, match="batch_size=4"):
        group.batch_per_rank(4)


def test_a_busy_port_is_refused():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(TorchannError, match=f"master_port={port}` is in use"):
            check_port(port)
    assert check_port(None) > 0


def test_a_port_taken_after_its_check_fails_at_once(tmp_path, monkeypatch):
    import torchann.classify.distributed as distributed

    monkeypatch.setattr(distributed, "check_port", lambda port: port)  # lose the race
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        start = time.monotonic()
        with pytest.raises(TorchannError, match=f"master_port={port}`: the processes could "
                                                "not meet there"):
            distributed.launch(["train"], 2, master_port=port)
    assert time.monotonic() - start < 30  # not the rendezvous's timeout


def test_the_command_refuses_before_starting_any_rank(tmp_path, capsys):
    from torchann.cli import main

    path = _table(tmp_path / "t.csv", rows=200)
    assert main(["train", "--nproc", "2"]) == 2
    assert "--nproc needs --data" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["train", "--data", str(path), "--label", "y", "--nproc", "2",
                     "--master-port", str(port), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"torchann: error: --master-port {port} is in use by another program; "
                   "choose another port, or leave it out to take a free one"]


GROUP_LIFETIME = """
import os, sys, torch
from torchann.classify.distributed import Group

os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[1])
group = Group().start()
net = group.wrap(torch.nn.Linear(3, 2))
torch.optim.AdamW(net.parameters()).zero_grad()
net(torch.randn(4, 3)).sum().backward()
group.gather({"rows": 4}), group.sum_loss(torch.tensor(1.0), 4), group.shared(net)(torch.ones(5, 3))
del net
group.close()
print(sorted(open(f"/proc/self/task/{t}/comm").read().strip()
             for t in os.listdir("/proc/self/task")))
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")
def test_closing_the_group_ends_its_threads_before_the_interpreter_stops():
    # a gloo thread still releasing a collective's tensors while the interpreter shuts down
    # aborts the rank (SIGABRT), which fails a finished run
    proc = subprocess.run([sys.executable, "-c", GROUP_LIFETIME, str(check_port(None))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    threads = proc.stdout.strip().splitlines()[-1]
    assert "python" in threads and "gloo" not in threads, threads


def test_a_rank_that_aborts_is_named_with_its_last_words(tmp_path):
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

    from torchann.classify.distributed import _failure

    (tmp_path / "attempt_0" / "1").mkdir(parents=True)
    (tmp_path / "attempt_0" / "1" / "stderr.log").write_text(
        "Test accuracy: 86.6%\nterminate called without an active exception\n")
    failures = {0: ProcessFailure(0, 11, -15, ""), 1: ProcessFailure(1, 12, -6, "")}
    err = _failure(ChildFailedError("torchann", failures), tmp_path)
    assert str(err) == ("process 1 of the run was stopped by SIGABRT (terminate called without "
                        "an active exception); every process was stopped and nothing was written")


# --------------------------------------------------------------------------- real ranks


def _torchann(*argv, cwd, **popen):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return subprocess.Popen([sys.executable, "-m", "torchann", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=terminal_signals, **popen)


def _ranks_of(pid):
    """The rank processes started by the launcher ``pid``: ``{rank: pid}``."""
    ranks = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().split()[3]) == pid:
                env = dict(v.split("=", 1) for v in (entry / "environ").read_bytes().decode(
                    errors="replace").split("\0") if "=" in v)
                ranks[int(env["RANK"])] = int(entry.name)
        except (OSError, KeyError, ValueError):
            pass
    return ranks


def _until_training(proc, limit=120):
    """Wait for the first epoch's line; return the launcher's ranks."""
    end, seen = time.monotonic() + limit, b""
    while time.monotonic() < end and proc.poll() is None:
        seen += proc.stdout.readline()
        if b"Train loss at 0" in seen:
            return _ranks_of(proc.pid)
    raise AssertionError(f"training never started: {seen.decode()}")


def _gone(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


@pytest.mark.slow
def test_two_ranks_match_one_process_and_share_the_rows(tmp_path):
    path = _table(tmp_path / "t.csv", rows=6000)
    runs = {}
    for n in (1, 2):
        proc = _torchann("train", "--data", str(path), *TRAIN, "--nproc", str(n), "--out",
                         str(tmp_path / f"n{n}"), cwd=tmp_path)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        assert out.count(b"After training") == 1  # rank 0 alone speaks
        runs[n] = json.loads((tmp_path / f"n{n}" / "metrics.json").read_text())
    one, two = runs[1], runs[2]
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert abs(one["test_accuracy"] - two["test_accuracy"]) <= 0.01
    assert two["test_loss_after"] == pytest.approx(one["test_loss_after"], rel=0.15)
    assert two["n_train"] == one["n_train"] and two["n_test"] == one["n_test"]
    shares = [len(ShardedTable(path, "y", rank=r, world_size=2).training_rows())
              for r in range(2)]
    assert sum(shares) == two["n_train"] and two["rows_per_rank"] == [min(shares)] * 2
    assert two["batch_per_rank"] == 64
    assert (tmp_path / "n2" / "model.pt").exists()


@pytest.mark.slow
def test_a_killed_rank_ends_the_run_cleanly(tmp_path):
    path = _table(tmp_path / "t.csv")
    proc = _torchann("train", "--data", str(path), *TRAIN, "--epochs", "100000", "--nproc",
                     "2", "--out", str(tmp_path / "out"), cwd=tmp_path)
    ranks = _until_training(proc)
    os.kill(ranks[1], signal.SIGKILL)
    start = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 30
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, err.decode()
    assert lines[0].startswith("torchann: error: process 1 of the run was stopped by SIGKILL")
    assert _gone(ranks[0]) and not (tmp_path / "out" / "model.pt").exists()


@pytest.mark.slow
def test_a_rank_that_fails_says_why_once(tmp_path):
    path = _table(tmp_path / "t.csv", bad_row=ROWS - 1)  # in rank 1's share only
    proc = _torchann("train", "--data", str(path), *TRAIN, "--nproc", "2", "--out",
                     str(tmp_path / "out"), cwd=tmp_path)
    _, err = proc.communicate(timeout=120)
    lines = err.decode().strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, err.decode()
    assert lines[0].startswith("torchann: error: ") and f"line {ROWS + 1}" in lines[0]
    assert "oops" in lines[0] and not list(tmp_path.glob("out/*"))


@pytest.mark.slow
def test_ctrl_c_stops_every_rank(tmp_path):
    path = _table(tmp_path / "t.csv")
    proc = _torchann("train", "--data", str(path), *TRAIN, "--epochs", "100000", "--nproc",
                     "2", "--out", str(tmp_path / "out"), cwd=tmp_path)
    ranks = _until_training(proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and len(err.decode().strip().splitlines()) == 1, err.decode()
    assert all(_gone(pid) for pid in ranks.values()), ranks
    assert not (tmp_path / "out" / "model.pt").exists()
