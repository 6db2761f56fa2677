"""The metaimage stage's exception type."""

from base.errors import MetaviewError


class DatasetError(MetaviewError, ValueError):
    """A meta-image grid or dataset folder is not what was expected.

    The message names the file or array, what was expected and what was found.
    """
