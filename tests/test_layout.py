"""The layout rules that keep each face thin: short command modules, short functions, and the
chapter's building blocks each defined in one place (see CONTRIBUTING.md)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "torchann"
MAX_COMMAND_LINES = 250
MAX_FUNCTION_BODY = 90


def _sources():
    return sorted(SRC.rglob("*.py"))


def test_every_command_module_is_short():
    long = {p.name: n for p in (SRC / "commands").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_COMMAND_LINES}
    assert not long, f"command modules over {MAX_COMMAND_LINES} lines: {long}"


def test_no_function_body_is_long():
    long = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                first = body[0]
                if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                        and isinstance(first.value.value, str) and len(body) > 1):
                    first = body[1]  # the docstring does not count
                lines = node.end_lineno - first.lineno + 1
                if lines > MAX_FUNCTION_BODY:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"function bodies over {MAX_FUNCTION_BODY} lines: {long}"


def _definitions(pattern):
    found = []
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{path.relative_to(SRC)}:{number}")
    return found


def test_one_training_loop_and_one_optimizer_factory():
    assert len(_definitions(r"^\s*def make_optimizer\(")) == 1, _definitions(
        r"^\s*def make_optimizer\(")


def test_one_model_file_writer():
    assert len(_definitions(r"^def save_model\(")) == 1, _definitions(r"^def save_model\(")


def test_no_module_imports_a_siblings_private_name():
    private = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torchann"):
                for alias in node.names:
                    module = SRC.parent.joinpath(*f"{node.module}.{alias.name}".split("."))
                    is_module = module.with_suffix(".py").is_file() or module.is_dir()
                    if alias.name.startswith("_") and not alias.name.startswith("__") \
                            and not is_module:
                        private.append(f"{path.relative_to(SRC)}: {node.module}.{alias.name}")
    assert not private, f"imports of private names: {private}"


def test_one_network_family():
    """Every ``nn.Module`` of the package is defined in classify/mlp.py or derives from its
    ``Network`` (the chapter's ``NeuralNet`` is the one-hidden-layer member)."""
    direct = _definitions(r"^class \w+\((torch\.)?nn\.Module\)")
    assert all(place.startswith("classify/mlp.py:") for place in direct), direct
    from torchann.classify.chapter import NeuralNet
    from torchann.classify.mlp import MLP, Network

    assert issubclass(NeuralNet, Network) and issubclass(MLP, Network)
