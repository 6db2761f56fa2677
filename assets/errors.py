"""The error type of the :mod:`assets` stage (``metaview synth``)."""

from base.errors import MetaviewError


class SynthError(MetaviewError, ValueError):
    """A bad synthesis option or a part the generator could not make.

    The message names the option (or part) and says what was expected and what was found,
    for example ``per_class must be at least 1, got 0``.
    """
