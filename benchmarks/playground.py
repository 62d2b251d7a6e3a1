"""Benchmark of ``torchann playground``: frame rate, settings latency and idle CPU.

Starts the real server (``torchann playground --no-browser --port 0``) as a child process and
drives it through a WebSocket client, as the page does (same Host and Origin). For each
network - the chapter's NeuralNet(2, 5) on its XOR blobs, and the largest the page allows
(6 hidden layers of 16 tanh neurons, all 7 features, on the spiral) - it measures:

- frames/s: frames received per second while training (each a 64x64 decision heatmap, every
  neuron's map, the weights and the losses); target >= 20 for the chapter's network;
- latency: from sending a settings change (a new learning rate) while training to receiving
  the first frame of the new settings, median and worst of --changes; target <= 200 ms;
- idle CPU: the server's CPU time over --idle seconds with the page connected and paused,
  as % of one core; target < 2%.

Usage: python benchmarks/playground.py [--seconds 5] [--changes 10] [--idle 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

import websockets

CONFIGS = {
    "chapter NeuralNet(2, 5), xor": {},
    "6 x 16 tanh, 7 features, spiral": {
        "dataset": "spiral", "n": 300, "layers": [16] * 6, "act": "tanh", "opt": "adam",
        "lr": 0.01, "features": ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]},
}


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(url, pid, config, seconds, changes, idle):
    host = url.split("/")[2]
    async with websockets.connect(f"ws://{host}/ws", origin=f"http://{host}",
                                  max_size=None) as ws:
        version = 1
        await ws.send(json.dumps({"type": "config", "config": config, "version": version}))

        async def next_frame(min_version):
            while True:
                msg = json.loads(await ws.recv())
                if msg["type"] == "error":
                    raise RuntimeError(msg["message"])
                if msg["type"] == "frame" and msg["version"] >= min_version:
                    return msg

        await next_frame(version)
        await ws.send(json.dumps({"type": "play"}))
        await next_frame(version)
        frames, start = 0, time.perf_counter()
        first = None
        while time.perf_counter() - start < seconds:
            msg = await next_frame(version)
            first = first if first is not None else msg["epoch"]
            frames += 1
        elapsed = time.perf_counter() - start
        fps, epochs = frames / elapsed, (msg["epoch"] - first) / elapsed
        latencies = []
        for k in range(changes):
            version += 1
            lr = [0.01, 0.03][k % 2] if not config else [0.003, 0.01][k % 2]  # a new value
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "config", "config": {**config, "lr": lr},
                                      "version": version}))
            await next_frame(version)
            latencies.append((time.perf_counter() - sent) * 1000)
            await asyncio.sleep(0.2)
        await ws.send(json.dumps({"type": "pause"}))
        await asyncio.sleep(1.0)
        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(idle)
        idle_pct = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100
    return fps, epochs, latencies, idle_pct


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    proc = subprocess.Popen([sys.executable, "-m", "torchann", "playground", "--no-browser",
                             "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+", line).group(0)
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; server {url}")
        rows = []
        for name, config in CONFIGS.items():
            fps, epochs, lat, idle_pct = asyncio.run(
                measure(url, proc.pid, config, args.seconds, args.changes, args.idle))
            rows.append((name, fps, epochs, statistics.median(lat), max(lat), idle_pct))
    finally:
        proc.terminate()
        proc.wait(10)
    print()
    print("| network | frames/s | epochs/s | latency median (ms) | latency worst (ms) "
          "| idle CPU (% of a core) |")
    print("|---|---|---|---|---|---|")
    for name, fps, epochs, med, worst, idle_pct in rows:
        print(f"| {name} | {fps:.1f} | {epochs:.0f} | {med:.0f} | {worst:.0f} | "
              f"{idle_pct:.2f} |")
    name, fps, _, med, worst, idle_pct = rows[0]
    print()
    verdict = {True: "met", False: "MISSED"}
    print(f"target frames/s >= 20 (chapter's network): {fps:.1f} -> {verdict[fps >= 20]}")
    print(f"target settings latency <= 200 ms (worst, all networks): "
          f"{max(r[4] for r in rows):.0f} ms -> {verdict[max(r[4] for r in rows) <= 200]}")
    print(f"target idle CPU < 2% of a core (worst): {max(r[5] for r in rows):.2f}% -> "
          f"{verdict[max(r[5] for r in rows) < 2]}")
    return 0 if fps >= 20 and max(r[4] for r in rows) <= 200 else 1


if __name__ == "__main__":
    sys.exit(main())
