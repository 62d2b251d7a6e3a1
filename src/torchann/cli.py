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
from torchann.i18n import LANGUAGES, language, localize, recognize, tr

PROG = "torchann"
#: The language of this run's messages, once known (``--lang``, else :func:`language`).
_run = {"lang": None}


def fail(message, lang: str | None = None) -> int:
    """Print a user's mistake as the one line the CLI promises and return status 2.

    ``message`` is a string, a :class:`torchann.i18n.Message` or a :class:`TorchannError`;
    a message with a catalogue key is said in ``lang`` (default: this run's language). The
    library's backticked parameter names become flags (:func:`torchann.errors.as_flags`).
    """
    lang = lang or _run["lang"] or language()
    if isinstance(message, TorchannError):
        message = message.args[0] if message.args else ""
    text = as_flags(" ".join(localize(message, lang).split()))
    print(tr("cli.error", lang, message=text), file=sys.stderr)
    return 2


def _lang_option(argv) -> str | None:
    """The value of ``--lang`` in ``argv`` when it is a known language, before parsing."""
    for i, arg in enumerate(argv):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else (
            argv[i + 1] if arg == "--lang" and i + 1 < len(argv) else None)
        if value in LANGUAGES:
            return value
    return None


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other user mistake."""

    def error(self, message: str):  # noqa: D401 - argparse's name
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        command = f"{PROG} {sub}" if sub else PROG
        said = recognize(message, "argparse.") or message  # argparse's words, when known
        self.exit(fail(tr("cli.usage", _run["lang"] or language(), message=said,
                          command=command)))


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
    argv = sys.argv[1:] if argv is None else list(argv)
    _run["lang"] = language(_lang_option(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    _run["lang"] = language(getattr(args, "lang", None) or _run["lang"])
    args._argv = list(sys.argv[1:] if argv is None else argv)  # for commands that relaunch
    if args.command is None:
        parser.print_help()
        return 0
    written_before = _written_count()
    try:
        return int(args._module.run(args) or 0)
    except TorchannError as err:
        return fail(err)
    except KeyboardInterrupt:
        from torchann.commands._progress import interrupted_message

        written = _written_count() - written_before
        print(f"{PROG}: {localize(interrupted_message(written), _run['lang'])}",
              file=sys.stderr)
        return 130
    except BrokenPipeError:
        # stdout closed early (e.g. piped into 'head'): not an error of ours
        sys.stderr.close()
        return 0
