"""Cutters of the taxonomy's closed kinds: grooves, holes, pockets and passages off the edges.

Same frame and rules as :mod:`assets.cutters`: the face is ``z = 0`` with material below,
every cutter is column-monotone (wherever it holds a point of the stock it holds the whole
column above it up to the face) and rises exactly ``LIFT`` above the face; the through kinds
(``triangular_passage``, ``hexagonal_passage``) reach ``OVERSHOOT`` below the opposite face.

The polygons of the triangle and hexagon kinds are computed here
(:func:`triangle_outline`, :func:`hexagon_outline`, :func:`polygon_bounds`) and shared with
their samplers (:mod:`assets.kinds_closed`), so that the boxes a sampler reports hold exactly
the polygon the builder cuts.

This module imports only :mod:`assets.face_geometry` of the project: :mod:`assets.cutters`
imports it, so anything more would close an import cycle.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import manifold3d as mf
import numpy as np

from assets.face_geometry import LIFT, OVERSHOOT, FaceSize, FeatureLike, drill_point, revolved

# --- polygons shared with the samplers ---------------------------------------------------------


def _turned(points: np.ndarray, angle_deg: float) -> np.ndarray:
    """``points`` (k, 2) turned counter-clockwise about the origin by ``angle_deg``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return points @ np.array([[c, s], [-s, c]])


def triangle_outline(size: dict[str, float], options: dict[str, str]) -> np.ndarray:
    """The corners (3, 2) of a triangle kind, counter-clockwise, about its centroid.

    An equilateral triangle has ``size["side"]``, an isosceles one ``size["base"]`` and
    ``size["height"]`` (base to apex); unturned, the apex points to ``+v``. The triangle is then
    turned by ``size["angle"]`` degrees about its centroid (the feature's position).
    """
    if options["shape"] == "equilateral":
        base, height = size["side"], size["side"] * math.sqrt(3) / 2
    else:
        base, height = size["base"], size["height"]
    # The centroid lies a third of the height above the base.
    corners = np.array(
        [(-base / 2, -height / 3), (base / 2, -height / 3), (0.0, 2 * height / 3)], dtype=float
    )
    return _turned(corners, size["angle"])


def hexagon_outline(size: dict[str, float]) -> np.ndarray:
    """The corners (6, 2) of a regular hexagon, counter-clockwise, about its centre.

    ``size["across_flats"]`` is the distance between opposite sides (a spanner's size);
    unturned, two corners lie on the ``u`` axis. Turned by ``size["angle"]`` degrees.
    """
    radius = size["across_flats"] / math.sqrt(3)  # the corners' circle
    angles = np.radians(np.arange(6) * 60.0)
    return _turned(radius * np.column_stack([np.cos(angles), np.sin(angles)]), size["angle"])


def inset(corners: np.ndarray, distance: float) -> np.ndarray:
    """The corners of a convex counter-clockwise polygon with every side moved in by ``distance``.

    A corner rounded with radius ``distance`` is an arc about the inset corner.
    """
    if distance == 0:
        return corners
    edges = np.roll(corners, -1, axis=0) - corners
    normals = np.column_stack([-edges[:, 1], edges[:, 0]])  # inward: left of each side
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    before = np.roll(normals, 1, axis=0)  # the side that ends at each corner
    # The point `distance` from both sides of a corner, along its bisector.
    return corners + distance * (before + normals) / (1 + (before * normals).sum(axis=1))[:, None]


def polygon_bounds(corners: np.ndarray, radius: float) -> tuple[float, float, float, float]:
    """``(u0, u1, v0, v1)``: the tight box of a polygon whose corners are rounded by ``radius``."""
    core = inset(corners, radius)
    lo, hi = core.min(axis=0) - radius, core.max(axis=0) + radius
    return float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1])


def _polygon_section(corners: np.ndarray, radius: float, segments: int) -> mf.CrossSection:
    """A convex polygon, its corners rounded by ``radius`` (a hull of circles) when above 0."""
    if radius <= 0:
        return mf.CrossSection([[tuple(p) for p in corners]])
    circle = mf.CrossSection.circle(radius, segments)
    return mf.CrossSection.batch_hull([circle.translate(tuple(p)) for p in inset(corners, radius)])


def _prism(section: mf.CrossSection, bottom: float) -> mf.Manifold:
    """``section`` extruded from ``z = bottom`` up to LIFT: a union of columns."""
    return mf.Manifold.extrude(section, LIFT - bottom).translate((0.0, 0.0, bottom))


def _bottom(f: FeatureLike, face: FaceSize, through: bool) -> float:
    # A through kind's floor lies OVERSHOOT below the opposite face, so no face is shared.
    return -f.size["depth"] - OVERSHOOT if through else -f.size["depth"]


# --- round kinds: revolved profiles ------------------------------------------------------------


def _build_o_ring(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    r_in, r_out = f.size["inner_diameter"] / 2, f.size["outer_diameter"] / 2
    depth = f.size["depth"]
    profile = [(r_in, -depth), (r_out, -depth), (r_out, LIFT), (r_in, LIFT)]
    return revolved(profile, *f.position, segments)


def _build_countersink(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    r, depth = f.size["diameter"] / 2, f.size["depth"]
    r_cs = f.size["cs_diameter"] / 2
    slope = math.tan(math.radians(f.size["cs_angle"] / 2))  # radius gained per mm up the cone
    cone_depth = (r_cs - r) / slope
    tip = [(0.0, -depth - drill_point(r))] if f.options["bottom"] == "drill" else [(0.0, -depth)]
    # The cone keeps widening above the face, so every column inside it stays open to +z.
    top = r_cs + LIFT * slope
    profile = [*tip, (r, -depth), (r, -cone_depth), (top, LIFT), (0.0, LIFT)]
    return revolved(profile, *f.position, segments)


def _build_circular_end_pocket(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    w, length = f.size["width"], f.size["length"]
    half = (length - w) / 2  # from the middle to either end's centre
    circle = mf.CrossSection.circle(w / 2, segments)
    section = mf.CrossSection.batch_hull(
        [circle.translate((-half, 0.0)), circle.translate((half, 0.0))]
    )
    section = section.rotate(f.size["angle"]).translate(f.position)
    return _prism(section, -f.size["depth"])


def _rounded_rectangle_order(segments: int) -> list[tuple[int, int]]:
    """The corners of a rectangle grown by a ``segments``-gon, counter-clockwise.

    Each is ``(k, q)``: the polygon's corner ``k`` (at ``2 pi k / segments``) put on the
    rectangle's corner ``q`` (``+u+v``, ``-u+v``, ``-u-v``, ``+u-v``). A pair is a corner of the
    sum where the directions it faces overlap (a Minkowski sum of convex polygons). Directions
    are counted in whole steps of ``pi / (2 segments)``: the polygon's corner ``k`` faces
    ``(4k - 2, 4k + 2)`` and the rectangle's corner ``q`` faces ``(q n, (q + 1) n)``.
    """
    n = segments
    order: list[tuple[int, int]] = []
    for j in range(4 * n):  # the directions (j, j + 1), all the way round
        pair = ((j + 2) // 4 % n, j // n)
        if not order or order[-1] != pair:
            order.append(pair)
    if order[0] == order[-1]:
        order.pop()
    return order


def _build_filleted_pocket(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
    w, length, depth, rf = (f.size[k] for k in ("width", "length", "depth", "fillet_radius"))
    # A ball-end mill of radius rf is a stack of circles (polygons), widening from the ball's
    # bottom up its quarter arc to the shank. The pocket is that tool swept over the rectangle
    # of its centres: at every height, the rectangle grown by the tool's circle there. Built
    # as a mesh, ring by ring: the rings only widen upwards, so it is a union of columns.
    # (It is also the hull of the tool at the four corners, but manifold3d's hulls of these
    # many coplanar points come out wrong: batch_hull drops part of the solid, hull_points
    # leaves edges with four faces.)
    steps = max(2, segments // 4)
    arc = np.linspace(0.0, math.pi / 2, steps + 1)[1:]
    rings = [(rf * math.sin(t), -depth + rf - rf * math.cos(t)) for t in arc]
    rings.append((rf, LIFT))
    cu, cv = f.position
    a, b = w / 2 - rf, length / 2 - rf  # half the rectangle of the ball's centres
    corners = np.array([(cu + a, cv + b), (cu - a, cv + b), (cu - a, cv - b), (cu + a, cv - b)])
    order = _rounded_rectangle_order(segments)
    ks = np.array([k for k, _ in order])
    qs = np.array([q for _, q in order])
    turn = 2 * math.pi * ks / segments
    directions = np.column_stack([np.cos(turn), np.sin(turn)])
    # Vertices: the floor's four corners, then each ring's len(order) corners.
    verts = [np.column_stack([corners, np.full(4, -depth)])]
    for radius, z in rings:
        ring = corners[qs] + radius * directions
        verts.append(np.column_stack([ring, np.full(len(order), z)]))
    m = len(order)
    tris = [(0, 2, 1), (0, 3, 2)]  # the floor, facing -z
    for j in range(m):  # from the floor's corners up to the first ring
        nxt = (j + 1) % m
        lower, upper = qs[j], qs[nxt]
        w0, w1 = 4 + j, 4 + nxt
        if lower != upper:
            tris.append((lower, upper, w1))
        tris.append((lower, w1, w0))
    for i in range(len(rings) - 1):  # between rings: planar trapezoids
        base, top = 4 + i * m, 4 + (i + 1) * m
        for j in range(m):
            nxt = (j + 1) % m
            tris += [(base + j, base + nxt, top + nxt), (base + j, top + nxt, top + j)]
    top = 4 + (len(rings) - 1) * m
    tris += [(top, top + j, top + j + 1) for j in range(1, m - 1)]  # the top, facing +z
    mesh = mf.Mesh64(
        vert_properties=np.ascontiguousarray(np.concatenate(verts), dtype=np.float64),
        tri_verts=np.array(tris, dtype=np.uint64),
    )
    return mf.Manifold(mesh)


# --- polygon kinds: extruded outlines ----------------------------------------------------------


def _triangle_cutter(through: bool) -> Callable[[FeatureLike, FaceSize, int], mf.Manifold]:
    def build(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
        corners = triangle_outline(f.size, f.options) + np.asarray(f.position)
        section = _polygon_section(corners, f.size["corner_radius"], segments)
        return _prism(section, _bottom(f, face, through))

    return build


def _hexagon_cutter(through: bool) -> Callable[[FeatureLike, FaceSize, int], mf.Manifold]:
    def build(f: FeatureLike, face: FaceSize, segments: int) -> mf.Manifold:
        corners = hexagon_outline(f.size) + np.asarray(f.position)
        return _prism(_polygon_section(corners, 0.0, segments), _bottom(f, face, through))

    return build


BUILDERS: dict[str, Callable[[FeatureLike, FaceSize, int], mf.Manifold]] = {
    "o_ring": _build_o_ring,
    "countersink": _build_countersink,
    "triangular_pocket": _triangle_cutter(through=False),
    "hexagonal_pocket": _hexagon_cutter(through=False),
    "circular_end_pocket": _build_circular_end_pocket,
    "filleted_pocket": _build_filleted_pocket,
    "triangular_passage": _triangle_cutter(through=True),
    "hexagonal_passage": _hexagon_cutter(through=True),
}
