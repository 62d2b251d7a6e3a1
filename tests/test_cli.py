"""The CLI contract: light --help, one-line errors with exit status 2, no tracebacks."""

import subprocess
import sys

import pytest

from torchann.commands import COMMANDS

HEAVY = ("torch", "sklearn", "matplotlib", "skimage", "scipy")


def torchann(*args, **kw):
    return subprocess.run([sys.executable, "-m", "torchann", *args], capture_output=True,
                          text=True, timeout=kw.pop("timeout", 120), **kw)


def assert_user_error(proc, *words):
    """Exit status 2, exactly one line on stderr in the promised form, no traceback."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("torchann: error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize("args", [["--help"]] + [[c, "--help"] for c in COMMANDS])
def test_help_does_not_import_heavy_libraries(args):
    code = (
        "import sys\n"
        "from torchann.cli import main\n"
        "try:\n"
        f"    main({args!r})\n"
        "except SystemExit as e:\n"
        "    assert e.code in (0, None), e.code\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "usage:" in out.stdout


def test_console_script_and_module_agree():
    proc = torchann("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("torchann ")


def test_bad_option_value_is_one_line():
    assert_user_error(torchann("tensors", "--section", "9.9"), "--section", "invalid choice")


def test_bad_type_is_one_line():
    assert_user_error(torchann("tensors", "--seed", "abc"), "--seed")


def test_unknown_command_is_one_line():
    assert_user_error(torchann("frobnicate"), "frobnicate")


@pytest.mark.slow
def test_tensors_prints_the_whole_tour_in_both_languages():
    en = torchann("tensors")
    assert en.returncode == 0
    assert "3.1.1 Rank and shape" in en.stdout and "3.1.3 Autograd" in en.stdout
    assert "shape '[2, 4]' is invalid for input of size 9" in en.stdout
    assert "tensor(18.)" in en.stdout
    ko = torchann("tensors", "--lang", "ko")
    assert ko.returncode == 0
    assert "텐서의 차원 자유자재로 다루기" in ko.stdout and "바로잡기" in ko.stdout


@pytest.mark.slow
def test_tensors_section_filter():
    out = torchann("tensors", "--section", "3.1.2").stdout
    assert "torch.mm(w, x)" in out and "3.1.1" not in out and "w.grad" not in out
