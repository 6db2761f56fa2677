"""Undo a small tilt: turn a part so its largest groups of parallel flat faces lie on the axes.

A machined part is a block of stock with features cut into it, so most of its surface
is a few large flat faces, pairwise parallel or perpendicular, that were axis-aligned in
the part's own frame. A part turned by a few degrees (``metaview synth --tilt-deg``, a
fixture that was not square) keeps its classes in that frame, so the features must be
computed after turning it back.

Method (all weights are face areas, so the result does not depend on how a flat face is
triangulated):

1. Candidate directions: the face normals rounded to a 1e-3 grid, merged, and the
   :data:`_CANDIDATES` with the largest summed area kept.
2. The *first group*: for each candidate ``c``, the area of the faces parallel or
   antiparallel to it within :data:`PARALLEL_DEG` (``|n . c| >= cos 1 deg``); the
   candidate with the most area wins, and ``d1`` is the area-weighted mean of its faces'
   normals (antiparallel ones flipped).
3. The *second group*: the same among the candidates perpendicular to ``d1`` within
   :data:`PERPENDICULAR_DEG`; ``d2`` is made exactly perpendicular to ``d1`` and
   ``d3 = d1 x d2``.
4. Of the 24 rotations that map ``(d1, d2, d3)`` onto signed coordinate axes, the one
   closest to the identity (largest trace) is kept: axes are never swapped and signs never
   flipped beyond what the tilt itself did.
5. Refinement: every face whose turned normal lies within :data:`REFINE_DEG` of an axis
   (box faces, pocket floors and walls) votes in an area-weighted orthogonal Procrustes
   fit (Kabsch) of its normal onto that axis, twice.

**Limit.** A rotation closer to the identity than to any other of the cube's 24
symmetries is recovered exactly (to float rounding); that holds for any tilt below 45
degrees (the nearest boundary, reached by a turn about a coordinate axis). Beyond 45
degrees the part is turned onto the *nearest* axes, which name other faces: a tilt of 50
degrees about Z makes +X read as +Y. ``tests/test_straighten.py`` checks 7, 15 and 40 degree
tilts about random axes to within 0.1 degree (measured error: about 1e-6 degree).

Parts without such faces are left alone or turned as little as possible: when no group
holds :data:`MIN_GROUP_FRACTION` of the area the rotation is the identity; when no
perpendicular group exists (a cylinder's two ends) ``d1`` alone is turned onto its
nearest axis by the smallest rotation.
"""

from __future__ import annotations

import itertools
import logging

import numpy as np

from geometry.errors import MeshError

logger = logging.getLogger(__name__)

PARALLEL_DEG = 1.0  # faces this close to parallel belong to one group
PERPENDICULAR_DEG = 3.0  # the second group is this close to perpendicular to the first
REFINE_DEG = 2.0  # faces this close to an axis after the first turn vote in the refinement
MIN_GROUP_FRACTION = 0.05  # a group must hold this share of the total area to count
_CANDIDATES = 32  # distinct normals tried as group directions
_ROUND = 1e-3  # grid the normals are rounded to when picking candidates


def _cube_rotations() -> np.ndarray:
    """The 24 proper signed permutation matrices, (24, 3, 3) float64."""
    mats = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((1.0, -1.0), repeat=3):
            m = np.zeros((3, 3))
            m[range(3), perm] = signs
            if np.linalg.det(m) > 0:
                mats.append(m)
    return np.stack(mats)


_CUBE = _cube_rotations()


def face_normals_areas(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit face normals (from the winding) and face areas.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int

    Returns
    -------
    normals : (f, 3) float64
        Unit normals; zero for zero-area faces.
    areas : (f,) float64
    """
    tri = vertices[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    norm = np.sqrt(np.einsum("ij,ij->i", cross, cross))
    normals = np.divide(cross, norm[:, None], out=np.zeros_like(cross), where=norm[:, None] > 0)
    return normals, norm / 2.0


def check_mesh(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a mesh: (v, 3) float64 vertices, (f, 3) int64 faces.

    Raises
    ------
    MeshError
        Wrong shapes, non-finite vertices, face indices out of range, or no area.
    """
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces)
    if vertices.ndim != 2 or vertices.shape[1] != 3:
        raise MeshError(f"expected vertices of shape (v, 3), got {vertices.shape}")
    if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
        raise MeshError(f"expected integer faces of shape (f, 3), got {faces.dtype} {faces.shape}")
    if len(faces) == 0:
        raise MeshError("expected a mesh with faces, got none")
    if not np.isfinite(vertices).all():
        raise MeshError("expected finite vertex coordinates, found NaN or inf")
    if faces.min() < 0 or faces.max() >= len(vertices):
        raise MeshError(f"expected face indices in 0..{len(vertices) - 1}, found others")
    return vertices, faces.astype(np.int64)


def _group(normals: np.ndarray, areas: np.ndarray, c: np.ndarray, cos_tol: float):
    """Area of the faces (anti)parallel to ``c`` and their area-weighted mean direction."""
    dots = normals @ c
    inside = np.abs(dots) >= cos_tol
    support = float(areas[inside].sum())
    mean = (np.sign(dots[inside])[:, None] * normals[inside] * areas[inside, None]).sum(axis=0)
    norm = float(np.linalg.norm(mean))
    return support, (mean / norm if norm > 0 else c)


def _smallest_turn(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking unit vector ``a`` onto unit vector ``b`` (Rodrigues)."""
    v = np.cross(a, b)
    s = float(np.linalg.norm(v))
    c = float(a @ b)
    if s < 1e-15:
        return np.eye(3)  # already aligned (an antiparallel b is never the nearest axis)
    k = v / s
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + s * kx + (1 - c) * (kx @ kx)


def _kabsch(normals: np.ndarray, areas: np.ndarray, rot: np.ndarray, deg: float) -> np.ndarray:
    """Refine ``rot`` by fitting the faces within ``deg`` of an axis onto that axis."""
    turned = normals @ rot.T
    axis = np.argmax(np.abs(turned), axis=1)
    comp = turned[np.arange(len(turned)), axis]
    near = (np.abs(comp) >= np.cos(np.radians(deg))) & (areas > 0)
    if not near.any():
        return rot
    targets = np.zeros((int(near.sum()), 3))
    targets[np.arange(len(targets)), axis[near]] = np.sign(comp[near])
    # Rotation R minimising sum w |R n - t|^2: SVD of sum w t n^T (Kabsch).
    m = (targets * areas[near, None]).T @ normals[near]
    u, _, vt = np.linalg.svd(m)
    d = np.sign(np.linalg.det(u @ vt))
    return u @ np.diag([1.0, 1.0, d]) @ vt


def turn_angle_deg(rot: np.ndarray) -> float:
    """The angle (degrees, 0..180) of a rotation matrix: how far it turns a part."""
    return float(np.degrees(np.arccos(np.clip((np.trace(rot) - 1.0) / 2.0, -1.0, 1.0))))


def straighten(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The rotation that lines the part's largest flat-face groups up with the axes.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int

    Returns
    -------
    (3, 3) float64
        A proper rotation ``R`` (``R @ R.T == I``, ``det R == 1``), as close to the
        identity as the faces allow; the straightened vertices are ``vertices @ R.T``.
        Turning a straight part by a tilt ``T`` below 45 degrees gives back ``R = T.T``
        (see the module docstring for the limit).

    Raises
    ------
    MeshError
        A malformed mesh (see :func:`check_mesh`).
    """
    vertices, faces = check_mesh(vertices, faces)
    normals, areas = face_normals_areas(vertices, faces)
    total = float(areas.sum())
    if not total > 0:
        raise MeshError("expected a mesh with non-zero surface area, got none")

    # Candidates: distinct rounded normals, by summed area (triangulation-independent).
    keys = np.round(normals / _ROUND).astype(np.int64)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=areas, minlength=len(uniq))
    order = np.argsort(-summed, kind="stable")[:_CANDIDATES]
    cands = uniq[order].astype(np.float64)
    cands /= np.maximum(np.linalg.norm(cands, axis=1, keepdims=True), 1e-300)

    cos_par = np.cos(np.radians(PARALLEL_DEG))
    groups = [_group(normals, areas, c, cos_par) for c in cands]
    supports = np.array([g[0] for g in groups])
    best = int(np.argmax(supports))
    if supports[best] < MIN_GROUP_FRACTION * total:
        logger.debug(
            "no flat-face group holds %.0f%% of the area: not turned", 100 * MIN_GROUP_FRACTION
        )
        return np.eye(3)
    d1 = groups[best][1]

    sin_perp = np.sin(np.radians(PERPENDICULAR_DEG))
    perp = [
        i
        for i, (s, d) in enumerate(groups)
        if abs(float(d @ d1)) <= sin_perp and s >= MIN_GROUP_FRACTION * total
    ]
    if not perp:
        axis = np.argmax(np.abs(d1))
        target = np.zeros(3)
        target[axis] = np.sign(d1[axis])
        rot = _smallest_turn(d1, target)
    else:
        d2 = groups[max(perp, key=lambda i: supports[i])][1]
        d2 = d2 - (d2 @ d1) * d1
        d2 /= np.linalg.norm(d2)
        frame = np.stack([d1, d2, np.cross(d1, d2)])  # rows, right-handed
        # R = B.T @ frame maps row k of frame onto row k of B; keep the B nearest identity.
        rots = np.einsum("bki,kj->bij", _CUBE, frame)
        rot = rots[int(np.argmax(np.trace(rots, axis1=1, axis2=2)))]
    for _ in range(2):
        rot = _kabsch(normals, areas, rot, REFINE_DEG)
    return rot


#: Largest turn :func:`straighten_vertices` makes (degrees). A fixture that is not square
#: is off by a few degrees; a bigger turn means the largest flat faces were never meant to
#: be square (a wedge whose slope outweighs its stock faces), and the part is left as is.
MAX_STRAIGHTEN_DEG = 15.0


def straighten_vertices(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Turn a slightly tilted part so its largest flat-face groups lie on the axes.

    The rotation is :func:`straighten`'s (the one the ``normals``
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
    vertices = np.asarray(vertices, dtype=np.float64)
    try:
        rot = straighten(vertices, faces)
    except MeshError as exc:
        raise MeshError(f"cannot straighten the part: {exc}") from exc
    angle = turn_angle_deg(rot)
    if angle > MAX_STRAIGHTEN_DEG:
        logger.debug("straightening would turn the part by %.1f deg: left as it is", angle)
        return vertices
    return vertices @ rot.T
