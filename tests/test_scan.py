"""Tests of the input scan of ``metaview render`` (:mod:`render.scan`): labels, and every
skipped entry reported with its reason."""

from __future__ import annotations

import os

import trimesh
from _batch_fixtures import mesh_folder
from _render_fixtures import binary_stl, box_triangles, write

from render.scan import find_meshes, scan_input


def test_find_meshes_labels_first_level_folders(tmp_path):
    mesh_folder(tmp_path / "in")
    (tmp_path / "in" / ".hidden").mkdir()
    write(tmp_path / "in" / ".hidden" / "x.stl", b"")
    assert find_meshes(tmp_path / "in") == [
        ("loose.stl", ""),
        ("x_plus/a.stl", "x_plus"),
        ("x_plus/b.obj", "x_plus"),
        ("z_plus/broken.stl", "z_plus"),
        ("z_plus/c.stl", "z_plus"),
    ]


def test_every_skipped_entry_is_reported_with_its_reason(tmp_path):
    src = tmp_path / "in"
    write(src / "x_plus" / "good.stl", binary_stl(box_triangles()))
    (src / "x_plus" / "x.stl").mkdir()  # a folder with a mesh name
    write(src / "x_plus" / "x.stl" / "inner.stl", binary_stl(box_triangles()))
    write(src / "x_plus" / "empty.stl", b"")
    trimesh.creation.box().export(src / "x_plus" / "empty.obj")
    write(src / "x_plus" / "notes.txt", b"hello")
    write(src / ".cache" / "y.stl", binary_stl(box_triangles()))
    write(src / "z_plus" / ".hidden.stl", binary_stl(box_triangles()))
    os.mkfifo(src / "z_plus" / "pipe.stl")  # reading it would block forever
    os.symlink(src / "missing.stl", src / "z_plus" / "dangling.stl")

    scan = scan_input(src)
    assert scan.meshes == [("x_plus/empty.obj", "x_plus"), ("x_plus/good.stl", "x_plus")]
    failed = {f["source"]: f["error"] for f in scan.failed}
    assert sorted(failed) == [
        "x_plus/empty.stl",
        "x_plus/x.stl",
        "z_plus/dangling.stl",
        "z_plus/pipe.stl",
    ]
    assert "empty file (0 bytes)" in failed["x_plus/empty.stl"]
    assert "expected a mesh file, found a folder" in failed["x_plus/x.stl"]
    assert "broken symbolic link" in failed["z_plus/dangling.stl"]
    assert "found a named pipe" in failed["z_plus/pipe.stl"]
    ignored = {i["source"]: i["reason"] for i in scan.ignored}
    assert sorted(ignored) == [".cache", "x_plus/notes.txt", "z_plus/.hidden.stl"]
    assert "hidden" in ignored[".cache"] and "not a mesh file" in ignored["x_plus/notes.txt"]
    assert find_meshes(src) == scan.meshes
