"""Tests of :mod:`assets.reach` and ``metaview reach``: which directions reach every feature.

Every part is a 40 x 30 x 20 block centred on the origin (x in [-20, 20], y in [-15, 15],
z in [-10, 10]) with cutters subtracted by manifold3d, built in memory.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math

import numpy as np
import pytest
import trimesh
from _reach_fixtures import SIZE, blind_hole_x, box, cut, rod, step_x_z, t_slot, through_hole_x

from assets import cli as assets_cli
from assets.part import stl_bytes
from assets.reach import CSV_COLUMNS, parse_label_set, reach_folder
from assets.synth_config import CLASSES
from base.errors import MetaviewError
from base.options import EXIT_PARTIAL
from geometry.directions import DIRECTIONS, label_set
from geometry.errors import ReachError
from geometry.reach import ReachConfig, reachable_directions

ALL = tuple(DIRECTIONS)


# --- parts: tests/_reach_fixtures.py ----------------------------------------------------


def turned(mesh: trimesh.Trimesh, degrees: float, axis=(1.0, 2.0, 3.0)) -> trimesh.Trimesh:
    m = trimesh.transformations.rotation_matrix(math.radians(degrees), axis)
    m[:3, 3] = (5.0, -7.0, 11.0)
    return mesh.copy().apply_transform(m)


# --- the rule on single parts --------------------------------------------------------------


def test_blind_hole_is_reached_from_its_face_only():
    result = reachable_directions(blind_hole_x())
    assert result.status == "ok" and result.valid == ("x_plus",)
    assert result.reach["x_plus"] == pytest.approx(1.0)
    assert result.feature_faces > 0 and result.clamped_frac == 0 and result.unreachable_frac == 0
    # The floor faces +X, the wall is parallel to X: from -X the floor faces away and the wall
    # is shadowed by the floor's material.
    floor = math.pi * 9
    wall = 2 * math.pi * 3 * 12
    assert result.feature_area == pytest.approx(floor + wall, rel=0.02)
    assert result.away["x_minus"] == pytest.approx(floor / (floor + wall), rel=0.02)
    assert result.shadowed["x_minus"] == pytest.approx(wall / (floor + wall), rel=0.02)
    reasons = result.reasons()
    assert set(reasons) == {"x_minus", "y_plus", "y_minus", "z_plus"}
    assert "% of feature area faces away from -X" in reasons["x_minus"]
    assert "% is shadowed from -X" in reasons["x_minus"]
    for name in ALL:
        total = result.reach[name] + result.away[name] + result.shadowed[name]
        assert total == pytest.approx(1.0)


def test_through_hole_is_reached_from_both_ends():
    assert reachable_directions(through_hole_x()).valid == ("x_plus", "x_minus")


def test_step_along_an_edge_is_reached_from_four_directions():
    # Floor (facing +X) and wall (facing +Z) are both parallel to Y and open at both ends.
    result = reachable_directions(step_x_z())
    assert result.valid == ("x_plus", "y_plus", "y_minus", "z_plus")
    assert "faces away from -X" in result.reasons()["x_minus"]


def test_t_slot_is_an_undercut_from_its_opening():
    closed = reachable_directions(t_slot(open_ends=False))
    assert closed.valid == ()
    # The channel's ceiling faces -Z, hidden from -Z by the channel's floor: no direction
    # reaches it; the floor under the shoulders is shadowed from +Z.
    assert closed.unreachable_frac > 0.1
    why = closed.reasons()["z_plus"]
    assert "faces away from +Z" in why and "is shadowed from +Z" in why
    assert 0 < closed.reach["z_plus"] < 1
    # Open at both ends, it is cut from the ends: +-X reach it, +Z still does not.
    through = reachable_directions(t_slot(open_ends=True))
    assert through.valid == ("x_plus", "x_minus")
    assert "faces away from +Z" in through.reasons()["z_plus"]


def test_plain_box_has_no_feature_faces():
    result = reachable_directions(box(SIZE))
    assert result.status == "no_features" and result.feature_faces == 0
    assert result.feature_area == 0 and result.cut_area == 0
    assert result.valid == ALL and result.reasons() == {}


def test_cuts_in_the_clamped_face_are_reported_not_counted():
    bottom_hole = rod((0, 0, -15), (0, 0, 0))  # 10 mm deep into -Z
    only_bottom = reachable_directions(cut(bottom_hole))
    assert only_bottom.status == "no_features" and only_bottom.valid == ALL
    assert only_bottom.clamped_frac == pytest.approx(1.0)
    both = reachable_directions(cut(bottom_hole, rod((8, 0, 0), (25, 0, 0))))
    assert both.valid == ("x_plus",)
    assert 0.3 < both.clamped_frac < 0.7  # two holes of the same size and depth


@pytest.mark.parametrize("scale", [0.01, 1000.0])
@pytest.mark.parametrize("make", [blind_hole_x, step_x_z, lambda: t_slot(True)])
def test_invariant_to_scale(make, scale):
    mesh = make()
    base = reachable_directions(mesh)
    scaled = reachable_directions(mesh.copy().apply_scale(scale))
    assert scaled.valid == base.valid and scaled.feature_faces == base.feature_faces
    for name in ALL:
        assert scaled.reach[name] == pytest.approx(base.reach[name], abs=1e-6)


@pytest.mark.parametrize("make", [blind_hole_x, through_hole_x, step_x_z, lambda: t_slot(True)])
def test_invariant_to_a_small_tilt(make):
    mesh = make()
    base = reachable_directions(mesh)
    tilted = reachable_directions(turned(mesh, 3.0))
    assert tilted.tilt_deg == pytest.approx(3.0, abs=1e-6)
    assert tilted.valid == base.valid and tilted.feature_faces == base.feature_faces
    for name in ALL:
        assert tilted.reach[name] == pytest.approx(base.reach[name], abs=1e-6)


def test_vertices_and_faces_give_the_same_result_as_a_mesh():
    mesh = step_x_z()
    a = reachable_directions(mesh)
    b = reachable_directions(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    assert a == b


@pytest.mark.skipif(
    importlib.util.find_spec("rtree") is None or importlib.util.find_spec("embreex") is None,
    reason="comparing the ray casters needs both embreex and rtree installed",
)
def test_rtree_and_embree_agree():
    for mesh in (blind_hole_x(), step_x_z(), t_slot(False)):
        a = reachable_directions(mesh, cfg=ReachConfig(rays="embree"))
        b = reachable_directions(mesh, cfg=ReachConfig(rays="rtree"))
        assert a == b


def test_one_sample_per_face_gives_the_same_sets():
    for mesh in (blind_hole_x(), through_hole_x(), step_x_z(), t_slot(True)):
        one = reachable_directions(mesh, cfg=ReachConfig(samples=1))
        assert one.valid == reachable_directions(mesh).valid


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"area_tol": -0.1}, "area_tol"),
        ({"area_tol": float("nan")}, "area_tol"),
        ({"offset": 0.0}, "offset must be above 0"),
        ({"samples": 3}, "samples must be 1 or 4"),
        ({"rays": "optix"}, "rays must be one of"),
        ({"box_tol": True}, "box_tol"),
    ],
)
def test_bad_config_raises_a_clear_error(options, message):
    with pytest.raises(ReachError, match=message) as info:
        ReachConfig(**options)
    assert isinstance(info.value, MetaviewError) and isinstance(info.value, ValueError)


def test_malformed_meshes_raise_reach_error():
    with pytest.raises(ReachError, match="face indices"):
        reachable_directions(np.zeros((3, 3)), np.array([[0, 1, 5]]))
    with pytest.raises(ReachError, match="vertices"):
        reachable_directions(np.zeros((3, 2)), np.array([[0, 1, 2]]))
    with pytest.raises(ReachError, match="expected a mesh"):
        reachable_directions("part.stl")


def test_label_sets_round_trip_in_class_order():
    assert list(DIRECTIONS) == list(CLASSES)
    assert label_set(["z_plus", "x_plus"]) == "x_plus|z_plus"
    assert label_set([]) == ""
    assert parse_label_set("x_plus|z_plus") == ("x_plus", "z_plus")
    assert parse_label_set("") == ()
    with pytest.raises(ReachError, match="unknown direction 'z_minus'"):
        parse_label_set("x_plus|z_minus")


# --- files and the command -----------------------------------------------------------------


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="metaview")
    sub = parser.add_subparsers(dest="command", required=True)
    assets_cli.register_reach(sub)
    return parser


def write(path, mesh: trimesh.Trimesh) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stl_bytes(np.asarray(mesh.vertices), np.asarray(mesh.faces)))


def read_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames) == CSV_COLUMNS
        return list(reader)


def test_cli_writes_reach_csv_and_reports_a_broken_file(tmp_path, capsys):
    parts = tmp_path / "parts"
    write(parts / "x_plus" / "hole.stl", blind_hole_x())
    write(parts / "z_plus" / "tslot.stl", t_slot(False))
    write(parts / "box.stl", box(SIZE))
    (parts / "x_plus" / "broken.stl").write_bytes(b"\x00" * 80 + b"\xff\xff\x00\x00" + b"junk")
    (parts / "notes.txt").write_text("not a mesh")
    args = make_parser().parse_args(["reach", str(parts), "--workers", "2"])
    assert args.func(args) == EXIT_PARTIAL
    rows = {r["file"]: r for r in read_rows(parts / "reach.csv")}
    assert sorted(rows) == ["box.stl", "x_plus/broken.stl", "x_plus/hole.stl", "z_plus/tslot.stl"]

    hole = rows["x_plus/hole.stl"]
    assert (hole["label"], hole["status"], hole["valid"], hole["n_valid"]) == (
        "x_plus",
        "ok",
        "x_plus",
        "1",
    )
    assert hole["label_in_set"] == "1" and hole["error"] == ""
    assert float(hole["reach_x_plus"]) == pytest.approx(1.0)
    assert "x_minus: " in hole["reasons"] and "faces away from -X" in hole["reasons"]

    tslot = rows["z_plus/tslot.stl"]
    assert tslot["valid"] == "" and tslot["label_in_set"] == "0"
    assert float(tslot["unreachable_frac"]) > 0.1 and "shadowed from +Z" in tslot["reasons"]

    plain = rows["box.stl"]
    assert (plain["label"], plain["status"], plain["valid"]) == (
        "",
        "no_features",
        "x_plus|x_minus|y_plus|y_minus|z_plus",
    )
    assert plain["feature_faces"] == "0" and "no feature faces" in plain["reasons"]

    broken = rows["x_plus/broken.stl"]
    assert broken["status"] == "error" and "broken.stl" in broken["error"]
    assert broken["valid"] == "" and broken["reach_x_plus"] == ""

    out = capsys.readouterr()
    assert "analysed 3 of 4 meshes" in out.out
    assert "broken.stl" in out.err
    assert not list(parts.rglob("*.tmp"))  # written atomically


def test_cli_single_file_and_out_option(tmp_path):
    write(tmp_path / "hole.stl", through_hole_x())
    args = make_parser().parse_args(
        ["reach", str(tmp_path / "hole.stl"), str(tmp_path / "r.csv"), "--workers", "1"]
    )
    assert args.func(args) == 0
    (row,) = read_rows(tmp_path / "r.csv")
    assert (row["file"], row["valid"], row["label"], row["label_in_set"]) == (
        "hole.stl",
        "x_plus|x_minus",
        "",
        "",
    )


def test_rows_do_not_depend_on_the_worker_count(tmp_path):
    for name, make in (("a", blind_hole_x), ("b", step_x_z), ("c", through_hole_x)):
        write(tmp_path / "in" / f"{name}.stl", make())
    one = reach_folder(tmp_path / "in", tmp_path / "one.csv", workers=1)
    two = reach_folder(tmp_path / "in", tmp_path / "two.csv", workers=2)
    assert one == two
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "two.csv").read_bytes()


def test_missing_input_and_empty_folder_are_errors(tmp_path):
    with pytest.raises(ReachError, match="found nothing"):
        reach_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ReachError, match="found none"):
        reach_folder(tmp_path / "empty")
    with pytest.raises(ReachError, match="workers"):
        reach_folder(tmp_path / "empty", workers=0)


def test_cli_defaults_agree_with_the_config():
    from base.options import default_workers, workers_of

    args = make_parser().parse_args(["reach", "x"])
    assert args.area_tol == ReachConfig().area_tol and args.out is None
    assert args.workers is None and workers_of(args) == default_workers() >= 1


def test_inside_out_winding_is_turned_round():
    mesh = blind_hole_x()
    flipped = reachable_directions(np.asarray(mesh.vertices), np.asarray(mesh.faces)[:, ::-1])
    assert flipped == reachable_directions(mesh)


def test_metaview_lists_and_runs_reach(tmp_path, capsys):
    from metaview import cli

    with pytest.raises(SystemExit) as exc:
        cli.main(["reach", "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: metaview reach")
    assert cli.main(["reach", str(tmp_path / "missing")]) == 1  # a user error, named
    assert "missing: expected a folder of meshes or a mesh file" in capsys.readouterr().err


def test_a_mesh_without_area_raises_reach_error():
    flat = np.array([[0.0, 0, 0], [1, 0, 0], [2, 0, 0]])
    with pytest.raises(ReachError, match="area"):
        reachable_directions(flat, np.array([[0, 1, 2]]))


# --- per face ------------------------------------------------------------------------------


def test_face_reach_is_the_summary_face_by_face():
    from geometry.reach import face_reach

    mesh = step_x_z()
    faces = face_reach(mesh)
    summary = reachable_directions(mesh)
    assert len(faces.faces) == len(mesh.faces) and faces.reached.shape == (len(mesh.faces), 6)
    feature = ~faces.stock & ~faces.clamped
    w = faces.areas[feature] / faces.areas[feature].sum()
    # The summary's reached shares are the area-weighted means of the faces' shares.
    for j, name in enumerate(ALL):
        assert float(w @ faces.reached[feature, j]) == pytest.approx(summary.reach[name], abs=1e-12)
    assert np.all(faces.reached[faces.stock] == 0)
    # The step's floor faces +X, its wall +Z: every feature face is reached from the four valid
    # directions and not from -X.
    reached = faces.directions()[feature]
    assert reached[:, [0, 2, 3, 4]].all() and not reached[:, 1].any()
    assert not faces.undercut.any()


def test_face_reach_marks_the_undercut_faces():
    from geometry.reach import face_reach

    faces = face_reach(t_slot(open_ends=False))
    # The channel's ceiling (normal -Z, hidden by the floor below it) is an undercut.
    ceiling = faces.undercut & (faces.normals[:, 2] < -0.99)
    assert ceiling.any()
    assert not (faces.undercut & faces.stock).any()
    result = reachable_directions(t_slot(open_ends=False))
    area = faces.areas[faces.undercut].sum() / faces.areas[~faces.stock & ~faces.clamped].sum()
    assert area == pytest.approx(result.unreachable_frac, rel=0.3)
