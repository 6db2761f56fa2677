"""``metaview reach`` over a folder: one ``reach.csv`` row per mesh, in parallel.

The analysis of one part is :mod:`geometry.reach` (:func:`~geometry.reach.reachable_directions`,
its method and its tolerances); here are the CSV row (:data:`CSV_COLUMNS`,
:func:`result_row`), the set field's reader (:func:`parse_label_set`) and the batch
(:func:`reach_folder`: a process pool, one broken file never stopping the others).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from base.errors import MetaviewError
from base.pool import pool_map
from geometry import directions
from geometry.directions import DIRECTIONS, label_set
from geometry.errors import ReachError
from geometry.reach import (
    STATUS_NO_FEATURES,
    ReachConfig,
    ReachResult,
    ray_backend,
    reach_file,
)

log = logging.getLogger(__name__)


STATUS_ERROR = "error"  # the file could not be read or measured (CSV rows only)

#: Columns of ``reach.csv``, documented in :func:`result_row` and docs/parts.md.
CSV_COLUMNS = (
    "file",
    "label",
    "status",
    "valid",
    "n_valid",
    "label_in_set",
    "feature_faces",
    "feature_area_frac",
    *(f"reach_{name}" for name in DIRECTIONS),
    "clamped_frac",
    "unreachable_frac",
    "tilt_deg",
    "reasons",
    "error",
)


def parse_label_set(text: str) -> tuple[str, ...]:
    """:func:`geometry.directions.parse_label_set` of the five directions.

    Raises
    ------
    ReachError
        If a name is not one of :data:`~geometry.directions.DIRECTIONS`, or is there twice.
    """
    try:
        return directions.parse_label_set(text)
    except ValueError as exc:
        raise ReachError(str(exc)) from None


# --- the analysis --------------------------------------------------------------------------


# --- files and folders ---------------------------------------------------------------------


def _label_of(source: str) -> str:
    """The class a file's first folder names (``x_plus/0003.stl`` -> ``x_plus``), else ""."""
    first = source.split("/")[0] if "/" in source else ""
    return first if first in DIRECTIONS else ""


def result_row(source: str, result: ReachResult | None, error: str = "") -> dict:
    """One ``reach.csv`` row (see :data:`CSV_COLUMNS`).

    ``file`` is the path relative to the input folder; ``label`` the class its first folder
    names ("" otherwise); ``valid`` the set as ``"x_plus|z_plus"``; ``label_in_set`` 1/0
    ("" without a label); ``feature_area_frac`` the feature area's share of the surface;
    ``reach_<class>`` the share of the feature area reached from that direction;
    ``clamped_frac`` the share of the cut area only -Z reaches; ``unreachable_frac`` the share
    of the feature area nothing reaches; ``tilt_deg`` the straightening angle; ``reasons``
    ``"x_plus: 12.0 % of feature area faces away from +X; ..."`` for each invalid direction;
    ``error`` why a file failed (then ``status`` is ``"error"`` and the numbers are empty).
    """
    label = _label_of(source)
    row = dict.fromkeys(CSV_COLUMNS, "")
    row.update(file=source, label=label)
    if result is None:
        row.update(status=STATUS_ERROR, error=error)
        return row
    row.update(
        status=result.status,
        valid=label_set(result.valid),
        n_valid=len(result.valid),
        label_in_set=(int(label in result.valid) if label else ""),
        feature_faces=result.feature_faces,
        feature_area_frac=round(result.feature_area / result.total_area, 6),
        clamped_frac=round(result.clamped_frac, 6),
        unreachable_frac=round(result.unreachable_frac, 6),
        tilt_deg=round(result.tilt_deg, 4),
        reasons="; ".join(f"{k}: {v}" for k, v in result.reasons().items()),
    )
    if result.status == STATUS_NO_FEATURES:
        row["reasons"] = "no feature faces: nothing is cut, every direction reaches (vacuously)"
    for name in DIRECTIONS:
        row[f"reach_{name}"] = round(result.reach[name], 6)
    return row


def _analyse(job: tuple[str, str, ReachConfig]) -> dict:
    """Analyse one file; never raises (an error becomes the row's ``error``)."""
    root, source, cfg = job
    try:
        result = reach_file(Path(root) / source, cfg)
    except MetaviewError as exc:
        return result_row(source, None, str(exc))
    except Exception as exc:  # one broken file never stops a batch
        log.debug("reach %s failed", source, exc_info=True)
        return result_row(source, None, f"{source}: {type(exc).__name__}: {exc}")
    return result_row(source, result)


def _run(jobs: list, workers: int) -> Iterator[dict]:
    if workers > 1:
        import trimesh  # noqa: F401  (imported once here, not in every forked child)
    yield from pool_map(_analyse, jobs, workers)


def reach_folder(
    in_path: str | os.PathLike,
    out_csv: str | os.PathLike | None = None,
    cfg: ReachConfig | None = None,
    workers: int = 1,
    progress: Callable[[dict], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> list[dict]:
    """Analyse every mesh under a folder (or one mesh file) and write ``reach.csv``.

    Parameters
    ----------
    in_path : path-like
        A folder, searched like ``metaview render`` does (:func:`render.scan.scan_input`:
        entries that look like meshes but cannot be one become error rows), or one mesh file.
    out_csv : path-like, optional
        Where to write; default ``IN/reach.csv`` (beside the file for a single file).
    cfg : ReachConfig, optional
    workers : int
        Processes to use; the rows are the same for any number.
    progress : callable, optional
        Called with each row as it is made.
    on_start : callable, optional
        Called once with the number of files before the first is analysed.

    Returns
    -------
    list of dict
        The rows written, sorted by file; failed files have ``status`` ``"error"``.

    Raises
    ------
    ReachError
        ``in_path`` is neither a folder nor a file, ``workers`` is below 1, or no mesh was found.
    """
    from metaimage import io as mio
    from render.scan import scan_input

    cfg = cfg or ReachConfig()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ReachError(f"workers must be an integer of at least 1, got {workers!r}")
    src = Path(in_path)
    if src.is_dir():
        root = src
        scan = scan_input(src)
        sources = [s for s, _label in scan.meshes]
        failed = [result_row(f["source"], None, f["error"]) for f in scan.failed]
        default_out = src / "reach.csv"
    elif src.is_file():
        root, sources, failed = src.parent, [src.name], []
        default_out = src.parent / "reach.csv"
    else:
        raise ReachError(f"{src}: expected a folder of meshes or a mesh file, found nothing")
    if not sources and not failed:
        raise ReachError(f"{src}: expected mesh files (.stl, .obj, .ply, .off, .glb), found none")
    log.info(
        "reach: %d files under %s, %d workers, rays by %s",
        len(sources),
        src,
        workers,
        ray_backend(cfg.rays),
    )
    if on_start is not None:
        on_start(len(sources) + len(failed))
    rows = list(failed)
    for row in failed:
        if progress is not None:
            progress(row)
    for row in _run([(str(root), s, cfg) for s in sources], workers):
        rows.append(row)
        if progress is not None:
            progress(row)
    rows.sort(key=lambda r: r["file"])
    mio.write_csv(out_csv if out_csv is not None else default_out, CSV_COLUMNS, rows)
    return rows
