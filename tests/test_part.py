"""Tests of one generated part (:mod:`assets.part`): validity, reachability, no through-cuts,
tilt, STL encoding.

The reachability property tested here (and documented in :mod:`assets.part`): on an untilted
part, take every triangle that is not on the stock's surface and not inside a distractor's
box, so made by a label feature. From its centroid, moved ``OFFSET`` mm off the surface along
the triangle's normal (onto its open side), a ray in the label direction meets no triangle of
the part: the surface is visible from infinity along the label direction. Slivers thinner than
``MIN_HEIGHT`` are skipped (their centroid is too close to a neighbour for the offset to be
meaningful); the test checks that the skipped ones make up less than 1 % of the feature area.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from _synth_fixtures import (
    HARD,
    PLAIN,
    TAXONOMY,
    THROUGH,
    TILTED,
    hard_set,
    load_stl,
    plain_set,
    set_and_config,
    taxonomy_set,
    through_set,
    tilted_set,
)

from assets.face_frames import face_frame, face_normal
from assets.part import CLEARANCE, DISTRACTOR_FACE, QUANTUM, generate_part, stl_bytes
from assets.partsfile import read_parts_csv
from assets.synth_config import CLASSES, THROUGH_KINDS, SynthConfig

__all__ = ["hard_set", "plain_set", "taxonomy_set", "through_set", "tilted_set"]

OFFSET = 1e-2  # mm off a surface before casting a ray
MIN_HEIGHT = 0.05  # mm: thinner triangles are slivers, not tested one by one
ON_PLANE = 1e-3  # mm: a vertex this close to a stock plane lies on it


# --- helpers -------------------------------------------------------------------------------


def ray_hits(origins: np.ndarray, direction: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Whether each ray ``origin + t * direction`` (t > 0) meets a triangle (Moller-Trumbore).

    origins : (r, 3); direction : (3,); triangles : (m, 3, 3). Returns (r,) bool.
    """
    v0 = triangles[:, 0]
    e1 = triangles[:, 1] - v0
    e2 = triangles[:, 2] - v0
    p = np.cross(direction, e2)  # (m, 3)
    det = np.einsum("mk,mk->m", p, e1)
    usable = np.abs(det) > 1e-12  # rays parallel to a triangle do not meet it
    inv = np.where(usable, 1.0 / np.where(usable, det, 1.0), 0.0)
    hits = np.zeros(len(origins), dtype=bool)
    for start in range(0, len(origins), 128):
        o = origins[start : start + 128, None, :]  # (r, 1, 3)
        tvec = o - v0[None]  # (r, m, 3)
        u = np.einsum("rmk,mk->rm", tvec, p) * inv
        q = np.cross(tvec, e1[None])
        v = np.einsum("rmk,k->rm", q, direction) * inv
        t = np.einsum("rmk,mk->rm", q, e2) * inv
        hit = usable & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9)
        hits[start : start + 128] = hit.any(axis=1)
    return hits


def classify_faces(mesh: trimesh.Trimesh, part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks (m,) of an untilted part's faces: on the stock surface, label-made, distractor-made.

    Every face not on the stock surface must lie in some feature's box (asserted): nothing
    changes the stock outside the boxes the overlap check reserved.
    """
    tri = mesh.triangles
    sides = np.array(part.stock)
    on_stock = np.zeros(len(tri), dtype=bool)
    for axis in range(3):
        for value in (0.0, sides[axis]):
            on_stock |= np.all(np.abs(tri[:, :, axis] - value) < ON_PLANE, axis=1)
    centroid = tri.mean(axis=1)
    in_label = np.zeros(len(tri), dtype=bool)
    in_distractor = np.zeros(len(tri), dtype=bool)
    for placed, lo, hi in part.world_boxes():
        inside = np.all((centroid > lo - ON_PLANE) & (centroid < hi + ON_PLANE), axis=1)
        if placed.role in ("feature", "stock"):  # a stepped block's step faces the label too
            in_label |= inside
        else:
            in_distractor |= inside
    made = ~on_stock
    assert np.all(in_label[made] | in_distractor[made]), "a face outside every feature box"
    assert not np.any(in_label & in_distractor & made)
    return on_stock, made & in_label, made & in_distractor


def min_heights(tri: np.ndarray) -> np.ndarray:
    """Smallest altitude of each triangle (m, 3, 3) -> (m,)."""
    double_area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    longest = np.max(np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=2), axis=1)
    return double_area / longest


def regenerate(out: Path, row: dict, cfg: SynthConfig):
    """Remake a part from its parts.csv seed; it must equal the file written."""
    part = generate_part(row["label"], row["seed"], cfg)
    assert part.stl_bytes() == (out / row["file"]).read_bytes()
    return part


# --- validity ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["plain", "hard", "tilted", "through", "bundled"])
def test_parts_are_watertight_and_smaller_than_stock(which, request):
    out, cfg = set_and_config(which, request)
    rows = read_parts_csv(out / "parts.csv")
    assert [r["label"] for r in rows] == [c for c in CLASSES for _ in range(cfg.per_class)]
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.stl")) == sorted(
        r["file"] for r in rows
    )
    for row in rows:
        path = out / row["file"]
        data = path.read_bytes()
        n_faces = int(np.frombuffer(data[80:84], "<u4")[0])
        assert len(data) == 84 + 50 * n_faces
        assert not data.startswith(b"solid")  # readers would take it for ASCII STL
        mesh = load_stl(path)
        assert len(mesh.faces) == n_faces
        assert mesh.is_watertight and mesh.is_winding_consistent, row["file"]
        stock_volume = float(np.prod(row["stock_mm"]))
        assert 0 < mesh.volume < stock_volume - 1.0, row["file"]
        assert cfg.min_side <= min(row["stock_mm"]) <= max(row["stock_mm"]) <= cfg.max_side
        label_features = [f for f in row["features"] if f["role"] == "feature"]
        assert 1 <= len(label_features) <= cfg.max_features
        assert {f["face"] for f in label_features} == {row["label"]}
        kinds = THROUGH_KINDS if cfg.through else cfg.kinds
        assert {f["type"] for f in label_features} <= set(kinds)
        distractors = [f for f in row["features"] if f["role"] == "distractor"]
        assert {f["face"] for f in distractors} <= {DISTRACTOR_FACE}
        assert bool(distractors) == (cfg.distractors > 0)
        assert (row["tilt_deg"] > 0) == (cfg.tilt_deg > 0) and row["tilt_deg"] <= cfg.tilt_deg
        if cfg.tilt_deg == 0:  # millimetres, in the stock's box
            assert np.allclose(mesh.bounds, [[0, 0, 0], row["stock_mm"]], atol=QUANTUM)


def test_features_keep_clear_of_each_other(plain_set, hard_set):
    for out, cfg in ((plain_set, PLAIN), (hard_set, HARD)):
        for row in read_parts_csv(out / "parts.csv"):
            part = regenerate(out, row, cfg)
            boxes = part.world_boxes()
            for i, (pi, lo_i, hi_i) in enumerate(boxes):
                for pj, lo_j, hi_j in boxes[i + 1 :]:
                    if pi is pj:
                        continue  # a chamfer's edges may meet at a corner
                    gap = np.maximum(lo_j - hi_i, lo_i - hi_j).max()
                    assert gap >= CLEARANCE - 1e-9, (row["file"], pi.feature.kind, pj.feature.kind)


# --- reachability and through-cuts ---------------------------------------------------------


@pytest.mark.parametrize("which", ["plain", "hard", "through", "taxonomy", "bundled"])
def test_feature_surfaces_are_reachable_from_the_label_direction(which, request):
    out, cfg = set_and_config(which, request)
    for row in read_parts_csv(out / "parts.csv"):
        part = regenerate(out, row, cfg)
        mesh = load_stl(out / row["file"])
        _, label_made, distractor_made = classify_faces(mesh, part)
        assert label_made.any()
        tri, normals = mesh.triangles, mesh.face_normals
        solid = min_heights(tri) >= MIN_HEIGHT
        area = mesh.area_faces
        assert area[label_made & solid].sum() >= 0.99 * area[label_made].sum()
        direction = face_normal(row["label"])

        tested = label_made & solid
        origins = tri[tested].mean(axis=1) + OFFSET * normals[tested]
        blocked = ray_hits(origins, direction, tri)
        assert not blocked.any(), f"{row['file']}: {blocked.sum()} feature faces not reachable"

        # Distractors are hidden from the label direction and open to the clamped face.
        hidden = distractor_made & solid
        if hidden.any():
            origins = tri[hidden].mean(axis=1) + OFFSET * normals[hidden]
            assert ray_hits(origins, direction, tri).all(), row["file"]
            assert not ray_hits(origins, face_normal(DISTRACTOR_FACE), tri).any(), row["file"]


@pytest.mark.parametrize("which", ["plain", "hard", "bundled"])
def test_no_feature_cuts_through(which, request):
    out, cfg = set_and_config(which, request)
    grid_rng = np.random.default_rng(0)
    for row in read_parts_csv(out / "parts.csv"):
        part = regenerate(out, row, cfg)
        mesh = load_stl(out / row["file"])
        frame = face_frame(row["label"], part.stock)
        # Every line along the label direction through the face meets material.
        u = np.linspace(-0.48, 0.48, 17) * frame.size.u
        v = np.linspace(-0.48, 0.48, 17) * frame.size.v
        uu, vv = np.meshgrid(u, v)
        points = np.stack([uu.ravel(), vv.ravel(), np.full(uu.size, 5.0)], axis=1)
        points[:, :2] += grid_rng.uniform(-0.3, 0.3, size=(len(points), 2))
        origins = points @ frame.rotation.T + frame.origin
        assert ray_hits(origins, -face_normal(row["label"]), mesh.triangles).all(), row["file"]
        # The opposite face is whole (unless distractors share it: z_plus with distractors).
        opposite = {"x_plus": (0, 0), "x_minus": (0, 1), "y_plus": (1, 0), "y_minus": (1, 1)}
        axis, high = opposite.get(row["label"], (2, 0))
        if axis == 2 and cfg.distractors:
            continue
        value = part.stock[axis] if high else 0.0
        on_plane = np.all(np.abs(mesh.triangles[:, :, axis] - value) < ON_PLANE, axis=1)
        expected = np.prod(part.stock) / part.stock[axis]
        assert mesh.area_faces[on_plane].sum() == pytest.approx(expected, rel=1e-6), row["file"]


def test_through_features_leave_by_the_opposite_face(through_set):
    """--through: every part's features go right through; the opposite face is pierced."""
    opposite = {"x_plus": (0, 0), "x_minus": (0, 1), "y_plus": (1, 0), "y_minus": (1, 1)}
    for row in read_parts_csv(through_set / "parts.csv"):
        part = regenerate(through_set, row, THROUGH)
        mesh = load_stl(through_set / row["file"])
        axis, high = opposite.get(row["label"], (2, 0))
        value = part.stock[axis] if high else 0.0
        on_plane = np.all(np.abs(mesh.triangles[:, :, axis] - value) < ON_PLANE, axis=1)
        whole = np.prod(part.stock) / part.stock[axis]
        removed = whole - mesh.area_faces[on_plane].sum()
        # Each through feature removes its own cross-section from the opposite face.
        assert removed > 9.0, row["file"]  # at least a 3 mm hole (7.1 mm^2) more than rounding
        label_features = [f for f in row["features"] if f["role"] == "feature"]
        assert all(f["size"]["depth"] == pytest.approx(part.stock[axis]) for f in label_features)


def test_taxonomy_parts_have_their_stock_shapes_and_features_on_two_faces(taxonomy_set):
    """--preset taxonomy: plates, bars and stepped blocks; through features from the face
    opposite a side label; the label in every part's valid set."""
    from assets.part import OPPOSITE
    from assets.taxonomy import THROUGH

    rows = read_parts_csv(taxonomy_set / "parts.csv")
    shapes, kinds, two_faced = set(), set(), 0
    for row in rows:
        part = regenerate(taxonomy_set, row, TAXONOMY)
        mesh = load_stl(taxonomy_set / row["file"])
        assert mesh.is_watertight and mesh.is_winding_consistent, row["file"]
        assert 0 < mesh.volume < float(np.prod(part.stock)) - 1.0
        assert row["label"] in row["valid"], row["file"]
        sides = sorted(part.stock)
        steps = [p for p in part.features if p.role == "stock"]
        if steps:
            shapes.add("stepped")
            (step,) = steps
            assert step.face == row["label"] and step.feature.kind == "step"
        elif sides[0] <= 0.3 * sides[1] + 0.5:
            shapes.add("plate")
        elif sides[2] >= 1.5 * sides[1] - 0.5:
            shapes.add("bar")
        else:
            shapes.add("box")
        assert 10.0 <= sides[0] and sides[2] <= 1000.0
        features = [p for p in part.features if p.role == "feature"]
        kinds |= {p.feature.kind for p in features}
        others = [p for p in features if p.face != row["label"]]
        if others:
            two_faced += 1
            assert {p.face for p in others} == {OPPOSITE[row["label"]]}
            assert {p.feature.kind for p in others} <= THROUGH
        assert {p.feature.kind for p in features} <= set(TAXONOMY.kinds)
    assert shapes == {"box", "plate", "bar", "stepped"}, shapes
    assert two_faced >= 2
    assert len(kinds) >= 10, kinds


def test_the_second_face_draws_from_its_own_stream():
    """second_face adds features on the opposite face and changes none on the label face;
    z_plus has no opposite face, so its parts stay as they were."""
    from assets.part import OPPOSITE

    plain, two = SynthConfig(distractors=2), SynthConfig(distractors=2, second_face=1.0)
    added = 0
    for label in CLASSES:
        for seed in (5, 6, 7):
            a, b = generate_part(label, seed, plain), generate_part(label, seed, two)
            # Distractors go after, around the new features: they may move.
            assert [p for p in a.features if p.face == label] == [
                p for p in b.features if p.face == label
            ]
            extra = [p for p in b.features if p.face == OPPOSITE.get(label)]
            added += len(extra)
            if label == "z_plus":
                assert not extra and a.stl_bytes() == b.stl_bytes()
    assert added >= 12  # 1-2 on each of the 12 side parts, when they fit


# --- tilt ----------------------------------------------------------------------------------


def test_tilted_parts_are_turned_copies_of_the_untilted_ones(hard_set, tilted_set):
    """Tilt draws from its own stream: the same part, rigidly turned (so still reachable)."""
    hard_rows = read_parts_csv(hard_set / "parts.csv")
    tilted_rows = read_parts_csv(tilted_set / "parts.csv")
    for plain_row, row in zip(hard_rows, tilted_rows, strict=True):
        assert plain_row["features"] == row["features"] and plain_row["seed"] == row["seed"]
        flat = generate_part(row["label"], row["seed"], HARD)
        turned = regenerate(tilted_set, row, TILTED)
        rotation = turned.transform[:3, :3]
        assert np.allclose(rotation @ rotation.T, np.eye(3), atol=1e-12)
        angle = np.degrees(np.arccos(np.clip((np.trace(rotation) - 1) / 2, -1, 1)))
        assert angle == pytest.approx(row["tilt_deg"], abs=1e-3) and 0 < angle <= 8.0
        np.testing.assert_array_equal(turned.faces, flat.faces)
        moved = flat.vertices @ rotation.T + turned.transform[:3, 3]
        assert np.abs(moved - turned.vertices).max() <= 2 * QUANTUM


# --- the STL file --------------------------------------------------------------------------


def test_stl_bytes_encodes_normals_and_header():
    box = trimesh.creation.box((2.0, 3.0, 4.0))
    data = stl_bytes(box.vertices, box.faces)
    assert len(data) == 84 + 50 * len(box.faces)
    loaded = trimesh.load(trimesh.util.wrap_as_stream(data), file_type="stl")
    assert loaded.volume == pytest.approx(24.0)
    record = np.frombuffer(data[84:], dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    np.testing.assert_allclose(record["n"], box.face_normals, atol=1e-6)
