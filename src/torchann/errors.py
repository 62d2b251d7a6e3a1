"""The one error type that carries a user's mistake from the library up to the CLI."""


class TorchannError(Exception):
    """A mistake the user can fix: a bad file, a wrong shape, an unusable option value.

    The message says what is wrong and what to do. The CLI prints it as one line,
    ``torchann: error: <message>``, and exits with status 2. Anything else that is
    raised is a bug and keeps its traceback.
    """
