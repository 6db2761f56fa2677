"""render.views: the view grid convention, framing and the seeded variant turns."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from render.views import variant_rotation, view_angles, view_rotations


def test_view_convention_first_tile_and_orthonormal():
    elev, azim = view_angles(10, 10)
    np.testing.assert_allclose(elev, [81, 63, 45, 27, 9, -9, -27, -45, -63, -81])
    np.testing.assert_allclose(azim, np.arange(10) * 36.0)
    rots = view_rotations(10, 10)
    assert rots.shape == (100, 3, 3)
    np.testing.assert_allclose(
        rots @ rots.transpose(0, 2, 1), np.broadcast_to(np.eye(3), rots.shape), atol=1e-12
    )
    np.testing.assert_allclose(np.linalg.det(rots), 1.0)
    # Tile 0 looks from 81 deg above the +X side: that direction maps to the viewer (+z).
    d = np.array([np.cos(np.radians(81)), 0.0, np.sin(np.radians(81))])
    np.testing.assert_allclose(rots[0] @ d, [0, 0, 1], atol=1e-12)
    # +Y is to the right in the azimuth-0 column, and +Z projects upwards everywhere.
    assert (rots[:, 1, 2] > 0).all() and rots[0, 0, 1] == pytest.approx(1.0)


def test_variant_rotation_is_seeded_and_deterministic():
    np.testing.assert_array_equal(variant_rotation(0, "a/1", 0), np.eye(3))
    q1 = variant_rotation(0, "a/1", 1)
    np.testing.assert_array_equal(q1, variant_rotation(0, "a/1", 1))
    np.testing.assert_allclose(q1 @ q1.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(q1) == pytest.approx(1.0)
    for other in [
        variant_rotation(1, "a/1", 1),
        variant_rotation(0, "a/2", 1),
        variant_rotation(0, "a/1", 2),
    ]:
        assert not np.allclose(other, q1)
    # Same value in a fresh process (no dependence on Python's per-process str hash).
    code = "from render.views import variant_rotation as v; print(repr(v(0, 'a/1', 1).tolist()))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    np.testing.assert_array_equal(np.array(eval(out.stdout)), q1)


def test_tiles_cover_the_grid_row_major_from_the_top_left():
    from render.views import grid_rotations, tile_centres, tile_poses

    centres = tile_centres(2, 3)
    assert centres.tolist() == [[-2, 1], [0, 1], [2, 1], [-2, -1], [0, -1], [2, -1]]
    rots = grid_rotations(2, 3)
    poses = tile_poses(2, 3, rots)
    np.testing.assert_array_equal(poses[:, :3, :3], rots)
    np.testing.assert_array_equal(poses[:, :2, 3], centres)
    assert (poses[:, 3] == [0, 0, 0, 1]).all()
    with pytest.raises(ValueError, match=r"expected rotations of shape \(6, 3, 3\)"):
        tile_poses(2, 3, rots[:5])


def test_view_framing_fills_each_tile_within_the_zoom_cap():
    from render.views import MAX_VIEW_ZOOM, view_framing, view_rotations

    # A flat plate, 1 x 0.2 x 0.02 within the unit sphere: seen from above it fills the tile,
    # edge-on it is a needle whose zoom is capped.
    corners = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.1, 0.1) for z in (0, 0.02)])
    rots = view_rotations(3, 4)
    sphere = view_framing(corners, rots, "sphere")
    assert (sphere == [1.0, 0.0, 0.0]).all()
    framed = view_framing(corners, rots, "view")
    assert (framed[:, 0] >= 1.0).all() and (framed[:, 0] <= MAX_VIEW_ZOOM).all()
    for (scale, cx, cy), r in zip(framed, rots, strict=True):
        xy = corners @ r[:2].T
        half = (xy.max(axis=0) - xy.min(axis=0)).max() / 2
        np.testing.assert_allclose([cx, cy], (xy.max(axis=0) + xy.min(axis=0)) / 2, atol=1e-12)
        np.testing.assert_allclose(scale, 1 / max(half, 1 / MAX_VIEW_ZOOM), rtol=1e-12)
    with pytest.raises(ValueError, match="framing: expected one of"):
        view_framing(corners, rots, "fit")
