"""Library errors speak of parameters; only the CLI speaks of flags."""

import ast
import re
from pathlib import Path

import pytest

from torchann.errors import TorchannError, as_flags

SRC = Path(__file__).resolve().parents[1] / "src" / "torchann"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]+")


def _library_error_texts():
    """(place, text) of every string in a ``TorchannError(...)`` call outside the CLI."""
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC)
        if relative.parts[0] == "commands" or relative.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TorchannError":
                for part in ast.walk(node):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        yield f"{relative}:{node.lineno}", part.value


def test_library_errors_name_parameters_not_flags():
    flags = [f"{place}: {text!r}" for place, text in _library_error_texts()
             if FLAG.search(text)]
    assert not flags, "library errors that name CLI flags:\n" + "\n".join(flags)


def test_as_flags_writes_parameters_as_flags():
    assert as_flags("`lr=10`: training diverged; lower `lr`") == \
        "--lr 10: training diverged; lower --lr"
    assert as_flags("`weight_decay=-1`: must be 0 or more") == \
        "--weight-decay -1: must be 0 or more"
    assert as_flags("`hidden_size`", {"hidden_size": "--hidden"}) == "--hidden"
    assert as_flags("no parameter here") == "no parameter here"


def test_a_library_error_reads_in_parameters_and_the_cli_in_flags(tmp_path, capsys):
    from torchann import runtime
    from torchann.cli import main

    with pytest.raises(TorchannError, match=r"`threads=0`"):
        runtime.set_threads(0)
    assert main(["restore", "--threads", "0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("torchann: error: --threads 0: must be 1 or more"), err
    assert "`" not in err
