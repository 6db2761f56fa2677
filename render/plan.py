"""Resume planning for ``metaview render``: which images to render, which are up to date.

Every file of a batch is written atomically, so a run can be interrupted and resumed: an
image is skipped when its manifest row carries the current config hash and the PNG on disk
still has the size and SHA-256 that row records. :func:`plan_batch` makes that decision for
every image of every mesh the input scan (:mod:`render.scan`) found, and turns the meshes
with images to render into jobs (:class:`render.jobs.Job`).

Names: everything written under ``OUT`` is named in UTF-8. A part whose file name is not
valid UTF-8 gets its image, and its manifest and error rows, under the name
:func:`base.files.printable` gives (each undecodable byte as ``\\xNN``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from base import files
from metaimage import io as mio
from render.config import RenderConfig
from render.jobs import Job, image_path
from render.scan import scan_input

logger = logging.getLogger(__name__)


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
class BatchPlan:
    """What a batch will do: the jobs to run and what is already known without running them.

    Every list is in the input scan's order (sorted by source).
    """

    jobs: list[Job]
    kept: list[dict[str, Any]]  # manifest rows of images that are up to date and intact
    failed: list[dict[str, str]]  # errors.csv rows found while planning
    ignored: list[dict[str, str]]
    damaged: list[str]  # images up to date by config but not intact
    files: int  # mesh-like entries (rendered, kept or failed)


def plan_batch(in_dir: Path, out_dir: Path, cfg: RenderConfig, force: bool) -> BatchPlan:
    """Split the work into jobs to run and manifest rows to keep.

    Parameters
    ----------
    in_dir, out_dir : Path
        The input and output folders, resolved.
    cfg : RenderConfig
        The batch's configuration: its hash and ``variants`` decide what is up to date.
    force : bool
        Plan every image again, whatever the previous manifest says.

    Returns
    -------
    BatchPlan
    """
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
    return BatchPlan(
        jobs, kept, failed, ignored, damaged, files=len(scan.meshes) + len(scan.failed)
    )
