"""A nonlinear corruption to try ``torchann restore`` on: a saturating sensor.

``squash`` is tanh of each pixel plus a little of its right-hand neighbour: dark and bright
pixels saturate towards -1 and 1, as in a sensor or a camera's response curve. It is smooth
and invertible, but not linear, so ``torchann restore --corruption examples/squash.py:squash``
solves it with Gauss-Newton (``--method auto`` picks ``gn``).

Run this file to write the demo's inputs::

    python examples/squash.py    # writes original.npy and squashed.npy (64x64 photograph)
    torchann restore squashed.npy --corruption examples/squash.py:squash --reference original.npy
"""

import math

import torch


def squash(x):
    """tanh(4 (x - 0.5) + (right neighbour - 0.5)) of a flat, square grey image in [0, 1]."""
    side = math.isqrt(x.numel())
    h = x.reshape(side, side)
    return torch.tanh(4 * (h - 0.5) + (torch.roll(h, 1, 1) - 0.5)).reshape(-1)


if __name__ == "__main__":
    import numpy as np

    from torchann.restore import demo_image

    original = demo_image(64)
    squashed = squash(torch.from_numpy(original.reshape(-1))).numpy().reshape(original.shape)
    np.save("original.npy", original)
    np.save("squashed.npy", squashed)
    print("wrote original.npy and squashed.npy (64x64)")
