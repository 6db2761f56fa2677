"""render.mesh: normal colours, normalising and simplifying a mesh for drawing."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from render import normal_colours
from render.mesh import cluster_vertices, normalise


def test_normal_colours_mapping():
    n = np.array([[0, 0, 1], [0, 0, -1], [1, 0, 0], [-1, 0, 0], [0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(
        normal_colours(n),
        [[128, 128, 255], [128, 128, 0], [255, 128, 128], [0, 128, 128], [128, 255, 128]],
    )


def test_normalise_is_unit_independent():
    v = np.asarray(trimesh.creation.box(extents=(3, 2, 1)).vertices) + 10
    a, _ = normalise(v * 0.05)
    b, _ = normalise(v * 5000)
    np.testing.assert_allclose(a, b, atol=1e-9)
    assert np.linalg.norm(a, axis=1).max() == pytest.approx(1.0)


def test_cluster_vertices_drops_collapsed_and_repeated_faces():
    sphere = trimesh.creation.icosphere(4)
    v, f = cluster_vertices(sphere.vertices, sphere.faces, 8)
    assert 0 < len(f) < len(sphere.faces)
    assert (f[:, 0] != f[:, 1]).all() and (f[:, 1] != f[:, 2]).all() and (f[:, 0] != f[:, 2]).all()
    assert len(np.unique(np.sort(f, axis=1), axis=0)) == len(f)
