"""Pictures of a part from its five machine directions, as face indices: what ``metaview
explain`` colours.

A view is drawn by the meta-image renderer (:class:`render.gl.GridRenderer`, one instanced
pass for all five views) with every face in a colour that encodes its index, so each pixel
says which face it shows (``-1``: background). The caller then paints the faces with
whatever it knows about them (what reaches them, how much the model weighed them) and
shades them by how squarely they face the camera, in NumPy: one GL pass serves every
colouring, and nothing about the meaning of a face lives in the renderer.

The part is the straightened mesh of :func:`geometry.reach.face_reach`, so the faces are
the ones the ray casting judged, and each view looks along one of the five directions
(:data:`VIEWS`): from the direction, raised by :data:`ELEVATION_DEG` and turned by
:data:`TURN_DEG` so that walls and floors both show (straight along an axis, the walls of a
pocket are edges).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from geometry.directions import DIRECTIONS
from geometry.reach import FaceReach, ReachConfig, face_reach
from render.errors import RenderError
from render.mesh import normalise
from render.views import tile_poses, view_rotation

#: Side views look from this far above the horizon; the top view from this far off vertical.
ELEVATION_DEG = 25.0
#: Each view is turned this far about +Z off its axis, so the walls facing the camera show.
TURN_DEG = 20.0
#: (elevation, azimuth) of the camera for each direction, in :data:`DIRECTIONS` order.
VIEWS = {
    "x_plus": (ELEVATION_DEG, 0.0 + TURN_DEG),
    "x_minus": (ELEVATION_DEG, 180.0 + TURN_DEG),
    "y_plus": (ELEVATION_DEG, 90.0 + TURN_DEG),
    "y_minus": (ELEVATION_DEG, 270.0 + TURN_DEG),
    "z_plus": (90.0 - ELEVATION_DEG, 270.0 + TURN_DEG),
}
#: Free border around the part in each view, as a fraction of half the view.
MARGIN = 0.06
#: The most faces an index colour can name (24 bits, less the background).
MAX_FACES = (1 << 24) - 1


@dataclass(frozen=True)
class ReachViews:
    """A part's per-face reach and its five views as face indices.

    Attributes
    ----------
    reach : FaceReach
        What reaches each face (:func:`geometry.reach.face_reach`), in the straightened frame.
    ids : (5, size, size) int32
        The face each pixel shows, ``-1`` for background; views in :data:`DIRECTIONS` order.
    rotations : (5, 3, 3) float64
        Each view's camera rotation (rows: right, up, towards the camera, in the part frame).
    """

    reach: FaceReach
    ids: np.ndarray
    rotations: np.ndarray

    def shading(self) -> np.ndarray:
        """(5, size, size) float32 in [0.45, 1]: how squarely each pixel's face faces its camera
        (1 for background), so flat colours still show the part's shape."""
        out = np.ones(self.ids.shape, dtype=np.float32)
        for v, rot in enumerate(self.rotations):
            facing = np.abs(self.reach.normals @ rot[2])  # (f,)
            shown = self.ids[v] >= 0
            out[v][shown] = 0.45 + 0.55 * facing[self.ids[v][shown]]
        return out


def view_rotations() -> np.ndarray:
    """(5, 3, 3) float64: the camera of each direction's view (:data:`VIEWS`)."""
    return np.stack([view_rotation(*VIEWS[name]) for name in DIRECTIONS])


def id_colours(n_faces: int) -> np.ndarray:
    """(n, 4) uint8: face ``i`` as the 24-bit number ``i + 1`` in RGB, opaque."""
    if n_faces > MAX_FACES:
        raise RenderError(f"expected at most {MAX_FACES} faces to index, got {n_faces}")
    code = np.arange(1, n_faces + 1, dtype=np.uint32)
    out = np.empty((n_faces, 4), dtype=np.uint8)
    out[:, 0] = code >> 16
    out[:, 1] = (code >> 8) & 0xFF
    out[:, 2] = code & 0xFF
    out[:, 3] = 255
    return out


def decode_ids(image: np.ndarray) -> np.ndarray:
    """(h, w) int32 face indices from an (h, w, 3) uint8 image of :func:`id_colours`."""
    rgb = image.astype(np.int32)
    return (rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]) - 1


def draw_face_ids(vertices: np.ndarray, faces: np.ndarray, size: int) -> np.ndarray:
    """The five direction views of a mesh as face indices, in one GL pass.

    Parameters
    ----------
    vertices : (v, 3) float
        The part in the frame the directions refer to (any scale or position).
    faces : (f, 3) int
    size : int
        Pixels on a side of each view.

    Returns
    -------
    (5, size, size) int32
        Face index per pixel, ``-1`` for background.
    """
    from render.gl import get_renderer

    if size < 8:
        raise RenderError(f"expected views of at least 8 px, got {size}")
    unit, _ = normalise(vertices)
    rots = view_rotations()
    poses = tile_poses(1, len(rots), rots)
    poses[:, :3, :3] *= 1.0 - MARGIN
    projection = np.diag([1.0 / len(rots), 1.0, -0.5, 1.0])
    image = get_renderer().draw(
        unit.astype(np.float32),
        np.asarray(faces, dtype=np.uint32),
        id_colours(len(faces)),
        poses,
        size * len(rots),
        size,
        projection,
    )
    ids = decode_ids(image)  # (size, 5 * size)
    return np.stack(np.split(ids, len(rots), axis=1)).astype(np.int32)


def reach_views(mesh, size: int = 320, cfg: ReachConfig | None = None) -> ReachViews:
    """Analyse a loaded mesh (:func:`geometry.reach.face_reach`) and draw its five views.

    Raises
    ------
    geometry.errors.ReachError
        The mesh cannot be measured.
    RenderError
        It cannot be drawn.
    """
    reach = face_reach(np.asarray(mesh.vertices), np.asarray(mesh.faces), cfg)
    ids = draw_face_ids(reach.vertices, reach.faces, size)
    return ReachViews(reach=reach, ids=ids, rotations=view_rotations())


def reach_views_file(path: str | os.PathLike, size: int = 320) -> ReachViews:
    """:func:`reach_views` of a mesh file (any format :func:`geometry.mesh.load_mesh` reads).

    Raises
    ------
    geometry.errors.MeshError, geometry.errors.ReachError, RenderError
        Naming the file.
    """
    from geometry.errors import ReachError
    from geometry.mesh import load_mesh

    mesh = load_mesh(path, merge=False)  # names the file itself
    try:
        return reach_views(mesh, size)
    except (ReachError, RenderError) as exc:
        raise type(exc)(f"{path}: {exc}") from None
