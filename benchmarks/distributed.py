"""Training on several processes against one: ``train --nproc 2`` vs ``--nproc 1`` vs threads.

For each table size (a synthetic Parquet table of 20 numeric features and a binary label, a
non-linear function of them), it runs ``torchann train`` as a user would, at the auto preset
(its network and global batch) for a fixed number of epochs:

- one process, 1 thread (``--stream --threads 1``);
- one process, 2 threads (``--stream --threads 2``);
- ``--nproc 1`` (one rank: DDP's machinery with nobody to talk to);
- ``--nproc 2`` (two ranks of 1 thread each on this machine, gloo over the loopback).

It prints the time per epoch (the training loop, from metrics.json), the speed-up over one
process with 1 thread, the test accuracy and the wall time of the command. Then a probe with
two gloo ranks measures one training step of the auto preset's network at half the batch
each: with DDP's gradient all-reduce, without it (``no_sync``), and one all-reduce of as
many floats as the network has weights; and projects the time per epoch on N machines from
those numbers. At the first size, the test loss after each epoch of ``--nproc 2`` is
compared with the spread over three seeds of ``--nproc 1``.

Usage: python benchmarks/distributed.py [--rows 1000000,10000000] [--epochs 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FEATURES = 20


def write_table(path, rows, seed=0, chunk=500_000):
    """A Parquet table of ``rows`` rows: ``f0..f19`` normal, ``y`` yes/no from a non-linear
    function of them with some noise; written in chunks (row groups)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    w = rng.normal(size=(FEATURES,))
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        x = rng.normal(size=(n, FEATURES)).astype(np.float32)
        score = np.tanh(x @ w / 3) + x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=n)
        columns = {f"f{i}": x[:, i] for i in range(FEATURES)}
        columns["y"] = np.where(score > 0, "yes", "no")
        table = pa.table(columns)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()
    return path


WAYS = {
    "1 process, 1 thread": ["--stream", "--threads", "1"],
    "1 process, 2 threads": ["--stream", "--threads", "2"],
    "--nproc 1": ["--nproc", "1"],
    "--nproc 2 (1 thread each)": ["--nproc", "2"],
}


def run_way(path, extra, epochs, out):
    """Run ``torchann train`` on ``path``; return its metrics.json, the wall time and the
    auto line."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "torchann", "train", "--data", str(path),
                           "--label", "y", "--epochs", str(epochs), "--log-every", "1",
                           "--out", str(out), *extra], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{extra}: {proc.stderr.strip()}")
    auto = next((line for line in proc.stdout.splitlines() if line.startswith("auto:")), "")
    return json.loads((Path(out) / "metrics.json").read_text()), wall, auto


def _probe_rank(rank, world, port, config, batch, steps, queue):
    """One rank of the probe: median seconds of a DDP step, a step without the all-reduce,
    and one all-reduce of the weights' size."""
    import torch
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from torchann.classify.mlp import build_model
    from torchann.classify.trainer import make_optimizer

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    torch.manual_seed(0)
    model = build_model(FEATURES, config["hidden"], 1, config["activation"],
                        config["dropout"], "binary")
    ddp = DistributedDataParallel(model)
    opt = make_optimizer(config["optimizer"], model.parameters(), config["lr"],
                         config["weight_decay"])
    loss_fn = torch.nn.BCELoss()
    x, y = torch.randn(batch, FEATURES), torch.randint(0, 2, (batch,)).float()
    flat = torch.zeros(sum(p.numel() for p in model.parameters()))

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(ddp(x).squeeze(1), y).backward()
        opt.step()

    def timed(fn):
        times = []
        for _ in range(steps):
            dist.barrier()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return float(np.median(times[2:]))

    def local():
        with ddp.no_sync():
            step()

    result = {"step": timed(step), "local": timed(local),
              "allreduce": timed(lambda: dist.all_reduce(flat)), "floats": flat.numel()}
    if rank == 0:
        queue.put(result)
    dist.destroy_process_group()


def probe(config, batch, world=2, steps=30):
    """:func:`_probe_rank` on ``world`` gloo ranks; rank 0's numbers."""
    import torch.multiprocessing as mp

    from torchann.classify.distributed import check_port

    queue = mp.get_context("spawn").SimpleQueue()
    mp.start_processes(_probe_rank, args=(world, check_port(None), config, batch, steps, queue),
                       nprocs=world, start_method="spawn")
    return queue.get()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000",
                        help="table sizes, comma-separated (default: 1000000,10000000)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default: 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each way, the median reported (default: 3)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds of --nproc 1 whose spread of test losses --nproc 2 is "
                             "compared with, at the first size (default: 3)")
    parser.add_argument("--ways", default=",".join(str(i) for i in range(len(WAYS))),
                        help="which of the four ways to run, by index; empty for the step "
                             "probes alone (default: all)")
    args = parser.parse_args()
    ways = [list(WAYS)[int(i)] for i in args.ways.split(",") if i]
    if not ways:  # the probes alone, at the auto preset of the first size
        from torchann.classify.presets import resolve_config

        rows = int(args.rows.split(",")[0])
        config = resolve_config("auto", (int(rows * 0.8), FEATURES, "binary", True))
        return print_probes({**config, "hidden": list(config["hidden"])}, args.rows)
    print(f"cores: {os.cpu_count()}")
    for rows in [int(r) for r in args.rows.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_table(Path(tmp) / "table.parquet", rows)
            results = {way: [] for way in ways}
            for _ in range(args.repeats):  # round-robin, so that the load falls on every way
                for i, way in enumerate(ways):
                    results[way].append(run_way(path, WAYS[way], args.epochs,
                                                Path(tmp) / f"out{i}"))
            print(f"\n{rows:,} rows x {FEATURES} features, {args.epochs} epochs, median of "
                  f"{args.repeats} runs; {results[ways[0]][0][2]}")
            print("| way | s/epoch | speed-up | test accuracy | wall s |\n"
                  "|---|---:|---:|---:|---:|")
            first = None
            for way, runs in results.items():
                per_epoch = np.median([m["seconds"] / m["epochs"] for m, _, _ in runs])
                first = first or per_epoch
                print(f"| {way} | {per_epoch:.2f} | {first / per_epoch:.2f}x | "
                      f"{np.median([m['test_accuracy'] for m, _, _ in runs]):.4f} | "
                      f"{np.median([wall for _, wall, _ in runs]):.1f} |")
            if args.seeds > 1 and {"--nproc 1", "--nproc 2 (1 thread each)"} <= set(ways):
                print_spread(path, results, args.seeds, args.epochs, Path(tmp))
            config = results[ways[0]][0][0]["config"]  # the auto preset's, as it ran
    hidden = config["hidden"]
    config["hidden"] = hidden if isinstance(hidden, list) else [hidden]
    print_probes(config, args.rows)


def print_spread(path, results, seeds, epochs, tmp):
    """The test loss after each epoch of ``--nproc 2`` against the spread of ``seeds`` seeds
    of ``--nproc 1`` (seed 0 from ``results``, the others run here)."""
    curves = [dict(results["--nproc 1"][0][0]["test_loss_log"])]
    for seed in range(1, seeds):
        metrics, _, _ = run_way(path, [*WAYS["--nproc 1"], "--seed", str(seed)], epochs,
                                tmp / f"seed{seed}")
        curves.append(dict(metrics["test_loss_log"]))
    two = dict(results["--nproc 2 (1 thread each)"][0][0]["test_loss_log"])
    print(f"\ntest loss after each epoch: --nproc 2 (seed 0) against --nproc 1 over seeds "
          f"0..{seeds - 1}\n| epoch | --nproc 2 | --nproc 1 lowest | --nproc 1 highest | "
          "within |\n|---:|---:|---:|---:|---|")
    for epoch, loss in sorted(two.items()):
        values = [c[epoch] for c in curves if epoch in c]
        print(f"| {epoch} | {loss:.4f} | {min(values):.4f} | {max(values):.4f} | "
              f"{'yes' if min(values) <= loss <= max(values) else 'no'} |")


def one_process_step(config, batch, threads, steps=30):
    """Median seconds of one training step at ``batch`` rows in this process on ``threads``."""
    import torch

    from torchann.classify.mlp import build_model
    from torchann.classify.trainer import make_optimizer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(FEATURES, config["hidden"], 1, config["activation"], config["dropout"],
                        "binary")
    opt = make_optimizer(config["optimizer"], model.parameters(), config["lr"],
                         config["weight_decay"])
    x, y = torch.randn(batch, FEATURES), torch.randint(0, 2, (batch,)).float()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.binary_cross_entropy(model(x).squeeze(1), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times[2:]))


def print_probes(config, rows):
    """One step three ways (1 process x 1 thread, 1 x 2 threads, 2 gloo ranks x 1 thread) for
    the auto preset's network and a 3 x 256 one, at the auto batch; then the projection."""
    batch = config["batch_size"]
    print(f"\none training step at a global batch of {batch}, median of 28 (ms); 2 ranks "
          "take half the batch each; all-reduce: one of as many floats as the weights\n"
          "| network | weights | 1 process, 1 thread | 1 process, 2 threads | 2 ranks x 1 "
          "thread | speed-up of 2 ranks | 2 ranks without the all-reduce | all-reduce | "
          "all-reduce and sync, share of a step |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for hidden in (config["hidden"], [256, 256, 256]):
        net = {**config, "hidden": hidden}
        one, two = one_process_step(net, batch, 1), one_process_step(net, batch, 2)
        ranks = probe(net, batch // 2)
        share = (ranks["step"] - ranks["local"]) / ranks["step"]
        print(f"| {FEATURES}-{'-'.join(map(str, hidden))}-1 | {ranks['floats']:,} | "
              f"{one * 1e3:.2f} | {two * 1e3:.2f} | {ranks['step'] * 1e3:.2f} | "
              f"{one / ranks['step']:.2f}x | {ranks['local'] * 1e3:.2f} | "
              f"{ranks['allreduce'] * 1e3:.2f} | {share:.0%} |")
        if hidden == config["hidden"]:
            auto = (one, ranks)
    one, ranks = auto
    total = max(int(r) for r in rows.split(","))
    steps = -(-int(total * 0.8) // batch)
    print(f"\nprojection, auto network, {total:,} rows ({steps:,} steps of {batch} an "
          "epoch) on N machines: each step the 1-thread compute of batch/N rows plus one "
          "all-reduce as measured here on the loopback (a network adds its latency and "
          "2(N-1)/N x the weights' bytes over its bandwidth); reading the file not included\n"
          "| machines | s/epoch |\n|---:|---:|")
    for n in (1, 2, 4, 8, 16):
        step = one / n + (ranks["allreduce"] if n > 1 else 0)
        print(f"| {n} | {steps * step:.1f} |")


if __name__ == "__main__":
    main()
