"""render.executors: the local pool moves jobs to workers and results back, whatever order."""

from __future__ import annotations

import os

from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from render.config import RenderConfig
from render.executors import PoolExecutor
from render.jobs import Job

__all__ = ["gl_backend"]  # the fixture, imported for pytest

CFG = dict(tile=8, rows=1, cols=2)


def _jobs(tmp_path, n: int) -> list[Job]:
    jobs = []
    for i in range(n):
        path = write(tmp_path / "in" / f"p{i}.stl", binary_stl(box_triangles((1 + i, 1, 1))))
        jobs.append(Job(str(path), f"p{i}.stl", "", f"p{i}", (0,)))
    return jobs


def test_one_worker_renders_in_this_process_in_order(gl_backend, tmp_path):
    pool = PoolExecutor(workers=1)
    assert pool.start(gl_backend, n_jobs=3) == 1
    pool.submit(_jobs(tmp_path, 3), RenderConfig(backend=gl_backend, **CFG), tmp_path / "out")
    results = list(pool.results())
    assert [r["source"] for r in results] == ["p0.stl", "p1.stl", "p2.stl"]
    assert {r["worker"].rsplit(":", 1)[1] for r in results} == {str(os.getpid())}
    assert pool.stop() == [] and pool._pool is None


def test_workers_are_other_processes_never_more_than_the_jobs(gl_backend, tmp_path):
    pool = PoolExecutor(workers=4)
    try:
        assert pool.start(gl_backend, n_jobs=2) == 2
        pool.submit(_jobs(tmp_path, 2), RenderConfig(backend=gl_backend, **CFG), tmp_path / "out")
        results = list(pool.results())
    finally:
        pool.close()
    assert sorted(r["source"] for r in results) == ["p0.stl", "p1.stl"]
    assert str(os.getpid()) not in {r["worker"].rsplit(":", 1)[1] for r in results}
    for r in results:
        assert (tmp_path / "out" / r["rows"][0]["path"]).is_file()  # written by the worker


def test_stop_cancels_what_has_not_started_and_returns_what_finished(gl_backend, tmp_path):
    pool = PoolExecutor(workers=2)
    jobs = _jobs(tmp_path, 8)
    try:
        pool.start(gl_backend, n_jobs=len(jobs))
        pool.submit(jobs, RenderConfig(backend=gl_backend, **CFG), tmp_path / "out")
        first = next(iter(pool.results()))
        late = pool.stop()
    finally:
        pool.close()
    seen = [first["source"], *(r["source"] for r in late)]
    assert len(set(seen)) == len(seen) <= len(jobs)  # each result once, none invented
    written = {p.name for p in (tmp_path / "out").glob("*.png")}
    assert {f"{s[:-4]}_v0.png" for s in seen} <= written
