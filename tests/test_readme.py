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


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_is_documented(name):
    parts = README.split(f"\n## `torchann {name}`", 1)
    assert len(parts) == 2, f"no README section for torchann {name}"
    section = parts[1].split("\n## ", 1)[0]
    for action in _subparsers()[name]._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert f"`{option}" in section, f"torchann {name} {option} is not in its section"
