"""The step-wise solvers of torchann.restore.steps: restore() and the race drive the same ones."""

import itertools

import torch

from torchann import restore as lib
from torchann.restore import steps

SIZE = 12


def _problem():
    torch.manual_seed(1)
    original = torch.rand(SIZE * SIZE)
    return lib.weird_function(original)


def test_gd_steps_reproduce_restore_gd():
    y = _problem()
    result = lib.restore(y, method="gd", steps=50)
    x0 = lib.start_point("random", y, 0)
    iterates = list(itertools.islice(steps.gd_steps(lib.weird_function, y, x0, 0.8), 50))
    assert [(k, d) for k, _, d in iterates] == result.history
    final = next(itertools.islice(steps.gd_steps(lib.weird_function, y, x0, 0.8), 50, 51))
    assert torch.equal(final[1], result.x)
    assert final[2] == result.final_distance


def test_adam_steps_reproduce_restore_adam():
    y = _problem()
    result = lib.restore(y, method="adam", steps=30)
    x0 = lib.start_point("mid", y)
    iterates = steps.adam_steps(lib.weird_function, y, x0, 0.01)
    history = [(k, d) for k, _, d in itertools.islice(iterates, 30)]
    assert history == result.history
    assert torch.equal(next(iterates)[1], result.x)


def test_cg_and_gn_steps_reproduce_restore():
    y = _problem()
    cg = lib.restore(y, method="cg", steps=40)
    history = []  # each iterate's tensors are updated in place by the next iteration
    for it in itertools.islice(steps.cg_steps(lib.weird_function, y), cg.steps + 1):
        history.append((it.step, float(it.residual.norm())))
    assert history == cg.history
    assert torch.equal(it.x, cg.x)
    gn = lib.restore(y, method="gn")
    first = next(steps.gn_steps(lib.weird_function, y, lib.start_point("mid", y)))
    assert (first.step, first.distance) == gn.history[0]


def test_race_lanes_are_the_library_generators():
    from torchann.playground.race import lane_steps

    y = _problem()
    x0 = torch.randn(y.numel(), generator=torch.Generator().manual_seed(0))
    lane = lane_steps("gd", lib.weird_function, y, x0, 0.8)
    library = steps.gd_steps(lib.weird_function, y, x0, 0.8)
    before = next(library)[2]
    for _ in range(5):  # each step's result, shown with the distance it started from
        x, distance = next(lane)
        _, x_lib, d_lib = next(library)
        assert torch.equal(x, x_lib) and distance == before
        before = d_lib
    lane = lane_steps("cg", lib.weird_function, y, x0, 0.01)
    cg = steps.cg_steps(lib.weird_function, y)
    next(cg)
    for _ in range(5):
        x, distance = next(lane)
        it = next(cg)
        assert torch.equal(x, it.x) and distance == float(it.residual.norm())
