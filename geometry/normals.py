"""The ``normals`` feature family: a mesh -> a fixed-length float32 vector, no rendering.

Frame. The part is straightened first (:func:`geometry.straighten.straighten`:
tilts below 45 degrees are undone, axes are never swapped or flipped). ``L`` is then the
longest side of its axis-aligned bounding box and ``A`` its total surface area. A face is
a *box face* when its three corners lie within ``BOX_TOL * L`` of one side plane of the
box (by position only: a sliver triangle whose corners were rounded after a tilt can
have a normal degrees off); every other face is a *feature face* (the walls, floors,
chamfers and drill points of the cuts). ``F`` is the feature-face area.

Normal bins (:func:`normal_bins`), a cube map: a unit normal ``n`` goes to the cube side
of its largest component (side order +X, -X, +Y, -Y, +Z, -Z; ties go to the lower axis);
the other two components, in x, y, z order and divided by the magnitude of the largest,
give ``(u, v)`` in ``[-1, 1]``, cut into 3 x 3 cells at ``+-1/3`` (18.4 degrees). An
axis normal lies in the middle of its side's centre cell, never on an edge; a chamfer
at 20-40 degrees to a face lands in that face's side, off-centre. 6 x 3 x 3 = 54 bins.

Box sides, distances and orientations (the ``side`` block): side ``s`` has outward
normal ``e_s`` (same order); a point's distance from it is ``(x_max - x) / L`` for +X,
``(x - x_min) / L`` for -X, and so on. Distances are weighted by five tents centred on
``DIST_KNOTS = 0, .04, .1, .2, .35`` (each 1 at its knot, 0 at the knots beside it; the
first is 1 below 0, the last falls to 0 at ``DIST_END = .55``: farther away belongs to
the opposite side), integrated exactly over each triangle, so a face split into two and
a floor sitting exactly on a knot give the same numbers as before (hard bins would jump
when rounding moves a floor by 1e-9). Orientation bins, on ``c = n . e_s``, with inner
edges ``-.95, -.7071, -.3, .3, .7071, .95``: facing into the side, ..., walls
(``|c| < .3``), ..., tilted towards the side by less than 45 degrees (chamfers cut into
this side, drill points), floors facing out of it (``c >= .95``). An axis normal gives
``c`` of -1, 0 or 1, inside a bin.

Blocks (``describe()`` gives their offsets), D = ``NORMAL_FEATURES_DIM`` = 322, every
entry in ``[0, 1]``:

=========  ====  ===================================================================
block      size  content
=========  ====  ===================================================================
all        54    sqrt(area of all faces in each normal bin / A)
feature    54    sqrt(area of feature faces in each normal bin / F)
side       210   sqrt(area of feature faces near side s (tent j), facing that way
                 (orientation k) / F), index ``s * 35 + j * 7 + k``
shape      3     bounding-box sides x, y, z / L
fraction   1     sqrt(F / A)
=========  ====  ===================================================================

Why these choices (measured on ``metaview synth`` parts, 100 per class, 70/30 split by
part, logistic regression on standardised features, five splits): the ``all`` block alone
scores 0.81-0.84 (a closed mesh's area-weighted normals sum to zero). Dividing the cut
blocks by ``F`` instead of ``A`` took the default set from 0.97-0.98 to 1.00: a single
3 mm hole on a 150 mm block otherwise weighs 1e-3 of a pocket. The square roots (the
Hellinger map of a histogram) spread the many small shares; the 45-degree orientation
edge separates a chamfer cut into a side (20-40 degrees from its normal) from one cut
into the neighbouring side (50-70 degrees). With all of it: 0.993-1.000 on default parts,
0.973-1.000 with ``--tilt-deg 5 --distractors 3``, 0.967-0.993 with ``--tilt-deg 15``.
Every entry is already in ``[0, 1]``: a model trained on default parts and tested on
parts with distractors scores 0.95-0.99 unstandardised, but 0.51-0.91 standardised
(the -Z blocks barely vary without distractors, so standardising blows them up).

Invariance: every quantity is an area ratio or a length ratio, measured in the
straightened box frame, so the vector does not change (beyond float32 rounding) with the
part's scale, position, face order, a tilt below 45 degrees, or how a flat face is split
into triangles.

Version history (``NORMALS_VERSION``, part of every cache key): 1, first version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from geometry.errors import MeshError
from geometry.stock import SIDE_AXIS, SIDE_SIGN, side_distances, stock_sides
from geometry.straighten import check_mesh, face_normals_areas, straighten

NORMALS_VERSION = 1

CELLS = 3  # cube-map cells per side and direction (odd: axis normals sit in the centre cell)
N_NORMAL_BINS = 6 * CELLS * CELLS
BOX_TOL = 1e-3  # a box face lies within this fraction of L of a side plane
DIST_KNOTS = (0.0, 0.04, 0.1, 0.2, 0.35)  # tent centres, in units of L
DIST_END = 0.55  # the last tent reaches zero here; farther is the opposite side's
ORIENT_EDGES = (-0.95, -0.7071, -0.3, 0.3, 0.7071, 0.95)  # inner edges on n . e_side
N_DIST = len(DIST_KNOTS)
N_ORIENT = len(ORIENT_EDGES) + 1

SIDES = ("+x", "-x", "+y", "-y", "+z", "-z")

_BLOCKS = (
    ("all", N_NORMAL_BINS, "sqrt(area of all faces per normal bin / total area)"),
    ("feature", N_NORMAL_BINS, "sqrt(feature-face area per normal bin / feature area)"),
    (
        "side",
        6 * N_DIST * N_ORIENT,
        "sqrt(feature-face area per (box side, distance tent, orientation bin) / feature area)",
    ),
    ("shape", 3, "bounding-box sides x, y, z / longest side"),
    ("fraction", 1, "sqrt(feature-face area / total area)"),
)
NORMAL_FEATURES_DIM = sum(size for _, size, _ in _BLOCKS)


def describe() -> list[tuple[str, int, int, str]]:
    """The feature blocks in order: ``(name, start, stop, description)``, ``stop`` exclusive."""
    out, start = [], 0
    for name, size, text in _BLOCKS:
        out.append((name, start, start + size, text))
        start += size
    return out


def normal_bins(normals: np.ndarray) -> np.ndarray:
    """Cube-map bin of each unit normal (see the module docstring).

    Parameters
    ----------
    normals : (f, 3) float
        Unit vectors (zero vectors go to bin 0; give them zero weight).

    Returns
    -------
    (f,) int64 in ``0 .. N_NORMAL_BINS - 1``.
    """
    normals = np.asarray(normals, dtype=np.float64)
    axis = np.argmax(np.abs(normals), axis=1)
    rows = np.arange(len(normals))
    major = normals[rows, axis]
    side = 2 * axis + (major < 0)
    other = np.array([[1, 2], [0, 2], [0, 1]])[axis]  # (f, 2)
    mag = np.abs(major)
    uv = np.divide(
        normals[rows[:, None], other],
        mag[:, None],
        out=np.zeros((len(normals), 2)),
        where=mag[:, None] > 0,
    )
    cell = np.clip(np.floor((uv + 1.0) * 0.5 * CELLS), 0, CELLS - 1).astype(np.int64)
    return side * CELLS * CELLS + cell[:, 0] * CELLS + cell[:, 1]


def _excess(d: np.ndarray, t: float) -> np.ndarray:
    """``E[(D - t)+]`` over each triangle's area, for a linear function ``D``, exactly.

    Parameters
    ----------
    d : (f, 3) float64
        The function's values at the corners, sorted ascending per row.
    t : float

    Returns
    -------
    (f,) float64
        The area-mean of ``max(D - t, 0)``. A linear function on a triangle has a
        piecewise-linear (tent) density between its smallest and largest corner value,
        so the mean is a piecewise cubic in ``t``: ``(d2-t)^3 / (3 (d2-d0)(d2-d1))``
        above the middle corner, ``mean(D) - t`` below the lowest.
    """
    d0, d1, d2 = d[:, 0], d[:, 1], d[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        top = np.where(d2 > d1, (d2 - t) ** 3 / (3.0 * (d2 - d0) * (d2 - d1)), 0.0)
        top_at_d1 = np.where(d2 > d1, (d2 - d1) ** 2 / (3.0 * (d2 - d0)), 0.0)
        low = (
            top_at_d1
            + (d1 - t)
            - np.where(
                d1 > d0, ((d1 - d0) ** 3 - (t - d0) ** 3) / (3.0 * (d1 - d0) * (d2 - d0)), 0.0
            )
        )
    out = np.where(t >= d2, 0.0, np.where(t >= d1, top, np.where(t >= d0, low, d.mean(axis=1) - t)))
    return np.maximum(out, 0.0)


def distance_weights(d: np.ndarray) -> np.ndarray:
    """Area shares of each triangle under the tent functions centred on :data:`DIST_KNOTS`.

    Tent ``j`` is 1 at knot ``j`` and falls linearly to 0 at the knots beside it; the first
    is flat below knot 0 (distances are never negative) and the last falls to 0 at
    :data:`DIST_END`. Tents, unlike hard bins, move continuously with the geometry: a flat
    floor that sits exactly at a knot (depths and sides are often round numbers) does not
    jump between bins when rounding moves it by 1e-9.

    Parameters
    ----------
    d : (f, 3) float64
        Distances of each triangle's corners (any order).

    Returns
    -------
    (f, N_DIST) float64
        The area-mean of each tent over the triangle; rows sum to 1 for triangles
        within the last knot.
    """
    d = np.sort(d, axis=1)
    knots = (*DIST_KNOTS, DIST_END)
    ex = [_excess(d, t) for t in knots]
    # A tent is a difference of two clipped ramps; ramp j rises from 0 at knot j to 1 at
    # knot j + 1, and its area-mean is (E[(D - k_j)+] - E[(D - k_j+1)+]) / (k_j+1 - k_j).
    ramps = [(ex[j] - ex[j + 1]) / (knots[j + 1] - knots[j]) for j in range(N_DIST)]
    out = [1.0 - ramps[0]] + [ramps[j - 1] - ramps[j] for j in range(1, N_DIST)]
    return np.stack(out, axis=1)


@dataclass(frozen=True)
class _Parts:
    """What each face puts into the histograms of :func:`normal_features`."""

    bins: np.ndarray  # (f,) normal bin of every face
    w: np.ndarray  # (f,) area / total area
    feature: np.ndarray  # (f,) bool: feature faces
    fw: np.ndarray  # (g,) the feature faces' area / feature area
    orient: np.ndarray  # (g, 6) orientation bin of each feature face towards each side
    mass: list  # per side, (g, N_DIST): fw spread over the distance tents
    shape: np.ndarray  # (3,) bounding-box sides / L
    share: float  # feature area / total area


def _parts(vertices: np.ndarray, faces: np.ndarray) -> _Parts:
    vertices, faces = check_mesh(vertices, faces)
    # Rotate about a point on the part (less rounding far from the origin); the features
    # do not depend on which.
    vertices = vertices - vertices[faces[0, 0]]
    rot = straighten(vertices, faces)
    v = vertices @ rot.T
    tri = v[faces]  # (f, 3, 3)
    # Bounds of the faces' corners: a stray vertex no face uses must not widen the box.
    lo, hi = tri.min(axis=(0, 1)), tri.max(axis=(0, 1))
    extent = hi - lo
    big = float(extent.max())
    if not big > 0:
        raise MeshError("expected a mesh with non-zero extent, found all vertices at one point")
    normals, areas = face_normals_areas(v, faces)
    total = float(areas.sum())
    w = areas / total

    # Distance of every corner from every side, in units of L: (f, 3 corners, 6 sides).
    dist = side_distances(tri, lo, hi, big)
    cos_side = normals[:, SIDE_AXIS] * SIDE_SIGN  # (f, 6)
    # By position only: a sliver triangle of a side, its corners rounded to a grid after a
    # tilt, can have a normal degrees off; its position is still within 1e-4 mm of the side.
    on_side = stock_sides(dist, BOX_TOL)
    feature = ~on_side.any(axis=1)

    fw = w[feature]
    share = float(fw.sum())
    # Where the cuts are and which way they face, as shares of the cut area: a 3 mm hole
    # and a 60 mm pocket on the same side give similar blocks (total area would make the
    # hole ~1e-3 of the pocket's and the classifier could not see it).
    fw = fw / share if share > 0 else fw
    fd = dist[feature]  # (g, 3 corners, 6 sides)
    orient = np.searchsorted(np.asarray(ORIENT_EDGES), cos_side[feature], side="right")  # (g, 6)
    mass = [distance_weights(fd[:, :, s]) * fw[:, None] for s in range(6)]  # (g, N_DIST) each
    return _Parts(normal_bins(normals), w, feature, fw, orient, mass, extent / big, share)


def normal_features(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """The ``normals`` feature vector of one mesh.

    Parameters
    ----------
    vertices : (v, 3) float
        Any units, position and (tilt below 45 degrees) orientation.
    faces : (f, 3) int
        Triangles wound outwards (normals come from the winding).

    Returns
    -------
    (NORMAL_FEATURES_DIM,) float32
        Blocks as in :func:`describe`; every entry in ``[0, 1]``.

    Raises
    ------
    MeshError
        A malformed mesh: wrong shapes, NaN, indices out of range, no area or no extent.
    """
    p = _parts(vertices, faces)
    all_hist = np.bincount(p.bins, weights=p.w, minlength=N_NORMAL_BINS)
    feat_hist = np.bincount(p.bins[p.feature], weights=p.fw, minlength=N_NORMAL_BINS)
    side_hist = np.zeros((6, N_DIST, N_ORIENT))
    for s in range(6):
        for k in range(N_ORIENT):
            side_hist[s, :, k] = p.mass[s][p.orient[:, s] == k].sum(axis=0)

    shares = np.concatenate([all_hist, feat_hist, side_hist.ravel(), [p.share]])
    # Square roots (the Hellinger map) spread the many small shares a histogram has.
    out = np.concatenate([np.sqrt(np.clip(shares[:-1], 0.0, None)), p.shape, np.sqrt(shares[-1:])])
    return out.astype(np.float32)


def face_attribution(vertices: np.ndarray, faces: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Share out a weight per feature among the faces that make up each feature.

    Entry ``j`` of the vector is the square root of a sum of face contributions ``c_fj``
    (areas, or areas spread over distance tents); face ``f`` gets ``weights[j] * c_fj /
    sum_f c_fj`` of it, summed over ``j``. With ``weights`` the gradient of a class score
    times the features (gradient x input), this says which faces carried the decision.
    The ``shape`` block belongs to no face and is left out.

    Parameters
    ----------
    vertices : (v, 3) float
    faces : (f, 3) int
        As :func:`normal_features` takes them; the faces keep their order.
    weights : (NORMAL_FEATURES_DIM,) float

    Returns
    -------
    (f,) float64
        The faces' shares; their sum is the sum of ``weights`` over the entries any face
        contributes to.
    """
    weights = np.asarray(weights, dtype=np.float64).reshape(-1)
    if weights.shape != (NORMAL_FEATURES_DIM,):
        raise MeshError(f"expected {NORMAL_FEATURES_DIM} weights, got {weights.shape}")
    p = _parts(vertices, faces)
    n = len(p.bins)
    out = np.zeros(n)
    blocks = {name: (start, stop) for name, start, stop, _ in describe()}

    def share(start: int, idx: np.ndarray, value: np.ndarray, length: int) -> np.ndarray:
        total = np.bincount(idx, weights=value, minlength=length)
        scale = np.divide(
            weights[start : start + length], total, out=np.zeros(length), where=total > 0
        )
        return value * scale[idx]

    out += share(blocks["all"][0], p.bins, p.w, N_NORMAL_BINS)
    feat = np.flatnonzero(p.feature)
    if len(feat):
        out[feat] += share(blocks["feature"][0], p.bins[feat], p.fw, N_NORMAL_BINS)
        side0 = blocks["side"][0]
        size = N_DIST * N_ORIENT
        for s in range(6):
            for t in range(N_DIST):
                idx = t * N_ORIENT + p.orient[:, s]
                out[feat] += share(side0 + s * size, idx, p.mass[s][:, t], size)
        out[feat] += share(blocks["fraction"][0], np.zeros(len(feat), int), p.fw, 1)
    return out


def mesh_features(path: str | os.PathLike) -> np.ndarray:
    """Load a mesh file (any format :func:`geometry.mesh.load_mesh` reads) and return its features.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    (NORMAL_FEATURES_DIM,) float32

    Raises
    ------
    MeshError
        The file is missing or not a mesh, or the mesh cannot be measured (no area),
        naming the file.
    """
    from geometry.mesh import load_mesh

    # merge=False: per-triangle normals and areas do not need shared vertices.
    mesh = load_mesh(path, merge=False)
    try:
        return normal_features(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    except MeshError as exc:
        raise MeshError(f"{path}: {exc}") from None
