"""Executors: where :func:`render.batch.render_folder` renders its files.

An executor moves jobs to workers and results back; it plans nothing and writes no
dataset file. :mod:`render.plan` plans (what is up to date, what to render); :mod:`render.batch`
shows the progress bar and writes whatever PNGs come back and the three dataset files, for
every executor alike. Each worker holds one GL context, made when it starts and reused for
every mesh it gets.

The interface, in the order :func:`render.batch.render_folder` calls it::

    n = executor.start(backend, n_jobs)     # start n workers (n <= n_jobs)
    executor.submit(jobs, cfg, out_dir)     # hand over every job
    for result in executor.results():       # one dict per job, as each finishes
        ...
    executor.stop()    # on Ctrl-C: cancel what has not started, wait for what has;
                       # returns the results of those not yet yielded
    executor.close()   # always, last: workers gone

A result is what :func:`render.jobs.render_job` returns: manifest rows (and, when the
worker does not write to ``OUT`` itself, the PNG bytes under ``"pngs"``), or an error.

- :class:`PoolExecutor` (``"pool"``, the default): a local process pool; workers write
  their PNGs into ``OUT`` themselves. With one worker it renders in this process.
- :class:`render.ray_exec.RayExecutor` (``"ray"``): Ray actors, on this machine or a
  cluster; needs the ``ray`` extra.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from render.config import RenderConfig
from render.jobs import Job, _init_worker, render_job

logger = logging.getLogger(__name__)

EXECUTORS = ("pool", "ray")


class Executor:
    """Runs :func:`render.jobs.render_job` on workers that each keep one GL context."""

    name = ""

    def start(self, backend: str, n_jobs: int) -> int:
        """Start the workers for ``n_jobs`` jobs (``n_jobs >= 1``); return how many."""
        raise NotImplementedError

    def submit(self, jobs: Sequence[Job], cfg: RenderConfig, out_dir: Path) -> None:
        """Hand over every job; ``cfg.backend`` is the backend given to :meth:`start`."""
        raise NotImplementedError

    def results(self) -> Iterator[dict[str, Any]]:
        """Yield one result per job, in the order they finish."""
        raise NotImplementedError

    def stop(self) -> list[dict[str, Any]]:
        """After an interrupt: start nothing more, wait for the files in progress.

        Returns
        -------
        list of dict
            The results that finished and were not yielded by :meth:`results`.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Stop every worker; safe to call at any point, also twice."""
        raise NotImplementedError


class PoolExecutor(Executor):
    """A local process pool (spawned, no inherited GL state); in-process with one worker.

    Workers write their PNGs into ``OUT`` themselves (it is on this machine), so only
    manifest rows come back through the pool's pipes.

    Parameters
    ----------
    workers : int or None
        Processes; None means ``os.cpu_count()``; never more than there are jobs.
    """

    name = "pool"

    def __init__(self, workers: int | None = None):
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future, Job] = {}
        self._seen: set[Future] = set()
        self._inline: deque[Job] = deque()
        self._backend = ""

    def start(self, backend: str, n_jobs: int) -> int:
        n = max(1, min(self.workers or os.cpu_count() or 1, n_jobs))
        self._backend = backend
        if n > 1:
            # Managed by hand, not with `with`: on Ctrl-C the pool must be shut down once,
            # cancelling what has not started (a `with` exit would wait for every job).
            self._pool = ProcessPoolExecutor(
                max_workers=n,
                mp_context=multiprocessing.get_context("spawn"),  # no inherited GL state
                initializer=_init_worker,
                initargs=(backend, True),
            )
        return n

    def submit(self, jobs: Sequence[Job], cfg: RenderConfig, out_dir: Path) -> None:
        self._cfg, self._out = cfg, str(out_dir)
        if self._pool is None:
            self._inline = deque(jobs)
            return
        self._futures = {self._pool.submit(render_job, j, cfg, self._out): j for j in jobs}

    def results(self) -> Iterator[dict[str, Any]]:
        if self._pool is None:
            os.environ.setdefault("PYOPENGL_PLATFORM", self._backend)
            while self._inline:
                yield render_job(self._inline.popleft(), self._cfg, self._out)
            return
        for future in as_completed(self._futures):
            self._seen.add(future)
            yield self._result(future)

    def _result(self, future: Future) -> dict[str, Any]:
        try:
            return future.result()
        except Exception as exc:
            job = self._futures[future]
            return {"source": job.source, "error": f"{job.path}: worker failed: {exc!r}"}

    def stop(self) -> list[dict[str, Any]]:
        self._inline.clear()
        if self._pool is None:
            return []
        self._pool.shutdown(wait=True, cancel_futures=True)
        late = [f for f in self._futures if f not in self._seen and f.done() and not f.cancelled()]
        self._seen.update(late)
        return [self._result(f) for f in late]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
