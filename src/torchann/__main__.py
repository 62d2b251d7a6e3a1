"""``python -m torchann`` is the same as the ``torchann`` command."""

from torchann.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
