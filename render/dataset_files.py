"""The files of a rendered dataset: the PNGs a worker sends back and the three dataset files.

``OUT/manifest.csv`` (one row per image), ``OUT/errors.csv`` (one row per file that
failed) and ``OUT/metaimage.json`` (:func:`metaimage_info`: grid, tile, configuration,
backend, versions), written by :func:`write_dataset_files` in the formats of
:mod:`metaimage.io`. Every file is written atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from base import files, versions
from metaimage import io as mio
from metaimage.meta import VIEW_CONVENTION, MetaImageInfo
from render.config import RenderConfig
from render.jobs import _VERSION_PACKAGES

logger = logging.getLogger(__name__)


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


def write_dataset_files(
    out_dir: Path,
    rows: list[dict[str, Any]],
    failed: list[dict[str, str]],
    info: Callable[[], MetaImageInfo],
) -> list[str]:
    """Write manifest.csv, errors.csv and metaimage.json, each whatever the others do.

    Parameters
    ----------
    out_dir : Path
        The dataset's folder (it exists).
    rows : list of dict
        The manifest rows (:data:`metaimage.io.MANIFEST_COLUMNS`).
    failed : list of dict
        The errors.csv rows, ``{"source", "error"}``.
    info : callable
        Makes the ``metaimage.json`` contents; called when that file is written, so that
        it sees everything the batch learnt until then.

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


def store_pngs(out_dir: Path, pngs: dict[str, bytes]) -> str | None:
    """Write the PNGs a worker sent back, each atomically; why one could not be, or None."""
    for rel, png in pngs.items():
        try:
            files.atomic_write_bytes(out_dir / rel, png)
        except OSError as exc:
            return f"{out_dir / rel}: could not write it: {exc.strerror or exc}"
    return None
