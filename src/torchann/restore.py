"""3.2 Restoring an image corrupted by a known function (being written)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class RestoreResult:
    """What a solver returns.

    Attributes
    ----------
    x : torch.Tensor
        The restored signal, flat, on the CPU.
    method : str
        Solver name (``gd``, ``cg``, ``lbfgs``, ``adam``, or a regularized solver's name).
    steps : int
        Iterations taken.
    seconds : float
        Solver wall time, warm-up included.
    history : list of (int, float)
        ``(step, distance)`` pairs, the seed's loss ``||f(x) - y||`` per step.
    final_distance : float
        The seed's loss at the end.
    relative_residual : float
        ``||f(x) - y|| / ||y||`` at the end.
    stopped : str
        Why the solver stopped (``steps``, ``tol``, ...).
    extra : dict
        Solver-specific numbers (e.g. the chosen regularization weight).
    """

    x: torch.Tensor
    method: str
    steps: int
    seconds: float
    history: list = field(default_factory=list)
    final_distance: float = float("nan")
    relative_residual: float = float("nan")
    stopped: str = "steps"
    extra: dict = field(default_factory=dict)
