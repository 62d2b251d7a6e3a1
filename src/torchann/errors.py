"""The one error type that carries a user's mistake from the library up to the CLI."""


class TorchannError(Exception):
    """A mistake the user can fix: a bad file, a wrong shape, an unusable option value.

    The message says what is wrong and what to do. The CLI prints it as one line,
    ``torchann: error: <message>``, and exits with status 2. Anything else that is
    raised is a bug and keeps its traceback.
    """


class ParameterError(TorchannError):
    """A bad parameter value, worded with the library's parameter names (``lr``, ``epochs``).

    ``names`` lists the parameters the message mentions, so that a face can put its own
    words for them: the CLI turns ``lr`` into ``--lr`` (:meth:`worded`).

    Examples
    --------
    >>> err = ParameterError("weight_decay works with optimizer sgd or adam", "weight_decay",
    ...                      "optimizer")
    >>> err.worded(lambda name: "--" + name.replace("_", "-"))
    '--weight-decay works with --optimizer sgd or adam'
    """

    def __init__(self, message, *names):
        super().__init__(message)
        self.names = names

    def worded(self, word):
        """The message with each of ``names`` replaced by ``word(name)``."""
        import re

        message = str(self)
        for name in self.names:
            message = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", word(name), message)
        return message
