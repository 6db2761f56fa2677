"""Cutters of the taxonomy's open kinds: slots, steps and edge features open to the face's edges.

The solids follow :mod:`assets.cutters`: each is column-monotone (wherever it holds a point of
the stock it holds the whole column above it, up to the face), rises exactly ``LIFT`` above the
face and runs ``OVERSHOOT`` past every edge it opens to, so no cutter face lies in a face of the
stock. None goes through the stock.

Frames: a feature along one edge is built facing ``+a`` (the edge ``SIDES[k]``, at
``a = across / 2``) and turned by ``quarter_turn(k)``; a groove across the whole face is built
running along ``b`` (``k = 0``: along ``v``; ``k = 1``: along ``u``); a corner feature is built
at the corner ``(+a, +b)`` of the edges ``SIDES[k]`` and ``SIDES[k + 1]``. Profiles in the plane
``(a, z)`` are extruded along ``b`` (see :func:`_along`).

Round profiles are arcs of the regular polygon of ``segments`` sides (rounded up to a multiple
of four) with a vertex at angle 0, as ``manifold3d`` makes circles: their quarter points are
vertices, so a groove's bottom and a round's tangent points are exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import manifold3d as mf
import numpy as np

from assets.face_geometry import (
    LIFT,
    OVERSHOOT,
    SIDES,
    FaceSize,
    FeatureLike,
    quarter_turn,
    side_extents,
    turn_point,
)

#: ``options["sides"]`` of a groove across the whole face, by its turn ``k``: the two edges it
#: opens to (``k = 0`` runs along ``v``, ``k = 1`` along ``u``).
GROOVE_SIDES = ("+v,-v", "+u,-u")

Point = tuple[float, float]


# --- profiles ------------------------------------------------------------------------------


def _arc(ca: float, cz: float, r: float, q0: int, q1: int, segments: int) -> list[Point]:
    """The polygon vertices of a circle's arc from ``q0`` to ``q1`` quarter turns.

    Counter-clockwise when ``q1 > q0``, clockwise otherwise; both ends included. Each quarter
    point is turned exactly from ``(r, 0)``, so it carries no rounding error.
    """
    per = max(1, math.ceil(segments / 4))  # vertices per quarter turn
    step = 1 if q1 > q0 else -1
    points = []
    for j in range(per * abs(q1 - q0) + 1):
        quarter, i = divmod(q0 * per + step * j, per)
        phi = math.pi / 2 * i / per
        x, y = turn_point(quarter, math.cos(phi), math.sin(phi))
        points.append((ca + r * x, cz + r * y))
    return points


def _under_face(chain: list[Point]) -> list[Point]:
    """The part of an open chain of points that lies at ``z <= 0``.

    A chain that starts or ends above the face is cut where it crosses ``z = 0``, exactly on
    the face, so the cutter can rise vertically from there (its width above the face is its
    width in it).
    """
    out: list[Point] = []
    for (a0, z0), (a1, z1) in zip(chain, chain[1:], strict=False):
        if z0 <= 0:
            out.append((a0, z0))
        if z0 * z1 < 0:
            out.append((a0 + z0 / (z0 - z1) * (a1 - a0), 0.0))
    if chain[-1][1] <= 0:
        out.append(chain[-1])
    return out


def _along(profile: list[Point], b0: float, b1: float) -> mf.Manifold:
    """A counter-clockwise ``(a, z)`` profile extruded along ``b`` from ``b0`` to ``b1``.

    Built as a mesh rather than extruded from a ``CrossSection``, which rounds vertices to its
    1e-8 grid: every vertex lies exactly where the sizes say, convex profile or not.
    """
    n = len(profile)
    vertices = np.array([(a, b, z) for b in (b0, b1) for a, z in profile], dtype=np.float64)
    # A counter-clockwise (a, z) triangle faces -b: as it is at b0, turned over at b1.
    caps = mf.triangulate([np.array(profile, dtype=np.float64)])
    i = np.arange(n)
    j = (i + 1) % n
    sides = np.concatenate([np.stack([i, j + n, j], 1), np.stack([i, i + n, j + n], 1)])
    triangles = np.concatenate([caps, caps[:, ::-1] + n, sides]).astype(np.uint64)
    return mf.Manifold(mf.Mesh64(vert_properties=vertices, tri_verts=triangles))


def _whole_edge(profile: list[Point], along: float) -> mf.Manifold:
    """A profile extruded along a whole edge of length ``along`` and OVERSHOOT past its ends."""
    return _along(profile, -along / 2 - OVERSHOOT, along / 2 + OVERSHOOT)


def _footprint(outline: list[Point], depth: float) -> mf.Manifold:
    """A vertical prism over a convex ``(a, b)`` outline, from ``-depth`` up to LIFT."""
    return mf.Manifold.hull_points([(a, b, z) for a, b in outline for z in (-depth, LIFT)])


def _groove_turn(f: FeatureLike) -> int:
    return GROOVE_SIDES.index(f.options["sides"])


def _corner_turn(f: FeatureLike) -> int:
    # The corner is named by its two edges, SIDES[k] first: "+u,+v", "+v,-u", "-u,-v", "-v,+u".
    return SIDES.index(f.options["corner"].split(",")[0])


# --- grooves across the whole face, open at both ends --------------------------------------


def _build_rectangular_through_slot(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _groove_turn(f)
    _, along = side_extents(face, SIDES[k])
    centre = turn_point(-k, *f.position)[0]
    w, depth = f.size["width"], f.size["depth"]
    size = (w, along + 2 * OVERSHOOT, depth + LIFT)
    solid = mf.Manifold.cube(size).translate((centre - w / 2, -along / 2 - OVERSHOOT, -depth))
    return solid.transform(quarter_turn(k))


def _build_circular_through_slot(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _groove_turn(f)
    _, along = side_extents(face, SIDES[k])
    centre = turn_point(-k, *f.position)[0]
    r, depth = f.size["radius"], f.size["depth"]
    # The cutter's axis lies depth - r above the face: on it for a half-round groove.
    lower = _under_face(_arc(centre, r - depth, r, 2, 4, segments))
    profile = [*lower, (lower[-1][0], LIFT), (lower[0][0], LIFT)]
    return _whole_edge(profile, along).transform(quarter_turn(k))


def _build_triangular_through_slot(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _groove_turn(f)
    _, along = side_extents(face, SIDES[k])
    centre = turn_point(-k, *f.position)[0]
    depth = f.size["depth"]
    spread = math.tan(math.radians(f.size["angle"] / 2)) * (depth + LIFT)
    profile = [(centre, -depth), (centre + spread, LIFT), (centre - spread, LIFT)]
    return _whole_edge(profile, along).transform(quarter_turn(k))


# --- steps at a corner, open to its two edges ----------------------------------------------


def _build_rectangular_blind_step(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _corner_turn(f)
    across, along = side_extents(face, SIDES[k])
    w, length, depth = f.size["width"], f.size["length"], f.size["depth"]
    size = (w + OVERSHOOT, length + OVERSHOOT, depth + LIFT)
    solid = mf.Manifold.cube(size).translate((across / 2 - w, along / 2 - length, -depth))
    return solid.transform(quarter_turn(k))


def _build_triangular_blind_step(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _corner_turn(f)
    across, along = side_extents(face, SIDES[k])
    w, length, depth = f.size["width"], f.size["length"], f.size["depth"]
    # The wall's line through (across/2 - w, along/2) and (across/2, along/2 - length), run
    # OVERSHOOT past both edges; the corner of the triangle lies OVERSHOOT past the corner.
    outline = [
        (across / 2 - w - OVERSHOOT * w / length, along / 2 + OVERSHOOT),
        (across / 2 + OVERSHOOT, along / 2 - length - OVERSHOOT * length / w),
        (across / 2 + OVERSHOOT, along / 2 + OVERSHOOT),
    ]
    return _footprint(outline, depth).transform(quarter_turn(k))


def _build_circular_blind_step(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = _corner_turn(f)
    across, along = side_extents(face, SIDES[k])
    r, depth = f.size["radius"], f.size["depth"]
    # A quarter of a disc centred on the corner, closed by a square OVERSHOOT past its edges.
    arc = _arc(across / 2, along / 2, r, 2, 3, segments)
    outline = [
        *arc,
        (across / 2 + OVERSHOOT, along / 2 - r),
        (across / 2 + OVERSHOOT, along / 2 + OVERSHOOT),
        (across / 2 - r, along / 2 + OVERSHOOT),
    ]
    return _footprint(outline, depth).transform(quarter_turn(k))


# --- steps along whole edges ---------------------------------------------------------------


def _build_two_sided_step(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["sides"].split(",")[0])
    across, along = side_extents(face, SIDES[k])
    w, opposite, depth = f.size["width"], f.size["opposite_width"], f.size["depth"]
    # The step at SIDES[k] (+a) and the one at the opposite edge (-a), of the same depth.
    plus = mf.Manifold.cube((w + OVERSHOOT, along + 2 * OVERSHOOT, depth + LIFT))
    minus = mf.Manifold.cube((opposite + OVERSHOOT, along + 2 * OVERSHOOT, depth + LIFT))
    solids = [
        plus.translate((across / 2 - w, -along / 2 - OVERSHOOT, -depth)),
        minus.translate((-across / 2 - OVERSHOOT, -along / 2 - OVERSHOOT, -depth)),
    ]
    return mf.Manifold.batch_boolean(solids, mf.OpType.Add).transform(quarter_turn(k))


def _build_slanted_step(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, along = side_extents(face, f.options["side"])
    w, depth = f.size["width"], f.size["depth"]
    lean = math.tan(math.radians(f.size["angle"]))
    # The wall leaves the face at across/2 - w and leans out towards the edge going down, so
    # every column above the floor and the wall is open to the face.
    profile = [
        (across / 2 - w - LIFT * lean, LIFT),
        (across / 2 - w + depth * lean, -depth),
        (across / 2 + OVERSHOOT, -depth),
        (across / 2 + OVERSHOOT, LIFT),
    ]
    return _whole_edge(profile, along).transform(quarter_turn(k))


# --- edge features -------------------------------------------------------------------------


def _build_round(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    r = f.size["radius"]
    solids = []
    for side in f.options["edges"].split(","):
        k = SIDES.index(side)
        across, along = side_extents(face, side)
        # Everything above the quarter disc centred r inside the edge and r below the face:
        # its arc runs from its tangent point on the face to the one on the side face, and the
        # profile leaves the side face downwards and outwards, so no cutter face lies in it.
        arc = _arc(across / 2 - r, -r, r, 1, 0, segments)
        profile = [
            (across / 2 - r, LIFT),
            *arc,
            (across / 2 + OVERSHOOT, -r - OVERSHOOT),
            (across / 2 + OVERSHOOT, LIFT),
        ]
        solids.append(_whole_edge(profile, along).transform(quarter_turn(k)))
    return mf.Manifold.batch_boolean(solids, mf.OpType.Add)


def _build_horizontal_circular_end_slot(
    f: FeatureLike, face: FaceSize, segments: int
) -> mf.Manifold:
    k = SIDES.index(f.options["side"])
    across, _ = side_extents(face, f.options["side"])
    w, length, depth, r = (f.size[key] for key in ("width", "length", "depth", "radius"))
    centre = turn_point(-k, *f.position)[1]
    # The flat floor runs `length` in from the edge; the disc cutter's axis lies r - depth
    # above the face over the floor's inner end, so the end curves up along its rim.
    end = _under_face(_arc(across / 2 - length, r - depth, r, 2, 3, segments))
    end[-1] = (across / 2 - length, -depth)  # the arc's bottom, exactly level with the floor
    profile = [
        *end,
        (across / 2 + OVERSHOOT, -depth),
        (across / 2 + OVERSHOOT, LIFT),
        (end[0][0], LIFT),
    ]
    return _along(profile, centre - w / 2, centre + w / 2).transform(quarter_turn(k))


BUILDERS: dict[str, Callable[[FeatureLike, FaceSize, int], mf.Manifold]] = {
    "rectangular_through_slot": _build_rectangular_through_slot,
    "circular_through_slot": _build_circular_through_slot,
    "triangular_through_slot": _build_triangular_through_slot,
    "rectangular_blind_step": _build_rectangular_blind_step,
    "triangular_blind_step": _build_triangular_blind_step,
    "circular_blind_step": _build_circular_blind_step,
    "two_sided_step": _build_two_sided_step,
    "slanted_step": _build_slanted_step,
    "round": _build_round,
    "horizontal_circular_end_slot": _build_horizontal_circular_end_slot,
}
