"""Where torch runs: device choice and CPU thread count, shared by every section."""

from __future__ import annotations

import torch

from torchann.errors import TorchannError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str = "cpu") -> torch.device:
    """Turn ``cpu``, ``cuda`` or ``auto`` into a :class:`torch.device`.

    ``auto`` picks CUDA when it is available and the CPU otherwise. Asking for ``cuda``
    on a machine without it is a user mistake, not a crash.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda":
        if not torch.cuda.is_available():
            raise TorchannError(key="value.no_cuda")
        return torch.device("cuda")
    if name == "cpu":
        return torch.device("cpu")
    raise TorchannError(f"unknown device {name!r}; use one of {', '.join(DEVICES)}")


def set_threads(threads: int | None) -> int:
    """Set torch's intra-op CPU thread count (``None`` keeps torch's default); return it."""
    if threads is not None:
        if threads < 1:
            raise TorchannError(key="value.at_least_one", name="threads", value=threads)
        torch.set_num_threads(threads)
    return torch.get_num_threads()
