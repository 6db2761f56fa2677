"""Tests of ``metaview synth``: validity, reachability, no through-cuts (without --through),
valid sets, determinism, bundled set.

The reachability property tested here (and documented in :mod:`assets.synth`): on an untilted
part, take every triangle that is not on the stock's surface and not inside a distractor's
box, so made by a label feature. From its centroid, moved ``OFFSET`` mm off the surface along
the triangle's normal (onto its open side), a ray in the label direction meets no triangle of
the part: the surface is visible from infinity along the label direction. Slivers thinner than
``MIN_HEIGHT`` are skipped (their centroid is too close to a neighbour for the offset to be
meaningful); the test checks that the skipped ones make up less than 1 % of the feature area.
"""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import numpy as np
import pytest
import trimesh

import assets
from assets import cli as assets_cli
from assets.errors import SynthError
from assets.reach import reachable_directions
from assets.synth import (
    CLASSES,
    CLEARANCE,
    DISTRACTOR_FACE,
    FEATURE_KINDS,
    QUANTUM,
    THROUGH_KINDS,
    SynthConfig,
    face_frame,
    face_normal,
    generate_part,
    generator_versions,
    part_seed,
    read_parts_csv,
    stl_bytes,
    synth_parts,
)
from base.errors import MetaviewError

REPO = Path(__file__).resolve().parents[1]
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


def load_stl(path: Path) -> trimesh.Trimesh:
    mesh = trimesh.load(path, file_type="stl", process=True)
    assert isinstance(mesh, trimesh.Trimesh)
    return mesh


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
        if placed.role == "feature":
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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metaview")
    sub = parser.add_subparsers(dest="command", required=True)
    assets_cli.register(sub)
    return parser


# --- generated sets, shared by the tests of this module ------------------------------------

PLAIN = SynthConfig(per_class=3, seed=11)
HARD = SynthConfig(per_class=2, seed=5, distractors=3, max_features=3)
TILTED = SynthConfig(per_class=2, seed=5, distractors=3, max_features=3, tilt_deg=8.0)
THROUGH = SynthConfig(per_class=3, seed=9, distractors=2, through=True)
OPPOSITE = {"x_plus": "x_minus", "x_minus": "x_plus", "y_plus": "y_minus", "y_minus": "y_plus"}


def bundled_config() -> SynthConfig:
    return SynthConfig.from_dict(
        json.loads((assets.bundled_parts_dir() / "synth.json").read_text())["config"]
    )


CONFIGS = {"plain": PLAIN, "hard": HARD, "tilted": TILTED, "through": THROUGH}


def set_and_config(which: str, request) -> tuple[Path, SynthConfig]:
    """A generated set by name, with its configuration; "bundled" is the committed set."""
    if which == "bundled":
        return assets.bundled_parts_dir(), bundled_config()
    return request.getfixturevalue(f"{which}_set"), CONFIGS[which]


@pytest.fixture(scope="module")
def plain_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plain")
    synth_parts(out, PLAIN)
    return out


@pytest.fixture(scope="module")
def hard_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hard")
    synth_parts(out, HARD)
    return out


@pytest.fixture(scope="module")
def tilted_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tilted")
    synth_parts(out, TILTED)
    return out


@pytest.fixture(scope="module")
def through_set(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("through")
    synth_parts(out, THROUGH)
    return out


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


@pytest.mark.parametrize("which", ["plain", "hard", "through", "bundled"])
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


# --- valid sets ----------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["plain", "hard", "tilted", "through", "bundled"])
def test_valid_column_is_the_reach_analysis_and_holds_the_label(which, request):
    out, cfg = set_and_config(which, request)
    rows = read_parts_csv(out / "parts.csv")
    for row in rows:
        mesh = load_stl(out / row["file"])
        assert row["valid"] == reachable_directions(mesh).valid, row["file"]
        assert row["label"] in row["valid"], row["file"]
        if cfg.through and row["label"] in OPPOSITE:
            # Through features are reached from the opposite side too.
            assert OPPOSITE[row["label"]] in row["valid"], row["file"]
    if not cfg.through:
        # Without --through, only parts whose features all sit on edges have more.
        for row in rows:
            if len(row["valid"]) > 1:
                kinds = {f["type"] for f in row["features"] if f["role"] == "feature"}
                assert kinds <= {"step", "slot", "chamfer"}, row["file"]


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


# --- determinism ---------------------------------------------------------------------------


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.*")}


def test_same_seed_gives_identical_files_for_any_worker_count(tmp_path, plain_set):
    synth_parts(tmp_path / "again", PLAIN, workers=2)
    assert _files(tmp_path / "again") == _files(plain_set)


def test_different_seeds_give_different_parts(tmp_path, plain_set):
    other = SynthConfig(per_class=3, seed=12)
    synth_parts(tmp_path / "other", other)
    a, b = _files(plain_set), _files(tmp_path / "other")
    stls = [name for name in a if name.endswith(".stl")]
    assert all(a[name] != b[name] for name in stls)
    seeds = {part_seed(s, c, i) for s in (11, 12) for c in CLASSES for i in range(3)}
    assert len(seeds) == 2 * len(CLASSES) * 3


def test_a_part_does_not_depend_on_the_other_classes_or_counts(tmp_path, plain_set):
    cfg = SynthConfig(per_class=2, seed=11, classes=("y_minus", "x_plus"))
    synth_parts(tmp_path / "some", cfg)
    files = _files(tmp_path / "some")
    assert sorted(n for n in files if n.endswith(".stl")) == [
        "x_plus/0000.stl",
        "x_plus/0001.stl",
        "y_minus/0000.stl",
        "y_minus/0001.stl",
    ]
    full = _files(plain_set)
    for name in files:
        if name.endswith(".stl"):
            assert files[name] == full[name]


def test_bundled_assets_match_the_documented_command(tmp_path):
    bundled = assets.bundled_parts_dir()
    assert bundled == REPO / "assets" / "parts"
    made_with = json.loads((bundled / "synth.json").read_text())["versions"]
    if made_with != generator_versions():
        pytest.skip(f"bundled parts were made with {made_with}, not {generator_versions()}")
    words = shlex.split(assets.BUNDLED_COMMAND)
    assert words[:3] == ["metaview", "synth", "assets/parts"]
    args = make_parser().parse_args(["synth", str(tmp_path / "parts"), *words[3:]])
    assert args.func(args) == 0
    made, committed = _files(tmp_path / "parts"), _files(bundled)
    assert sorted(made) == sorted(committed)
    for name in made:
        assert made[name] == committed[name], f"{name} differs from the bundled file"
    assert sum(len(b) for b in committed.values()) < 1_000_000  # small enough to commit


# --- configuration and command line --------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"per_class": 0}, "per_class"),
        ({"classes": ("x_plus", "w_plus")}, "unknown class 'w_plus'"),
        ({"classes": ()}, "classes"),
        ({"classes": ("z_minus",)}, "unknown class 'z_minus'"),
        ({"classes": ("x_plus", "x_plus")}, "twice"),
        ({"min_side": -5.0}, "min_side"),
        ({"max_side": -1.0}, "max_side"),
        ({"min_side": 80.0, "max_side": 40.0}, "must not exceed"),
        ({"min_features": 0}, "min_features"),
        ({"min_features": 4, "max_features": 2}, "must not exceed"),
        ({"kinds": ("hole", "groove")}, "unknown feature kind 'groove'"),
        ({"tilt_deg": -1.0}, "tilt_deg"),
        ({"tilt_deg": float("nan")}, "tilt_deg"),
        ({"distractors": -1}, "distractors"),
        ({"segments": 3}, "segments"),
        ({"seed": -1}, "seed"),
        ({"per_class": 2.5}, "per_class"),
        ({"through": "yes"}, "through must be True or False"),
        ({"through": True, "kinds": ("hole",)}, "kinds does not apply with through"),
    ],
)
def test_bad_options_raise_a_clear_error(options, message):
    with pytest.raises(SynthError, match=message) as info:
        SynthConfig(**options)
    assert isinstance(info.value, MetaviewError) and isinstance(info.value, ValueError)


def test_config_round_trips_through_a_dict():
    cfg = SynthConfig(classes=("z_plus",), kinds=("hole",), tilt_deg=3.0, distractors=2)
    assert SynthConfig.from_dict(cfg.to_dict()) == cfg
    cfg = SynthConfig(classes=("z_plus",), segments=16, through=True)
    assert SynthConfig.from_dict(cfg.to_dict()) == cfg
    # A synth.json written before --through existed still reads.
    old = {k: v for k, v in SynthConfig().to_dict().items() if k != "through"}
    assert SynthConfig.from_dict(old) == SynthConfig()
    with pytest.raises(SynthError, match="unknown synth configuration keys: colour"):
        SynthConfig.from_dict({**cfg.to_dict(), "colour": "red"})


def test_kinds_restrict_the_features(tmp_path):
    synth_parts(tmp_path, SynthConfig(per_class=2, kinds=("hole", "chamfer"), seed=3))
    kinds = {f["type"] for row in read_parts_csv(tmp_path / "parts.csv") for f in row["features"]}
    assert kinds <= {"hole", "chamfer"} and kinds


def test_cli_writes_parts_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "parts"
    args = make_parser().parse_args(
        ["synth", str(out), "--per-class", "1", "--classes", "x_plus,z_plus", "--seed", "3"]
    )
    assert args.func(args) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.*")) == [
        "parts.csv",
        "synth.json",
        "x_plus/0000.stl",
        "z_plus/0000.stl",
    ]
    rows = read_parts_csv(out / "parts.csv")
    assert [(r["file"], r["label"]) for r in rows] == [
        ("x_plus/0000.stl", "x_plus"),
        ("z_plus/0000.stl", "z_plus"),
    ]
    assert rows[0]["seed"] == part_seed(3, "x_plus", 0)
    assert "wrote 2 parts" in capsys.readouterr().out
    # A second run into the same folder needs --force, which removes stale parts.
    with pytest.raises(SynthError, match="--force"):
        args.func(args)
    again = make_parser().parse_args(
        ["synth", str(out), "--per-class", "1", "--classes", "z_plus", "--force"]
    )
    assert again.func(again) == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.stl")) == ["z_plus/0000.stl"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--per-class", "0"], "per_class"),
        (["--classes", "x_plus,up"], "unknown class 'up'"),
        (["--min-side", "-20"], "min_side"),
        (["--distractors", "-2"], "distractors"),
    ],
)
def test_cli_bad_options_raise_synth_error(tmp_path, argv, message):
    args = make_parser().parse_args(["synth", str(tmp_path / "out"), *argv])
    with pytest.raises(SynthError, match=message):
        args.func(args)
    assert not (tmp_path / "out").exists()


def test_cli_help_documents_classes_and_kinds(capsys):
    with pytest.raises(SystemExit):
        make_parser().parse_args(["synth", "--help"])
    text = capsys.readouterr().out
    for name in (*CLASSES, *FEATURE_KINDS, "--tilt-deg", "--distractors", "--seed", "--through"):
        assert name in text
    # The CLI keeps its own copies so that --help imports nothing heavy.
    assert assets_cli._CLASSES == CLASSES and assets_cli._KINDS == FEATURE_KINDS
    assert assets_cli._THROUGH_KINDS == THROUGH_KINDS
    defaults = make_parser().parse_args(["synth", "x"])
    assert assets_cli.config_from_args(defaults) == SynthConfig()


def test_stl_bytes_encodes_normals_and_header():
    box = trimesh.creation.box((2.0, 3.0, 4.0))
    data = stl_bytes(box.vertices, box.faces)
    assert len(data) == 84 + 50 * len(box.faces)
    loaded = trimesh.load(trimesh.util.wrap_as_stream(data), file_type="stl")
    assert loaded.volume == pytest.approx(24.0)
    record = np.frombuffer(data[84:], dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("a", "<u2")])
    np.testing.assert_allclose(record["n"], box.face_normals, atol=1e-6)


def test_overwrite_never_deletes_meshes_synth_did_not_write(tmp_path):
    """`--force` (and so `metaview demo OUT`) must leave a user's own parts alone."""
    from assets.synth import SynthConfig, SynthError, synth_parts

    out = tmp_path / "parts"
    cfg = SynthConfig(per_class=1, seed=0)
    synth_parts(out, cfg)
    mine = out / "x_plus" / "my_bracket.stl"
    mine.write_bytes(b"solid mine\nendsolid mine\n")
    with pytest.raises(SynthError, match="my_bracket.stl"):
        synth_parts(out, cfg, overwrite=True)
    assert mine.read_bytes() == b"solid mine\nendsolid mine\n"
    mine.unlink()
    # Without foreign files, --force replaces exactly the earlier set.
    rows = synth_parts(out, SynthConfig(per_class=2, seed=1), overwrite=True)
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("*/*.stl")) == sorted(
        r["file"] for r in rows
    )


def test_synth_writes_every_file_atomically(tmp_path, monkeypatch):
    """Parts, parts.csv and synth.json go through the project's atomic writer."""
    from assets.synth import SynthConfig, synth_parts
    from base import files

    written = []
    real = files.atomic_write_bytes

    def spy(path, data):
        written.append(Path(path).relative_to(tmp_path / "parts").as_posix())
        return real(path, data)

    monkeypatch.setattr(files, "atomic_write_bytes", spy)
    rows = synth_parts(tmp_path / "parts", SynthConfig(per_class=1, seed=0, classes=("z_plus",)))
    assert sorted(written) == sorted([r["file"] for r in rows] + ["parts.csv", "synth.json"])
    assert not list((tmp_path / "parts").rglob("*.tmp"))
