"""The render stage's exception types."""

from base.errors import MetaviewError
from geometry.errors import MeshError

# A mesh that cannot be used is the geometry layer's error; the render stage raises it as is.
__all__ = ["MeshError", "RenderError"]


class RenderError(MetaviewError, RuntimeError):
    """Headless OpenGL failed (no context could be created, a draw call failed), or a
    render option is invalid."""
