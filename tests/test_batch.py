"""``metaview render IN OUT``: labels, failures, resume, determinism, the CLI."""

from __future__ import annotations

import argparse
import os

import numpy as np
import pytest
import trimesh
from _batch_fixtures import mesh_folder
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from metaimage import io as mio
from render import RenderConfig
from render.batch import render_folder

__all__ = ["gl_backend"]


@pytest.mark.gl
def test_batch_renders_the_rest_reports_the_broken_file_and_resumes(gl_backend, tmp_path):
    src, out = mesh_folder(tmp_path / "in"), tmp_path / "out"
    cfg = RenderConfig(variants=1, tile=8, rows=3, cols=3, backend=gl_backend)
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
    # Where the meshes are, for the families that read them (train --model normals).
    assert meta["source_dir"] == str(src.resolve())
    assert all((src / r["source"]).is_file() for r in rows)
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
        RenderConfig(variants=1, tile=8, rows=3, cols=3, seed=1, backend=gl_backend),
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

    src, out = mesh_folder(tmp_path / "in"), tmp_path / "out"
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
            "--variants",
            "1",
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
        RenderConfig(variants=1, tile=8, rows=2, cols=3, backend=gl_backend),
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


def _cli_args(src, out, *extra):
    from render import cli

    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(["render", str(src), str(out), "--no-progress", *extra])


# ------------------------------------------------ file names that are not UTF-8 (item 1)


@pytest.mark.gl
def test_non_utf8_file_names_are_rendered_listed_and_resumed(gl_backend, tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    write(src / "x_plus" / "a.stl", binary_stl(box_triangles()))
    folder = os.fsencode(src / "x_plus")
    with open(folder + b"/caf\xe9.stl", "wb") as f:  # Latin-1 "café": not UTF-8
        f.write(binary_stl(box_triangles(extents=(3, 1, 1))))
    with open(folder + b"/br\xf6ken.stl", "wb") as f:
        f.write(binary_stl(box_triangles())[:200])
    args = _cli_args(src, out, "--tile", "8", "--grid", "2x2", "--variants", "1", "--workers", "1")
    args.backend = gl_backend
    assert args.func(args) == 2  # printing the failure must not crash either
    printed = capsys.readouterr().out
    assert "x_plus/br\\xf6ken.stl" in printed and "2 rendered, 0 skipped, 1 failed" in printed

    rows = mio.read_manifest(out)
    # Everything written under OUT is named in UTF-8: the undecodable byte as \xNN.
    assert [(r["path"], r["source"], r["part_id"]) for r in rows] == [
        ("x_plus/a_v0.png", "x_plus/a.stl", "x_plus/a"),
        ("x_plus/caf\\xe9_v0.png", "x_plus/caf\\xe9.stl", "x_plus/caf\\xe9"),
    ]
    assert mio.read_png(out / rows[1]["path"]).shape == (16, 16, 3)  # the path names the file
    errors = mio.read_csv(out / "errors.csv", required=mio.ERROR_COLUMNS)
    assert [e["source"] for e in errors] == ["x_plus/br\\xf6ken.stl"]
    assert "truncated" in errors[0]["error"] and "br\\xf6ken.stl" in errors[0]["error"]

    # A rerun resumes (it used to crash the same way every time).
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.skipped, res.exit_code) == (0, 2, 2)


# ------------------------------------------------ input/output folders, skipped entries (item 3)


@pytest.mark.parametrize("where", ["same", "class_folder", "deeper", "new_subfolder"])
def test_output_inside_the_input_is_refused_naming_both(tmp_path, where):
    from render import RenderError

    src = tmp_path / "parts"
    write(src / "x_plus" / "a.stl", binary_stl(box_triangles()))
    out = {
        "same": src,
        "class_folder": src / "x_plus",
        "deeper": src / "x_plus" / "data",
        "new_subfolder": src / "data",
    }[where]
    with pytest.raises(RenderError) as err:
        render_folder(src, out, RenderConfig(tile=8), workers=1, progress=False)
    message = str(err.value)
    assert str(out.resolve()) in message and f"input folder {src.resolve()}" in message
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*")) == [
        "x_plus",
        "x_plus/a.stl",
    ]  # nothing written among the meshes


@pytest.mark.gl
def test_empty_file_is_reported_as_empty_not_as_a_duplicate(gl_backend, tmp_path):
    src, out = tmp_path / "in", tmp_path / "out"
    (src / "x_plus").mkdir(parents=True)
    trimesh.creation.box().export(src / "x_plus" / "empty.obj")
    write(src / "x_plus" / "empty.stl", b"")
    (src / "x_plus" / "dir.stl").mkdir()
    write(src / "x_plus" / "readme.txt", b"not a mesh")
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)
    res = render_folder(src, out, cfg, workers=1, progress=False)
    assert (res.rendered, res.files, res.exit_code) == (1, 3, 2)
    assert [r["path"] for r in mio.read_manifest(out)] == ["x_plus/empty_v0.png"]
    errors = {e["source"]: e["error"] for e in mio.read_csv(out / "errors.csv")}
    assert sorted(errors) == ["x_plus/dir.stl", "x_plus/empty.stl"]
    assert "empty file" in errors["x_plus/empty.stl"]
    assert "same part id" not in errors["x_plus/empty.stl"]
    assert [i["source"] for i in res.ignored] == ["x_plus/readme.txt"]


# ------------------------------------------------ executors: the pool behind the interface


@pytest.mark.gl
def test_pool_ctrl_c_keeps_what_finished_and_a_rerun_completes(gl_backend, tmp_path):
    from render.executors import PoolExecutor

    class InterruptedAfterOne(PoolExecutor):
        """Ctrl-C right after the first file comes back, while the second may still run.

        Only two jobs reach the pool: tiny renders are so fast that one worker could finish
        every job before the first result is read, and the test would then see no job cut
        off (it did, once, on a loaded CI machine).
        """

        def submit(self, jobs, cfg, out_dir):
            super().submit(jobs[:2], cfg, out_dir)

        def results(self):
            for result in super().results():
                yield result
                raise KeyboardInterrupt

    src, out = mesh_folder(tmp_path / "in"), tmp_path / "out"
    for i in range(4):  # more files than workers, so that some are still waiting
        write(src / "y_plus" / f"d{i}.stl", binary_stl(box_triangles(extents=(1, 2 + i, 1))))
    cfg = RenderConfig(variants=1, tile=8, rows=2, cols=2, backend=gl_backend)
    with pytest.raises(KeyboardInterrupt):
        render_folder(src, out, cfg, progress=False, executor=InterruptedAfterOne(2))
    rows = mio.read_manifest(out)
    assert 1 <= len(rows) <= 2  # the first file and the one in progress, not the rest
    for r in rows:
        assert mio.sha256_hex((out / r["path"]).read_bytes()) == r["sha256"]
    res = render_folder(src, out, cfg, workers=2, progress=False)
    assert (res.rendered + res.skipped, res.skipped, res.executor) == (8, len(rows), "pool")


def test_unknown_executor_and_address_without_ray_are_refused(tmp_path):
    from render import RenderError

    write(tmp_path / "in" / "a" / "box.stl", binary_stl(box_triangles()))
    cfg = RenderConfig(tile=8)
    with pytest.raises(RenderError, match="executor: expected one of pool, ray, got 'dask'"):
        render_folder(tmp_path / "in", tmp_path / "out", cfg, executor="dask")
    with pytest.raises(RenderError, match="address 'auto': a Ray cluster address"):
        render_folder(tmp_path / "in", tmp_path / "out", cfg, address="auto")
    assert not (tmp_path / "out").exists()
