"""Render on Ray actors: ``metaview render IN OUT --executor ray [--address ADDR]``.

Each worker is an actor (:class:`RenderActor`, one CPU) that makes its GL context when it
starts and reuses it for every mesh, like a pool worker. The driver (the machine that
runs ``metaview render``) plans, reads each mesh file and sends its bytes to an actor;
the actor renders and sends the PNG bytes back; the driver writes them atomically into
``OUT``, with the manifest, ``errors.csv`` and ``metaimage.json``. So only the driver
needs to see ``IN`` and ``OUT``: the workers need metaview installed, nothing shared.
A file moves its mesh bytes out and its PNGs' bytes back (measured in bench/render.py).
``RayExecutor(shared_fs=True)`` instead lets workers read ``IN`` and write ``OUT``
themselves, for a cluster where both are at the same path on every node.

Scheduling: an actor has at most one file at a time, and gets the next when it sends
one back. So a worker that dies (a crash in native code, the out-of-memory killer, a
lost node) loses only the file it was rendering: that file is tried once more, on a
fresh actor that takes it first; if that one dies too, the file goes to ``errors.csv``.
An actor that cannot get a CPU never gets a file, so a busy cluster slows a batch but
cannot hang it.

Ctrl-C (or SIGTERM through the ``metaview`` command) stops handing out files, waits for
those in progress, records them, and ends the actors (and the local Ray instance, if
this process started it).
"""

from __future__ import annotations

import logging
import os
import socket
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from base import files, versions
from base.rayinit import init_ray
from render.config import RenderConfig
from render.errors import RenderError
from render.executors import Executor
from render.jobs import _VERSION_PACKAGES, Job, _init_worker, render_job

logger = logging.getLogger(__name__)

INSTALL_HINT = "install the ray extra: pip install -e '.[ray]' (or pip install 'ray>=2.9')"


def import_ray():
    """Import Ray, or raise :class:`RenderError` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RenderError(
            f"the ray executor needs Ray, which is not installed ({exc}); {INSTALL_HINT}"
        ) from None
    return ray


class RenderActor:
    """One Ray worker: its GL context is made at start and reused for every mesh.

    Parameters
    ----------
    backend : str
        ``"egl"`` or ``"osmesa"``, resolved by the driver.
    """

    def __init__(self, backend: str):
        _init_worker(backend, single_threaded=True)

    def describe(self) -> dict[str, Any]:
        """``{"worker": "host:pid", "versions": {package: version}}``; answers once started."""
        return {
            "worker": f"{socket.gethostname()}:{os.getpid()}",
            "versions": versions.package_versions(_VERSION_PACKAGES),
        }

    def render(
        self, job: Job, cfg: RenderConfig, out_dir: str | None, data: bytes | None
    ) -> dict[str, Any]:
        """:func:`render.jobs.render_job` on this worker."""
        return render_job(job, cfg, out_dir, data)


@dataclass(eq=False)
class _Worker:
    handle: Any  # the actor handle
    retry: Job | None = None  # a file whose worker died, to be rendered here first


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


class RayExecutor(Executor):
    """Ray actors, one GL context each, on this machine or a Ray cluster.

    Parameters
    ----------
    workers : int or None
        Actors; None means one per CPU of the cluster; never more than its CPUs or
        than there are jobs.
    address : str or None
        Cluster to connect to (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``);
        None uses ``RAY_ADDRESS`` if set, else starts a local Ray instance with
        ``workers`` CPUs (or all) for this run. Ignored when Ray is already initialised
        in this process (that connection is used, and left open).
    shared_fs : bool
        False (default): the driver reads each mesh and sends its bytes, and writes the
        PNGs the actors send back. True: actors read ``IN`` and write ``OUT`` themselves,
        at the driver's paths (both must be shared at the same path on every node).
    actor : type
        The actor class (a :class:`RenderActor`, or a subclass for tests).
    init_kwargs : dict, optional
        More keyword arguments for ``ray.init`` when this executor starts Ray.

    Raises
    ------
    RenderError
        Ray is not installed (the message says how to install it).
    """

    name = "ray"

    def __init__(
        self,
        workers: int | None = None,
        address: str | None = None,
        shared_fs: bool = False,
        actor: type = RenderActor,
        init_kwargs: dict[str, Any] | None = None,
    ):
        self._ray = import_ray()
        self.workers = workers
        self.address = address
        self.shared_fs = shared_fs
        self._actor_cls = actor
        self._init_kwargs = dict(init_kwargs or {})
        self._owns_ray = False
        self._remote: Any = None
        self._backend = ""
        self._workers: list[_Worker] = []
        # Every call in flight: ObjectRef -> (worker, job), job None for a start-up call.
        self._pending: dict[Any, tuple[_Worker, Job | None]] = {}
        self._queue: deque[Job] = deque()
        self._retried: set[Job] = set()
        self._stopping = False
        self._cfg_ref: Any = None
        self._out: str | None = None
        self._versions = versions.package_versions(_VERSION_PACKAGES)
        self._mismatch_seen: set[str] = set()

    # -------------------------------------------------------------- start, submit

    def _connect(self) -> None:
        ray = self._ray
        if ray.is_initialized():
            return
        address = self.address or os.environ.get("RAY_ADDRESS") or None
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "logging_level": logging.WARNING,
            **self._init_kwargs,
        }
        if address is None:
            kwargs = {"address": "local", "num_cpus": self.workers or os.cpu_count(), **kwargs}
        else:
            kwargs = {"address": address, **kwargs}
        try:
            init_ray(ray, **kwargs)  # the metaview command's SIGTERM handler kept
            self._owns_ray = True
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            raise RenderError(f"could not start or reach {where}: {exc}") from None

    def start(self, backend: str, n_jobs: int) -> int:
        self._connect()
        ray = self._ray
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            raise RenderError("the Ray cluster has no CPUs: no worker can start")
        if self.workers and self.workers > cpus:
            logger.warning(
                "--workers %d: the Ray cluster has %d CPUs, so %d actors (one CPU each)",
                self.workers,
                cpus,
                cpus,
            )
        n = max(1, min(self.workers or cpus, cpus, n_jobs))
        self._backend = backend
        self._remote = ray.remote(num_cpus=1, max_restarts=0, max_task_retries=0)(self._actor_cls)
        for _ in range(n):
            self._spawn()
        return n

    def _spawn(self, retry: Job | None = None) -> None:
        worker = _Worker(self._remote.remote(self._backend), retry)
        self._workers.append(worker)
        self._pending[worker.handle.describe.remote()] = (worker, None)

    def submit(self, jobs: Sequence[Job], cfg: RenderConfig, out_dir: Path) -> None:
        self._queue = deque(jobs)
        self._cfg_ref = self._ray.put(cfg)
        self._out = str(out_dir) if self.shared_fs else None
        # Nothing is sent yet: each actor gets its first file once it has started
        # (answered describe), so a file never waits on an actor that has no CPU.

    def _feed(self, worker: _Worker) -> None:
        """Give ``worker`` its next file (its retry first), if any is left."""
        if self._stopping or self._cfg_ref is None:
            return
        job, worker.retry = worker.retry, None
        if job is None:
            if not self._queue:
                return
            job = self._queue.popleft()
        data = None
        if not self.shared_fs:
            try:
                data = Path(job.path).read_bytes()
            except OSError:
                # The worker tries the path itself and says what is wrong, in the words
                # a pool worker uses ("no such file", ...).
                data = None
        ref = worker.handle.render.remote(job, self._cfg_ref, self._out, data)
        self._pending[ref] = (worker, job)

    # -------------------------------------------------------------- results

    def _outstanding(self) -> bool:
        """Whether some file is still to be rendered (queued, in flight or to retry)."""
        return bool(self._queue) or any(
            job is not None or w.retry is not None for w, job in self._pending.values()
        )

    def results(self) -> Iterator[dict[str, Any]]:
        ray = self._ray
        while self._outstanding():
            if not self._pending:  # files left, no worker left to take them
                while self._queue:
                    job = self._queue.popleft()
                    yield {"source": job.source, "error": f"{job.path}: no Ray worker left"}
                return
            done, _ = ray.wait(list(self._pending), num_returns=1)
            result = self._handle(done[0])
            if result is not None:
                yield result

    def _handle(self, ref: Any) -> dict[str, Any] | None:
        """Take one finished call: its result, or None (a start-up call, a retry)."""
        ray = self._ray
        worker, job = self._pending.pop(ref)
        try:
            value = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            return self._died(worker, job, exc)
        except ray.exceptions.RayError as exc:
            # The call failed, the worker did not (an error Ray raised for the call).
            self._feed(worker)
            if job is None:
                logger.warning("a Ray worker did not describe itself: %s", _first_line(exc))
                return None
            return {"source": job.source, "error": f"{job.path}: worker failed: {exc!r}"}
        if job is None:
            self._check_versions(value)
        self._feed(worker)
        return value if job is not None else None

    def _died(self, worker: _Worker, job: Job | None, exc: BaseException) -> dict | None:
        """A worker died: retire it, retry its file once on a fresh one, or report it."""
        self._retire(worker)
        if job is None:
            job = worker.retry  # died starting: that was the retry's attempt
            logger.warning("a Ray worker died while starting: %s", _first_line(exc))
            if job is None:
                return None
        if self._stopping:
            return None  # not recorded: a rerun renders it
        if job not in self._retried:
            self._retried.add(job)
            logger.warning(
                "%s: its Ray worker died (%s); rendering it again on a fresh worker",
                files.printable(job.source),
                _first_line(exc),
            )
            self._spawn(retry=job)
            return None
        return {
            "source": job.source,
            "error": files.printable(
                f"{job.path}: the render worker died twice while rendering it (a crash in "
                f"native code, or out of memory): {_first_line(exc)}"
            ),
        }

    def _retire(self, worker: _Worker) -> None:
        try:
            self._ray.kill(worker.handle, no_restart=True)
        except Exception:  # already gone: nothing to end
            logger.debug("ray.kill on a dead actor", exc_info=True)
        self._workers = [w for w in self._workers if w is not worker]

    def _check_versions(self, info: dict[str, Any]) -> None:
        """Warn once per worker host whose packages differ from the driver's."""
        theirs = info.get("versions", {})
        diff = sorted(
            f"{p} {theirs.get(p, 'missing')} (here {v})"
            for p, v in self._versions.items()
            if theirs.get(p) != v
        )
        host = str(info.get("worker", "?")).rsplit(":", 1)[0]
        if diff and host not in self._mismatch_seen:
            self._mismatch_seen.add(host)
            logger.warning(
                "Ray worker on %s has other package versions: %s; metaimage.json records "
                "this machine's, and its images may differ",
                host,
                ", ".join(diff),
            )

    # -------------------------------------------------------------- stop, close

    def stop(self) -> list[dict[str, Any]]:
        self._stopping = True
        self._queue.clear()
        late = []
        for ref in [r for r, (_, job) in self._pending.items() if job is not None]:
            result = self._handle(ref)
            if result is not None:
                late.append(result)
        return late

    def close(self) -> None:
        ray = self._ray
        for worker in self._workers:
            try:
                ray.kill(worker.handle, no_restart=True)
            except Exception:  # already gone
                logger.debug("ray.kill at close", exc_info=True)
        self._workers.clear()
        self._pending.clear()
        if self._owns_ray:
            self._owns_ray = False
            ray.shutdown()
