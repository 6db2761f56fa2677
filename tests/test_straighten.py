"""Tests of :mod:`geometry.straighten`: undoing a tilt, never swapping or flipping axes."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from geometry.errors import MeshError
from geometry.straighten import straighten, turn_angle_deg


def pocketed_box(extents=(40.0, 30.0, 20.0), pocket=(10.0, 8.0, 6.0), at=(5.0, 3.0, 10.0)):
    """A box centred on the origin with a box pocket cut (manifold3d) at ``at``."""
    box = trimesh.creation.box(extents=extents)
    cutter = trimesh.creation.box(extents=pocket)
    cutter.apply_translation(at)
    part = box.difference(cutter, engine="manifold")
    return np.asarray(part.vertices, dtype=np.float64), np.asarray(part.faces, dtype=np.int64)


def rotation(axis: np.ndarray, deg: float) -> np.ndarray:
    """Rotation by ``deg`` degrees about unit ``axis`` (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    t = np.radians(deg)
    return np.eye(3) + np.sin(t) * kx + (1 - np.cos(t)) * (kx @ kx)


def angle_deg(rot: np.ndarray) -> float:
    """Rotation angle of a rotation matrix, in degrees."""
    return float(np.degrees(np.arccos(np.clip((np.trace(rot) - 1) / 2, -1.0, 1.0))))


@pytest.mark.parametrize("deg", [7.0, 15.0, 40.0])
def test_undoes_a_tilt_about_random_axes(deg):
    v, f = pocketed_box()
    rng = np.random.default_rng(int(deg))
    for _ in range(5):
        tilt = rotation(rng.normal(size=3), deg)
        rot = straighten(v @ tilt.T, f)
        assert np.allclose(rot @ rot.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(rot) == pytest.approx(1.0)
        # rot undoes the tilt: rot @ tilt is the identity to well within 0.1 degree.
        assert angle_deg(rot @ tilt) < 0.1


def test_straight_part_is_left_alone():
    v, f = pocketed_box()
    assert angle_deg(straighten(v, f)) < 1e-6
    # Not even a quarter turn: a part's axes and signs are its classes.
    long_in_y = v[:, [1, 0, 2]]  # a mirror image: reversed faces keep the normals outward
    assert angle_deg(straighten(long_in_y, f[:, ::-1])) < 1e-6


def test_tilt_beyond_45_degrees_lands_on_the_nearest_axes():
    # The documented limit: past 45 degrees about Z, +X is nearer +Y than +X.
    v, f = pocketed_box()
    tilt = rotation([0, 0, 1], 50.0)
    rot = straighten(v @ tilt.T, f)
    assert angle_deg(rot @ tilt) == pytest.approx(90.0, abs=1e-6)


def test_result_does_not_depend_on_scale_position_or_face_order():
    v, f = pocketed_box()
    tilt = rotation([1, 2, 3], 9.0)
    base = straighten(v @ tilt.T, f)
    perm = np.random.default_rng(0).permutation(len(f))
    moved = straighten((v @ tilt.T) * 1e-3 + [1e3, -5, 2], np.roll(f[perm], 1, axis=1))
    assert np.allclose(base, moved, atol=1e-9)


def test_no_flat_faces_means_no_turn():
    sphere = trimesh.creation.icosphere(subdivisions=3)
    rot = straighten(np.asarray(sphere.vertices), np.asarray(sphere.faces))
    assert np.array_equal(rot, np.eye(3))


def test_malformed_meshes_are_refused():
    v, f = pocketed_box()
    with pytest.raises(MeshError, match=r"\(v, 3\)"):
        straighten(v[:, :2], f)
    with pytest.raises(MeshError, match="indices"):
        straighten(v, f + len(v))
    with pytest.raises(MeshError, match="finite"):
        straighten(np.full_like(v, np.nan), f)
    with pytest.raises(MeshError, match="area"):
        straighten(np.zeros_like(v), f)


def test_turn_angle_is_the_rotation_angle():
    rng = np.random.default_rng(4)
    for deg in (0.0, 3.0, 44.0, 120.0, 180.0):
        rot = trimesh.transformations.rotation_matrix(np.radians(deg), rng.normal(size=3))[:3, :3]
        assert turn_angle_deg(rot) == pytest.approx(deg, abs=1e-5)
