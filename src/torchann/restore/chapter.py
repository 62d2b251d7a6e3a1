"""The chapter's own code for 3.2: the corruption and the loss, as in the book."""

from __future__ import annotations

import torch


def weird_function(x, n_iter=5):
    """Corrupt a flat signal the way the chapter does.

    Each of ``n_iter`` rounds replaces ``h[k]`` by ``-(h[k] + h[k-1] - h[k+1]) / 3``, with
    zeros beyond both ends, and after rounds 0, 2, 4 swaps the two halves of ``h``.

    Parameters
    ----------
    x : torch.Tensor
        Shape ``(n,)``, or ``(batch, n)`` to corrupt several signals at once.
    n_iter : int
        Number of rounds.

    Returns
    -------
    torch.Tensor
        Same shape as ``x``.

    Notes
    -----
    The function is linear and invertible (condition number about 56 for n = 10,000), but
    the solvers here never use that: they only call it and differentiate it.
    """
    h = x
    filt = torch.tensor([-1.0 / 3, 1.0 / 3, -1.0 / 3], dtype=x.dtype, device=x.device)
    for i in range(n_iter):
        zero = h.new_zeros(h.shape[:-1] + (1,))
        h_l = torch.cat((zero, h[..., :-1]), -1)  # h[k-1]
        h_r = torch.cat((h[..., 1:], zero), -1)  # h[k+1]
        h = filt[0] * h + filt[2] * h_l + filt[1] * h_r
        if i % 2 == 0:
            half = h.shape[-1] // 2
            h = torch.cat((h[..., half:], h[..., :half]), -1)
    return h


def distance_loss(y_pred, y):
    """The chapter's loss: the Euclidean distance ``||y_pred - y||`` (not squared)."""
    return torch.dist(y_pred, y)
