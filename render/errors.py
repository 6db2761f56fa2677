"""The render stage's exception types."""

from metaview.errors import MetaviewError


class MeshError(MetaviewError, ValueError):
    """A mesh file cannot be turned into a meta-image.

    The message names the file, what was expected and what was found
    ("x.stl: truncated binary STL: header claims 12 triangles (684 bytes), file has 300 bytes").
    """


class RenderError(MetaviewError, RuntimeError):
    """Headless OpenGL failed (no context could be created, a draw call failed), or a
    render option is invalid."""
