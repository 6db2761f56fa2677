"""assets.face_frames: the stock box's six faces, each with an exact right-handed frame."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from assets.face_frames import FACE_FRAMES, face_frame, face_normal
from geometry.directions import CLAMPED, DIRECTIONS

# Sides of a stock box, all different (so that no two faces share a size) and exact in binary.
STOCK = (30.5, 52.25, 71.0)


def test_the_faces_are_the_five_classes_and_the_clamped_side():
    assert set(FACE_FRAMES) == set(DIRECTIONS) | {"z_minus"}
    np.testing.assert_array_equal(face_normal("z_minus"), CLAMPED)


@pytest.mark.parametrize("face", sorted(FACE_FRAMES))
def test_each_frame_is_right_handed_and_orthonormal_with_the_outward_normal(face):
    u, v, n = (np.array(axis, dtype=float) for axis in FACE_FRAMES[face])
    rotation = face_frame(face, STOCK).rotation
    np.testing.assert_array_equal(rotation, np.column_stack([u, v, n]))
    np.testing.assert_array_equal(rotation.T @ rotation, np.eye(3))
    np.testing.assert_array_equal(np.cross(u, v), n)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_array_equal(face_normal(face), n)
    if face in DIRECTIONS:
        np.testing.assert_array_equal(n, DIRECTIONS[face])
        if face != "z_plus":  # a side face: its +v edge is the top edge
            np.testing.assert_array_equal(v, (0, 0, 1))


def _box_corners(lo, hi) -> set[tuple[float, float, float]]:
    return {tuple(map(float, c)) for c in itertools.product(*zip(lo, hi, strict=True))}


@pytest.mark.parametrize("face", sorted(FACE_FRAMES))
def test_face_frame_maps_the_face_extent_onto_that_face_of_the_box(face):
    frame = face_frame(face, STOCK)
    sides = np.array(STOCK)
    n = face_normal(face)
    axis = int(np.flatnonzero(n)[0])
    # The face's size: its two in-plane sides, and the stock's thickness under it.
    assert frame.size.depth == sides[axis]
    assert sorted([frame.size.u, frame.size.v]) == sorted(np.delete(sides, axis))
    half_u, half_v = frame.size.u / 2, frame.size.v / 2
    corners = np.array(
        [
            frame.to_world(np.array([su * half_u, sv * half_v, 0.0]))
            for su in (-1, 1)
            for sv in (-1, 1)
        ]
    )
    # The four corners of (u, v) in [-U/2, U/2] x [-V/2, V/2] are the four corners of the
    # box face whose outward normal is n: exactly, since the map is a signed permutation.
    plane = sides[axis] if n[axis] > 0 else 0.0
    face_corners = {c for c in _box_corners((0, 0, 0), sides) if c[axis] == plane}
    assert {tuple(map(float, c)) for c in corners} == face_corners
    np.testing.assert_array_equal(frame.to_world(np.zeros(3)), np.where(n != 0, plane, sides / 2))
    # Material lies at z < 0: the face frame's slab [-depth, 0] is the whole stock.
    lo, hi = frame.world_box((-half_u, half_u, -half_v, half_v, -frame.size.depth, 0.0))
    np.testing.assert_array_equal(lo, (0, 0, 0))
    np.testing.assert_array_equal(hi, sides)
    np.testing.assert_array_equal(frame.to_world(np.array([0, 0, 1.0])) - frame.origin, n)


@pytest.mark.parametrize("face", sorted(FACE_FRAMES))
def test_affine_and_world_box_agree_with_to_world(face):
    frame = face_frame(face, STOCK)
    rng = np.random.default_rng(list(FACE_FRAMES).index(face))
    points = rng.uniform(-40, 40, (10, 3))
    mapped = np.array([frame.to_world(p) for p in points])
    np.testing.assert_array_equal(np.c_[points, np.ones(10)] @ frame.affine().T, mapped)
    box = (-3.0, 5.0, -1.5, 2.0, -4.0, 0.0)
    lo, hi = frame.world_box(box)
    corners = np.array(
        [
            frame.to_world(np.array(c))
            for c in itertools.product(*zip(box[::2], box[1::2], strict=True))
        ]
    )
    np.testing.assert_array_equal(lo, corners.min(axis=0))
    np.testing.assert_array_equal(hi, corners.max(axis=0))
    assert (hi - lo > 0).all()  # a box of positive size stays one
