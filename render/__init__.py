"""The render stage: mesh files -> normal-map meta-images, headless.

>>> from render import RenderConfig, render_file
>>> image = render_file("part.stl", RenderConfig())   # (960, 960, 3) uint8: 5x5 tiles of 192 px

See :mod:`render.views` for the view-grid convention, :mod:`render.gl` for the
one-pass instanced renderer and :mod:`render.batch` for ``metaview render``.
"""

from geometry.mesh import MESH_SUFFIXES, load_mesh
from render.config import RenderConfig
from render.core import RenderStats, prepare, render_file, render_mesh, render_prepared
from render.errors import MeshError, RenderError
from render.mesh import PreparedMesh, normal_colours

__all__ = [
    "MESH_SUFFIXES",
    "MeshError",
    "PreparedMesh",
    "RenderConfig",
    "RenderError",
    "RenderStats",
    "load_mesh",
    "normal_colours",
    "prepare",
    "render_file",
    "render_mesh",
    "render_prepared",
]
