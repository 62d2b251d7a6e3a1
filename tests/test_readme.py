"""The README stays the front door: its two commands are what CI runs, and every option is there."""

import argparse
import re
from pathlib import Path

import pytest

from torchann.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_two_commands_and_ci_runs_the_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0] == "pip install torch==2.13.0 . && torchann demo"
    test_command = blocks[1]
    assert "pytest" in test_command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def _check_options_documented(text, readme, name):
    """Every option of ``torchann name`` is named in its section of ``readme``."""
    parts = text.split(f"\n## `torchann {name}`", 1)
    assert len(parts) == 2, f"no {readme} section for torchann {name}"
    section = parts[1].split("\n## ", 1)[0]
    for action in _subparsers()[name]._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert f"`{option}" in section, f"torchann {name} {option} is not in its section"


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_is_documented(name):
    _check_options_documented(README, "README", name)


KOREAN = (ROOT / "README.ko.md").read_text(encoding="utf-8")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _tables(text):
    """The number of body rows of each markdown table, in order."""
    tables, rows = [], None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            rows = -1 if rows is None else rows + 1  # the header and its rule are not rows
        elif rows is not None:
            tables.append(rows)
            rows = None
    return tables


def test_korean_readme_is_linked_both_ways():
    assert "(README.ko.md)" in "\n".join(README.splitlines()[:5])
    assert "(README.md)" in "\n".join(KOREAN.splitlines()[:5])


def test_korean_readme_has_the_same_commands_tables_and_figures():
    english_blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    korean_blocks = re.findall(r"```sh\n(.*?)\n```", KOREAN, flags=re.S)
    assert korean_blocks[:2] == english_blocks[:2]
    assert _tables(KOREAN) == _tables(README)
    for figure in re.findall(r"\]\((docs/[^)]+\.png)\)", README):  # or its Korean version
        shown = [f for f in (figure, figure.replace(".png", "-ko.png")) if f"]({f})" in KOREAN]
        assert shown and (ROOT / shown[0]).exists(), figure


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_is_documented_in_korean(name):
    _check_options_documented(KOREAN, "README.ko.md", name)


@pytest.mark.parametrize("text", [README, KOREAN], ids=["README.md", "README.ko.md"])
def test_both_readmes_show_a_korean_run(text):
    runs = re.findall(r"```text\n(\$ torchann demo --lang ko\n.*?)\n```", text, flags=re.S)
    assert runs, "no Korean example"
    lines = runs[0].splitlines()[1:]
    assert len(lines) >= 10 and all(HANGUL.search(line) for line in lines)
