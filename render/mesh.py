"""Mesh files in, drawable triangles out: load, check, merge, normalise, simplify, colour.

Everything here is plain numpy + trimesh; nothing touches OpenGL.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from render.errors import MeshError
from render.stl import parse_stl

logger = logging.getLogger(__name__)

MESH_SUFFIXES = (".stl", ".obj", ".ply", ".off", ".glb")


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
    """

    vertices: np.ndarray
    faces: np.ndarray
    normals: np.ndarray
    faces_in: int
    radius: float
    closed: bool = False

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


def bounds(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-axis minimum and maximum of (n, 3) points: two (3,) float64 arrays.

    Reducing a C-ordered (n, 3) array along axis 0 strides through memory; one
    column-major copy first is about 10x faster for large n.
    """
    cols = np.asfortranarray(points, dtype=np.float64)
    return cols.min(axis=0), cols.max(axis=0)


# --------------------------------------------------------------------------- loading


def _load_with_trimesh(data: bytes, suffix: str, name: str):
    """Load OBJ/PLY/OFF/GLB through trimesh and merge every body into one array pair."""
    import trimesh

    try:
        loaded = trimesh.load(io.BytesIO(data), file_type=suffix.lstrip("."), process=False)
    except MeshError:
        raise
    except Exception as exc:
        raise MeshError(f"{name}: expected a {suffix} mesh, could not parse it: {exc}") from None
    if isinstance(loaded, trimesh.Scene):
        geoms = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        others = [type(g).__name__ for g in loaded.dump() if not isinstance(g, trimesh.Trimesh)]
        if not geoms:
            found = f"only {sorted(set(others))}" if others else "nothing"
            raise MeshError(f"{name}: expected a triangle mesh, found {found}")
    elif isinstance(loaded, trimesh.Trimesh):
        geoms = [loaded]
    else:
        raise MeshError(f"{name}: expected a triangle mesh, found a {type(loaded).__name__}")
    vertices, faces, offset = [], [], 0
    for g in geoms:
        v = np.asarray(g.vertices, dtype=np.float64).reshape(-1, 3)
        f = np.asarray(g.faces, dtype=np.int64).reshape(-1, 3)
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces)


def load_mesh(path: str | os.PathLike, merge: bool = True):
    """Load a mesh file as one ``trimesh.Trimesh``, every body merged, checked.

    STL (binary and ASCII) is parsed here, with the file length checked against the
    triangle count before any allocation; OBJ, PLY, OFF and GLB go through trimesh.
    Multi-body files (several solids, a scene of meshes) become one mesh. Stored
    normals are never read: normals come from the triangles' winding. Zero-area faces
    are dropped.

    Parameters
    ----------
    path : path-like
    merge : bool
        Merge coincident vertices (STL repeats them per triangle). The renderer passes
        False: :func:`prepare_mesh` merges them itself, more cheaply for big meshes.

    Raises
    ------
    MeshError
        Naming the file: missing or empty file, truncated binary STL, bytes that are
        not a mesh, NaN or inf vertices, no faces (with non-zero area), zero extent.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MeshError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise MeshError(f"{path}: expected a mesh file, found a directory") from None
    except OSError as exc:  # permissions, special files, I/O errors
        raise MeshError(f"{path}: could not read the file: {exc.strerror or exc}") from None
    return mesh_from_bytes(data, path.suffix.lower(), str(path), merge=merge)


def mesh_from_bytes(data: bytes, suffix: str, name: str = "<bytes>", merge: bool = True):
    """Like :func:`load_mesh`, from the file's bytes and its suffix (``".stl"``)."""
    import trimesh

    if len(data) == 0:
        raise MeshError(f"{name}: empty file (0 bytes), expected a {suffix or 'mesh'} file")
    suffix = suffix.lower()
    if suffix == ".stl":
        vertices, faces = parse_stl(data, name)
    elif suffix in MESH_SUFFIXES:
        vertices, faces = _load_with_trimesh(data, suffix, name)
    else:
        raise MeshError(
            f"{name}: expected a mesh file ({', '.join(MESH_SUFFIXES)}), found {suffix!r}"
        )

    if len(faces) == 0:
        raise MeshError(f"{name}: expected triangles, found a mesh with no faces")
    if not np.isfinite(vertices).all():
        bad = ~np.isfinite(vertices).all(axis=1)
        raise MeshError(
            f"{name}: expected finite vertex coordinates, found NaN or inf in "
            f"{int(bad.sum())} of {len(vertices)} vertices"
        )
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(f"{name}: faces index vertices outside 0..{len(vertices) - 1}")
    tri = vertices[faces]  # (f, 3, 3)
    lo, hi = bounds(tri.reshape(-1, 3))
    if not float((hi - lo).max()) > 0.0:
        raise MeshError(
            f"{name}: expected a mesh with non-zero extent, found all vertices at one point"
        )
    # Zero-area faces have no normal: drop them.
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    faces = faces[np.einsum("ij,ij->i", cross, cross) > 0]
    if len(faces) == 0:
        raise MeshError(
            f"{name}: expected triangles with non-zero area, found only degenerate faces"
        )
    mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
    # Stray vertices no face uses must not widen the bounds the part is scaled by.
    mesh.remove_unreferenced_vertices()
    if merge:
        # STL stores every triangle's corners separately: merge them into one surface.
        mesh.merge_vertices()
    return mesh


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


#: Largest turn :func:`straighten_vertices` makes (degrees). A fixture that is not square
#: is off by a few degrees; a bigger turn means the largest flat faces were never meant to
#: be square (a wedge whose slope outweighs its stock faces), and the part is left as is.
MAX_STRAIGHTEN_DEG = 15.0


def straighten_vertices(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Turn a slightly tilted part so its largest flat-face groups lie on the axes.

    The rotation is :func:`train.features.straighten.straighten`'s (the one the ``normals``
    family and ``metaview reach`` use): closest to the identity, so no face is renamed;
    a part without large flat faces, or one that would turn by more than
    :data:`MAX_STRAIGHTEN_DEG`, is left as it is.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int

    Returns
    -------
    (v, 3) float64
        The turned vertices (about the origin).
    """
    from train.errors import TrainError
    from train.features.straighten import straighten, turn_angle_deg

    vertices = np.asarray(vertices, dtype=np.float64)
    try:
        rot = straighten(vertices, faces)
    except TrainError as exc:
        raise MeshError(f"cannot straighten the part: {exc}") from exc
    angle = turn_angle_deg(rot)
    if angle > MAX_STRAIGHTEN_DEG:
        logger.debug("straightening would turn the part by %.1f deg: left as it is", angle)
        return vertices
    return vertices @ rot.T


def prepare_mesh(
    mesh, max_faces: int, cluster_cells: int | None = None, straighten: bool = False
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
    )
