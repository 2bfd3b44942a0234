"""The runtime's base class of errors whose message is the whole story."""


class SetupError(RuntimeError):
    """A run could not be set up as asked, and the message says what to change.

    The runners and ``enjoy`` report it in one line, without a traceback (which would only bury the fix).
    """
