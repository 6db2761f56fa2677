"""MeshRenderer: meshes rendered in a child process without TensorFlow (render.worker)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from base.errors import MetaviewError
from render.worker import MeshRenderer


def test_nothing_to_render_starts_no_process():
    renderer = MeshRenderer({"tile": 8})
    assert renderer.render([]) == []
    assert renderer._pool is None


def test_errors_are_per_file_and_the_worker_is_reused(tmp_path):
    bad = tmp_path / "empty.stl"
    bad.write_bytes(b"")
    with MeshRenderer({"tile": 8, "rows": 2, "cols": 2}) as renderer:
        (image, error), (image2, error2) = renderer.render([tmp_path / "gone.stl", bad])
        pool = renderer._pool
        assert renderer.render([bad])[0][1] == error2  # the same worker, again
        assert renderer._pool is pool
    assert renderer._pool is None
    assert image is None and "gone.stl" in error
    assert image2 is None and "empty.stl" in error2


def test_an_unusable_render_config_fails_every_file():
    with MeshRenderer({"tile": 8, "bogus": 1}) as renderer:
        out = renderer.render(["a.stl", "b.stl"])
    assert [image for image, _ in out] == [None, None]
    assert all("render config is unusable" in error and "bogus" in error for _, error in out)


def _box_stl(tmp_path):
    import trimesh

    path = tmp_path / "box.stl"
    trimesh.creation.box((30.0, 20.0, 10.0)).export(path)
    return path


def test_in_process_renders_the_workers_pixels_without_a_worker(tmp_path, monkeypatch):
    path = _box_stl(tmp_path)
    config = {"tile": 16, "rows": 2, "cols": 2}
    with MeshRenderer(config) as renderer:
        [(want, error)] = renderer.render([path], variants=2)
    assert error is None and want.shape == (2, 32, 32, 3) and want.dtype == np.uint8
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)  # a process without it
    alone = MeshRenderer(config, in_process=True)
    [(got, error)] = alone.render([path], variants=2)
    assert error is None and alone._pool is None
    np.testing.assert_array_equal(got, want)
    assert alone.render([tmp_path / "gone.stl"])[0][1].count("gone.stl") == 1  # per file


def test_in_process_refuses_a_process_with_tensorflow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", types.ModuleType("tensorflow"))
    with pytest.raises(MetaviewError, match="imported TensorFlow"):
        MeshRenderer({"tile": 8}, in_process=True).render([_box_stl(tmp_path)])


def test_a_probe_started_ahead_gives_the_backend_and_the_worker_gets_it(tmp_path, monkeypatch):
    from render import backend

    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    monkeypatch.setattr(backend, "_auto_backend", None)
    monkeypatch.setattr(backend, "_probes", {})
    want = "egl" if backend.probe_backend("egl") is None else "osmesa"
    backend.start_probe()
    assert backend.probe_started()
    with MeshRenderer({"tile": 8, "rows": 1, "cols": 2}) as renderer:
        [(image, error)] = renderer.render([_box_stl(tmp_path)])
        assert renderer.config["backend"] == want  # resolved here, for the worker
    assert error is None and image.shape == (8, 16, 3)
    assert not backend.probe_started() and backend.resolve_backend("auto") == want
    backend.start_probe()  # known now: nothing more to start
    assert not backend.probe_started()
