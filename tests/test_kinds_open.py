"""assets.kinds_open: what the samplers of the open kinds draw, beyond what test_features checks.

Every kind there is drawn valid (closed cutter, within its boxes, reached from the face);
here: the sizes stay in their stated ranges, every corner and orientation comes up, and walls
that face a side stay low against the floor beside them, so the label face dominates.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from assets.cutters import SIDES, FaceSize
from assets.cutters_open import GROOVE_SIDES
from assets.kinds_open import KINDS, THROUGH

FACES = (FaceSize(u=90.0, v=50.0, depth=40.0), FaceSize(u=45.0, v=120.0, depth=25.5))
SEGMENTS = 24


def _drawn(kind: str, seeds: int = 60) -> list:
    samples = (
        (KINDS[kind](np.random.default_rng(seed), face, 10.0, SEGMENTS), face)
        for seed in range(seeds)
        for face in FACES
    )
    return [(f, face) for f, face in samples if f is not None]


def test_no_open_kind_goes_through_the_stock():
    assert not THROUGH


@pytest.mark.parametrize(
    "kind", ["rectangular_blind_step", "triangular_blind_step", "circular_blind_step"]
)
def test_corner_steps_come_at_every_corner_and_stay_low_against_their_floor(kind):
    corners = set()
    for f, _ in _drawn(kind):
        corners.add(f.options["corner"])
        size = f.size
        if kind == "circular_blind_step":
            floor = size["radius"]
        elif kind == "rectangular_blind_step":
            floor = min(size["width"], size["length"])
        else:  # from the corner to the wall
            floor = size["width"] * size["length"] / math.hypot(size["width"], size["length"])
        assert size["depth"] <= floor / 2 + 1e-9
    assert corners == {f"{SIDES[k]},{SIDES[(k + 1) % 4]}" for k in range(4)}


@pytest.mark.parametrize(
    "kind", ["rectangular_through_slot", "circular_through_slot", "triangular_through_slot"]
)
def test_grooves_run_both_ways_and_keep_a_wall_to_the_edges_beside_them(kind):
    for f, face in _drawn(kind):
        u0, u1, v0, v1, _, _ = f.boxes[0]
        if f.options["sides"] == "+v,-v":
            assert (v0, v1) == (-face.v / 2, face.v / 2) and -face.u / 2 + 3 <= u0 < u1
            assert u1 <= face.u / 2 - 3
        else:
            assert (u0, u1) == (-face.u / 2, face.u / 2) and -face.v / 2 + 3 <= v0 < v1
            assert v1 <= face.v / 2 - 3
    assert {f.options["sides"] for f, _ in _drawn(kind)} == set(GROOVE_SIDES)


def test_round_grooves_are_half_round_or_shallower():
    depths = [(f.size["depth"], f.size["radius"]) for f, _ in _drawn("circular_through_slot")]
    assert all(1.5 <= d <= r <= 20 for d, r in depths)
    assert any(d == r for d, r in depths) and any(d < r for d, r in depths)


def test_angles_are_whole_degrees_in_their_ranges():
    for kind, lo, hi in (("triangular_through_slot", 60, 120), ("slanted_step", 10, 45)):
        angles = [f.size["angle"] for f, _ in _drawn(kind)]
        assert all(lo <= a <= hi and a == int(a) for a in angles)
        assert max(angles) - min(angles) >= (hi - lo) / 2  # drawn across the range


def test_a_slanted_step_leaves_a_floor_twice_as_wide_as_it_is_deep():
    for f, _ in _drawn("slanted_step"):
        w, depth, angle = f.size["width"], f.size["depth"], f.size["angle"]
        assert w - depth * math.tan(math.radians(angle)) >= 2 * depth - 1e-9


def test_a_two_sided_step_leaves_a_tenon_and_both_steps_stay_low():
    for f, face in _drawn("two_sided_step"):
        across = face.u if f.options["sides"] == "+u,-u" else face.v
        w, opposite, depth = f.size["width"], f.size["opposite_width"], f.size["depth"]
        assert across - w - opposite >= 0.3 * across - 1e-9
        assert depth <= min(w, opposite) / 2 + 1e-9


def test_rounds_are_1_to_8_mm_and_a_disc_cutter_is_no_smaller_than_its_slot_is_deep():
    assert all(1.0 <= f.size["radius"] <= 8.0 for f, _ in _drawn("round"))
    for f, _ in _drawn("horizontal_circular_end_slot"):
        assert f.size["radius"] >= f.size["depth"] and f.size["length"] >= 2.0
