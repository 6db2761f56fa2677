"""The geometry layer's exception type."""

from base.errors import MetaviewError


class MeshError(MetaviewError, ValueError):
    """A mesh file or mesh arrays cannot be used.

    The message names the file where there is one, what was expected and what was found
    ("x.stl: truncated binary STL: header claims 12 triangles (684 bytes), file has 300 bytes").
    """


class ReachError(MeshError):
    """A mesh the reachability analysis cannot measure, or a bad option for it; the message
    names the file where there is one."""
