"""assets.features: every kind, drawn at random on a face, is a feature that cuts that face only.

Each kind's sampler is run with a few seeded generators on two box faces of different shapes
and depth limits; every feature it gives must build a closed cutter that stays within the
face (plus OVERSHOOT past the edges it opens to), removes material only inside the boxes it
reports, from the face along -z (and, for a through kind, from the opposite face too), and is
the same feature again for the same seed.
"""

from __future__ import annotations

import manifold3d as mf
import numpy as np
import pytest
import trimesh
from _synth_fixtures import left_in_the_way, removed_by

from assets import kinds_closed
from assets.cutters import LIFT, OVERSHOOT, FaceSize
from assets.features import CLOSED_KINDS, EDGE_WALL, KINDS, MIN_DEPTH, THROUGH_KINDS
from assets.part import DEPTH_FRACTION
from assets.taxonomy import ALL_KINDS, THROUGH

SEGMENTS = 24
SEEDS = range(12)
# (face, deepest blind cut): a wide, deep face, and a tall, thin one with a tight depth limit.
FACES = {
    "wide": (FaceSize(u=90.0, v=50.0, depth=40.0), DEPTH_FRACTION * 40.0),
    "thin": (FaceSize(u=45.0, v=120.0, depth=25.5), 10.0),
}


def _draw(kind: str, face: FaceSize, max_depth: float, seed: int):
    return ALL_KINDS[kind](np.random.default_rng(seed), face, max_depth, SEGMENTS)


def _boxes(boxes, grow: float) -> mf.Manifold:
    """The union of face-frame boxes ``(u0, u1, v0, v1, z0, z1)``, each grown by ``grow``."""
    solids = []
    for u0, u1, v0, v1, z0, z1 in boxes:
        lo = np.array([u0, v0, z0]) - grow
        hi = np.array([u1, v1, z1]) + grow
        solids.append(mf.Manifold.cube(tuple(hi - lo)).translate(tuple(lo)))
    return mf.Manifold.batch_boolean(solids, mf.OpType.Add)


def _on_grid(x: float) -> bool:
    return abs(x * 10 - round(x * 10)) < 1e-9


def test_the_registries_name_the_kinds_their_features_have():
    assert not set(KINDS) & set(THROUGH_KINDS)
    assert set(CLOSED_KINDS) <= set(KINDS)
    assert all(kind.startswith("through_") for kind in THROUGH_KINDS)


@pytest.mark.parametrize("face_name", list(FACES))
@pytest.mark.parametrize("kind", list(ALL_KINDS))
def test_every_kind_cuts_a_valid_feature_into_its_face_only(kind, face_name):
    face, max_depth = FACES[face_name]
    through = kind in THROUGH
    drawn = {}
    for seed in SEEDS:
        f = _draw(kind, face, max_depth, seed)
        if f is None:
            continue
        drawn[seed] = f
        assert f.kind == kind
        # All sizes on the 0.1 mm grid (angles in whole degrees), as parts.csv shows them.
        assert all(_on_grid(value) for value in f.size.values()), f.size

        cutter = f.cutter(face, SEGMENTS)
        mesh = cutter.to_mesh()
        solid = trimesh.Trimesh(mesh.vert_properties[:, :3], mesh.tri_verts, process=True)
        assert solid.is_watertight and solid.is_winding_consistent and solid.volume > 0
        lo, hi = np.reshape(cutter.bounding_box(), (2, 3))
        reach = np.array([face.u / 2 + OVERSHOOT, face.v / 2 + OVERSHOOT])
        assert (lo[:2] >= -reach).all() and (hi[:2] <= reach).all(), (lo, hi)
        assert hi[2] == pytest.approx(LIFT) and lo[2] >= -face.depth - OVERSHOOT

        removed = removed_by(cutter, face)
        r_lo, r_hi = np.reshape(removed.bounding_box(), (2, 3))
        volume = removed.volume()
        assert volume > 0 and r_hi[2] == 0.0  # it cuts, from the face
        # Within the boxes it reports (a chamfer's box depth is rounded to 1e-4 mm).
        assert (removed - _boxes(f.boxes, grow=1e-4)).volume() < 1e-9 * volume
        assert left_in_the_way(removed, face) < 1e-9 * volume  # reached along -z
        if through:
            assert r_lo[2] == -face.depth  # right through, and open to the opposite face too
            assert left_in_the_way(removed, face, towards=-1) < 1e-9 * volume
        else:
            assert r_lo[2] >= -max_depth - 1e-9  # never deeper than allowed: not through
            if kind not in ("chamfer", "round"):  # their depth follows from width and angle, radius
                assert -r_lo[2] >= MIN_DEPTH - 1e-9
        if kind in CLOSED_KINDS or kind in ("through_hole", "through_pocket", *kinds_closed.KINDS):
            wall = np.array([face.u / 2 - EDGE_WALL, face.v / 2 - EDGE_WALL])
            assert (r_lo[:2] >= -wall - 1e-9).all() and (r_hi[:2] <= wall + 1e-9).all()

    assert len(drawn) >= len(SEEDS) // 2, f"{kind} drew only {len(drawn)} features"
    # The same seed draws the same feature, and builds the same solid; other seeds differ.
    seed, f = next(iter(drawn.items()))
    again = _draw(kind, face, max_depth, seed)
    assert again == f
    a, b = f.cutter(face, SEGMENTS).to_mesh(), again.cutter(face, SEGMENTS).to_mesh()
    np.testing.assert_array_equal(a.vert_properties, b.vert_properties)
    np.testing.assert_array_equal(a.tri_verts, b.tri_verts)
    assert len({repr(f) for f in drawn.values()}) > 1


@pytest.mark.parametrize("kind", list(ALL_KINDS))
def test_a_face_too_small_for_a_kind_gives_none(kind):
    small = FaceSize(u=5.0, v=5.0, depth=5.0)
    assert all(_draw(kind, small, 3.0, seed) is None for seed in SEEDS)


@pytest.mark.parametrize("kind", [k for k in ALL_KINDS if k not in THROUGH])
def test_no_room_in_depth_gives_none_for_a_blind_kind(kind):
    face = FaceSize(u=90.0, v=50.0, depth=40.0)
    assert all(_draw(kind, face, 0.3, seed) is None for seed in SEEDS)
