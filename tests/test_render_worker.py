"""MeshRenderer: meshes rendered in a child process without TensorFlow (render.worker)."""

from __future__ import annotations

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
