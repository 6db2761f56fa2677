"""assets.kinds_closed: what the samplers of the taxonomy's closed kinds draw.

The generic checks of every kind (valid, reachable, inside its boxes and the face) are
test_features.py; these are the properties of these kinds' sizes and options.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _synth_fixtures import removed_by

from assets.cutters import FaceSize
from assets.kinds_closed import KINDS, THROUGH

FACE = FaceSize(u=90.0, v=50.0, depth=40.0)
MAX_DEPTH = 24.0
SEEDS = range(40)


def _drawn(kind: str, max_depth: float = MAX_DEPTH) -> list:
    features = (KINDS[kind](np.random.default_rng(s), FACE, max_depth, 24) for s in SEEDS)
    return [f for f in features if f is not None]


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_box_is_tight_around_what_the_feature_cuts(kind):
    # 360 sides: the round outlines have corners at every whole degree, so at their extremes.
    for f in _drawn(kind)[:6]:
        (u0, u1, v0, v1, z0, z1) = f.boxes[0]
        r_lo, r_hi = np.reshape(removed_by(f.cutter(FACE, 360), FACE).bounding_box(), (2, 3))
        # Revolved profiles are kept in single precision by manifold3d: 1e-5 mm.
        np.testing.assert_allclose(r_lo, (u0, v0, z0), atol=1e-5)
        np.testing.assert_allclose(r_hi, (u1, v1, z1), atol=1e-5)


def test_an_o_ring_groove_leaves_an_island_at_least_half_its_diameter():
    for f in _drawn("o_ring"):
        width = (f.size["outer_diameter"] - f.size["inner_diameter"]) / 2
        assert 1.5 - 1e-9 <= width <= 10.0 + 1e-9
        assert f.size["inner_diameter"] >= f.size["outer_diameter"] / 2 - 1e-9
        assert 0.4 * width - 1e-9 <= f.size["depth"] <= width + 1e-9


def test_a_countersink_s_cone_ends_above_the_hole_s_floor():
    drawn = _drawn("countersink")
    for f in drawn:
        r, r_cs = f.size["diameter"] / 2, f.size["cs_diameter"] / 2
        cone = (r_cs - r) / math.tan(math.radians(f.size["cs_angle"] / 2))
        assert f.size["depth"] >= cone + r - 1e-9  # at least half a diameter of plain hole
    assert {f.size["cs_angle"] for f in drawn} == {82.0, 90.0}
    assert {f.options["bottom"] for f in drawn} == {"flat", "drill"}


@pytest.mark.parametrize("kind", ["triangular_pocket", "triangular_passage"])
def test_triangles_come_in_both_shapes_sharp_or_rounded_and_turned(kind):
    drawn = _drawn(kind)
    assert {f.options["shape"] for f in drawn} == {"equilateral", "isosceles"}
    assert any(f.size["corner_radius"] > 0 for f in drawn)
    assert any(f.size["corner_radius"] == 0 for f in drawn)
    assert any(f.size["angle"] % 90 for f in drawn)
    for f in drawn:
        if f.options["shape"] == "isosceles":
            base, height = f.size["base"], f.size["height"]
            assert 0.4 * base - 1e-9 <= height <= 2 * base + 1e-9
        else:
            base, height = f.size["side"], f.size["side"] * math.sqrt(3) / 2
        inradius = base * height / (base + 2 * math.hypot(base / 2, height))
        assert f.size["corner_radius"] <= inradius / 2 + 1e-9


def test_shaped_pockets_are_turned_by_whole_degrees_off_the_axes():
    for kind in ("hexagonal_pocket", "hexagonal_passage", "circular_end_pocket"):
        angles = {f.size["angle"] for f in _drawn(kind)}
        assert all(a == int(a) for a in angles) and any(a % 90 for a in angles), kind


def test_a_filleted_pocket_has_a_wall_above_its_fillet():
    for f in _drawn("filleted_pocket"):
        rf = f.size["fillet_radius"]
        assert f.size["depth"] >= rf + 0.5 - 1e-9
        assert rf <= min(f.size["width"], f.size["length"]) / 4 + 1e-9


def test_passages_go_through_whatever_the_depth_limit():
    assert THROUGH <= set(KINDS)
    for kind in THROUGH:
        drawn = _drawn(kind, max_depth=0.3)
        assert drawn and all(f.size["depth"] == FACE.depth for f in drawn)
        assert all(f.boxes[0][4] == -FACE.depth for f in drawn)
