"""The ``torchann`` command: a thin layer over the library.

Only argparse is imported here, so ``torchann --help`` answers without loading torch.
Each subcommand lives in :mod:`torchann.commands` as ``add_arguments(parser)`` and
``run(args)``; their heavy imports happen inside ``run``.

Exit status: 0 success, 2 a user's mistake (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from torchann import __version__
from torchann.commands import COMMANDS
from torchann.errors import TorchannError, as_flags

PROG = "torchann"


def fail(message: str) -> int:
    """Print a user's mistake as the one line the CLI promises and return status 2.

    The library's backticked parameter names become flags (:func:`torchann.errors.as_flags`).
    """
    text = as_flags(" ".join(str(message).split()))
    print(f"{PROG}: error: {text}", file=sys.stderr)
    return 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other user mistake."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        hint = f"see 'torchann {sub} --help'" if sub else "see 'torchann --help'"
        self.exit(fail(f"{message}; {hint}"))


def build_parser() -> argparse.ArgumentParser:
    """Build the parser for all subcommands without importing any of their libraries."""
    parser = _Parser(
        prog=PROG,
        description="Chapter 3 of '펭귄브로의 3분 딥러닝 파이토치맛' (ANN with PyTorch) as a tool: "
        "tensors and autograd (3.1), image restoration (3.2), a first neural network (3.3).",
        epilog="Start with 'torchann demo', which runs the whole chapter on built-in data.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"torchann.commands.{name}")
        doc = (module.__doc__ or "").strip()
        sub = subparsers.add_parser(
            name,
            help=doc.splitlines()[0] if doc else None,
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def _written_count() -> int:
    """How many output files this process has written (torchann.io keeps the record)."""
    io = sys.modules.get("torchann.io")  # imported only by commands that write files
    return len(io.written_files()) if io is not None else 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args._argv = list(sys.argv[1:] if argv is None else argv)  # for commands that relaunch
    if args.command is None:
        parser.print_help()
        return 0
    written_before = _written_count()
    try:
        return int(args._module.run(args) or 0)
    except TorchannError as err:
        return fail(str(err))
    except KeyboardInterrupt:
        from torchann.commands._progress import interrupted_message

        written = _written_count() - written_before
        print(f"{PROG}: {interrupted_message(written)}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into 'head'): not an error of ours
        sys.stderr.close()
        return 0
