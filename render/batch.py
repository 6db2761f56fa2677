"""``metaview render IN OUT``: render a folder of meshes into a meta-image dataset.

Layout: ``IN/<label>/<name>.<ext>`` -> ``OUT/<label>/<name>_v<k>.png`` (label = the
first-level subfolder; deeper folders keep their path). Meshes directly in ``IN`` get
the label "" and are rendered too (for prediction). ``OUT`` also gets ``manifest.csv``,
``metaimage.json`` and ``errors.csv`` (see :mod:`metaimage.io`).

Files are spread over workers by an executor (:mod:`render.executors`): a local
process pool by default, or Ray actors (:mod:`render.ray_exec`, ``--executor ray``). Each
worker makes one GL context when it starts and reuses it for every mesh it gets. This
module plans the work (what to render, what is up to date), runs it through the executor
and writes what comes back; the executors only move jobs and results. Every file is
written atomically, so a run can be interrupted and resumed: an image is skipped when its
manifest row carries the current config hash and the PNG on disk still has the size and
SHA-256 that row records.

Every entry under ``IN`` is accounted for: a mesh is rendered; an entry that looks like
a mesh but cannot be one (a folder named ``x.stl``, an empty file, a named pipe, a broken
link, a second file with the same part id) is a failure in ``errors.csv``; anything
else (other suffixes, hidden entries, links to folders) is listed in
:attr:`BatchResult.ignored` with its reason and logged.

Names: everything written under ``OUT`` is named in UTF-8. A part whose file name is not
valid UTF-8 gets its image, and its manifest and error rows, under the name
:func:`base.files.printable` gives (each undecodable byte as ``\\xNN``).

Why one module of this size: planning, resume checks, the progress bar and writing the three
dataset files are one transaction over the folder; the worker side is render/jobs.py, the
executors render/executors.py and render/ray_exec.py.
"""

from __future__ import annotations

import logging
import operator
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base import files, versions
from base.progress import progress as make_progress
from base.progress import progress_enabled
from geometry.mesh import MESH_SUFFIXES
from metaimage import io as mio
from metaimage.meta import VIEW_CONVENTION, MetaImageInfo
from render.config import RenderConfig
from render.errors import MeshError, RenderError
from render.jobs import _VERSION_PACKAGES, Job, image_path

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


@dataclass(frozen=True)
class InputScan:
    """What :func:`scan_input` found under an input folder; every list sorted by source."""

    meshes: list[tuple[str, str]]  # (source, label) of each mesh file to render
    failed: list[dict[str, str]]  # {"source", "error"}: named like a mesh, cannot be one
    ignored: list[dict[str, str]]  # {"source", "reason"}: not a mesh file, left alone


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _check_mesh_file(path: str, source: str) -> str | None:
    """Why the entry ``path`` (named like a mesh) cannot be read as one, or None.

    Checked before a part id is claimed, so an empty ``x.stl`` beside a good ``x.obj``
    is reported as empty, not as a second file with the same part id.
    """
    suffix = os.path.splitext(source)[1].lower()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{source}: broken symbolic link to {os.readlink(path)!r}"
        return f"{source}: the file disappeared while the folder was read"
    except OSError as exc:
        return f"{source}: cannot read it: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return (
            f"{source}: expected a mesh file, found a folder (rename it: its name ends in {suffix})"
        )
    if not stat.S_ISREG(st.st_mode):
        kind = next((what for test, what in _FILE_KINDS if test(st.st_mode)), "a special file")
        return f"{source}: expected a mesh file, found {kind}"
    if st.st_size == 0:
        return f"{source}: empty file (0 bytes), expected a {suffix} mesh"
    return None


def scan_input(in_dir: str | os.PathLike) -> InputScan:
    """Sort every entry under ``in_dir`` into meshes, failures and ignored entries.

    Parameters
    ----------
    in_dir : path-like
        The input folder: meshes in ``<label>/`` subfolders, or directly in it.

    Returns
    -------
    InputScan
        ``meshes``: regular, non-empty files with a mesh suffix (``MESH_SUFFIXES``, any
        case), as ``(source, label)``: ``source`` is the path relative to ``in_dir``
        (posix), ``label`` its first folder, or "" for a file directly in ``in_dir``.
        ``failed``: entries with a mesh suffix that cannot be meshes: a folder (not
        entered), an empty file, a named pipe or other special file, a broken link.
        ``ignored``: other files (another suffix), hidden entries (a leading ".", not
        entered) and links to folders (not followed).

    Raises
    ------
    MeshError
        If ``in_dir`` is not a folder.
    """
    root = Path(in_dir)
    if not root.is_dir():
        raise MeshError(
            f"{root}: expected a folder of meshes, found {'a file' if root.exists() else 'nothing'}"
        )
    meshes: list[tuple[str, str]] = []
    failed: list[dict[str, str]] = []
    ignored: list[dict[str, str]] = []

    def rel(dirpath: str, name: str) -> str:
        return (Path(dirpath) / name).relative_to(root).as_posix()

    for dirpath, dirnames, filenames in os.walk(root):
        enter = []
        for name in sorted(dirnames):
            source = rel(dirpath, name)
            if name.startswith("."):
                ignored.append({"source": source, "reason": "hidden folder (not entered)"})
            elif os.path.islink(os.path.join(dirpath, name)):
                ignored.append({"source": source, "reason": "link to a folder (not followed)"})
            elif Path(name).suffix.lower() in MESH_SUFFIXES:
                # A mesh name on a folder is a mistake worth an error, not a guess at a
                # label: it is reported and not entered.
                error = f"{source}: expected a mesh file, found a folder (rename it)"
                failed.append({"source": source, "error": error})
            else:
                enter.append(name)
        dirnames[:] = enter
        for name in sorted(filenames):
            source = rel(dirpath, name)
            suffix = Path(name).suffix.lower()
            if name.startswith("."):
                ignored.append({"source": source, "reason": "hidden file"})
            elif suffix not in MESH_SUFFIXES:
                ignored.append(
                    {
                        "source": source,
                        "reason": f"not a mesh file: suffix {suffix or 'none'!r}, "
                        f"meshes end in {', '.join(MESH_SUFFIXES)}",
                    }
                )
            elif (problem := _check_mesh_file(os.path.join(dirpath, name), source)) is not None:
                failed.append({"source": source, "error": problem})
            else:
                meshes.append((source, source.split("/")[0] if "/" in source else ""))
    by_source = operator.itemgetter("source")
    return InputScan(
        meshes=sorted(meshes),
        failed=sorted(failed, key=by_source),
        ignored=sorted(ignored, key=by_source),
    )


def find_meshes(in_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """List the mesh files under ``in_dir`` with their labels, sorted.

    Returns
    -------
    list of (source, label)
        ``scan_input(in_dir).meshes``: see :func:`scan_input` for what is left out.
    """
    return scan_input(in_dir).meshes


def metaimage_info(
    cfg: RenderConfig, backend: str, gl_renderer: str = "", source_dir: str = ""
) -> MetaImageInfo:
    """The ``metaimage.json`` of a dataset rendered with ``cfg`` on ``backend``."""
    return MetaImageInfo(
        grid=(cfg.rows, cfg.cols),
        tile=cfg.tile,
        normals=cfg.normals,
        config=cfg.to_dict(),
        config_hash=cfg.config_hash(),
        backend=backend,
        gl_renderer=gl_renderer,
        versions=versions.package_versions(_VERSION_PACKAGES),
        variants=cfg.variants,
        seed=cfg.seed,
        view_convention=VIEW_CONVENTION,
        source_dir=source_dir,
    )


# ------------------------------------------------------------------------ main side


def _check_output_folder(in_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder that is the input folder or lies inside it.

    Inside ``IN``, the PNGs, ``manifest.csv`` and ``errors.csv`` would land among the
    meshes (in a class folder, or as a new one), and the next run would scan them.
    Both paths are resolved (symbolic links followed) before they are compared.
    """
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


def _read_old_rows(out_dir: Path, force: bool) -> dict[str, dict[str, Any]]:
    """The previous run's manifest rows by path; {} if forced, absent or unreadable."""
    if force or not (out_dir / mio.MANIFEST_CSV).exists():
        return {}
    try:
        return {r["path"]: r for r in mio.read_manifest(out_dir)}
    except mio.DatasetError as exc:
        # Not fatal: every image is then checked against nothing and rendered again,
        # and a new manifest replaces the unreadable one.
        logger.warning("%s; rendering every image again", exc)
        return {}


def _intact(png: Path, row: dict[str, Any]) -> str | None:
    """Why the image ``png`` cannot be trusted to be what ``row`` describes, or None.

    The row must carry ``png_bytes`` and ``sha256`` (see :func:`_verifiable`). The size
    is compared first (no read); the SHA-256 of the file's bytes only if it matches.
    """
    try:
        size = png.stat().st_size
        if size != row["png_bytes"]:
            return f"{size} bytes, the manifest says {row['png_bytes']}"
        _, digest = mio.file_digest(png)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if digest != row["sha256"]:
        return f"SHA-256 {digest[:12]}..., the manifest says {row['sha256'][:12]}..."
    return None


def _verifiable(row: dict[str, Any]) -> bool:
    """Whether a manifest row records the size and SHA-256 of its image.

    Rows from a manifest written before those columns existed do not: their images are
    rendered again (once: the new rows carry both), since an image that cannot be
    checked cannot be trusted, and rendering is the only way to know the right bytes.
    """
    return row.get("png_bytes") is not None and bool(row.get("sha256"))


@dataclass
class _Plan:
    jobs: list[Job]
    kept: list[dict[str, Any]]  # manifest rows of images that are up to date and intact
    failed: list[dict[str, str]]  # errors.csv rows found while planning
    ignored: list[dict[str, str]]
    damaged: list[str]  # images up to date by config but not intact
    files: int  # mesh-like entries (rendered, kept or failed)


def _plan(in_dir: Path, out_dir: Path, cfg: RenderConfig, force: bool) -> _Plan:
    """Split the work into jobs to run and manifest rows to keep."""
    old_rows = _read_old_rows(out_dir, force)
    config_hash = cfg.config_hash()
    scan = scan_input(in_dir)
    printable = files.printable
    failed = [
        {"source": printable(f["source"]), "error": printable(f["error"])} for f in scan.failed
    ]
    ignored = [{"source": printable(i["source"]), "reason": i["reason"]} for i in scan.ignored]
    jobs, kept, damaged, seen = [], [], [], {}
    unverifiable = 0
    for raw_source, raw_label in scan.meshes:
        # Everything under OUT is named by the printable form (see the module docstring);
        # two names that print the same are then duplicates, like x.obj beside x.stl.
        source, label = printable(raw_source), printable(raw_label)
        part_id = source.rsplit(".", 1)[0]
        if part_id in seen:
            failed.append(
                {
                    "source": source,
                    "error": f"{source}: same part id {part_id!r} as {seen[part_id]}; rename one",
                }
            )
            continue
        seen[part_id] = source
        todo = []
        for variant in range(cfg.variants):
            rel = image_path(part_id, variant)
            row = old_rows.get(rel)
            if row is None or row["config_hash"] != config_hash or row["source"] != source:
                todo.append(variant)
                continue
            if not _verifiable(row):
                unverifiable += 1
                todo.append(variant)
                continue
            problem = _intact(out_dir / rel, row)
            if problem is None:
                kept.append(row)
                continue
            todo.append(variant)
            if problem != "missing":
                damaged.append(rel)
                logger.warning("%s: %s; rendering it again", out_dir / rel, problem)
        if todo:
            jobs.append(Job(str(in_dir / raw_source), source, label, part_id, tuple(todo)))
    if unverifiable:
        logger.info(
            "%s: %d images have no size and SHA-256 in it (an older metaview wrote it): "
            "rendering them again",
            out_dir / mio.MANIFEST_CSV,
            unverifiable,
        )
    return _Plan(jobs, kept, failed, ignored, damaged, files=len(scan.meshes) + len(scan.failed))


def _write_outputs(
    out_dir: Path, rows: list[dict[str, Any]], failed: list[dict[str, str]], info
) -> list[str]:
    """Write manifest.csv, errors.csv and metaimage.json, each whatever the others do.

    Returns
    -------
    list of str
        One message per file that could not be written (empty when all were).
    """
    problems = []
    writers = (
        (mio.MANIFEST_CSV, lambda: mio.write_manifest(out_dir, rows)),
        (mio.ERRORS_CSV, lambda: mio.write_errors(out_dir, failed)),
        (mio.METAIMAGE_JSON, lambda: mio.write_metaimage_info(out_dir, info())),
    )
    for name, write in writers:
        try:
            write()
        except Exception as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            problems.append(f"{out_dir / name}: {type(exc).__name__}: {detail}")
            logger.debug("could not write %s", out_dir / name, exc_info=True)
    return problems


def _store_pngs(out_dir: Path, pngs: dict[str, bytes]) -> str | None:
    """Write the PNGs a worker sent back, each atomically; why one could not be, or None."""
    for rel, png in pngs.items():
        try:
            files.atomic_write_bytes(out_dir / rel, png)
        except OSError as exc:
            return f"{out_dir / rel}: could not write it: {exc.strerror or exc}"
    return None


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
    from render.gl import resolve_backend

    t0 = time.perf_counter()
    # First, so that a missing Ray is said before anything is read or drawn.
    runner = make_executor(executor, workers=workers, address=address)
    in_dir, out_dir = Path(in_dir).resolve(), Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"output folder {out_dir}: expected a folder, found a file")
    _check_output_folder(in_dir, out_dir)
    plan = _plan(in_dir, out_dir, cfg, force)
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
    jobs = plan.jobs
    backend = resolve_backend(cfg.backend)
    run_cfg = RenderConfig.from_dict({**cfg.to_dict(), "backend": backend})
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(
            f"output folder {out_dir}: cannot create it: {exc.strerror or exc}"
        ) from None
    result = BatchResult(
        skipped=len(plan.kept),
        failed=list(plan.failed),
        files=plan.files,
        backend=backend,
        ignored=plan.ignored,
        damaged=plan.damaged,
        executor=runner.name,
    )
    rows = list(plan.kept)
    gl_renderer = ""

    def collect(res: dict[str, Any]) -> None:
        nonlocal gl_renderer
        if "error" not in res and res.get("pngs"):
            problem = _store_pngs(out_dir, res["pngs"])
            if problem is not None:
                res = {"source": res["source"], "error": problem}
        if "error" in res:
            row = {"source": files.printable(res["source"]), "error": files.printable(res["error"])}
            result.failed.append(row)
            logger.debug("failed: %s", row["error"])
            return
        rows.extend(res["rows"])
        result.rendered += len(res["rows"])
        renderer = res.get("gl_renderer", "")
        if gl_renderer and renderer and renderer != gl_renderer:
            # metaimage.json records one renderer: say when workers differ (a cluster
            # with GPU and CPU nodes), since the pixels may then differ too.
            logger.warning(
                "worker %s renders with %r, others with %r (metaimage.json records the first)",
                res.get("worker", "?"),
                renderer,
                gl_renderer,
            )
        gl_renderer = gl_renderer or renderer
        worker = res.get("worker", "")
        result.worker_files[worker] = result.worker_files.get(worker, 0) + 1
        busy = sum(r["render_s"] for r in res["rows"])
        result.worker_seconds[worker] = result.worker_seconds.get(worker, 0.0) + busy

    bar: Any = None  # a base.progress.Progress once the workers are up

    def take(res: dict[str, Any]) -> None:
        collect(res)
        bar.update(1)
        bar.set_postfix(failed=len(result.failed))

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
            runner.submit(jobs, run_cfg, out_dir)
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
        # Whatever finished is recorded, also after Ctrl-C or an unexpected error, so a
        # rerun resumes from here; each of the three files is written even if another
        # cannot be. Before the workers are ended (a Ray shutdown takes seconds).
        try:
            problems = _write_outputs(
                out_dir,
                rows,
                result.failed,
                lambda: metaimage_info(cfg, backend, gl_renderer, str(in_dir)),
            )
        finally:
            runner.close()
        result.seconds = time.perf_counter() - t0
        if problems and finished:
            raise RenderError("could not write the dataset files: " + "; ".join(problems))
        for problem in problems:
            # Another exception is on its way out: do not hide it, but say what is missing.
            logger.error("could not write %s", problem)
    return result


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
