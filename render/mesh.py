"""Mesh files in, drawable triangles out: load, check, merge, normalise, simplify, colour.

Everything here is plain numpy + trimesh; nothing touches OpenGL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from geometry.errors import MeshError
from geometry.mesh import bounds
from geometry.normals import BOX_TOL
from geometry.stock import stock_faces
from geometry.straighten import straighten_vertices

logger = logging.getLogger(__name__)

#: The colour of stock faces with ``RenderConfig.stock == "grey"``: no unit normal has it.
STOCK_GREY = (128, 128, 128)


@dataclass(frozen=True)
class PreparedMesh:
    """A mesh ready to draw: shared vertices in the unit frame, faces, one normal per face.

    Attributes
    ----------
    vertices : (v, 3) float32
        Centred on the bounding-box centre and scaled so the farthest vertex is at
        distance ``radius <= 1`` from the origin.
    faces : (f, 3) uint32
        Vertex indices of each face, every face with non-zero area.
    normals : (f, 3) float64
        Unit face normals in the part frame, from the geometry (winding order).
    faces_in : int
        Faces of the loaded mesh before simplification.
    radius : float
        Distance of the farthest vertex from the origin.
    closed : bool
        Watertight and wound outwards: back faces can be skipped.
    stock : (f,) bool or None
        Faces on the part's bounding box (:func:`geometry.stock.stock_faces`, with the
        ``normals`` family's tolerance), when asked for.
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    faces_in: int
    radius: float
    closed: bool = False
    stock: np.ndarray | None = None

    @property
    def faces_out(self) -> int:
        """Faces that are drawn (after simplification)."""
        return int(self.faces.shape[0])


def normal_colours(normals: np.ndarray) -> np.ndarray:
    """Map unit normals to colours: ``rgb = round((n * 0.5 + 0.5) * 255)``.

    Parameters
    ----------
    normals : (..., 3) float
        Unit vectors.

    Returns
    -------
    (..., 3) uint8
        ``+Z -> (128, 128, 255)``, ``-X -> (0, 128, 128)``; halves round up.
    """
    c = np.floor((np.asarray(normals, dtype=np.float64) * 0.5 + 0.5) * 255.0 + 0.5)
    return np.clip(c, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- loading


# --------------------------------------------------------------------------- preparing


def normalise(vertices: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre vertices on their bounding-box centre and scale the farthest to distance 1.

    Scaling by the bounding sphere about the box centre (not the box size) makes the part
    fit its tile in every rotation, and makes the result independent of the file's units.

    Parameters
    ----------
    vertices : (v, 3) float

    Returns
    -------
    unit : (v, 3) float64
    scale : float
        The factor the centred vertices were multiplied by.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    lo, hi = bounds(vertices)
    centred = vertices - (lo + hi) / 2.0
    radius = float(np.sqrt(np.einsum("ij,ij->i", centred, centred).max()))
    if not radius > 0.0:
        raise MeshError("expected a mesh with non-zero extent, found all vertices at one point")
    return centred / radius, 1.0 / radius


def cluster_vertices(vertices: np.ndarray, faces: np.ndarray, cells: int):
    """Snap vertices to a grid of ``cells`` per bounding-box side and merge each cell's.

    Vertex clustering costs one sort, so it takes a 200k-face mesh to a few 10k faces
    in milliseconds; quadric decimation then does the careful part on what is left.
    Faces that collapse (two corners in one cell) or repeat another face's corners are
    dropped.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int
    cells : int
        Grid cells along the longest bounding-box side.

    Returns
    -------
    vertices : (v2, 3) float64
        The mean position of each occupied cell's vertices.
    faces : (f2, 3) int64
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    lo, hi = bounds(vertices)
    span = float((hi - lo).max())
    q = np.minimum(np.floor((vertices - lo) * (cells / span)), cells).astype(np.int64)
    key = (q[:, 0] * (cells + 1) + q[:, 1]) * (cells + 1) + q[:, 2]
    _, inverse = np.unique(key, return_inverse=True)
    inverse = inverse.reshape(-1)
    count = np.bincount(inverse)
    merged = np.stack([np.bincount(inverse, weights=vertices[:, i]) for i in range(3)], axis=1)
    merged /= count[:, None]
    new_faces = inverse[np.asarray(faces)]
    ok = (
        (new_faces[:, 0] != new_faces[:, 1])
        & (new_faces[:, 1] != new_faces[:, 2])
        & (new_faces[:, 0] != new_faces[:, 2])
    )
    new_faces = new_faces[ok]
    # A face and its reverse can both survive on thin walls; keep the first of each set
    # of corners so no two faces fight over the same pixels.
    corners = np.sort(new_faces, axis=1)
    if len(count) < 2**21:  # three 21-bit indices fit one int64: a much faster unique
        corners = (corners[:, 0] << 42) | (corners[:, 1] << 21) | corners[:, 2]
    _, first = np.unique(corners, axis=0 if corners.ndim == 2 else None, return_index=True)
    new_faces = new_faces[np.sort(first)]
    used, remap = np.unique(new_faces, return_inverse=True)
    return merged[used], remap.reshape(-1, 3)


def simplify(mesh, max_faces: int):
    """Quadric-decimate ``mesh`` (fast_simplification) to about ``max_faces`` faces.

    A no-op at or below ``max_faces``. Quadric decimation can stall above the target on
    some meshes (long runs of coplanar slivers); its result is used whenever it is
    valid and smaller. Deterministic: the same mesh gives the same result.
    """
    import trimesh
    from fast_simplification import simplify as quadric

    if len(mesh.faces) <= max_faces:
        return mesh
    v2, f2 = quadric(np.asarray(mesh.vertices), np.asarray(mesh.faces), target_count=int(max_faces))
    if not (len(f2) and np.isfinite(v2).all() and len(f2) < len(mesh.faces)):
        logger.debug("quadric decimation gave %d faces; keeping %d", len(f2), len(mesh.faces))
        return mesh
    simple = trimesh.Trimesh(vertices=v2, faces=f2, process=False)
    simple.update_faces(simple.nondegenerate_faces())
    simple.remove_unreferenced_vertices()
    if len(simple.faces) == 0:
        logger.debug("quadric decimation left only degenerate faces; keeping the input")
        return mesh
    return simple


def prepare_mesh(
    mesh,
    max_faces: int,
    cluster_cells: int | None = None,
    straighten: bool = False,
    find_stock: bool = False,
) -> PreparedMesh:
    """Normalise, simplify and orient a mesh, and compute its face normals.

    Parameters
    ----------
    mesh : trimesh.Trimesh
        From :func:`load_mesh`.
    max_faces : int
        Simplification cap (``RenderConfig.face_budget``).
    cluster_cells : int or None
        Vertex-clustering grid for very large meshes (see :func:`simplify`).
    straighten : bool
        Undo a small tilt first (:func:`straighten_vertices`), so that the part's faces
        show the colours of the axis they were cut along.
    find_stock : bool
        Mark the stock faces (:func:`geometry.stock.stock_faces`, after straightening and
        simplification).

    Notes
    -----
    Meshes above ``4 * max_faces`` faces are first vertex-clustered on a grid of
    ``cluster_cells`` per side (choose cells smaller than a pixel: invisible, and it
    takes milliseconds where quadric decimation of 200k faces takes 200 ms), then
    quadric decimation takes the rest down to ``max_faces``.

    Faces are re-wound consistently per body, and outwards where a body is closed
    (``trimesh.repair.fix_normals``). A closed mesh (watertight, consistently wound) is
    marked ``closed``: the renderer then skips its back faces, which halves the
    triangles it rasterises. Other meshes are drawn from both sides.
    """
    import trimesh

    faces_in = len(mesh.faces)
    unit, _ = normalise(mesh.vertices)
    faces = np.asarray(mesh.faces)
    if len(faces) > 4 * max_faces and cluster_cells:
        # Clustering merges coincident vertices too, in the same single sort.
        unit, faces = cluster_vertices(unit, faces, cluster_cells)
        logger.debug("vertex clustering: %d -> %d faces", faces_in, len(faces))
    if straighten:
        # Before simplification, which would blur the flat-face groups it votes with.
        unit, _ = normalise(straighten_vertices(unit, faces))
    unit_mesh = trimesh.Trimesh(vertices=unit, faces=faces, process=False)
    unit_mesh.merge_vertices()
    unit_mesh = simplify(unit_mesh, max_faces)
    # Wind every body consistently and, where it is closed, outwards (a few ms at the
    # cap). Normals then point out of the part whatever the file's winding was.
    trimesh.repair.fix_normals(unit_mesh, multibody=True)
    closed = bool(unit_mesh.is_watertight and unit_mesh.is_winding_consistent)
    vertices = np.asarray(unit_mesh.vertices, dtype=np.float64)
    faces = np.asarray(unit_mesh.faces, dtype=np.int64)
    tri = vertices[faces]  # (f, 3, 3)
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(cross, axis=1)
    keep = length > 0
    faces, cross, length = faces[keep], cross[keep], length[keep]
    normals = cross / length[:, None]
    used = vertices[np.unique(faces)]
    radius = float(np.sqrt(np.einsum("ij,ij->i", used, used).max()))
    if radius > 1.0:
        # Decimation may move a vertex slightly outwards: keep the unit-sphere promise.
        vertices = vertices / radius
        radius = 1.0
    return PreparedMesh(
        vertices=vertices.astype(np.float32),
        faces=faces.astype(np.uint32),
        normals=normals,
        faces_in=faces_in,
        radius=radius,
        closed=closed,
        stock=stock_faces(vertices, faces, BOX_TOL) if find_stock else None,
    )
