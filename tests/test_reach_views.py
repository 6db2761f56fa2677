"""Tests of :mod:`render.reach_views`: the five direction views as face indices."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _reach_fixtures import blind_pocket_z

from geometry.directions import DIRECTIONS
from render.errors import RenderError
from render.reach_views import decode_ids, id_colours, reach_views, view_rotations


def test_face_index_colours_round_trip():
    colours = id_colours(70_000)
    assert colours.dtype == np.uint8 and colours.shape == (70_000, 4)
    assert np.array_equal(decode_ids(colours[:, :3][None])[0], np.arange(70_000))
    assert decode_ids(np.zeros((1, 1, 3), np.uint8))[0, 0] == -1  # background
    with pytest.raises(RenderError, match="at most"):
        id_colours(1 << 24)


def test_each_view_looks_from_its_direction():
    rots = view_rotations()
    for rot, (name, d) in zip(rots, DIRECTIONS.items(), strict=True):
        assert np.allclose(rot @ rot.T, np.eye(3))
        # The camera (third row: towards the viewer) lies on the direction's side.
        assert rot[2] @ np.asarray(d) > 0.8, name


def test_views_show_only_faces_that_face_the_camera(gl_backend):
    views = reach_views(blind_pocket_z(), size=96)
    ids = views.ids
    assert ids.shape == (5, 96, 96) and ids.dtype == np.int32
    n = len(views.reach.faces)
    assert ids.min() == -1 and ids.max() < n
    assert (ids[:, 0, 0] == -1).all()  # the corners are background
    for v, rot in enumerate(views.rotations):
        shown, pixels = np.unique(ids[v][ids[v] >= 0], return_counts=True)
        # Depth testing hides back faces: the faces drawn point towards the camera, but for
        # a pixel or two where an edge of a hidden face ties in depth.
        away = views.reach.normals[shown] @ rot[2] < -1e-6
        assert pixels[away].sum() <= 0.002 * pixels.sum()
        assert len(shown) >= 3  # at least three sides of the block
    shade = views.shading()
    assert shade.shape == ids.shape and 0.45 <= shade.min() and shade.max() <= 1.0
    # The pocket floor (a +Z face inside the block) shows in the view from +Z.
    floor = np.flatnonzero(
        (views.reach.normals[:, 2] > 0.99) & ~views.reach.stock & (views.reach.areas > 0)
    )
    assert np.isin(ids[4], floor).any()


def test_reach_views_of_a_file_names_it(tmp_path, gl_backend):
    from geometry.errors import MeshError
    from render.reach_views import reach_views_file

    bad = tmp_path / "bad.stl"
    bad.write_bytes(b"not a mesh at all")
    with pytest.raises(MeshError, match="bad.stl"):
        reach_views_file(bad)
    good = tmp_path / "box.stl"
    trimesh.creation.box(extents=(3, 2, 1)).export(good)
    views = reach_views_file(good, size=32)
    assert views.reach.stock.all() and (views.ids >= 0).any()
