"""Tests of the ``normals`` feature family: :mod:`geometry.normals` (invariances, bins,
blocks, which side the cuts are on). Batch extraction and its cache:
``tests/test_features_cache.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from _train_fixtures import EXTENTS, pocketed_box

from geometry.errors import MeshError
from geometry.normals import (
    CELLS,
    DIST_END,
    DIST_KNOTS,
    N_DIST,
    N_ORIENT,
    distance_weights,
    normal_bins,
)
from train.features import (
    NORMAL_FEATURES_DIM,
    describe,
    mesh_features,
    normal_features,
)

SIDE_OF = {"x_plus": 0, "x_minus": 1, "y_plus": 2, "y_minus": 3, "z_plus": 4}


def split_every_face(v: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split each triangle (a, b, c) into (a, m, c) and (m, b, c), m the middle of a-b."""
    mids = (v[f[:, 0]] + v[f[:, 1]]) / 2.0
    m = len(v) + np.arange(len(f))
    faces = np.concatenate([np.stack([f[:, 0], m, f[:, 2]], 1), np.stack([m, f[:, 1], f[:, 2]], 1)])
    return np.concatenate([v, mids]), faces


def block(vec: np.ndarray, name: str) -> np.ndarray:
    (start, stop) = next((s, e) for n, s, e, _ in describe() if n == name)
    return vec[start:stop]


# --------------------------------------------------------------------------- features


def test_shape_dtype_range_and_blocks():
    vec = normal_features(*pocketed_box())
    assert vec.shape == (NORMAL_FEATURES_DIM,) and vec.dtype == np.float32
    assert (vec >= 0).all() and (vec <= 1).all()
    blocks = describe()
    assert blocks[0][1] == 0 and blocks[-1][2] == NORMAL_FEATURES_DIM
    assert all(a[2] == b[1] for a, b in zip(blocks, blocks[1:], strict=False))
    assert block(vec, "side").shape == (6 * N_DIST * N_ORIENT,)


def test_invariant_to_scale_translation_face_order_and_triangulation():
    v, f = pocketed_box("x_minus")
    base = normal_features(v, f)
    perm = np.random.default_rng(0).permutation(len(f))
    variants = {
        "scale down": (v * 1e-3, f),
        "scale up": (v * 1e3, f),
        "translation": (v + [1e3, -2e3, 500.0], f),
        "face order": (v, np.roll(f[perm], 1, axis=1)),  # rolling keeps the winding
        "triangulation": split_every_face(v, f),
    }
    for name, (vv, ff) in variants.items():
        assert np.allclose(normal_features(vv, ff), base, atol=2e-6, rtol=0), name


def test_a_small_tilt_changes_nothing():
    v, f = pocketed_box("y_plus")
    k = np.array([0.3, -0.5, 0.8]) / np.linalg.norm([0.3, -0.5, 0.8])
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    t = np.radians(12.0)
    tilt = np.eye(3) + np.sin(t) * kx + (1 - np.cos(t)) * (kx @ kx)
    assert np.allclose(normal_features(v @ tilt.T, f), normal_features(v, f), atol=2e-6)


def test_plain_box_has_no_feature_faces():
    box = trimesh.creation.box(extents=EXTENTS)
    vec = normal_features(np.asarray(box.vertices), np.asarray(box.faces))
    for name in ("feature", "side", "fraction"):
        assert not block(vec, name).any(), name
    # Each side's area share, in the centre cell of its cube side (+X, -X, +Y, -Y, +Z, -Z).
    areas = np.array([30 * 20, 30 * 20, 40 * 20, 40 * 20, 40 * 30, 40 * 30], dtype=float)
    centre = CELLS * CELLS // 2
    expected = np.zeros(6 * CELLS * CELLS)
    expected[np.arange(6) * CELLS * CELLS + centre] = np.sqrt(areas / areas.sum())
    assert np.allclose(block(vec, "all"), expected, atol=1e-7)
    assert np.allclose(block(vec, "shape"), [1.0, 0.75, 0.5])


def test_cut_side_holds_the_cut():
    # The strongest class signal: feature area near a side, summed over the first two
    # tents, is largest for the side the pocket was cut into.
    for label, side in SIDE_OF.items():
        vec = normal_features(*pocketed_box(label))
        near = block(vec, "side").reshape(6, N_DIST, N_ORIENT)[:, :2] ** 2
        assert int(np.argmax(near.sum(axis=(1, 2)))) == side, label
        # The pocket floor faces out of its side: orientation bin c >= .95, 3 mm deep.
        floor = block(vec, "side").reshape(6, N_DIST, N_ORIENT)[side, :, -1] ** 2
        assert floor[:2].sum() > 0.1
    vecs = [normal_features(*pocketed_box(label)) for label in SIDE_OF]
    assert len({v.tobytes() for v in vecs}) == len(vecs)


def test_axis_normals_lie_inside_a_bin():
    axes = np.concatenate([np.eye(3), -np.eye(3)])
    bins = normal_bins(axes)
    assert len(set(bins.tolist())) == 6
    rng = np.random.default_rng(1)
    for eps in (1e-9, 1e-4, 1e-2):
        jitter = axes + eps * rng.normal(size=axes.shape)
        jitter /= np.linalg.norm(jitter, axis=1, keepdims=True)
        assert np.array_equal(normal_bins(jitter), bins)


def test_distance_tents_are_exact_over_triangles():
    rng = np.random.default_rng(2)
    d = rng.uniform(0.0, 0.6, size=(50, 3))
    d[0] = [0.07, 0.07, 0.07]  # flat: halfway between the knots .04 and .1
    d[1] = [0.1, 0.1, 0.3]  # two equal corners
    parent = distance_weights(d)
    # Exact integrals add up: the mean over the four midpoint sub-triangles is the parent.
    a, b, c = d[:, 0], d[:, 1], d[:, 2]
    ab, bc, ca = (a + b) / 2, (b + c) / 2, (c + a) / 2
    subs = [np.stack(t, 1) for t in ((a, ab, ca), (ab, b, bc), (ca, bc, c), (ab, bc, ca))]
    assert np.allclose(np.mean([distance_weights(s) for s in subs], axis=0), parent, atol=1e-12)
    assert np.allclose(parent[0], [0, 0.5, 0.5, 0, 0])
    inside = d.max(axis=1) <= DIST_KNOTS[-1]
    assert np.allclose(parent[inside].sum(axis=1), 1.0)
    assert np.allclose(distance_weights(np.full((1, 3), DIST_END + 0.01)), 0.0)


def test_malformed_mesh_is_refused():
    v, f = pocketed_box()
    with pytest.raises(MeshError, match="integer faces"):
        normal_features(v, f.astype(np.float64))
    with pytest.raises(MeshError, match="area"):
        normal_features(np.zeros((3, 3)), np.array([[0, 1, 2]]))


def test_mesh_file_gives_the_same_features(tmp_path):
    v, f = pocketed_box("y_minus")
    path = tmp_path / "part.stl"
    trimesh.Trimesh(v, f, process=False).export(path)
    assert np.allclose(mesh_features(path), normal_features(v, f), atol=1e-5)


# --- face attribution ----------------------------------------------------------------------


def test_face_attribution_shares_each_feature_among_its_faces():
    from geometry.normals import describe, face_attribution, normal_bins

    v, f = pocketed_box("z_plus")
    blocks = {name: (start, stop) for name, start, stop, _ in describe()}
    # A weight on one bin of the "all" block goes to the faces in that bin, by area.
    tri = v[f]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = np.linalg.norm(cross, axis=1) / 2
    bins = normal_bins(cross / np.linalg.norm(cross, axis=1, keepdims=True))
    up = int(bins[np.argmax(cross[:, 2])])  # the +Z bin
    w = np.zeros(NORMAL_FEATURES_DIM)
    w[blocks["all"][0] + up] = 3.0
    share = face_attribution(v, f, w)
    assert share.shape == (len(f),)
    assert share.sum() == pytest.approx(3.0)
    assert np.allclose(share[bins != up], 0)
    assert np.allclose(share[bins == up], 3.0 * area[bins == up] / area[bins == up].sum())
    # Every block but "shape" belongs to faces: the shares add up to the weights.
    w = np.random.default_rng(0).normal(size=NORMAL_FEATURES_DIM)
    feats = normal_features(v, f)
    used = np.ones(NORMAL_FEATURES_DIM, bool)
    used[blocks["shape"][0] : blocks["shape"][1]] = False
    used &= feats > 0  # an empty bin has no faces to give its weight to
    assert face_attribution(v, f, w).sum() == pytest.approx(w[used].sum())
    # The feature block's weight lands on the pocket's faces only.
    w = np.zeros(NORMAL_FEATURES_DIM)
    w[blocks["feature"][0] : blocks["feature"][1]] = 1.0
    share = face_attribution(v, f, w)
    lo, hi = v.min(axis=0), v.max(axis=0)
    on_box = np.array(
        [
            any(np.allclose(tri[i][:, a], b) for a in range(3) for b in (lo[a], hi[a]))
            for i in range(len(f))
        ]
    )
    assert np.allclose(share[on_box], 0) and (share[~on_box] > 0).all()
    with pytest.raises(MeshError, match="weights"):
        face_attribution(v, f, np.zeros(3))
