"""render.jobs: one batch job (a mesh and its pending variants) -> PNGs and manifest rows."""

from __future__ import annotations

import hashlib
import os

import pytest
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from metaimage.io import read_png
from render.config import RenderConfig
from render.jobs import Job, image_path, image_view, render_job

__all__ = ["gl_backend"]  # the fixture, imported for pytest

CFG = dict(tile=16, rows=2, cols=2)


def _job(path, variants=(0, 2)) -> Job:
    return Job(path=str(path), source="x_plus/a.stl", label="x_plus", part_id="x_plus/a",
               variants=tuple(variants))  # fmt: skip


def test_image_paths_name_the_part_and_variant_and_read_back():
    assert image_path("x_plus/a", 3) == "x_plus/a_v3.png"
    for part, variant in [("x_plus/a", 3), ("a_v2", 0), ("y_minus/deep/b_v1", 12)]:
        assert image_view(image_path(part, variant)) == (part, variant)
    for other in ("x_plus/a.png", "x_plus/a_v.png", "x_plus/a_v1.jpg", "a_vx.png"):
        assert image_view(other) is None


def test_a_job_writes_each_variant_and_rows_that_describe_the_files(gl_backend, tmp_path):
    mesh = write(tmp_path / "a.stl", binary_stl(box_triangles((3, 2, 1))))
    cfg = RenderConfig(backend=gl_backend, **CFG)
    res = render_job(_job(mesh), cfg, str(tmp_path / "out"))
    assert "error" not in res and "pngs" not in res
    assert [r["path"] for r in res["rows"]] == ["x_plus/a_v0.png", "x_plus/a_v2.png"]
    for row in res["rows"]:
        data = (tmp_path / "out" / row["path"]).read_bytes()
        assert row["png_bytes"] == len(data) and row["sha256"] == hashlib.sha256(data).hexdigest()
        assert read_png(tmp_path / "out" / row["path"]).shape == (32, 32, 3)
        assert (row["label"], row["part_id"], row["config_hash"]) == (
            "x_plus", "x_plus/a", cfg.config_hash()
        )  # fmt: skip
    assert res["worker"].endswith(f":{os.getpid()}") and res["gl_renderer"]
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_bytes_in_and_pngs_out_give_the_same_images(gl_backend, tmp_path):
    """What a Ray worker does: the caller reads IN and writes OUT."""
    data = binary_stl(box_triangles((3, 2, 1)))
    mesh = write(tmp_path / "a.stl", data)
    cfg = RenderConfig(backend=gl_backend, **CFG)
    on_disk = render_job(_job(mesh), cfg, str(tmp_path / "out"))
    remote = render_job(_job(tmp_path / "elsewhere" / "a.stl"), cfg, None, data=data)
    assert sorted(remote["pngs"]) == [r["path"] for r in on_disk["rows"]]
    for rel, png in remote["pngs"].items():
        assert png == (tmp_path / "out" / rel).read_bytes()
    assert [r["sha256"] for r in remote["rows"]] == [r["sha256"] for r in on_disk["rows"]]


@pytest.mark.parametrize(("data", "match"), [(b"", "empty file"), (b"\x00" * 40, "84 bytes")])
def test_a_bad_mesh_is_an_error_row_naming_the_file_never_an_exception(tmp_path, data, match):
    mesh = write(tmp_path / "bad.stl", data)
    res = render_job(_job(mesh), RenderConfig(**CFG), str(tmp_path / "out"))
    assert set(res) == {"source", "error"} and res["source"] == "x_plus/a.stl"
    assert "bad.stl" in res["error"] and match in res["error"]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.png"))
