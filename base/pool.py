"""The one process-pool runner: map a function over jobs on several cores, in order.

``metaview synth``, ``metaview reach`` and the feature extraction of ``metaview train`` all
do the same thing: call a module-level function on many independent jobs, results in
job order, in worker processes when there is more than one worker and more than one job.
(Rendering keeps its own executors: its workers hold a GL context each, and may be Ray
actors.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


def pool_map(
    fn: Callable[[Any], T],
    jobs: Iterable[Any],
    workers: int,
    *,
    max_chunk: int = 16,
    start_method: str | None = None,
) -> Iterator[T]:
    """``map(fn, jobs)`` on ``workers`` processes; results in job order, as they come.

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled to the workers), taking one job.
    jobs : iterable
        Picklable jobs.
    workers : int
        Processes; with 1, or fewer than two jobs, everything runs here, in order.
    max_chunk : int
        Most jobs sent to a worker at once (fewer for short lists, so every worker
        gets some).
    start_method : str or None
        ``"spawn"`` or ``"fork"``; None: :func:`base.native.process_pool_context`'s choice
        (fork where no native threads are loaded yet, else spawn).

    Yields
    ------
    The results of ``fn``, one per job, in job order. A worker that dies raises
    ``concurrent.futures.process.BrokenProcessPool`` (the caller says which stage it was);
    Ctrl-C cancels the jobs not yet started and waits for the running ones.
    """
    jobs = list(jobs)
    if workers <= 1 or len(jobs) < 2:
        for job in jobs:
            yield fn(job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from base.native import process_pool_context

    ctx = multiprocessing.get_context(start_method) if start_method else process_pool_context()
    chunk = max(1, min(max_chunk, len(jobs) // (4 * workers)))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        try:
            yield from pool.map(fn, jobs, chunksize=chunk)
        except KeyboardInterrupt:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
