"""The one error type that carries a user's mistake from the library up to the CLI."""


class TorchannError(Exception):
    """A mistake the user can fix: a bad file, a wrong shape, an unusable option value.

    The message says what is wrong and what to do. The CLI prints it as one line,
    ``torchann: error: <message>``, and exits with status 2. Anything else that is
    raised is a bug and keeps its traceback.
    """


class ParameterError(TorchannError):
    """A bad parameter value, worded with the library's parameter names (``lr``, ``epochs``).

    The message names each parameter as ``{name}``, so that a face can put its own words for
    them: ``str(err)`` says ``lr``, and the CLI says ``--lr`` (:meth:`worded`).

    Examples
    --------
    >>> err = ParameterError("{weight_decay} works with {optimizer} sgd or adam",
    ...                      "weight_decay", "optimizer")
    >>> str(err)
    'weight_decay works with optimizer sgd or adam'
    >>> err.worded(lambda name: "--" + name.replace("_", "-"))
    '--weight-decay works with --optimizer sgd or adam'
    """

    def __init__(self, template, *names):
        self.template, self.names = template, names
        super().__init__(self.worded(str))

    def worded(self, word):
        """The message with each ``{name}`` replaced by ``word(name)``."""
        message = self.template
        for name in self.names:
            message = message.replace("{" + name + "}", word(name))
        return message

    def prefixed(self, prefix):
        """The same error, its message after ``prefix`` (e.g. the file it is about)."""
        return ParameterError(prefix + self.template, *self.names)


def prefixed(err, prefix):
    """``err`` (a :class:`TorchannError`) with its message after ``prefix``, a
    :class:`ParameterError` staying one."""
    if isinstance(err, ParameterError):
        return err.prefixed(prefix)
    return TorchannError(f"{prefix}{err}")
