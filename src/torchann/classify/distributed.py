"""3.3 beyond one process: data-parallel training on torch.distributed.

The same training loop (:class:`~torchann.classify.trainer.Trainer`) runs in every process,
or *rank*, of a group, the network wrapped in
:class:`~torch.nn.parallel.DistributedDataParallel`: each rank trains on its own share of the
rows (:class:`~torchann.classify.sharded.ShardedTable`) and DDP averages the gradients of
every step over the ranks, so that ``N`` ranks with minibatches of ``batch_size / N`` rows take
the steps one process takes with ``batch_size``. The ranks talk over gloo on a CPU and nccl
on CUDA.

- :func:`launch` starts the ranks on this machine through torch's elastic launcher (the API
  behind ``torchrun``), each running the same command line.
- :meth:`Group.from_env` finds out, in a rank, where it stands from the variables the launcher
  sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``,
  ``MASTER_PORT``), so the same program runs under ``torchrun`` across several machines.
- :class:`Group` holds what the rest needs: the gathering of statistics, the sum of a loss,
  the wrapping of a model.

>>> from torchann.classify.distributed import launch
>>> launch(["train", "--data", "big.parquet", "--label", "y"], nproc=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from torchann.errors import TorchannError
from torchann.i18n import message

#: Seconds a collective waits for the other ranks before it gives up (a rank that died is
#: noticed by the launcher well before that).
COLLECTIVE_TIMEOUT = 600
#: Seconds the ranks of this machine have to meet before the launcher gives up.
RENDEZVOUS_TIMEOUT = 60
#: Seconds between the launcher's looks at its ranks.
MONITOR_INTERVAL = 0.1
#: The start of the line that a failing command writes on its standard error.
ERROR_PREFIX = "torchann: error: "


@dataclass
class Group:
    """This process's place in a group of ranks, and the collectives training needs.

    Attributes
    ----------
    rank, world_size : int
        This rank and the number of ranks, over every machine.
    local_rank, local_world_size : int
        The same on this machine.
    backend : str
        ``gloo`` (CPU) or ``nccl`` (CUDA).
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    backend: str = "gloo"

    @classmethod
    def from_env(cls, environ=None):
        """The group the launcher's variables describe, or ``None`` outside a launcher."""
        env = os.environ if environ is None else environ
        if "RANK" not in env or "WORLD_SIZE" not in env:
            return None
        world = int(env["WORLD_SIZE"])
        return cls(int(env["RANK"]), world, int(env.get("LOCAL_RANK", 0)),
                   int(env.get("LOCAL_WORLD_SIZE", world)))

    @property
    def main(self) -> bool:
        """Whether this is rank 0, the one that speaks and writes."""
        return self.rank == 0

    def start(self, device="cpu"):
        """Join the process group: nccl for ``device`` ``cuda`` (this rank's GPU), gloo
        otherwise. Returns ``self``."""
        from datetime import timedelta

        import torch._dynamo  # noqa: F401  (before the group: see close)

        if str(device).startswith("cuda"):
            torch.cuda.set_device(self.local_rank)
            self.backend = "nccl"
        if not dist.is_initialized():
            dist.init_process_group(self.backend, rank=self.rank, world_size=self.world_size,
                                    timeout=timedelta(seconds=COLLECTIVE_TIMEOUT))
        return self

    def close(self):
        """Leave the process group, and wait until its threads have ended.

        The group's worker threads end when its last reference goes, and a thread still
        releasing a collective's tensors when the interpreter shuts down aborts the process
        (SIGABRT, "terminate called without an active exception"). So every reference must
        be gone here: the caller has dropped its wrapped models, the cycles among them are
        collected below, and :meth:`start` imported ``torch._dynamo`` before the group was
        made, since importing it later keeps references to the group that are never dropped
        (DDP and every torch optimizer import it).
        """
        import gc

        if dist.is_initialized():
            dist.destroy_process_group()
        gc.collect()

    def gather(self, obj) -> list:
        """``obj`` of every rank, in rank order (pickled; for statistics, not tensors)."""
        out = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out

    def sum_loss(self, total, count):
        """``(sum of total, sum of count)`` over the ranks, for an epoch's mean loss."""
        both = torch.stack([total.detach().double(),
                            torch.tensor(float(count), dtype=torch.float64,
                                         device=total.device)])
        dist.all_reduce(both)
        return both[0], int(both[1].item())

    def wrap(self, model):
        """``model`` in :class:`~torch.nn.parallel.DistributedDataParallel`: its gradients
        are averaged over the ranks during each backward pass (in buckets that overlap the
        pass), and rank 0's initial weights are copied to every rank. Every other rank then
        reseeds torch's generator (its seed plus the rank), so that dropout masks its rows
        independently of rank 0's."""
        from torch.nn.parallel import DistributedDataParallel

        device = next(model.parameters()).device
        ids = [device.index if device.index is not None else self.local_rank] \
            if device.type == "cuda" else None
        wrapped = DistributedDataParallel(model, device_ids=ids)
        if self.rank:  # dropout masks of its own, not the same as rank 0's on other rows
            torch.manual_seed(torch.initial_seed() + self.rank)
        return wrapped

    def shared(self, model):
        """``model`` as a module whose forward pass on rows that every rank holds is shared:
        each rank computes its slice and the outputs are gathered (for evaluation; every rank
        must call it with the same rows, in the same order)."""
        return SharedForward(model, self)

    def batch_per_rank(self, batch_size) -> int:
        """The minibatch of each rank that makes a global minibatch of ``batch_size`` rows."""
        if batch_size < self.world_size:
            raise TorchannError(key="classify.distributed.batch_size_smaller",
                                batch_size=batch_size, world_size=self.world_size)
        return batch_size // self.world_size

    def threads(self, suggested=None) -> int:
        """CPU threads for this rank: the machine's cores shared by its ranks, or fewer
        when ``suggested`` says so."""
        share = max(1, (os.cpu_count() or 1) // self.local_world_size)
        return share if suggested is None else min(suggested, share)


class SharedForward:
    """A network whose forward pass on rows that every rank holds is shared by the ranks
    (:meth:`Group.shared`): each computes its slice, and the outputs are gathered. It
    answers what evaluation asks of a network: ``parameters()``, ``eval()`` and a call."""

    def __init__(self, net, group):
        self.net, self.group = net, group

    def parameters(self):
        return self.net.parameters()

    def eval(self):
        self.net.eval()
        return self

    def __call__(self, x):
        n, world, rank = len(x), self.group.world_size, self.group.rank
        bounds = [n * r // world for r in range(world + 1)]
        mine = self.net(x[bounds[rank]:bounds[rank + 1]])
        padded = mine.new_zeros((-(-n // world), *mine.shape[1:]))  # all_gather: equal sizes
        padded[:len(mine)] = mine
        parts = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(parts, padded)
        return torch.cat([p[:bounds[r + 1] - bounds[r]] for r, p in enumerate(parts)])


# --------------------------------------------------------------------------- launching


def check_port(port) -> int:
    """``port`` when nothing listens on it here, else an error; ``None`` picks a free one."""
    import errno
    import socket

    if port is not None and not (str(port).isdigit() and 0 < int(port) < 65536):
        raise TorchannError(key="classify.distributed.master_port_must", port=port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", 0 if port is None else int(port)))
        except OSError as err:
            if err.errno != errno.EADDRINUSE:
                raise TorchannError(key="classify.distributed.master_port", port=port,
                                    strerror=err.strerror) from None
            raise TorchannError(key="classify.distributed.master_port_use", port=port) from None
        return probe.getsockname()[1]


@dataclass
class Launched:
    """What :func:`launch` returns: ``stderr``, what rank 0 wrote on its standard error
    (warnings), to be shown by the caller."""

    stderr: str = ""


def _rank_log(log_dir, local_rank) -> str:
    from pathlib import Path

    logs = sorted(Path(log_dir).glob(f"**/{local_rank}/stderr.log"))
    return logs[-1].read_text(errors="replace") if logs else ""


def _failure(err, log_dir) -> TorchannError:
    """One line for the rank that failed first: its own error line when one wrote one, else
    the rank that was killed, else the first failure (the others only lost their peer)."""
    failures = sorted(err.failures.items())
    texts = {rank: _rank_log(log_dir, f.local_rank) for rank, f in failures}
    for rank, _ in failures:
        own = [line for line in texts[rank].splitlines() if line.startswith(ERROR_PREFIX)]
        if own:
            return TorchannError(own[-1][len(ERROR_PREFIX):])
    killed = [(rank, f) for rank, f in failures if f.exitcode is not None and f.exitcode < 0]
    killed.sort(key=lambda item: item[1].signal_name() == "SIGTERM")  # the launcher's own
    rank, failure = killed[0] if killed else err.get_first_failure()
    lines = [line.strip() for line in texts.get(rank, "").splitlines() if line.strip()]
    last = f" ({lines[-1][:200]})" if lines else ""  # e.g. what the C++ runtime said on abort
    if failure.exitcode is not None and failure.exitcode < 0:
        how = message("classify.distributed.stopped_by", signal=failure.signal_name(), last=last)
    else:
        how = message("classify.distributed.exit_status", status=failure.exitcode, last=last)
    return TorchannError(key="classify.distributed.process_run_every", rank=rank, how=how)


def launch(argv, nproc, master_port=None) -> Launched:
    """Run ``python -m torchann *argv`` as ``nproc`` ranks on this machine, through torch's
    elastic launcher, and wait for them.

    Each rank's standard output is this process's; their standard errors are kept aside and
    rank 0's is returned. When a rank fails (an error, a crash, a kill), the launcher stops
    every other rank within a fraction of a second.

    Parameters
    ----------
    argv : list of str
        The command line of each rank (it sees the launcher's variables and trains as a rank).
    nproc : int
        Ranks to start.
    master_port : int, optional
        Where the ranks meet (the rendezvous, on 127.0.0.1); ``None`` takes ``MASTER_PORT``
        from the environment, or a free port that the rendezvous picks itself.

    Returns
    -------
    Launched

    Raises
    ------
    TorchannError
        ``nproc`` below 1, a port in use, or a failed rank (the first failure's own error
        line, or what ended it).
    KeyboardInterrupt
        On Ctrl-C (SIGINT), after every rank was stopped.
    """
    import logging
    import sys
    import tempfile
    import uuid

    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.rendezvous.api import RendezvousError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise TorchannError(key="value.at_least_one", name="nproc", value=nproc)
    if master_port is None and os.environ.get("MASTER_PORT"):
        master_port = os.environ["MASTER_PORT"]
    port = 0 if master_port is None else check_port(master_port)  # 0: the store picks one
    for name in list(logging.root.manager.loggerDict):  # the failure is said once, below
        if name.startswith(("torch.distributed.elastic", "torch.distributed.launcher")):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="torchann-ranks-") as log_dir:
        config = LaunchConfig(
            min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=uuid.uuid4().hex,
            rdzv_backend="c10d", rdzv_endpoint=f"127.0.0.1:{port}", max_restarts=0,
            rdzv_configs={"is_host": True, "timeout": RENDEZVOUS_TIMEOUT},  # never wait on a
            # stranger that took the port since it was checked
            monitor_interval=MONITOR_INTERVAL, start_method="spawn",
            logs_specs=DefaultLogsSpecs(log_dir=log_dir, redirects=Std.ERR))
        try:
            elastic_launch(config, sys.executable)("-m", "torchann", *argv)
        except ChildFailedError as err:
            raise _failure(err, log_dir) from None
        except RendezvousError as err:
            raise TorchannError(key="classify.distributed.master_port_processes",
                                v=master_port or port, err=str(err)[:200]) from None
        except SignalException as err:
            if err.sigval.name == "SIGINT":
                raise KeyboardInterrupt from None
            raise TorchannError(key="classify.distributed.stopped_every_process",
                                name=err.sigval.name) from None
        return Launched(stderr=_rank_log(log_dir, 0))
