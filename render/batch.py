"""``metaview render IN OUT``: render a folder of meshes into a meta-image dataset.

Layout: ``IN/<label>/<name>.<ext>`` -> ``OUT/<label>/<name>_v<k>.png`` (label = the
first-level subfolder; deeper folders keep their path). Meshes directly in ``IN`` get
the label "" and are rendered too (for prediction). ``OUT`` also gets ``manifest.csv``,
``metaimage.json`` and ``errors.csv`` (see :mod:`metaimage.io`).

Files are spread over a process pool; each worker makes one GL context in its
initializer and reuses it for every mesh it gets. Every file is written atomically, so a
run can be interrupted and resumed: an image is skipped when its PNG exists and its
manifest row carries the current config hash.
"""

from __future__ import annotations

import importlib.metadata
import logging
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaimage import io as mio
from render.config import RenderConfig
from render.errors import MeshError, RenderError
from render.mesh import MESH_SUFFIXES

logger = logging.getLogger(__name__)

_VERSION_PACKAGES = (
    "metaview",
    "numpy",
    "trimesh",
    "fast-simplification",
    "PyOpenGL",
    "pyrender",
    "pillow",
)


@dataclass(frozen=True)
class Job:
    """One mesh file and the variants of it still to render."""

    path: str  # absolute path of the mesh file
    source: str  # path relative to IN, posix ("x_plus/0003.stl")
    label: str  # first-level folder name, "" for files directly in IN
    part_id: str  # source without suffix ("x_plus/0003")
    variants: tuple[int, ...]


@dataclass
class BatchResult:
    """What a batch did: images rendered and skipped, files that failed, time taken."""

    rendered: int = 0
    skipped: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)  # rows of errors.csv
    seconds: float = 0.0
    files: int = 0
    backend: str = ""

    @property
    def exit_code(self) -> int:
        """0 if every file rendered, 2 if some failed."""
        return 2 if self.failed else 0


def find_meshes(in_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """List the mesh files under ``in_dir`` with their labels, sorted.

    Returns
    -------
    list of (source, label)
        ``source`` is the path relative to ``in_dir`` (posix); ``label`` is its first
        folder, or "" for a file directly in ``in_dir``. Hidden files and folders (a
        leading ".") are skipped.
    """
    root = Path(in_dir)
    if not root.is_dir():
        raise MeshError(
            f"{root}: expected a folder of meshes, found {'a file' if root.exists() else 'nothing'}"
        )
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or Path(name).suffix.lower() not in MESH_SUFFIXES:
                continue
            rel = (Path(dirpath) / name).relative_to(root).as_posix()
            label = rel.split("/")[0] if "/" in rel else ""
            found.append((rel, label))
    return sorted(found)


def image_path(part_id: str, variant: int) -> str:
    """Dataset-relative path of a meta-image: ``"<part_id>_v<variant>.png"``."""
    return f"{part_id}_v{variant}.png"


def _versions() -> dict[str, str]:
    out = {}
    for name in _VERSION_PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def metaimage_metadata(cfg: RenderConfig, backend: str, gl_renderer: str = "") -> dict[str, Any]:
    """The content of ``metaimage.json`` for a dataset rendered with ``cfg``."""
    return {
        "format": 1,
        "grid": [cfg.rows, cfg.cols],
        "tile": cfg.tile,
        "image_size": list(cfg.image_size),
        "normals": cfg.normals,
        "backend": backend,
        "gl_renderer": gl_renderer,
        "config": cfg.to_dict(),
        "config_hash": cfg.config_hash(),
        "versions": _versions(),
        "variants": cfg.variants,
        "seed": cfg.seed,
        "view_convention": (
            "tile (i, j), row-major from the top left, shows the part from elevation "
            "90 - (i + 0.5) * 180 / rows deg and azimuth j * 360 / cols deg, +Z up"
        ),
    }


# ------------------------------------------------------------------------ worker side


def _init_worker(backend: str, single_threaded: bool) -> None:
    """Process-pool initializer: choose the GL platform before anything imports OpenGL."""
    if single_threaded:
        # llvmpipe starts one rasteriser thread per core in every process; with one
        # process per core that oversubscribes the CPU, so each worker draws inline.
        os.environ.setdefault("LP_NUM_THREADS", "0")
    os.environ["PYOPENGL_PLATFORM"] = backend
    # Ctrl-C reaches the whole process group; the main process decides how to stop
    # (cancel what has not started, let running files finish and be recorded).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Make the GL context now, so that the first file's render_s does not carry it. A
    # failure here is not raised (it would break the whole pool): the first job that
    # asks for the renderer gets it again, as a RenderError for that file.
    try:
        import fast_simplification  # noqa: F401
        import trimesh  # noqa: F401

        from render.gl import get_renderer

        get_renderer(backend)
    except Exception:
        logger.debug("worker GL warm-up failed", exc_info=True)


def render_job(job: Job, cfg: RenderConfig, out_dir: str) -> dict[str, Any]:
    """Render every pending variant of one file; runs in a worker (or in-process).

    Returns
    -------
    dict
        ``{"source": ..., "rows": [manifest rows], "gl_renderer": str}`` on success, or
        ``{"source": ..., "error": message}``. Never raises for a bad mesh or a GL error.
    """
    from render.core import prepare, render_prepared
    from render.gl import get_renderer
    from render.mesh import load_mesh

    try:
        t0 = time.perf_counter()
        mesh = load_mesh(job.path, merge=False)
        prepared = prepare(mesh, cfg)
        prep_s = time.perf_counter() - t0
        rows = []
        for i, variant in enumerate(job.variants):
            t1 = time.perf_counter()
            image = render_prepared(prepared, cfg, variant=variant, part_id=job.part_id)
            rel = image_path(job.part_id, variant)
            mio.write_png(Path(out_dir) / rel, image)
            # Loading and simplifying is shared by the variants; the first one carries it.
            seconds = time.perf_counter() - t1 + (prep_s if i == 0 else 0.0)
            rows.append(
                {
                    "path": rel,
                    "label": job.label,
                    "source": job.source,
                    "part_id": job.part_id,
                    "variant": variant,
                    "faces_in": prepared.faces_in,
                    "faces_out": prepared.faces_out,
                    "render_s": round(seconds, 4),
                    "config_hash": cfg.config_hash(),
                }
            )
        return {
            "source": job.source,
            "rows": rows,
            "gl_renderer": get_renderer(cfg.backend).gl_renderer,
        }
    except (MeshError, RenderError) as exc:
        return {"source": job.source, "error": str(exc)}
    except (MemoryError, RecursionError) as exc:
        return {"source": job.source, "error": f"{job.path}: {type(exc).__name__}: {exc}"}
    except Exception as exc:
        logger.debug("unexpected error on %s", job.path, exc_info=True)
        return {
            "source": job.source,
            "error": f"{job.path}: unexpected {type(exc).__name__}: {exc}",
        }


# ------------------------------------------------------------------------ main side


def _plan(in_dir: Path, out_dir: Path, cfg: RenderConfig, force: bool):
    """Split the work into jobs to run and manifest rows to keep."""
    try:
        old_rows = {} if force else {r["path"]: r for r in mio.read_manifest(out_dir)}
    except mio.DatasetError:
        old_rows = {}
    config_hash = cfg.config_hash()
    jobs, kept, seen = [], [], {}
    duplicates = []
    for source, label in find_meshes(in_dir):
        part_id = source.rsplit(".", 1)[0]
        if part_id in seen:
            duplicates.append(
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
            if (
                row is not None
                and row["config_hash"] == config_hash
                and row["source"] == source
                and (out_dir / rel).is_file()
            ):
                kept.append(row)
            else:
                todo.append(variant)
        if todo:
            jobs.append(Job(str(in_dir / source), source, label, part_id, tuple(todo)))
    return jobs, kept, duplicates, len(seen) + len(duplicates)


def render_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    cfg: RenderConfig,
    workers: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> BatchResult:
    """Render every mesh under ``in_dir`` into a meta-image dataset in ``out_dir``.

    Parameters
    ----------
    cfg : RenderConfig
        ``cfg.variants`` images per file; ``cfg.backend`` is resolved once here.
    workers : int or None
        Worker processes; None means ``os.cpu_count()``. With 1 the work runs in this
        process (no pool).
    force : bool
        Re-render images that are already up to date.
    progress : bool
        Show a tqdm bar (files/s, ETA) on stderr.

    Returns
    -------
    BatchResult
        Its ``exit_code`` is 2 when any file failed (listed in ``OUT/errors.csv``).

    Raises
    ------
    MeshError
        ``in_dir`` is not a folder.
    RenderError
        No GL context can be made.
    """
    from render.gl import resolve_backend

    t0 = time.perf_counter()
    in_dir, out_dir = Path(in_dir).resolve(), Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise RenderError(f"output folder {out_dir}: expected a folder, found a file")
    jobs, kept, failed, n_files = _plan(in_dir, out_dir, cfg, force)
    if n_files == 0:
        raise MeshError(
            f"{in_dir}: no mesh files found (expected {', '.join(MESH_SUFFIXES)} files in it "
            "or in its <label>/ subfolders)"
        )
    backend = resolve_backend(cfg.backend)
    run_cfg = RenderConfig.from_dict({**cfg.to_dict(), "backend": backend})
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(
            f"output folder {out_dir}: cannot create it: {exc.strerror or exc}"
        ) from None
    result = BatchResult(skipped=len(kept), failed=list(failed), files=n_files, backend=backend)
    rows = list(kept)
    gl_renderer = ""
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    logger.info(
        "%d mesh files: %d to render, %d images up to date; %d worker(s), %s",
        n_files,
        len(jobs),
        len(kept),
        n_workers,
        backend,
    )

    def collect(res: dict[str, Any]) -> None:
        nonlocal gl_renderer
        if "error" in res:
            result.failed.append({"source": res["source"], "error": res["error"]})
            logger.debug("failed: %s", res["error"])
        else:
            rows.extend(res["rows"])
            result.rendered += len(res["rows"])
            gl_renderer = gl_renderer or res.get("gl_renderer", "")

    from tqdm import tqdm

    bar = tqdm(total=len(jobs), unit="file", disable=not progress or not jobs, dynamic_ncols=True)
    try:
        if n_workers == 1:
            os.environ.setdefault("PYOPENGL_PLATFORM", backend)
            for job in jobs:
                collect(render_job(job, run_cfg, str(out_dir)))
                bar.update(1)
                bar.set_postfix(failed=len(result.failed), refresh=False)
        else:
            ctx = multiprocessing.get_context("spawn")  # no inherited GL state
            # Managed by hand, not with `with`: on Ctrl-C the pool must be shut down once,
            # cancelling what has not started (a `with` exit would wait for every job).
            pool = ProcessPoolExecutor(
                max_workers=n_workers,
                mp_context=ctx,
                initializer=_init_worker,
                initargs=(backend, True),
            )
            futures = {pool.submit(render_job, job, run_cfg, str(out_dir)): job for job in jobs}
            seen: set = set()

            def take(future) -> None:
                seen.add(future)
                try:
                    collect(future.result())
                except Exception as exc:
                    job = futures[future]
                    collect({"source": job.source, "error": f"{job.path}: worker failed: {exc!r}"})
                bar.update(1)
                bar.set_postfix(failed=len(result.failed), refresh=False)

            try:
                for future in as_completed(futures):
                    take(future)
            except KeyboardInterrupt:
                logger.warning("interrupted: finishing the files in progress, then stopping")
                pool.shutdown(wait=True, cancel_futures=True)
                # Record what finished meanwhile, so a rerun does not draw it again.
                for future in futures:
                    if future not in seen and future.done() and not future.cancelled():
                        take(future)
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        bar.close()
        # Whatever finished is recorded, also after Ctrl-C, so a rerun resumes from here.
        mio.write_manifest(out_dir, rows)
        mio.write_errors(out_dir, result.failed)
        mio.write_json(out_dir / mio.METAIMAGE_JSON, metaimage_metadata(cfg, backend, gl_renderer))
        result.seconds = time.perf_counter() - t0
    return result
