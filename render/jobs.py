"""The worker side of a render batch: one job (a mesh and its pending variants) -> PNGs.

:func:`render_job` runs wherever an executor (:mod:`render.executors`) puts it: in a
process-pool worker, in a Ray actor, or in-process; :func:`_init_worker` prepares such a
worker (GL platform, signals, the GL context). :mod:`render.plan` plans the jobs and
:mod:`render.batch` writes what comes back. Kept apart from them so that the executors,
which import this module, and the batch, which imports the executors, do not import each
other.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from base import files
from metaimage import io as mio
from render.config import RenderConfig
from render.errors import MeshError, RenderError

logger = logging.getLogger(__name__)

# Recorded in metaimage.json: the packages whose behaviour the pixels depend on.
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

    path: str  # absolute path of the mesh file, as the file system names it
    source: str  # path relative to IN, posix ("x_plus/0003.stl"), printable (UTF-8)
    label: str  # first-level folder name, "" for files directly in IN, printable
    part_id: str  # source without suffix ("x_plus/0003"), printable
    variants: tuple[int, ...]


def image_path(part_id: str, variant: int) -> str:
    """Dataset-relative path of a meta-image: ``"<part_id>_v<variant>.png"``."""
    return f"{part_id}_v{variant}.png"


def image_view(relative: str) -> tuple[str, int] | None:
    """The inverse of :func:`image_path`: ``(part_id, variant)`` of a dataset-relative path
    (``"y_minus/0002_v1.png"`` -> ``("y_minus/0002", 1)``), or None for another name."""
    import re

    match = re.fullmatch(r"(.+)_v(\d+)\.png", relative)
    return None if match is None else (match.group(1), int(match.group(2)))


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


def render_job(
    job: Job, cfg: RenderConfig, out_dir: str | None, data: bytes | None = None
) -> dict[str, Any]:
    """Render every pending variant of one file; runs in a worker (or in-process).

    Parameters
    ----------
    out_dir : str or None
        Write each PNG atomically under this folder; None: return the PNG bytes instead
        (under ``"pngs"``), for the caller to write (a Ray worker, whose machine need
        not see ``OUT``).
    data : bytes or None
        The mesh file's bytes, read by the caller (a Ray worker, whose machine need not
        see ``IN``); None: read ``job.path`` here. Messages name ``job.path`` either way.

    Returns
    -------
    dict
        ``{"source": ..., "rows": [manifest rows], "gl_renderer": str, "worker":
        "host:pid"}`` on success, plus ``"pngs": {path: bytes}`` when ``out_dir`` is None;
        or ``{"source": ..., "error": message}``. Never raises for a bad mesh or a GL error.
    """
    from geometry.mesh import load_mesh, mesh_from_bytes
    from render.core import prepare, render_prepared
    from render.gl import get_renderer

    try:
        t0 = time.perf_counter()
        if data is None:
            mesh = load_mesh(job.path, merge=False, step_tol=cfg.step_tol)
        else:
            mesh = mesh_from_bytes(
                data, Path(job.path).suffix.lower(), job.path, merge=False, step_tol=cfg.step_tol
            )
        prepared = prepare(mesh, cfg)
        prep_s = time.perf_counter() - t0
        rows, pngs = [], {}
        for i, variant in enumerate(job.variants):
            t1 = time.perf_counter()
            image = render_prepared(prepared, cfg, variant=variant, part_id=job.part_id)
            rel = image_path(job.part_id, variant)
            png = mio.encode_png(image)
            if out_dir is None:
                pngs[rel] = png
            else:
                files.atomic_write_bytes(Path(out_dir) / rel, png)
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
                    "png_bytes": len(png),
                    "sha256": mio.sha256_hex(png),
                }
            )
        result = {
            "source": job.source,
            "rows": rows,
            "gl_renderer": get_renderer(cfg.backend).gl_renderer,
            "worker": f"{socket.gethostname()}:{os.getpid()}",
        }
        if out_dir is None:
            result["pngs"] = pngs
        return result
    # Messages name job.path, which may hold surrogate escapes: made printable here, so
    # that errors.csv and the summary on a UTF-8 terminal never fail on them.
    except (MeshError, RenderError) as exc:
        return {"source": job.source, "error": files.printable(str(exc))}
    except (MemoryError, RecursionError) as exc:
        error = f"{job.path}: {type(exc).__name__}: {exc}"
        return {"source": job.source, "error": files.printable(error)}
    except Exception as exc:
        logger.debug("unexpected error on %s", files.printable(job.path), exc_info=True)
        error = f"{job.path}: unexpected {type(exc).__name__}: {exc}"
        return {"source": job.source, "error": files.printable(error)}
