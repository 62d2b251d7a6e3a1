"""3.1: every fact the tour states is checked against torch itself."""

import math

import pytest
import torch

from torchann.tensors import SECTIONS, format_tour, tour


def step(steps, code):
    matches = [s for s in steps if s.code == code]
    assert len(matches) == 1, code
    return matches[0]


@pytest.fixture(scope="module")
def steps():
    return tour(seed=0)


def test_every_line_runs_and_only_the_chapters_failures_raise(steps):
    failing = {s.code for s in steps if s.error}
    assert failing == {"x.view(2, 4)", "torch.mm(x, w)"}


def test_rank_and_shape_of_the_example(steps):
    x = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    assert torch.equal(step(steps, "x = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])").value, x)
    assert step(steps, "x.size()").value == x.size() == torch.Size([3, 3])
    assert step(steps, "x.shape").value == x.shape
    assert step(steps, "x.ndimension()").value == x.ndimension() == 2


def test_seed_corrections_on_rank(steps):
    # the chapter's note says a scalar is rank 1; torch says 0
    assert step(steps, "torch.tensor(1).ndimension()").value == 0 == torch.tensor(1).dim()
    assert torch.tensor(1).shape == torch.Size([])
    assert step(steps, "torch.tensor([1, 2, 3]).ndimension()").value == 1
    assert step(steps, "torch.tensor([[[1, 2, 3]]]).ndimension()").value == 3


def test_unsqueeze_and_squeeze_keep_the_elements(steps):
    unsq = step(steps, "x = torch.unsqueeze(x, 0)").value
    assert list(unsq.shape) == [1, 3, 3] and unsq.ndim == 3 and unsq.numel() == 9
    sq = step(steps, "x = torch.squeeze(x)").value
    assert list(sq.shape) == [3, 3] and sq.numel() == 9
    for code in ("x.view(3, 3, 1).squeeze().shape", "x.view(1, 3, 1, 3, 1).squeeze().shape",
                 "x.view(3, 1, 3).squeeze().shape"):
        assert step(steps, code).value == torch.Size([3, 3])
    assert torch.zeros(3, 1, 3).squeeze().shape == torch.Size([3, 3])


def test_view(steps):
    assert list(step(steps, "x = x.view(9)").value.shape) == [9]
    assert step(steps, "y = torch.randn(3, 3, 3)").value.numel() == 27
    assert step(steps, "y.view(27).shape") .value == torch.Size([27])
    assert step(steps, "y.view(9, 3).shape").value == torch.Size([9, 3])
    assert step(steps, "y.view(3, 9).shape").value == torch.Size([3, 9])


def test_the_failing_view_shows_torchs_own_message(steps):
    failed = step(steps, "x.view(2, 4)")
    with pytest.raises(RuntimeError) as err:
        torch.arange(9).view(2, 4)
    assert failed.value == str(err.value).splitlines()[0]
    assert "shape '[2, 4]' is invalid for input of size 9" in failed.value


def test_matrix_product_shape_rule(steps):
    w = step(steps, "w = torch.randn(5, 3, dtype=torch.float)").value
    x = step(steps, "x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])").value
    b = step(steps, "b = torch.randn(5, 2, dtype=torch.float)").value
    wx = step(steps, "wx = torch.mm(w, x)").value
    assert wx.shape == (w.shape[0], x.shape[1]) == (5, 2)
    assert torch.allclose(wx, w @ x)
    assert torch.allclose(step(steps, "result = wx + b").value, wx + b)
    assert "cannot be multiplied" in step(steps, "torch.mm(x, w)").value


def test_autograd_gradient_is_18(steps):
    grad = step(steps, "w.grad").value
    assert grad.item() == pytest.approx(18.0)
    w = torch.tensor(2.0, requires_grad=True)
    (3 * w).pow(2).backward()
    assert w.grad.item() == pytest.approx(18 * 2.0)  # dl/dw = 18 w, as the tour says


def test_relu_passes_positive_inputs_through(steps):
    out = step(steps, "torch.relu(torch.tensor([-2.0, 0.0, 3.0]))").value
    assert out.tolist() == [0.0, 0.0, 3.0]


def test_untrained_loss_is_ln2_not_an_error_rate(steps):
    loss = [s for s in steps if s.code.startswith("torch.nn.functional.binary_cross_entropy")]
    assert loss[0].value.item() == pytest.approx(math.log(2), rel=1e-6)
    assert "0.693" in loss[0].note["en"]


def test_seed_makes_the_random_parts_reproducible():
    a = step(tour(seed=3), "w = torch.randn(5, 3, dtype=torch.float)").value
    b = step(tour(seed=3), "w = torch.randn(5, 3, dtype=torch.float)").value
    c = step(tour(seed=4), "w = torch.randn(5, 3, dtype=torch.float)").value
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_runs_alone(section):
    steps = tour(section=section)
    assert steps and {s.section for s in steps} == {section}


def test_every_step_has_both_languages_and_korean_output_is_korean(steps):
    for s in steps:
        assert s.note["en"] and s.note["ko"]
    text = format_tour(steps, "ko")
    assert "랭크" in text and "원소" in text
    assert "Correction" not in text


def test_condensed_is_a_subset():
    full, short = tour(), tour(condensed=True)
    assert 0 < len(short) < len(full)
    assert {s.code for s in short} <= {s.code for s in full}
