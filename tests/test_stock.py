"""geometry.stock: faces on the bounding box are stock, the rest are features."""

from __future__ import annotations

import numpy as np
import trimesh

from geometry.stock import SIDE_AXIS, SIDE_SIGN, side_distances, stock_sides


def test_box_faces_lie_on_their_own_side_and_a_pocket_on_none():
    box = trimesh.creation.box(extents=(4.0, 2.0, 1.0))
    tri = np.asarray(box.vertices)[box.faces]
    lo, hi = tri.min(axis=(0, 1)), tri.max(axis=(0, 1))
    dist = side_distances(tri, lo, hi, scale=4.0)
    assert dist.shape == (12, 3, 6) and (dist >= 0).all()
    on = stock_sides(dist, 1e-9)
    assert (on.sum(axis=1) == 1).all()  # every face of a box is stock, on exactly one side
    normals = np.asarray(box.face_normals)
    side = on.argmax(axis=1)
    # The side a face lies on is the side its outward normal points to.
    np.testing.assert_array_equal(normals[np.arange(12), SIDE_AXIS[side]], SIDE_SIGN[side])
    # A floor 0.25 below the top (a pocket's) lies on no side: a feature face.
    floor = np.array([[[-1, -0.5, 0.25], [1, -0.5, 0.25], [1, 0.5, 0.25]]])
    assert not stock_sides(side_distances(floor, lo, hi, 4.0), 1e-3).any()
    assert stock_sides(side_distances(floor, lo, hi, 4.0), 0.07).tolist() == [
        [False, False, False, False, True, False]  # within 0.25 / 4 of +Z
    ]


def test_stock_faces_are_those_on_the_bounding_box():
    import trimesh

    from geometry.stock import stock_faces

    block = trimesh.creation.box((4.0, 4.0, 2.0))
    pocket = trimesh.creation.box((1.5, 1.5, 1.0))
    pocket.apply_translation((0.5, 0.0, 0.75))
    part = block.difference(pocket)
    stock = stock_faces(part.vertices, part.faces, 1e-3)
    # Cut faces (the pocket's floor and walls) are exactly those whose centre is off the box.
    inside = np.all(np.abs(part.triangles_center) < [2.0, 2.0, 1.0], axis=1)
    assert np.array_equal(~stock, inside) and inside.any() and stock.any()
