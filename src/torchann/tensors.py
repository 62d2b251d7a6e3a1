"""3.1 Tensors and autograd: the chapter's walkthrough, computed live by torch.

The tour is a list of :class:`Step`. Each step holds one line of code, the value torch
returned when that very line ran, and a one-sentence explanation in English and Korean.
Nothing is hard-coded: the code strings are executed, so what is shown is what ran.
Where the chapter's note is wrong (a scalar has rank 0, ReLU passes positive inputs
through, a loss is not an error rate), the explanation says what is right.

Examples
--------
>>> from torchann.tensors import tour
>>> steps = tour(section="3.1.3")
>>> [s.value for s in steps if s.code == "w.grad"]
[tensor(18.)]
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import torch

SECTIONS = {
    "3.1.1": {"en": "3.1.1 Rank and shape", "ko": "3.1.1 텐서의 차원 자유자재로 다루기"},
    "3.1.2": {"en": "3.1.2 Operations and the matrix product",
              "ko": "3.1.2 텐서를 이용한 연산과 행렬곱"},
    "3.1.3": {"en": "3.1.3 Autograd", "ko": "3.1.3 Autograd"},
}

# (section, code, key step for the condensed tour, English note, Korean note)
_SCRIPT = [
    ("3.1.1", "x = torch.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])", True,
     "An integer tensor of 3 rows and 3 columns: a matrix, which is rank 2.",
     "3행 3열의 정수 텐서입니다. 행렬이므로 랭크는 2입니다."),
    ("3.1.1", "x.size()", True,
     "size() gives the length of each axis.",
     "size()는 각 축의 길이를 알려 줍니다."),
    ("3.1.1", "x.shape", False,
     "shape is the same information, as an attribute.",
     "shape는 같은 정보를 속성으로 알려 줍니다."),
    ("3.1.1", "x.ndimension()", True,
     "ndimension() gives the rank: the number of axes.",
     "ndimension()은 랭크, 즉 축의 개수를 알려 줍니다."),
    ("3.1.1", "torch.tensor(1).ndimension()", True,
     "Correction: a scalar has rank 0 and shape [] (the chapter's note says rank 1).",
     "바로잡기: 스칼라의 랭크는 0이고 모양은 []입니다(원문은 랭크 1이라고 씁니다)."),
    ("3.1.1", "torch.tensor([1, 2, 3]).ndimension()", False,
     "A vector has rank 1; a matrix, rank 2.",
     "벡터의 랭크는 1, 행렬의 랭크는 2입니다."),
    ("3.1.1", "torch.tensor([[[1, 2, 3]]]).ndimension()", False,
     "Any rank is a tensor; rank 3 and above is what people usually mean by 'a tensor'.",
     "모든 랭크가 텐서이며, 흔히 좁은 뜻의 '텐서'는 랭크 3 이상을 가리킵니다."),
    ("3.1.1", "x = torch.unsqueeze(x, 0)", True,
     "unsqueeze(x, 0) adds a size-1 axis in front: [3, 3] becomes [1, 3, 3], rank 3, "
     "and the element count stays 9.",
     "unsqueeze(x, 0)은 맨 앞에 크기 1인 축을 더합니다. [3, 3]이 랭크 3의 [1, 3, 3]이 되고 "
     "원소 수는 9로 그대로입니다."),
    ("3.1.1", "x = torch.squeeze(x)", True,
     "squeeze() removes every size-1 axis: back to [3, 3].",
     "squeeze()는 크기 1인 축을 모두 없앱니다. 다시 [3, 3]이 됩니다."),
    ("3.1.1", "x.view(3, 3, 1).squeeze().shape", False,
     "A trailing size-1 axis is removed too; the 9 elements stay.",
     "맨 뒤의 크기 1인 축도 없어지며 원소 9개는 그대로입니다."),
    ("3.1.1", "x.view(1, 3, 1, 3, 1).squeeze().shape", False,
     "Several size-1 axes are all removed.",
     "크기 1인 축이 여러 개면 모두 없어집니다."),
    ("3.1.1", "x.view(3, 1, 3).squeeze().shape", False,
     "A size-1 axis in the middle is removed as well.",
     "가운데에 있는 크기 1인 축도 없어집니다."),
    ("3.1.1", "x = x.view(9)", True,
     "view(9) reshapes the [3, 3] matrix into a rank-1 vector of 9 elements.",
     "view(9)는 [3, 3] 행렬을 원소 9개의 랭크 1 벡터로 바꿉니다."),
    ("3.1.1", "y = torch.randn(3, 3, 3)", False,
     "A 3x3x3 tensor of random numbers: 27 elements.",
     "3x3x3 난수 텐서입니다. 원소는 27개입니다."),
    ("3.1.1", "y.view(27).shape", False,
     "It views as a vector of 27 elements...",
     "원소 27개의 벡터로도 볼 수 있고..."),
    ("3.1.1", "y.view(9, 3).shape", False,
     "...or as any other shape with 27 elements, such as [9, 3]...",
     "...[9, 3]처럼 원소가 27개인 다른 모양으로도 볼 수 있고..."),
    ("3.1.1", "y.view(3, 9).shape", False,
     "...or [3, 9].",
     "...[3, 9]로도 볼 수 있습니다."),
    ("3.1.1", "x.view(2, 4)", True,
     "view fails when the element counts differ: 2 x 4 = 8 is not 9. Caught with try/except.",
     "원소 수가 다르면 view는 실패합니다. 2 x 4 = 8은 9가 아닙니다. try/except로 잡았습니다."),
    ("3.1.2", "w = torch.randn(5, 3, dtype=torch.float)", True,
     "A 5x3 matrix of standard normal random floats.",
     "표준정규분포에서 뽑은 5x3 실수 행렬입니다."),
    ("3.1.2", "x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])", True,
     "A 3x2 matrix of floats.",
     "3x2 실수 행렬입니다."),
    ("3.1.2", "b = torch.randn(5, 2, dtype=torch.float)", False,
     "A 5x2 matrix to add later.",
     "나중에 더할 5x2 행렬입니다."),
    ("3.1.2", "wx = torch.mm(w, x)", True,
     "Matrix product: A·B needs A's columns = B's rows (3 = 3); the result has A's rows and "
     "B's columns, 5x2.",
     "행렬곱 A·B는 A의 열 수와 B의 행 수가 같아야 하고(3 = 3), 결과는 A의 행 수와 B의 열 수를 "
     "가진 5x2입니다."),
    ("3.1.2", "torch.mm(x, w)", False,
     "In the other order the rule fails: x has 2 columns but w has 5 rows.",
     "순서를 바꾸면 규칙이 깨집니다. x의 열은 2개인데 w의 행은 5개입니다."),
    ("3.1.2", "result = wx + b", True,
     "Adding two 5x2 tensors works element by element.",
     "같은 5x2 모양의 두 텐서를 더하면 원소끼리 더해집니다."),
    ("3.1.3", "w = torch.tensor(1.0, requires_grad=True)", True,
     "requires_grad=True asks autograd to track every operation on w.",
     "requires_grad=True로 w에 대한 모든 연산을 autograd가 기록합니다."),
    ("3.1.3", "a = w * 3", True,
     "a = 3w, recorded in the graph.",
     "a = 3w가 계산 그래프에 기록됩니다."),
    ("3.1.3", "l = a ** 2", True,
     "l = a² = (3w)² = 9w².",
     "l = a² = (3w)² = 9w²입니다."),
    ("3.1.3", "l.backward()", True,
     "backward() computes dl/dw through the graph and stores it in w.grad.",
     "backward()는 그래프를 따라 dl/dw를 계산해 w.grad에 저장합니다."),
    ("3.1.3", "w.grad", True,
     "dl/dw = 18w, which is 18 at w = 1.",
     "dl/dw = 18w이므로 w = 1에서 18입니다."),
    ("3.1.3", "torch.relu(torch.tensor([-2.0, 0.0, 3.0]))", False,
     "Correction (for 3.3): ReLU returns max(0, x), so a positive input passes through "
     "unchanged; it does not become 1.",
     "바로잡기(3.3 예습): ReLU는 max(0, x)를 돌려줍니다. 양수 입력은 1이 되는 게 아니라 그대로 "
     "나옵니다."),
    ("3.1.3", "torch.nn.functional.binary_cross_entropy(torch.full((4,), 0.5), "
              "torch.tensor([0.0, 1.0, 0.0, 1.0]))", False,
     "Correction (for 3.3): a classifier that always answers 0.5 has a loss of ln 2 ≈ 0.693; "
     "a loss is not an error rate, so 0.71 does not mean '71% wrong'.",
     "바로잡기(3.3 예습): 늘 0.5라고 답하는 분류기의 손실은 ln 2 ≈ 0.693입니다. 손실은 오답률이 "
     "아니므로 0.71이 '71% 틀림'을 뜻하지 않습니다."),
]


@dataclass
class Step:
    """One line of the tour.

    Attributes
    ----------
    section : str
        ``"3.1.1"``, ``"3.1.2"`` or ``"3.1.3"``.
    code : str
        The line that ran.
    value : object
        What torch returned (for an assignment, the assigned value), or the error message
        when the line raised.
    error : bool
        True when the line raised (the chapter's ``view(2, 4)``), caught as in the chapter.
    key : bool
        Part of the condensed tour.
    note : dict
        ``{"en": ..., "ko": ...}`` explanations.
    """

    section: str
    code: str
    value: object
    error: bool
    key: bool
    note: dict


def _run(code: str, namespace: dict):
    """Run one line of the tour; return ``(value, error)``."""
    try:
        try:
            return eval(compile(code, "<tour>", "eval"), namespace), False
        except SyntaxError:
            exec(compile(code, "<tour>", "exec"), namespace)
            return namespace[code.split("=", 1)[0].strip()], False
    except RuntimeError as err:
        return str(err).splitlines()[0], True


def tour(section: str | None = None, seed: int = 0, condensed: bool = False) -> list[Step]:
    """Run the 3.1 walkthrough and return its steps.

    Parameters
    ----------
    section : {"3.1.1", "3.1.2", "3.1.3"}, optional
        Only this part (each part runs on its own, in a fresh namespace).
    seed : int
        Seed for ``torch.manual_seed``, so the random tensors are reproducible.
    condensed : bool
        Keep only the key steps.

    Returns
    -------
    list of Step
    """
    if section is not None and section not in SECTIONS:
        from torchann.errors import TorchannError

        raise TorchannError(key="tensors.unknown_section_use", section=section,
                            choices=', '.join(SECTIONS))
    torch.manual_seed(seed)
    steps, namespaces = [], {}
    for sec, code, key, en, ko in _SCRIPT:
        if section not in (None, sec):
            continue
        namespace = namespaces.setdefault(sec, {"torch": torch})
        value, error = _run(code, namespace)
        if key or not condensed:
            steps.append(Step(sec, code, value, error, key, {"en": en, "ko": ko}))
    return steps


def describe(value, lang: str = "en") -> str:
    """Show a value the way the tour prints it: tensors with their shape, rank and size."""
    if not isinstance(value, torch.Tensor):
        return repr(value)
    shape, rank, count = list(value.shape), value.ndim, value.numel()
    if lang == "ko":
        return f"{value!r}\n  모양 {shape}, 랭크 {rank}, 원소 {count}개"
    return f"{value!r}\n  shape {shape}, rank {rank}, {count} element{'s' * (count != 1)}"


def format_tour(steps: list[Step], lang: str = "en") -> str:
    """Format steps as the text the ``torchann tensors`` command prints."""
    lines, current = [], None
    for step in steps:
        if step.section != current:
            current = step.section
            if lines:
                lines.append("")
            title = SECTIONS[current][lang]
            width = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in title)
            lines += [title, "=" * width]
        lines.append(f">>> {step.code}")
        shown = f"{'RuntimeError: ' if step.error else ''}{describe(step.value, lang)}"
        lines += shown.splitlines()
        lines.append(f"# {step.note[lang]}")
    return "\n".join(lines)
