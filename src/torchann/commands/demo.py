"""(not yet written) torchann demo."""


def add_arguments(parser):
    """Add this subcommand's options to parser."""


def run(args):
    """Run the subcommand."""
    from torchann.errors import TorchannError

    raise TorchannError("'torchann demo' is not available yet")
