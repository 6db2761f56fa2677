"""``metaview render --executor ray``: the pool's bytes, resume, Ctrl-C, dying workers, no Ray.

One local Ray instance (2 CPUs, no dashboard) serves the whole module and is shut down at
its end; the executor finds it initialised and uses it. Ray 2.x has no option to bind a
local instance to the loopback interface only: its ports listen on the host's address,
with Ray's token authentication on (its default since 2.5x).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest
import trimesh
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from metaimage import io as mio
from render import RenderConfig
from render.batch import render_folder

__all__ = ["gl_backend"]

VARIANTS = 2


def _cfg(backend: str) -> RenderConfig:
    return RenderConfig(tile=8, rows=2, cols=3, variants=VARIANTS, backend=backend)


@pytest.fixture(scope="module")
def ray_local():
    """A local Ray instance for this module: 2 CPUs, no dashboard, a small object store."""
    ray = pytest.importorskip("ray")
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=80 * 2**20,
        logging_level=logging.WARNING,
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> Path:
    """Eight parts in two labels and at the top level, one truncated STL, one text file."""
    root = tmp_path_factory.mktemp("ray_parts") / "in"
    for i in range(3):
        write(root / "x_plus" / f"a{i}.stl", binary_stl(box_triangles(extents=(3, 1, 1 + i))))
        write(root / "z_plus" / f"c{i}.stl", binary_stl(box_triangles(extents=(1, 1 + i, 3))))
    trimesh.creation.icosphere(2).export(root / "x_plus" / "b.obj")
    write(root / "loose.stl", binary_stl(box_triangles()))
    write(root / "z_plus" / "broken.stl", binary_stl(box_triangles())[:200])
    write(root / "z_plus" / "readme.txt", b"not a mesh suffix: ignored")
    return root


@pytest.fixture(scope="module")
def pool_out(gl_backend, parts, tmp_path_factory) -> Path:
    """The reference: the parts rendered by the process pool (2 workers)."""
    out = tmp_path_factory.mktemp("ray_ref") / "pool"
    res = render_folder(parts, out, _cfg(gl_backend), workers=2, progress=False)
    assert (res.rendered, res.exit_code, res.executor) == (8 * VARIANTS, 2, "pool")
    return out


def _manifest(out: Path) -> list[dict]:
    """The manifest rows without render_s (a timing, the one column that may differ)."""
    return [{k: v for k, v in r.items() if k != "render_s"} for r in mio.read_manifest(out)]


def _assert_same_dataset(out: Path, ref: Path) -> None:
    """Same PNG bytes, manifest (render_s aside), errors.csv and metaimage.json bytes."""
    assert _manifest(out) == _manifest(ref)
    for r in mio.read_manifest(ref):
        assert (out / r["path"]).read_bytes() == (ref / r["path"]).read_bytes(), r["path"]
    for name in (mio.ERRORS_CSV, mio.METAIMAGE_JSON):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    pngs = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert pngs == sorted(r["path"] for r in mio.read_manifest(ref))
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]  # no partial file


def _crashing_actor(source: str, marker: Path | None):
    """A RenderActor that dies (os._exit) when given ``source``: once if ``marker`` is
    given (the marker file remembers it across workers), else every time."""
    from render.ray_exec import RenderActor

    class Crashing(RenderActor):
        def render(self, job, cfg, out_dir, data):
            if job.source == source and (marker is None or not marker.exists()):
                if marker is not None:
                    marker.write_text(str(os.getpid()))
                os._exit(3)
            return RenderActor.render(self, job, cfg, out_dir, data)

    return Crashing


@pytest.mark.gl
def test_ray_gives_the_pools_bytes_and_resumes(gl_backend, ray_local, parts, pool_out, tmp_path):
    out = tmp_path / "ray"
    cfg = _cfg(gl_backend)
    res = render_folder(parts, out, cfg, workers=2, progress=False, executor="ray")
    assert (res.rendered, res.skipped, res.files, res.exit_code) == (8 * VARIANTS, 0, 9, 2)
    assert (res.executor, [f["source"] for f in res.failed]) == ("ray", ["z_plus/broken.stl"])
    assert sum(res.worker_files.values()) == 8 and len(res.worker_files) <= 2
    _assert_same_dataset(out, pool_out)

    # Resume by config hash: only the deleted image is drawn again, the rest untouched.
    (out / "x_plus" / "b_v1.png").unlink()
    mtime = (out / "x_plus" / "a0_v0.png").stat().st_mtime_ns
    res = render_folder(parts, out, cfg, workers=2, progress=False, executor="ray")
    assert (res.rendered, res.skipped, res.exit_code) == (1, 8 * VARIANTS - 1, 2)
    assert (out / "x_plus" / "a0_v0.png").stat().st_mtime_ns == mtime
    _assert_same_dataset(out, pool_out)


@pytest.mark.gl
def test_a_worker_that_dies_loses_only_its_file(
    gl_backend, ray_local, parts, pool_out, tmp_path, caplog
):
    from render.ray_exec import RayExecutor

    marker = tmp_path / "crashed"
    executor = RayExecutor(workers=2, actor=_crashing_actor("x_plus/b.obj", marker))
    with caplog.at_level(logging.WARNING, logger="render.ray_exec"):
        res = render_folder(
            parts, tmp_path / "out", _cfg(gl_backend), progress=False, executor=executor
        )
    assert marker.exists()  # a worker did die on b.obj, in the middle of the batch
    assert "x_plus/b.obj: its Ray worker died" in caplog.text
    assert (res.rendered, res.exit_code) == (8 * VARIANTS, 2)
    assert [f["source"] for f in res.failed] == ["z_plus/broken.stl"]
    _assert_same_dataset(tmp_path / "out", pool_out)


@pytest.mark.gl
def test_a_file_that_kills_every_worker_is_reported_once_retried(
    gl_backend, ray_local, parts, tmp_path
):
    from render.ray_exec import RayExecutor

    out = tmp_path / "out"
    executor = RayExecutor(workers=2, actor=_crashing_actor("x_plus/b.obj", None))
    res = render_folder(parts, out, _cfg(gl_backend), progress=False, executor=executor)
    assert (res.rendered, res.exit_code) == (7 * VARIANTS, 2)
    errors = {e["source"]: e["error"] for e in mio.read_csv(out / mio.ERRORS_CSV)}
    assert sorted(errors) == ["x_plus/b.obj", "z_plus/broken.stl"]
    assert "b.obj: the render worker died twice while rendering it" in errors["x_plus/b.obj"]
    rows = mio.read_manifest(out)
    assert len(rows) == 7 * VARIANTS and not any(r["part_id"] == "x_plus/b" for r in rows)
    for r in rows:  # every image is what its row says
        assert mio.sha256_hex((out / r["path"]).read_bytes()) == r["sha256"]


@pytest.mark.gl
def test_ctrl_c_keeps_what_finished_and_a_rerun_completes(
    gl_backend, ray_local, parts, pool_out, tmp_path
):
    from render.ray_exec import RayExecutor

    class InterruptedAfterOne(RayExecutor):
        """Ctrl-C right after the first file comes back."""

        def results(self):
            for result in super().results():
                yield result
                raise KeyboardInterrupt

    out, cfg = tmp_path / "out", _cfg(gl_backend)
    with pytest.raises(KeyboardInterrupt):
        render_folder(parts, out, cfg, progress=False, executor=InterruptedAfterOne(workers=2))
    rows = mio.read_manifest(out)
    # The first file, and those in progress (one per worker) that were waited for.
    assert 1 <= len({r["part_id"] for r in rows}) <= 3
    for r in rows:
        assert mio.sha256_hex((out / r["path"]).read_bytes()) == r["sha256"]
    assert len(list(out.rglob("*.png"))) == len(rows)  # nothing drawn after the stop

    res = render_folder(parts, out, cfg, workers=2, progress=False, executor="ray")
    assert (res.rendered + res.skipped, res.skipped) == (8 * VARIANTS, len(rows))
    _assert_same_dataset(out, pool_out)


def test_without_ray_the_ray_executor_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    from metaview import cli

    write(tmp_path / "in" / "a" / "box.stl", binary_stl(box_triangles()))
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code = cli.main(["render", str(tmp_path / "in"), str(tmp_path / "out"), "--executor", "ray"])
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "the ray executor needs Ray, which is not installed" in err
    assert "pip install -e '.[ray]'" in err
    assert not (tmp_path / "out").exists()  # said before anything was read or written


def test_address_without_the_ray_executor_is_a_user_error(tmp_path, capsys):
    from metaview import cli

    code = cli.main(["render", str(tmp_path), str(tmp_path / "out"), "--address", "auto"])
    assert code == cli.EXIT_ERROR
    assert "--address auto: a Ray cluster address, needs --executor ray" in capsys.readouterr().err
