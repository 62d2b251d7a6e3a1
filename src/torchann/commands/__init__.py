"""Subcommands of the ``torchann`` CLI, one module each.

Every module has a docstring (its help text), ``add_arguments(parser)`` and ``run(args)``.
Module-level imports stay light (argparse only) so that ``--help`` never loads torch.
"""

COMMANDS = ("tensors", "restore", "train", "predict", "demo", "playground")


def add_lang(parser, what="the summary, the report and the errors"):
    """Add ``--lang {en,ko}``; its default is :func:`torchann.i18n.language`'s answer."""
    parser.add_argument("--lang", choices=("en", "ko"), default=None,
                        help=f"language of {what} (default: TORCHANN_LANG, else the locale "
                             "(LANG=ko_KR.UTF-8 gives ko), else en; ko = 한국어)")
