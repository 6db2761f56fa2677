"""assets.cutters: each feature kind's solid, in the frame of the face it is cut into.

Features are built by hand here (the samplers are assets.features): each cutter removes
exactly the volume its sizes say, rises LIFT above the face, runs OVERSHOOT past the edges it
opens to, and is a union of columns open to the face (open to both faces when through).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _synth_fixtures import check_cut, removed_by

from assets.cutters import (
    DRILL_POINT_DEG,
    OVERSHOOT,
    SIDES,
    FaceSize,
    Feature,
    drill_point,
    side_extents,
    turn_point,
)

FACE = FaceSize(u=60.0, v=40.0, depth=30.0)
SEGMENTS = 48


def _ngon(radius: float) -> float:
    """Area of the regular polygon a round cutter is made of (vertices on the circle)."""
    return SEGMENTS / 2 * radius**2 * math.sin(2 * math.pi / SEGMENTS)


def _hole(bottom: str) -> tuple[Feature, float, float]:
    r, depth = 4.0, 12.0
    point = drill_point(r) if bottom == "drill" else 0.0
    f = Feature("hole", (5.0, -3.0), {"diameter": 2 * r, "depth": depth}, {"bottom": bottom})
    return f, _ngon(r) * (depth + point / 3), depth + point  # a cone: a third of its cylinder


def _counterbore(bottom: str) -> tuple[Feature, float, float]:
    r, depth, r_cb, cb_depth = 3.0, 15.0, 5.0, 4.0
    point = drill_point(r) if bottom == "drill" else 0.0
    size = {"diameter": 2 * r, "depth": depth, "cb_diameter": 2 * r_cb, "cb_depth": cb_depth}
    f = Feature("counterbore", (-10.0, 6.0), size, {"bottom": bottom})
    volume = _ngon(r) * (depth - cb_depth + point / 3) + _ngon(r_cb) * cb_depth
    return f, volume, depth + point


def _slot(side: str, end: str, kind: str = "slot") -> tuple[Feature, float, float]:
    k = SIDES.index(side)
    across, _ = side_extents(FACE, side)
    w, length, centre = 6.0, 20.0, 4.0
    depth = FACE.depth if kind == "through_slot" else 5.0
    position = turn_point(k, across / 2 - length / 2, centre)
    f = Feature(
        kind, position, {"width": w, "length": length, "depth": depth}, {"side": side, "end": end}
    )
    area = w * length if end == "square" else w * (length - w / 2) + math.pi * (w / 2) ** 2 / 2
    return f, area * depth, depth


def _step(side: str) -> tuple[Feature, float, float]:
    k = SIDES.index(side)
    across, along = side_extents(FACE, side)
    w, depth = 5.0, 3.0
    f = Feature(
        "step", turn_point(k, across / 2 - w / 2, 0.0), {"width": w, "depth": depth}, {"side": side}
    )
    return f, w * depth * along, depth


def _chamfer(edges: str) -> tuple[Feature, float, float]:
    w, angle = 4.0, 30.0
    h = w * math.tan(math.radians(angle))
    along = sum(side_extents(FACE, side)[1] for side in edges.split(","))
    f = Feature("chamfer", (0.0, 0.0), {"width": w, "angle": angle}, {"edges": edges})
    return f, w * h / 2 * along, h  # a triangular prism along each edge


def _pocket(kind: str, radius: float) -> tuple[Feature, float, float]:
    w, length = 12.0, 8.0
    depth = FACE.depth if kind == "through_pocket" else 6.0
    size = {"width": w, "length": length, "depth": depth, "corner_radius": radius}
    f = Feature(kind, (7.0, 2.0), size)
    return f, (w * length - (4 - math.pi) * radius**2) * depth, depth


def _round(kind: str) -> tuple[Feature, float, float]:
    r = 10.0 if kind == "circular_pocket" else 4.0
    depth = FACE.depth if kind == "through_hole" else 5.0
    return Feature(kind, (-4.0, 1.5), {"diameter": 2 * r, "depth": depth}), _ngon(r) * depth, depth


CASES = {
    "hole-flat": _hole("flat"),
    "hole-drill": _hole("drill"),
    "counterbore-flat": _counterbore("flat"),
    "counterbore-drill": _counterbore("drill"),
    "circular_pocket": _round("circular_pocket"),
    "rectangular_pocket-sharp": _pocket("rectangular_pocket", 0.0),
    "rectangular_pocket-round": _pocket("rectangular_pocket", 2.0),
    **{f"slot{side}-square": _slot(side, "square") for side in SIDES},
    "slot+u-round": _slot("+u", "round"),
    "slot-v-round": _slot("-v", "round"),
    **{f"step{side}": _step(side) for side in SIDES},
    "chamfer+v": _chamfer("+v"),
    "chamfer+u,-u": _chamfer("+u,-u"),
    "through_hole": _round("through_hole"),
    "through_pocket-round": _pocket("through_pocket", 1.5),
    "through_slot-v": _slot("-v", "square", "through_slot"),
    "through_slot+u-round": _slot("+u", "round", "through_slot"),
}
THROUGH = ("through_hole", "through_pocket", "through_slot")


@pytest.mark.parametrize("case", list(CASES))
def test_a_cutter_removes_what_its_sizes_say_as_columns_open_to_the_face(case):
    feature, volume, depth = CASES[case]
    # Round edges are polygons of SEGMENTS sides; corner arcs of pockets only approximately so.
    rel = 2e-3 if "round" in case else 1e-9
    through = feature.kind in THROUGH
    check_cut(feature.cutter(FACE, SEGMENTS), FACE, volume, depth, through=through, rel=rel)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("kind", ["slot", "step", "chamfer"])
def test_a_side_feature_opens_to_its_own_edge_and_runs_past_it(kind, side):
    build = {"slot": lambda: _slot(side, "square"), "step": lambda: _step(side)}
    feature = build.get(kind, lambda: _chamfer(side))()[0]
    cutter = feature.cutter(FACE, SEGMENTS)
    lo, hi = np.reshape(cutter.bounding_box(), (2, 3))
    r_lo, r_hi = np.reshape(removed_by(cutter, FACE).bounding_box(), (2, 3))
    axis = 0 if side[1] == "u" else 1
    half = (FACE.u, FACE.v)[axis] / 2
    if side[0] == "+":
        assert r_hi[axis] == half and r_lo[axis] > -half and hi[axis] == half + OVERSHOOT
    else:
        assert r_lo[axis] == -half and r_hi[axis] < half and lo[axis] == -half - OVERSHOOT
    other = 1 - axis
    if kind != "slot":  # steps and chamfers run the whole edge, and past both its ends
        half_along = (FACE.u, FACE.v)[other] / 2
        assert (r_lo[other], r_hi[other]) == (-half_along, half_along)
        assert (lo[other], hi[other]) == (-half_along - OVERSHOOT, half_along + OVERSHOOT)


def test_a_closed_feature_is_centred_on_its_position_with_its_sizes():
    pocket = CASES["rectangular_pocket-sharp"][0]
    r_lo, r_hi = np.reshape(removed_by(pocket.cutter(FACE, SEGMENTS), FACE).bounding_box(), (2, 3))
    np.testing.assert_allclose((r_lo[:2] + r_hi[:2]) / 2, pocket.position, atol=1e-12)
    np.testing.assert_allclose(r_hi[:2] - r_lo[:2], (pocket.size["width"], pocket.size["length"]))
    hole = CASES["hole-flat"][0]
    r_lo, r_hi = np.reshape(removed_by(hole.cutter(FACE, SEGMENTS), FACE).bounding_box(), (2, 3))
    np.testing.assert_allclose((r_lo[:2] + r_hi[:2]) / 2, hole.position, atol=1e-9)
    assert (r_hi[:2] - r_lo[:2] <= hole.size["diameter"] + 1e-9).all()


def test_the_drill_point_has_the_drill_s_included_angle():
    for radius in (1.5, 4.0, 10.0):
        angle = 2 * math.degrees(math.atan(radius / drill_point(radius)))
        assert angle == pytest.approx(DRILL_POINT_DEG)


def test_turn_point_turns_by_exact_quarter_turns():
    rng = np.random.default_rng(0)
    for a, b in rng.uniform(-50, 50, (20, 2)):
        assert turn_point(0, a, b) == (a, b)
        assert turn_point(1, a, b) == (-b, a)  # counter-clockwise about +z
        assert turn_point(2, a, b) == (-a, -b)
        assert turn_point(-1, a, b) == turn_point(3, a, b) == (b, -a)
        p = (a, b)
        for _ in range(4):
            p = turn_point(1, *p)
        assert p == (a, b)  # exactly: no rounding on the way
    # A zero stays +0.0 (it is written to parts.csv).
    assert all(math.copysign(1, x) == 1 for k in range(4) for x in turn_point(k, 0.0, 0.0))


def test_side_extents_are_across_then_along_the_edge():
    assert side_extents(FACE, "+u") == side_extents(FACE, "-u") == (FACE.u, FACE.v)
    assert side_extents(FACE, "+v") == side_extents(FACE, "-v") == (FACE.v, FACE.u)
