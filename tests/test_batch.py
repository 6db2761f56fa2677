"""``metaview render IN OUT``: labels, failures, resume, determinism, the CLI."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import trimesh
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from metaimage import io as mio
from render import RenderConfig
from render.batch import find_meshes, render_folder

__all__ = ["gl_backend"]


def _parts(root):
    """Two labels, one unlabelled part at the top level, one broken STL."""
    write(root / "x_plus" / "a.stl", binary_stl(box_triangles(extents=(3, 1, 1))))
    trimesh.creation.icosphere(2).export(root / "x_plus" / "b.obj")
    write(root / "z_plus" / "c.stl", binary_stl(box_triangles(extents=(1, 1, 3))))
    write(root / "loose.stl", binary_stl(box_triangles()))
    write(root / "z_plus" / "broken.stl", binary_stl(box_triangles())[:200])
    write(root / "z_plus" / "readme.txt", b"not a mesh suffix: ignored")
    return root


def test_find_meshes_labels_first_level_folders(tmp_path):
    _parts(tmp_path / "in")
    (tmp_path / "in" / ".hidden").mkdir()
    write(tmp_path / "in" / ".hidden" / "x.stl", b"")
    assert find_meshes(tmp_path / "in") == [
        ("loose.stl", ""),
        ("x_plus/a.stl", "x_plus"),
        ("x_plus/b.obj", "x_plus"),
        ("z_plus/broken.stl", "z_plus"),
        ("z_plus/c.stl", "z_plus"),
    ]


@pytest.mark.gl
def test_batch_renders_the_rest_reports_the_broken_file_and_resumes(gl_backend, tmp_path):
    src, out = _parts(tmp_path / "in"), tmp_path / "out"
    cfg = RenderConfig(tile=8, rows=3, cols=3, backend=gl_backend)
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped, res.files, res.exit_code) == (4, 0, 5, 2)
    errors = mio.read_csv(out / "errors.csv", required=mio.ERROR_COLUMNS)
    assert [e["source"] for e in errors] == ["z_plus/broken.stl"]
    assert "broken.stl" in errors[0]["error"] and "truncated" in errors[0]["error"]

    rows = mio.read_manifest(out)
    assert [(r["path"], r["label"], r["part_id"]) for r in rows] == [
        ("loose_v0.png", "", "loose"),
        ("x_plus/a_v0.png", "x_plus", "x_plus/a"),
        ("x_plus/b_v0.png", "x_plus", "x_plus/b"),
        ("z_plus/c_v0.png", "z_plus", "z_plus/c"),
    ]
    assert all(r["config_hash"] == cfg.config_hash() and r["faces_out"] > 0 for r in rows)
    meta = mio.read_metaimage_json(out)
    assert meta["grid"] == [3, 3] and meta["tile"] == 8 and meta["image_size"] == [24, 24]
    assert meta["backend"] == gl_backend and meta["config"] == cfg.to_dict()
    for r in rows:
        assert mio.read_png(out / r["path"]).shape == (24, 24, 3)
    before = {r["path"]: (out / r["path"]).read_bytes() for r in rows}

    # Resume: only the deleted image is rendered again, byte-identical to before.
    (out / "x_plus" / "b_v0.png").unlink()
    mtime = (out / "x_plus" / "a_v0.png").stat().st_mtime_ns
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped, res.exit_code) == (1, 3, 2)
    assert (out / "x_plus" / "a_v0.png").stat().st_mtime_ns == mtime
    assert {r["path"]: (out / r["path"]).read_bytes() for r in rows} == before
    assert len(mio.read_manifest(out)) == 4

    # A changed config re-renders everything; --force too; more variants add images.
    res = render_folder(
        src,
        out,
        RenderConfig(tile=8, rows=3, cols=3, seed=1, backend=gl_backend),
        workers=1,
        progress=False,
    )
    assert (res.rendered, res.skipped) == (4, 0)
    res = render_folder(src, out, cfg, workers=1, force=True, progress=False)
    assert (res.rendered, res.skipped) == (4, 0)
    assert {r["path"]: (out / r["path"]).read_bytes() for r in rows} == before
    cfg3 = RenderConfig(tile=8, rows=3, cols=3, variants=3, backend=gl_backend)
    res = render_folder(src, out, cfg3, workers=1, progress=False)
    assert (res.rendered, res.skipped) == (8, 4)
    variants = {r["variant"] for r in mio.read_manifest(out)}
    assert variants == {0, 1, 2}
    a0, a1 = mio.read_png(out / "x_plus/a_v0.png"), mio.read_png(out / "x_plus/a_v1.png")
    assert not np.array_equal(a0, a1)


@pytest.mark.gl
def test_cli_with_a_worker_pool_exits_2_on_a_broken_file(gl_backend, tmp_path, capsys):
    from render import cli

    src, out = _parts(tmp_path / "in"), tmp_path / "out"
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "render",
            str(src),
            str(out),
            "--tile",
            "8",
            "--grid",
            "2x3",
            "--workers",
            "2",
            "--no-progress",
            "--backend",
            gl_backend,
        ]
    )
    assert args.func(args) == 2
    printed = capsys.readouterr().out
    assert "4 rendered, 0 skipped, 1 failed" in printed and "broken.stl" in printed
    assert mio.read_png(out / "loose_v0.png").shape == (16, 24, 3)
    # The pool gives the same bytes as rendering in-process.
    single = tmp_path / "single"
    render_folder(
        src,
        single,
        RenderConfig(tile=8, rows=2, cols=3, backend=gl_backend),
        workers=1,
        progress=False,
    )
    for r in mio.read_manifest(out):
        assert (out / r["path"]).read_bytes() == (single / r["path"]).read_bytes()


def test_cli_rejects_a_bad_grid():
    from render import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    with pytest.raises(SystemExit):
        parser.parse_args(["render", "a", "b", "--grid", "10by10"])


def test_empty_input_folder_and_file_as_output_are_clear_errors(tmp_path):
    from render import MeshError, RenderError

    empty = tmp_path / "empty"
    (empty / "x_plus").mkdir(parents=True)
    (empty / "notes.txt").write_text("not a mesh")
    with pytest.raises(MeshError, match=r"empty: no mesh files found \(expected \.stl"):
        render_folder(empty, tmp_path / "out", RenderConfig(tile=8), workers=1, progress=False)
    parts = tmp_path / "parts"
    write(parts / "a" / "box.stl", binary_stl(box_triangles()))
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(RenderError, match="afile: expected a folder, found a file"):
        render_folder(parts, afile, RenderConfig(tile=8), workers=1, progress=False)
