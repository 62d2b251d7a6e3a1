"""Subcommands of the ``torchann`` CLI, one module each.

Every module has a docstring (its help text), ``add_arguments(parser)`` and ``run(args)``.
Module-level imports stay light (argparse only) so that ``--help`` never loads torch.
"""

COMMANDS = ("tensors", "restore", "train", "predict", "demo", "playground")
