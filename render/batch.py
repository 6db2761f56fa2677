"""``metaview render IN OUT``: render a folder of meshes into a meta-image dataset.

Layout: ``IN/<label>/<name>.<ext>`` -> ``OUT/<label>/<name>_v<k>.png`` (label = the
first-level subfolder, see :mod:`render.scan`). ``OUT`` also gets ``manifest.csv``,
``metaimage.json`` and ``errors.csv`` (see :mod:`metaimage.io`).

:func:`render_folder` is the batch, in four steps:

1. *plan* (:mod:`render.plan`): scan ``IN`` (:mod:`render.scan`) and decide, image by image,
   what is up to date (its manifest row and its PNG's size and SHA-256 agree) and what to
   render;
2. *run* the jobs on an executor (:mod:`render.executors`): a local process pool by default,
   or Ray actors (:mod:`render.ray_exec`, ``--executor ray``). Each worker makes one GL
   context when it starts and reuses it for every mesh it gets; the executors only move jobs
   and results, and this module stores what comes back;
3. *write the dataset files*: whatever finished, also after Ctrl-C or an error, so that a
   rerun resumes from there;
4. *report*: a :class:`BatchResult`; entries under ``IN`` that are not meshes are listed in
   :attr:`BatchResult.ignored` with their reasons and logged.

Every file is written atomically. The worker side is render/jobs.py.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base import files
from base.progress import progress as make_progress
from base.progress import progress_enabled
from geometry.mesh import MESH_SUFFIXES
from render.config import RenderConfig
from render.dataset_files import metaimage_info, store_pngs, write_dataset_files
from render.errors import MeshError, RenderError
from render.plan import BatchPlan, plan_batch

if TYPE_CHECKING:
    from render.executors import Executor

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch did: images rendered and skipped, files that failed, time taken."""

    rendered: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # rows of errors.csv
    seconds: float = 0.0
    files: int = 0
    backend: str = ""
    # Entries under IN that are not mesh files, each {"source": ..., "reason": ...}.
    ignored: list[dict[str, str]] = field(default_factory=list)
    # Images that were up to date by config but failed their size/SHA-256 check, and so
    # were rendered again (paths relative to OUT).
    damaged: list[str] = field(default_factory=list)
    executor: str = ""  # "pool" or "ray"
    # Per worker ("host:pid"): files it rendered, and the seconds they took it (the sum
    # of their render_s: load, simplify, draw, encode). For benchmarks and cluster logs.
    worker_files: dict[str, int] = field(default_factory=dict)
    worker_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 if every file rendered, 2 if some failed."""
        return 2 if self.failed else 0


def make_executor(
    executor: str | Executor, workers: int | None = None, address: str | None = None
) -> Executor:
    """The executor named ``executor`` (``"pool"`` or ``"ray"``), or ``executor`` itself.

    Raises
    ------
    RenderError
        An unknown name; ``address`` without Ray; ``"ray"`` when Ray is not installed
        (the message says how to install it).
    """
    from render.executors import EXECUTORS, Executor, PoolExecutor

    if isinstance(executor, Executor):
        return executor
    if executor not in EXECUTORS:
        raise RenderError(f"executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "ray":
        from render.ray_exec import RayExecutor  # raises RenderError without Ray

        return RayExecutor(workers=workers, address=address)
    if address is not None:
        raise RenderError(
            f"address {address!r}: a Ray cluster address, only used with the ray executor"
        )
    return PoolExecutor(workers)


def render_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    cfg: RenderConfig,
    workers: int | None = None,
    force: bool = False,
    progress: bool | None = True,
    executor: str | Executor = "pool",
    address: str | None = None,
) -> BatchResult:
    """Render every mesh under ``in_dir`` into a meta-image dataset in ``out_dir``.

    Parameters
    ----------
    cfg : RenderConfig
        ``cfg.variants`` images per file; ``cfg.backend`` is resolved once here.
    workers : int or None
        Workers, one GL context each. Pool: processes, None means ``os.cpu_count()``,
        and with 1 the work runs in this process. Ray: actors, None means one per CPU
        of the cluster.
    force : bool
        Re-render images that are already up to date.
    progress : bool or None
        Report progress on stderr (:mod:`base.progress`): a bar (files/s, ETA) on a
        terminal, a plain line every few seconds and a final one otherwise. False: none;
        None: unless logging is quieter than INFO.
    executor : {"pool", "ray"} or Executor
        Where the files are rendered: a local process pool, or Ray actors (needs the
        ``ray`` extra). An :class:`render.executors.Executor` instance is used as it is
        (``workers`` and ``address`` are then its own business).
    address : str or None
        Ray only: the cluster to connect to (``"auto"``, ``"HOST:6379"``,
        ``"ray://HOST:10001"``); None starts a local Ray instance (or uses ``RAY_ADDRESS``).

    Returns
    -------
    BatchResult
        Its ``exit_code`` is 2 when any file failed (listed in ``OUT/errors.csv``);
        ``ignored`` lists the entries that are not mesh files, ``damaged`` the images
        rendered again because they failed their size/SHA-256 check.

    Raises
    ------
    MeshError
        ``in_dir`` is not a folder, or holds no mesh files.
    RenderError
        ``out_dir`` is a file, is ``in_dir`` or lies inside it; no GL context can be
        made; the executor is unknown or Ray is not installed; or ``manifest.csv``,
        ``errors.csv`` or ``metaimage.json`` could not be written (the others are still
        written).
    """
    from render.backend import resolve_backend

    t0 = time.perf_counter()
    # First, so that a missing Ray is said before anything is read or drawn.
    runner = make_executor(executor, workers=workers, address=address)
    in_dir, out_dir = Path(in_dir).resolve(), Path(out_dir).resolve()
    _check_output_folder(in_dir, out_dir)
    plan = plan_batch(in_dir, out_dir, cfg, force)
    _require_meshes(in_dir, plan)
    backend = resolve_backend(cfg.backend)
    run_cfg = RenderConfig.from_dict({**cfg.to_dict(), "backend": backend})
    _make_output_folder(out_dir)
    result = BatchResult(
        skipped=len(plan.kept),
        failed=list(plan.failed),
        files=plan.files,
        backend=backend,
        ignored=plan.ignored,
        damaged=plan.damaged,
        executor=runner.name,
    )
    collected = _Collector(out_dir, result, rows=list(plan.kept))
    finished = False
    try:
        _run(runner, plan, run_cfg, in_dir, collected, progress)
        finished = True
    finally:
        # Whatever finished is recorded, also after Ctrl-C or an unexpected error, so a
        # rerun resumes from here; each of the three files is written even if another
        # cannot be. Before the workers are ended (a Ray shutdown takes seconds).
        try:
            problems = write_dataset_files(
                out_dir,
                collected.rows,
                result.failed,
                lambda: metaimage_info(cfg, backend, collected.gl_renderer, str(in_dir)),
            )
        finally:
            runner.close()
        result.seconds = time.perf_counter() - t0
        _raise_or_log_unwritten(problems, finished)
    return result


# ------------------------------------------------------------------------ the steps
# In the order render_folder takes them: check and plan, run and collect, write and report.


def _check_output_folder(in_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder that is a file, or that is the input folder or lies inside it.

    Inside ``IN``, the PNGs, ``manifest.csv`` and ``errors.csv`` would land among the
    meshes (in a class folder, or as a new one), and the next run would scan them.
    Both paths are resolved (symbolic links followed) before they are compared.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"output folder {out_dir}: expected a folder, found a file")
    if out_dir == in_dir:
        relation = "is the"
    elif in_dir in out_dir.parents:
        relation = "is inside the"
    else:
        return
    raise RenderError(
        f"output folder {out_dir} {relation} input folder {in_dir}: the meta-images, "
        f"manifest.csv and errors.csv would be written among the meshes; expected an "
        f"output folder outside {in_dir}"
    )


def _require_meshes(in_dir: Path, plan: BatchPlan) -> None:
    """Refuse an input folder without a single mesh-like entry, naming what it does hold."""
    if plan.files == 0:
        others = ""
        if plan.ignored:
            others = (
                f"; found only {len(plan.ignored)} other entries, e.g. {plan.ignored[0]['source']}"
            )
        raise MeshError(
            f"{in_dir}: no mesh files found (expected {', '.join(MESH_SUFFIXES)} files in it "
            f"or in its <label>/ subfolders{others})"
        )


def _make_output_folder(out_dir: Path) -> None:
    """Create the output folder (and its parents), or say why it cannot be."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(
            f"output folder {out_dir}: cannot create it: {exc.strerror or exc}"
        ) from None


class _Collector:
    """Stores what the workers send back: PNGs into ``OUT``, rows and failures into the result.

    Attributes
    ----------
    rows : list of dict
        The manifest rows: the planned ones kept, then one per image rendered.
    gl_renderer : str
        The GL renderer of the first worker that named one ("" before).
    """

    def __init__(self, out_dir: Path, result: BatchResult, rows: list[dict[str, Any]]) -> None:
        self.out_dir = out_dir
        self.result = result
        self.rows = rows
        self.gl_renderer = ""

    def collect(self, res: dict[str, Any]) -> None:
        """Take one job's result: its PNGs written, its rows kept, or its error recorded."""
        result = self.result
        if "error" not in res and res.get("pngs"):
            problem = store_pngs(self.out_dir, res["pngs"])
            if problem is not None:
                res = {"source": res["source"], "error": problem}
        if "error" in res:
            row = {"source": files.printable(res["source"]), "error": files.printable(res["error"])}
            result.failed.append(row)
            logger.debug("failed: %s", row["error"])
            return
        self.rows.extend(res["rows"])
        result.rendered += len(res["rows"])
        renderer = res.get("gl_renderer", "")
        if self.gl_renderer and renderer and renderer != self.gl_renderer:
            # metaimage.json records one renderer: say when workers differ (a cluster
            # with GPU and CPU nodes), since the pixels may then differ too.
            logger.warning(
                "worker %s renders with %r, others with %r (metaimage.json records the first)",
                res.get("worker", "?"),
                renderer,
                self.gl_renderer,
            )
        self.gl_renderer = self.gl_renderer or renderer
        worker = res.get("worker", "")
        result.worker_files[worker] = result.worker_files.get(worker, 0) + 1
        busy = sum(r["render_s"] for r in res["rows"])
        result.worker_seconds[worker] = result.worker_seconds.get(worker, 0.0) + busy


def _run(
    runner: Executor,
    plan: BatchPlan,
    run_cfg: RenderConfig,
    in_dir: Path,
    collected: _Collector,
    progress: bool | None,
) -> None:
    """Start the workers, run every planned job on them and collect each result, with a bar.

    On Ctrl-C, the files in progress are finished and collected before KeyboardInterrupt
    goes on; the workers are left running (the caller closes the executor).
    """
    jobs = plan.jobs
    backend = run_cfg.backend
    bar: Any = None  # a base.progress.Progress once the workers are up

    def take(res: dict[str, Any]) -> None:
        collected.collect(res)
        bar.update(1)
        bar.set_postfix(failed=len(collected.result.failed))

    finished = False
    try:
        n_workers = runner.start(backend, len(jobs)) if jobs else 0
        logger.info(
            "%d mesh files: %d to render, %d images up to date; %d %s worker(s), %s",
            plan.files,
            len(jobs),
            len(plan.kept),
            n_workers,
            runner.name,
            backend,
        )
        _log_ignored(in_dir, plan.ignored)
        # After the start (seconds for Ray), so that the bar's rate counts files only.
        bar = make_progress(
            len(jobs), "render", "file", enabled=progress_enabled(progress) and bool(jobs)
        )
        if jobs:
            runner.submit(jobs, run_cfg, collected.out_dir)
            try:
                for res in runner.results():
                    take(res)
            except KeyboardInterrupt:
                logger.warning("interrupted: finishing the files in progress, then stopping")
                # Record what finished meanwhile, so a rerun does not draw it again.
                for res in runner.stop():
                    take(res)
                raise
        finished = True
    finally:
        if bar is not None:
            bar.close(stopped=not finished)


def _log_ignored(in_dir: Path, ignored: list[dict[str, str]]) -> None:
    """Say which entries under ``in_dir`` are not rendered and why (all of them with -v)."""
    if not ignored:
        return
    shown = 5
    listed = "; ".join(f"{files.printable(i['source'])} ({i['reason']})" for i in ignored[:shown])
    more = f"; and {len(ignored) - shown} more (-v lists them)" if len(ignored) > shown else ""
    what = (
        "entry that is not a mesh file" if len(ignored) == 1 else "entries that are not mesh files"
    )
    logger.info("%s: skipped %d %s: %s%s", in_dir, len(ignored), what, listed, more)
    for entry in ignored[shown:]:
        logger.debug("skipped %s (%s)", files.printable(entry["source"]), entry["reason"])


def _raise_or_log_unwritten(problems: list[str], finished: bool) -> None:
    """Say which dataset files could not be written: an error, unless one is on its way out."""
    if problems and finished:
        raise RenderError("could not write the dataset files: " + "; ".join(problems))
    for problem in problems:
        # Another exception is on its way out: do not hide it, but say what is missing.
        logger.error("could not write %s", problem)
