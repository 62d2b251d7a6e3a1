"""(not yet written) torchann restore."""


def add_arguments(parser):
    """Add this subcommand's options to parser."""


def run(args):
    """Run the subcommand."""
    from torchann.errors import TorchannError

    raise TorchannError("'torchann restore' is not available yet")
