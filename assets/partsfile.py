"""The ``parts.csv`` format: one row per part of a set that ``metaview synth`` wrote.

Columns (:data:`CSV_COLUMNS`): the STL file (posix path relative to the set's folder), the
label, the part's *valid set*, its features as JSON, its seed, stock sides, tilt and the
share of the label face its features cover (:func:`part_row` writes a row,
:func:`read_parts_csv` reads a file back).

The valid set is the set of directions from which every feature face can be reached
(:func:`geometry.reach.reachable_directions` on the part's mesh). It always holds the label;
it holds more when all the features sit on edges (steps, open slots, chamfers) or go through
(``through``).
"""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from assets.errors import SynthError

if TYPE_CHECKING:
    from assets.part import Part

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "file",
    "label",
    "valid",
    "features",
    "seed",
    "stock_mm",
    "tilt_deg",
    "footprint_frac",
)


def part_row(part: Part, file: str) -> dict[str, str | int | float]:
    """The ``parts.csv`` row of a part written to ``file`` (posix path relative to the folder).

    ``valid`` is the part's valid set as ``"x_plus"`` or ``"x_plus|z_plus"``
    (:func:`geometry.reach.reachable_directions`).
    """
    from geometry.directions import label_set
    from geometry.reach import reachable_directions

    valid = reachable_directions(part.vertices, part.faces).valid
    if part.label not in valid:  # the guarantees say it cannot happen: say so if it does
        log.warning("%s: label %s not in its valid set %s", file, part.label, valid)
    return {
        "file": file,
        "label": part.label,
        "valid": label_set(valid),
        "features": json.dumps(part.features_json(), separators=(",", ":")),
        "seed": part.seed,
        "stock_mm": json.dumps(list(part.stock)),
        "tilt_deg": round(part.tilt_deg, 3),
        "footprint_frac": round(part.footprint_frac(), 4),
    }


def read_parts_csv(path: str | Path) -> list[dict]:
    """Read a ``parts.csv``: features and stock_mm parsed from JSON, seed as int, valid as a
    tuple of class names (``()`` in files written before it existed).

    Raises
    ------
    SynthError
        If the file is missing or lacks a column of :data:`CSV_COLUMNS` (``valid`` may be
        missing).
    """
    from assets.reach import parse_label_set

    path = Path(path)
    if not path.is_file():
        raise SynthError(f"no parts.csv at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        found = reader.fieldnames or []
        missing = [c for c in CSV_COLUMNS if c not in found and c != "valid"]
        if missing:
            raise SynthError(f"{path}: missing columns {', '.join(missing)}")
        rows = []
        for row in reader:
            row["features"] = json.loads(row["features"])
            row["stock_mm"] = json.loads(row["stock_mm"])
            row["seed"] = int(row["seed"])
            row["tilt_deg"] = float(row["tilt_deg"])
            row["footprint_frac"] = float(row["footprint_frac"])
            row["valid"] = parse_label_set(row.get("valid") or "")
            rows.append(row)
    return rows
