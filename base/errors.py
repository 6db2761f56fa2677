"""The base class of every error metaview reports to a user.

Each stage has its own exception type that subclasses both this base and the
closest built-in (``MeshError(MetaviewError, ValueError)``), so library callers
can catch the built-in they expect and the CLI can catch every user-facing
error in one place and print its message without a stack trace.
"""


class MetaviewError(Exception):
    """An error whose message is meant for the user: what was expected, what was found, where."""
