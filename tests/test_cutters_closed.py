"""assets.cutters_closed: the solids of the taxonomy's closed kinds, in their face's frame.

Features are built by hand here (the samplers are assets.kinds_closed): each cutter removes
exactly the volume its sizes say, rises LIFT above the face, and is a union of columns open
to the face (open to both faces for the passages, which run OVERSHOOT past the opposite one).
Round edges are polygons of SEGMENTS sides with their corners on the circle, so round volumes
are computed with those polygons' areas (:func:`_ngon`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _synth_fixtures import check_cut, removed_by

from assets.cutters import FaceSize, Feature, drill_point
from assets.cutters_closed import hexagon_outline, inset, polygon_bounds, triangle_outline
from assets.kinds_closed import THROUGH

FACE = FaceSize(u=60.0, v=40.0, depth=30.0)
SEGMENTS = 48  # a multiple of 4: the polygons have corners on both axes


def _ngon(radius: float) -> float:
    """Area of the regular polygon a round cutter is made of (vertices on the circle)."""
    return SEGMENTS / 2 * radius**2 * math.sin(2 * math.pi / SEGMENTS)


def _frustum(h: float, a0: float, a1: float) -> float:
    """Volume of a frustum of a pyramid, height ``h``, between similar faces ``a0`` and ``a1``."""
    return h / 3 * (a0 + a1 + math.sqrt(a0 * a1))


def _o_ring() -> tuple[Feature, float, float]:
    # Depths exact in single precision: manifold3d's revolve rounds its profile to floats.
    r_in, r_out, depth = 8.0, 11.5, 2.5
    size = {"inner_diameter": 2 * r_in, "outer_diameter": 2 * r_out, "depth": depth}
    f = Feature("o_ring", (5.0, -3.0), size)
    return f, (_ngon(r_out) - _ngon(r_in)) * depth, depth


def _countersink(bottom: str, angle: float) -> tuple[Feature, float, float]:
    r, r_cs, depth = 3.0, 6.5, 12.0
    cone = (r_cs - r) / math.tan(math.radians(angle / 2))
    point = drill_point(r) if bottom == "drill" else 0.0
    size = {"diameter": 2 * r, "depth": depth, "cs_diameter": 2 * r_cs, "cs_angle": angle}
    f = Feature("countersink", (-10.0, 6.0), size, {"bottom": bottom})
    # The hole below the cone (with a third of the point's cylinder), then the cone's frustum.
    volume = _ngon(r) * (depth - cone + point / 3) + _frustum(cone, _ngon(r), _ngon(r_cs))
    return f, volume, depth + point


def _triangle(kind: str, shape: str, angle: float, radius: float) -> tuple[Feature, float, float]:
    depth = FACE.depth if kind == "triangular_passage" else 7.5
    if shape == "equilateral":
        sides, base, height = {"side": 18.0}, 18.0, 9 * math.sqrt(3)
    else:
        sides, base, height = {"base": 12.0, "height": 20.0}, 12.0, 20.0
    size = {**sides, "angle": angle, "corner_radius": radius, "depth": depth}
    f = Feature(kind, (4.0, -2.5), size, {"shape": shape})
    area = base * height / 2
    if radius > 0:
        # Rounding moves each side in by r and puts back an r-wide band along the sides of the
        # inset triangle and a circle at its corners (Steiner's formula).
        core = inset(triangle_outline(size, f.options), radius)
        perimeter = np.linalg.norm(core - np.roll(core, 1, axis=0), axis=1).sum()
        core_area = _shoelace(core)
        area = core_area + perimeter * radius + math.pi * radius**2
    return f, area * depth, depth


def _shoelace(corners: np.ndarray) -> float:
    u, v = corners[:, 0], corners[:, 1]
    return 0.5 * float(np.dot(u, np.roll(v, -1)) - np.dot(v, np.roll(u, -1)))


def _hexagon(kind: str, angle: float) -> tuple[Feature, float, float]:
    across = 16.0
    depth = FACE.depth if kind == "hexagonal_passage" else 6.0
    f = Feature(kind, (-7.0, 3.0), {"across_flats": across, "depth": depth, "angle": angle})
    return f, math.sqrt(3) / 2 * across**2 * depth, depth


def _circular_end_pocket(angle: float) -> tuple[Feature, float, float]:
    w, length, depth = 8.0, 26.0, 4.5
    size = {"width": w, "length": length, "depth": depth, "angle": angle}
    f = Feature("circular_end_pocket", (3.0, 1.0), size)
    # Two half polygons (a whole one) and the rectangle between their centres.
    return f, (_ngon(w / 2) + (length - w) * w) * depth, depth


def _filleted_pocket() -> tuple[Feature, float, float]:
    w, length, depth, rf = 24.0, 14.0, 8.0, 3.0
    size = {"width": w, "length": length, "depth": depth, "fillet_radius": rf}
    f = Feature("filleted_pocket", (-6.0, 4.0), size)
    a, b = w - 2 * rf, length - 2 * rf  # the rectangle the ball's centre sweeps
    # Above the fillet: the rounded rectangle. In the fillet, at height t above the floor, the
    # rectangle grown by rho(t) = sqrt(rf^2 - (rf - t)^2): its own area, a band of width rho
    # along its sides (integrating to a quarter disc) and a disc (integrating to a hemisphere).
    walls = (w * length - (4 - math.pi) * rf**2) * (depth - rf)
    fillet = a * b * rf + 2 * (a + b) * math.pi * rf**2 / 4 + 2 / 3 * math.pi * rf**3
    return f, walls + fillet, depth


CASES = {
    "o_ring-round": _o_ring(),
    "countersink-flat-90": _countersink("flat", 90.0),
    "countersink-drill-90": _countersink("drill", 90.0),
    "countersink-flat-82": _countersink("flat", 82.0),
    "countersink-drill-82": _countersink("drill", 82.0),
    "triangular_pocket-equilateral": _triangle("triangular_pocket", "equilateral", 0.0, 0.0),
    "triangular_pocket-isosceles-turned": _triangle("triangular_pocket", "isosceles", 137, 0.0),
    "triangular_pocket-equilateral-round": _triangle("triangular_pocket", "equilateral", 20.0, 2.0),
    "triangular_pocket-isosceles-round": _triangle("triangular_pocket", "isosceles", 250, 1.5),
    "hexagonal_pocket": _hexagon("hexagonal_pocket", 0.0),
    "hexagonal_pocket-turned": _hexagon("hexagonal_pocket", 23.0),
    "circular_end_pocket-along-u": _circular_end_pocket(0.0),
    "circular_end_pocket-along-v": _circular_end_pocket(90.0),
    "circular_end_pocket-turned": _circular_end_pocket(33.0),
    "filleted_pocket-round": _filleted_pocket(),
    "triangular_passage-isosceles": _triangle("triangular_passage", "isosceles", 71.0, 0.0),
    "triangular_passage-equilateral-round": _triangle(
        "triangular_passage", "equilateral", 5.0, 2.5
    ),
    "hexagonal_passage": _hexagon("hexagonal_passage", 41.0),
}
# The volumes of these follow the smooth arcs, which the polygons approximate.
APPROXIMATE = ("triangular_pocket-equilateral-round", "triangular_pocket-isosceles-round")
APPROXIMATE += ("triangular_passage-equilateral-round", "filleted_pocket-round")


def test_the_cases_cover_every_kind():
    from assets.kinds_closed import KINDS

    assert {f.kind for f, _, _ in CASES.values()} == set(KINDS)


@pytest.mark.parametrize("case", list(CASES))
def test_a_cutter_removes_what_its_sizes_say_as_columns_open_to_the_face(case):
    feature, volume, depth = CASES[case]
    # Closed solids without handles; the groove of an O-ring goes round its island once.
    genus = 1 if feature.kind == "o_ring" else 0
    rel = 2e-3 if case in APPROXIMATE else 1e-9
    cutter = feature.cutter(FACE, SEGMENTS)
    check_cut(cutter, FACE, volume, depth, through=feature.kind in THROUGH, genus=genus, rel=rel)


def test_the_rounded_volumes_converge_to_the_smooth_ones():
    # The cases above that follow smooth arcs, again with finer polygons: the error shrinks.
    for case in APPROXIMATE:
        feature, volume, _ = CASES[case]
        removed = removed_by(feature.cutter(FACE, 360), FACE)
        assert removed.volume() == pytest.approx(volume, rel=1e-4), case


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith(("triangular", "hexagonal"))])
def test_a_polygon_s_box_is_tight_around_what_it_cuts(case):
    feature = CASES[case][0]
    if feature.kind.startswith("triangular"):
        corners = triangle_outline(feature.size, feature.options)
        radius = feature.size["corner_radius"]
    else:
        corners, radius = hexagon_outline(feature.size), 0.0
    u0, u1, v0, v1 = polygon_bounds(corners, radius)
    cu, cv = feature.position
    r_lo, r_hi = np.reshape(removed_by(feature.cutter(FACE, 360), FACE).bounding_box(), (2, 3))
    # Within the box, and touching each of its sides: a cross-section keeps its corners to
    # about 1e-8 mm, and the rounded corners' polygons (360 sides) touch the box's sides.
    tol = 1e-8
    np.testing.assert_allclose(r_lo[:2], (cu + u0, cv + v0), atol=tol)
    np.testing.assert_allclose(r_hi[:2], (cu + u1, cv + v1), atol=tol)
    assert (r_lo[:2] >= (cu + u0 - tol, cv + v0 - tol)).all()
    assert (r_hi[:2] <= (cu + u1 + tol, cv + v1 + tol)).all()


def test_the_polygons_have_the_sizes_they_are_drawn_with():
    equilateral = triangle_outline({"side": 10.0, "angle": 37.0}, {"shape": "equilateral"})
    sides = np.linalg.norm(equilateral - np.roll(equilateral, 1, axis=0), axis=1)
    np.testing.assert_allclose(sides, 10.0)
    np.testing.assert_allclose(equilateral.mean(axis=0), 0.0, atol=1e-12)  # about its centroid
    isosceles = triangle_outline({"base": 6.0, "height": 9.0, "angle": 0.0}, {"shape": "isosceles"})
    np.testing.assert_allclose(isosceles, [(-3, -3), (3, -3), (0, 6)], atol=1e-12)
    hexagon = hexagon_outline({"across_flats": 12.0, "angle": 11.0})
    # Every side 12/2 from the centre, and the corners counter-clockwise (positive area).
    mids = (hexagon + np.roll(hexagon, 1, axis=0)) / 2
    np.testing.assert_allclose(np.linalg.norm(mids, axis=1), 6.0)
    assert _shoelace(hexagon) > 0 and _shoelace(equilateral) > 0
    # Moving the sides in by r keeps the corners' bisectors: each inset side is r in.
    core = inset(equilateral, 1.0)
    np.testing.assert_allclose(_shoelace(core), math.sqrt(3) / 4 * (10 - 2 * math.sqrt(3)) ** 2)
