"""The train stage's exception type."""

from base.errors import MetaviewError


class TrainError(MetaviewError, RuntimeError):
    """Training could not run or did not succeed.

    The message says what was expected, what was found, and what to do (for
    example: pass ``--weights none`` when ImageNet weights cannot be fetched).
    """
