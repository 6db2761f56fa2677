"""``metaview synth``: make a set of labelled parts, in parallel, into a folder.

:func:`synth_parts` makes ``per_class`` parts of each class (:mod:`assets.part`), writes
them as ``<class>/<index:04d>.stl``, lists them in ``parts.csv`` (:mod:`assets.partsfile`)
and records the configuration and package versions in ``synth.json``. Every part has its
own seed (:func:`assets.part.part_seed`), so the files are byte-identical for any number of
worker processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from assets.errors import SynthError
from assets.part import generate_part, part_seed
from assets.partsfile import CSV_COLUMNS, part_row, read_parts_csv
from assets.synth_config import CLASSES, SynthConfig
from base import files, versions
from base.pool import pool_map
from metaimage import io as mio

log = logging.getLogger(__name__)


def _make_and_write(job: tuple[str, SynthConfig, str, int]) -> dict:
    out_dir, cfg, label, index = job
    part = generate_part(label, part_seed(cfg.seed, label, index), cfg)
    file = f"{label}/{index:04d}.stl"
    files.atomic_write_bytes(Path(out_dir) / file, part.stl_bytes())
    return part_row(part, file)


def _clear(out_dir: Path, overwrite: bool) -> None:
    """Refuse to mix with an earlier set, or remove the files an earlier run wrote."""
    ours = [out_dir / "parts.csv", out_dir / "synth.json"] + [out_dir / c for c in CLASSES]
    found = [p for p in ours if p.exists()]
    if not found:
        return
    if not overwrite:
        raise SynthError(
            f"output folder {out_dir} already holds parts ({found[0].name}); "
            "pass --force to replace them"
        )
    # Remove only what an earlier `metaview synth` wrote (the files its parts.csv lists):
    # a class folder may also hold a user's own meshes, which are never deleted.
    listed: set[Path] = set()
    csv_path = out_dir / "parts.csv"
    if csv_path.is_file():
        listed = {(out_dir / row["file"]).resolve() for row in read_parts_csv(csv_path)}
    foreign = [
        stl
        for c in CLASSES
        if (out_dir / c).is_dir()
        for stl in sorted((out_dir / c).glob("*.stl"))
        if stl.resolve() not in listed
    ]
    if foreign:
        raise SynthError(
            f"output folder {out_dir} holds STL files that metaview synth did not write there "
            f"(not in its parts.csv), e.g. {foreign[0]}; --force never deletes those: "
            "choose another output folder"
        )
    for stl in listed:
        stl.unlink(missing_ok=True)
    for c in CLASSES:
        d = out_dir / c
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    for f in (csv_path, out_dir / "synth.json"):
        f.unlink(missing_ok=True)


def synth_parts(
    out_dir: str | Path,
    cfg: SynthConfig,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Generate ``cfg.per_class`` parts per class into ``out_dir``.

    Writes ``out_dir/<class>/<index:04d>.stl``, ``out_dir/parts.csv`` (columns
    :data:`CSV_COLUMNS`, one row per part, classes in :data:`CLASSES` order) and
    ``out_dir/synth.json`` (the configuration and :func:`generator_versions`).

    Parameters
    ----------
    out_dir : str or Path
        The output folder; created if missing.
    cfg : SynthConfig
        What to make.
    workers : int
        Processes to use; the files are the same for any number.
    overwrite : bool
        Replace the STL files, ``parts.csv`` and ``synth.json`` of an earlier run (other files
        are left alone). Without it, a folder holding any of them is an error.
    progress : callable, optional
        Called with each part's row as it is written.

    Returns
    -------
    list of dict
        The ``parts.csv`` rows.
    """
    if not isinstance(workers, int) or workers < 1:
        raise SynthError(f"workers must be an integer of at least 1, got {workers!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SynthError(f"output path {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    _clear(out, overwrite)
    labels = [c for c in CLASSES if c in cfg.classes]
    for label in labels:
        (out / label).mkdir(exist_ok=True)
    jobs = [(str(out), cfg, label, i) for label in labels for i in range(cfg.per_class)]
    log.info(
        "synth: %d parts (%d per class, classes %s) into %s, seed %d",
        len(jobs),
        cfg.per_class,
        ",".join(labels),
        out,
        cfg.seed,
    )
    rows = []
    for row in _run(jobs, workers):
        rows.append(row)
        if progress is not None:
            progress(row)
    mio.write_csv(out / "parts.csv", CSV_COLUMNS, rows)
    config = {
        "format": 1,
        "config": cfg.to_dict(),
        "parts": len(rows),
        "versions": generator_versions(),
    }
    mio.write_json(out / "synth.json", config)
    return rows


def generator_versions() -> dict[str, str]:
    """Versions of the packages whose output the files depend on (recorded in synth.json).

    The same configuration gives the same bytes with the same versions; another manifold3d
    (its triangulation) or NumPy (its random streams) may give other, equally valid, parts.
    """
    return versions.package_versions(("manifold3d", "numpy"))


def _run(jobs: list, workers: int) -> Iterator[dict]:
    if workers > 1:
        import trimesh  # noqa: F401  (imported once here, not in every forked child)
    yield from pool_map(_make_and_write, jobs, workers)
