"""File I/O at the edge of the pipeline: atomic writes, PNGs, and a dataset's files.

A dataset folder written by ``metaview render`` holds::

    data/
      metaimage.json        the resolved render config, grid, tile, backend, versions, hash
      manifest.csv          one row per meta-image (columns: MANIFEST_COLUMNS)
      errors.csv            one row per input that failed (columns: ERROR_COLUMNS)
      <label>/<part>_v<k>.png
      test_parts.txt        optional: part ids that must form the test split

Every file is written atomically (a temporary file in the same folder, then
``os.replace``), so an interrupted run never leaves a half-written file behind.

Text files are UTF-8. A file name that is not valid UTF-8 (Linux allows any bytes)
reaches Python as a string with surrogate escapes; in a CSV file it is written with
each undecodable byte as ``\\xNN`` (see :func:`printable`), so ``caf\\xe9.stl`` stands
for the name whose bytes are ``caf`` + 0xE9 + ``.stl``. (JSON escapes it itself, as
``\\udce9``, and reads it back unchanged.)
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from base.files import atomic_write_bytes, atomic_write_text, printable
from metaimage.errors import DatasetError
from metaimage.meta import MetaImageInfo

METAIMAGE_JSON = "metaimage.json"
MANIFEST_CSV = "manifest.csv"
ERRORS_CSV = "errors.csv"
TEST_PARTS_TXT = "test_parts.txt"

# One row per meta-image. ``path`` is relative to the dataset folder, with "/"
# separators; ``label`` is empty for meshes found directly in the input folder;
# ``part_id`` is the source path relative to the input folder, without suffix,
# and is what splits group by. ``png_bytes`` and ``sha256`` are the size and the
# SHA-256 (hex) of the PNG file as written, so a reader can tell a damaged image.
MANIFEST_COLUMNS = (
    "path",
    "label",
    "source",
    "part_id",
    "variant",
    "faces_in",
    "faces_out",
    "render_s",
    "config_hash",
    "png_bytes",
    "sha256",
)
# Columns added after the first release: a manifest without them is still read, with
# ``png_bytes`` None and ``sha256`` "" (unknown), and written back with them empty.
OPTIONAL_MANIFEST_COLUMNS = ("png_bytes", "sha256")
_REQUIRED_MANIFEST_COLUMNS = tuple(
    c for c in MANIFEST_COLUMNS if c not in OPTIONAL_MANIFEST_COLUMNS
)
_INT_COLUMNS = ("variant", "faces_in", "faces_out")
_FLOAT_COLUMNS = ("render_s",)

ERROR_COLUMNS = ("source", "error")


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 hex digits (the manifest's ``sha256`` column)."""
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str | os.PathLike) -> tuple[int, str]:
    """Return ``(size in bytes, sha256 hex)`` of the file at ``path``.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    with open(path, "rb") as f:
        data = f.read()
    return len(data), sha256_hex(data)


def encode_png(image: np.ndarray) -> bytes:
    """Encode an RGB image as PNG bytes, deterministically.

    Parameters
    ----------
    image : (h, w, 3) uint8
        The image. No metadata (time stamps, software name) is written, so the
        same pixels always give the same bytes.
    """
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DatasetError(f"expected an (h, w, 3) uint8 image, got {image.shape} {image.dtype}")
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an (h, w, 3) uint8 image to ``path`` as PNG, atomically."""
    return atomic_write_bytes(path, encode_png(image))


def read_png(path: str | os.PathLike) -> np.ndarray:
    """Read a PNG (or any image PIL reads) as an (h, w, 3) uint8 RGB array.

    Raises
    ------
    DatasetError
        If the file is missing or is not an image, naming the file.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DatasetError(
            f"{path}: expected an image file (PNG), could not read it: {exc}"
        ) from None


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """Return ``(height, width)`` of an image file, reading only its header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            w, h = im.size
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise DatasetError(
            f"{path}: expected an image file (PNG), could not read it: {exc}"
        ) from None
    return h, w


def write_json(path: str | os.PathLike, obj: Mapping[str, Any]) -> Path:
    """Write ``obj`` as indented, key-sorted JSON, atomically.

    Non-ASCII text is escaped by JSON itself (``\\u00e9``); a surrogate escape of a
    non-UTF-8 file name is written as ``\\udce9`` and read back as the same string.
    """
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike) -> dict[str, Any]:
    """Read a JSON object from ``path``, with an error that names the file."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: expected a JSON object, could not parse it: {exc}") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def write_csv(
    path: str | os.PathLike, columns: Iterable[str], rows: Iterable[Mapping[str, Any]]
) -> Path:
    """Write ``rows`` (dicts with at least ``columns``) as UTF-8 CSV, atomically.

    Each text value goes through :func:`printable`, so a row holding a non-UTF-8 file
    name is written (with ``\\xNN`` escapes) instead of failing the whole file.
    """
    columns = list(columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: printable(v) if isinstance(v := row[c], str) else v for c in columns})
    return atomic_write_text(path, buf.getvalue())


def read_csv(path: str | os.PathLike, required: Iterable[str] = ()) -> list[dict[str, str]]:
    """Read a CSV file into a list of dicts, checking that ``required`` columns exist.

    Raises
    ------
    DatasetError
        Naming the file: missing, not UTF-8 text, not CSV, or a required column missing.
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            missing = [c for c in required if c not in fields]
            if missing:
                raise DatasetError(
                    f"{path}: expected columns {list(required)}, missing {missing} (found {fields})"
                )
            return list(reader)
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: expected a UTF-8 CSV file, could not read it: {exc}") from None


def write_manifest(folder: str | os.PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``folder/manifest.csv``, rows sorted by path so the file is deterministic.

    A row without ``png_bytes`` or ``sha256`` (or with None) gets them empty: unknown.
    """
    empty = dict.fromkeys(OPTIONAL_MANIFEST_COLUMNS, "")
    full = [
        {**empty, **{k: v for k, v in r.items() if v is not None}}
        for r in sorted(rows, key=lambda r: str(r["path"]))
    ]
    return write_csv(Path(folder) / MANIFEST_CSV, MANIFEST_COLUMNS, full)


def read_manifest(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Read ``folder/manifest.csv`` with typed values.

    Returns
    -------
    list of dict
        One dict per meta-image with the keys of ``MANIFEST_COLUMNS``;
        ``variant``, ``faces_in`` and ``faces_out`` are ``int``, ``render_s``
        is ``float``, ``png_bytes`` is ``int`` or None (not recorded: a manifest
        written before the column existed), ``sha256`` is 64 hex digits or ""
        (not recorded), the rest are ``str``.
    """
    path = Path(folder) / MANIFEST_CSV
    rows = read_csv(path, required=_REQUIRED_MANIFEST_COLUMNS)
    out = []
    for i, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            typed: dict[str, Any] = dict(row)
            for c in _INT_COLUMNS:
                typed[c] = int(row[c])
            for c in _FLOAT_COLUMNS:
                typed[c] = float(row[c])
            size = row.get("png_bytes") or ""
            typed["png_bytes"] = int(size) if size.strip() else None
        except (TypeError, ValueError) as exc:
            raise DatasetError(
                f"{path}, line {i}: expected numbers in "
                f"{_INT_COLUMNS + _FLOAT_COLUMNS + ('png_bytes',)}: {exc}"
            ) from None
        typed["sha256"] = (row.get("sha256") or "").strip().lower()
        out.append(typed)
    return out


def write_errors(folder: str | os.PathLike, rows: Iterable[Mapping[str, Any]]) -> Path:
    """Write ``folder/errors.csv``: one row per input that failed, with the reason."""
    return write_csv(
        Path(folder) / ERRORS_CSV, ERROR_COLUMNS, sorted(rows, key=lambda r: str(r["source"]))
    )


def read_metaimage_info(folder: str | os.PathLike) -> MetaImageInfo:
    """Read and check ``folder/metaimage.json`` (see :class:`metaimage.meta.MetaImageInfo`).

    Raises
    ------
    DatasetError
        Naming the file: missing, not JSON, a required key missing (``grid``, ``tile``,
        ``image_size``, ``normals``, ``config``, ``config_hash``), a wrong type, or
        ``image_size`` that is not ``grid * tile``.
    """
    path = Path(folder) / METAIMAGE_JSON
    return MetaImageInfo.from_dict(read_json(path), where=str(path))


def write_metaimage_info(folder: str | os.PathLike, info: MetaImageInfo) -> Path:
    """Write ``folder/metaimage.json`` from ``info``, atomically."""
    return write_json(Path(folder) / METAIMAGE_JSON, info.to_dict())


def read_metaimage_json(folder: str | os.PathLike) -> dict[str, Any]:
    """Read ``folder/metaimage.json``, checked as :func:`read_metaimage_info` does, as a dict.

    For readers that keep the JSON object (to log it, to copy it beside a model);
    ``read_metaimage_info(folder)`` gives the typed object.
    """
    return read_metaimage_info(folder).to_dict()


def read_test_parts(folder: str | os.PathLike) -> list[str] | None:
    """Return the part ids listed in ``folder/test_parts.txt``, or None if there is none.

    One part id per line; blank lines and lines starting with ``#`` are ignored.
    """
    path = Path(folder) / TEST_PARTS_TXT
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    return [s.strip() for s in lines if s.strip() and not s.strip().startswith("#")]
