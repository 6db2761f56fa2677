"""assets.cutters_open: the solids of the taxonomy's open kinds, in the frame of their face.

Features are built by hand here (the samplers are assets.kinds_open): each cutter removes
exactly the volume its sizes say, rises LIFT above the face, is a union of columns open to the
face, and opens to its own edges, running OVERSHOOT past them, and to no other edge.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _synth_fixtures import check_cut, removed_by

from assets.cutters import OVERSHOOT, SIDES, FaceSize, Feature, side_extents, turn_point

FACE = FaceSize(u=60.0, v=40.0, depth=30.0)
SEGMENTS = 48
GROOVES = {"+v,-v": 0, "+u,-u": 1}  # a groove's open edges, and its quarter turns


def _ngon(radius: float) -> float:
    """Area of the regular polygon a round cutter is made of (vertices on the circle)."""
    return SEGMENTS / 2 * radius**2 * math.sin(2 * math.pi / SEGMENTS)


def _ngon_below(radius: float, height: float) -> float:
    """Area of that polygon (a vertex at angle 0), centred ``height`` above z = 0, below it."""
    angles = 2 * math.pi * np.arange(SEGMENTS) / SEGMENTS
    polygon = list(zip(radius * np.cos(angles), height + radius * np.sin(angles), strict=True))
    below = []
    for (x0, z0), (x1, z1) in zip(polygon, polygon[1:] + polygon[:1], strict=True):
        if z0 <= 0:
            below.append((x0, z0))
        if z0 * z1 < 0:
            below.append((x0 + z0 / (z0 - z1) * (x1 - x0), 0.0))
    x, z = np.array(below).T
    return float(np.dot(x, np.roll(z, -1)) - np.dot(z, np.roll(x, -1))) / 2


# Each case: (feature, removed volume, removed depth, the edges it opens to).


def _rectangular_groove(sides: str, centre: float, w: float, depth: float):
    k = GROOVES[sides]
    _, along = side_extents(FACE, SIDES[k])
    size = {"width": w, "depth": depth}
    f = Feature("rectangular_through_slot", turn_point(k, centre, 0.0), size, {"sides": sides})
    return f, w * depth * along, depth, sides


def _circular_groove(sides: str, centre: float, r: float, depth: float):
    k = GROOVES[sides]
    _, along = side_extents(FACE, SIDES[k])
    size = {"radius": r, "depth": depth}
    f = Feature("circular_through_slot", turn_point(k, centre, 0.0), size, {"sides": sides})
    return f, _ngon_below(r, r - depth) * along, depth, sides


def _v_groove(sides: str, centre: float, angle: float, depth: float):
    k = GROOVES[sides]
    _, along = side_extents(FACE, SIDES[k])
    size = {"angle": angle, "depth": depth}
    f = Feature("triangular_through_slot", turn_point(k, centre, 0.0), size, {"sides": sides})
    return f, depth**2 * math.tan(math.radians(angle / 2)) * along, depth, sides


def _corner_step(kind: str, k: int):
    corner = f"{SIDES[k]},{SIDES[(k + 1) % 4]}"
    across, along = side_extents(FACE, SIDES[k])
    if kind == "circular_blind_step":
        r, depth = 9.0, 4.0
        size = {"radius": r, "depth": depth}
        position, area = turn_point(k, across / 2 - r / 2, along / 2 - r / 2), _ngon(r) / 4
    else:
        w, length, depth = 12.0, 7.5, 3.5
        size = {"width": w, "length": length, "depth": depth}
        position = turn_point(k, across / 2 - w / 2, along / 2 - length / 2)
        area = w * length / (2 if kind == "triangular_blind_step" else 1)
    return Feature(kind, position, size, {"corner": corner}), area * depth, depth, corner


def _two_sided_step(sides: str, w: float, opposite: float, depth: float):
    k = SIDES.index(sides.split(",")[0])
    _, along = side_extents(FACE, SIDES[k])
    size = {"width": w, "opposite_width": opposite, "depth": depth}
    f = Feature("two_sided_step", turn_point(k, (opposite - w) / 2, 0.0), size, {"sides": sides})
    return f, (w + opposite) * depth * along, depth, ",".join(SIDES)  # it runs past both ends


def _slanted_step(side: str, angle: float):
    k = SIDES.index(side)
    across, along = side_extents(FACE, side)
    w, depth = 8.0, 3.0
    size = {"width": w, "depth": depth, "angle": angle}
    f = Feature("slanted_step", turn_point(k, across / 2 - w / 2, 0.0), size, {"side": side})
    floor = w - depth * math.tan(math.radians(angle))
    ends = f"{SIDES[(k + 1) % 4]},{SIDES[(k + 3) % 4]}"
    return f, (w + floor) / 2 * depth * along, depth, f"{side},{ends}"


def _round(edges: str, r: float):
    along = sum(side_extents(FACE, side)[1] for side in edges.split(","))
    f = Feature("round", (0.0, 0.0), {"radius": r}, {"edges": edges})
    opens = {s for side in edges.split(",") for s in SIDES if s[1] != side[1] or s == side}
    return f, (r**2 - _ngon(r) / 4) * along, r, ",".join(sorted(opens))


def _end_slot(side: str, r: float, depth: float):
    k = SIDES.index(side)
    across, _ = side_extents(FACE, side)
    w, length, centre = 6.0, 10.0, -4.5
    run = math.sqrt(r**2 - (r - depth) ** 2)
    size = {"width": w, "length": length, "depth": depth, "radius": r}
    position = turn_point(k, across / 2 - (length + run) / 2, centre)
    f = Feature("horizontal_circular_end_slot", position, size, {"side": side})
    # The flat floor, then a quarter of the disc cutter's polygon under the face.
    area = length * depth + _ngon_below(r, r - depth) / 2
    return f, area * w, depth, side


CASES = {
    "rectangular_through_slot+v,-v": _rectangular_groove("+v,-v", 7.0, 6.0, 5.0),
    "rectangular_through_slot+u,-u": _rectangular_groove("+u,-u", -4.5, 8.2, 3.3),
    "circular_through_slot-half-round": _circular_groove("+v,-v", -6.0, 5.0, 5.0),
    "circular_through_slot-axis-below-lift": _circular_groove("+u,-u", 3.0, 6.0, 5.5),
    "circular_through_slot-shallow": _circular_groove("+v,-v", 11.0, 8.0, 3.0),
    "triangular_through_slot-90": _v_groove("+v,-v", 2.0, 90.0, 4.0),
    "triangular_through_slot-60": _v_groove("+u,-u", -7.5, 60.0, 5.2),
    "triangular_through_slot-120": _v_groove("+v,-v", -15.0, 120.0, 3.0),
    **{
        f"{kind}-{k}": _corner_step(kind, k)
        for kind in ("rectangular_blind_step", "triangular_blind_step", "circular_blind_step")
        for k in range(4)
    },
    "two_sided_step+u,-u": _two_sided_step("+u,-u", 6.0, 9.0, 2.5),
    "two_sided_step+v,-v": _two_sided_step("+v,-v", 5.0, 5.0, 2.0),
    **{f"slanted_step{side}": _slanted_step(side, 10.0 + 10 * k) for k, side in enumerate(SIDES)},
    "round+v": _round("+v", 3.0),
    "round+u,-u": _round("+u,-u", 4.0),
    "round-v": _round("-v", 1.2),
    "horizontal_circular_end_slot+u-quarter-disc": _end_slot("+u", 4.0, 4.0),
    "horizontal_circular_end_slot-v-axis-below-lift": _end_slot("-v", 4.5, 4.0),
    "horizontal_circular_end_slot+v-large-disc": _end_slot("+v", 12.0, 3.5),
    "horizontal_circular_end_slot-u-large-disc": _end_slot("-u", 25.0, 5.0),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_cutter_removes_what_its_sizes_say_as_columns_open_to_the_face(case):
    feature, volume, depth, _ = CASES[case]
    # Round profiles are the SEGMENTS-gon's arcs, which the expected areas use too.
    check_cut(feature.cutter(FACE, SEGMENTS), FACE, volume, depth, through=False)


@pytest.mark.parametrize("case", list(CASES))
def test_a_cutter_opens_to_its_own_edges_runs_past_them_and_to_no_other(case):
    feature, _, _, opens = CASES[case]
    cutter = feature.cutter(FACE, SEGMENTS)
    lo, hi = np.reshape(cutter.bounding_box(), (2, 3))
    r_lo, r_hi = np.reshape(removed_by(cutter, FACE).bounding_box(), (2, 3))
    for axis, name in enumerate("uv"):
        half = (FACE.u, FACE.v)[axis] / 2
        if f"+{name}" in opens.split(","):
            assert r_hi[axis] == half and hi[axis] == pytest.approx(half + OVERSHOOT)
        else:
            assert r_hi[axis] < half - 1.0  # well inside: it leaves that edge alone
        if f"-{name}" in opens.split(","):
            assert r_lo[axis] == -half and lo[axis] == pytest.approx(-half - OVERSHOOT)
        else:
            assert r_lo[axis] > -half + 1.0
    # Nothing reaches further out than OVERSHOOT past the face.
    reach = np.array([FACE.u / 2, FACE.v / 2]) + OVERSHOOT
    assert (lo[:2] >= -reach - 1e-9).all() and (hi[:2] <= reach + 1e-9).all()


@pytest.mark.parametrize("kind", ["rectangular_blind_step", "triangular_blind_step"])
def test_a_corner_step_s_width_is_across_its_first_edge_and_its_length_along_it(kind):
    for k in range(4):
        feature = _corner_step(kind, k)[0]
        removed = removed_by(feature.cutter(FACE, SEGMENTS), FACE)
        r_lo, r_hi = np.reshape(removed.bounding_box(), (2, 3))
        axis = 0 if SIDES[k][1] == "u" else 1
        extent = r_hi[:2] - r_lo[:2]
        assert extent[axis] == pytest.approx(feature.size["width"])
        assert extent[1 - axis] == pytest.approx(feature.size["length"])


def test_a_slanted_step_s_wall_leans_out_towards_its_edge():
    # Sliced level with the face, the cut is w wide; at z below it, -z tan(angle) narrower.
    feature = _slanted_step("+u", 30.0)[0]
    w, depth = feature.size["width"], feature.size["depth"]
    lean = math.tan(math.radians(feature.size["angle"]))
    removed = removed_by(feature.cutter(FACE, SEGMENTS), FACE)
    for z in (-0.01, -depth / 2, -depth + 0.01):
        u0, _, u1, _ = removed.slice(z).bounds()
        assert u1 == pytest.approx(FACE.u / 2) and u1 - u0 == pytest.approx(w + z * lean)
