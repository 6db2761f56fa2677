"""Read and check a dataset folder: a rendered one, or plain class folders of PNGs.

The folder is the one ``metaview render`` writes (see :mod:`metaimage.io`):
``metaimage.json``, ``manifest.csv`` (one row per meta-image PNG), optionally
``test_parts.txt``. :func:`load_dataset` reads and checks it: every PNG must exist,
have the size ``metaimage.json`` promises and, where the manifest recorded them, the
byte size and SHA-256 it was written with (a truncated or damaged PNG is named here,
not by a TensorFlow error in the middle of training); every row must come from the
same render config (``config_hash``). Unlabelled rows are dropped with a warning. A
plain folder of class folders of PNGs (Keras' ``image_dataset_from_directory``
layout: ``DATA/<class>/*.png``) is read too, with a warning about what it cannot
tell (the grid, the parts, the render config). :func:`split_rows` and
:func:`load_split` give one split's meta-images.

The split itself is :mod:`train.split`; the tf.data pipeline, and the one resize that
training, ``predict`` and ``export`` share (``prepare_images``), are :mod:`train.pipeline`.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaimage.errors import DatasetError
from metaimage.io import (
    MANIFEST_CSV,
    METAIMAGE_JSON,
    image_size,
    read_manifest,
    read_metaimage_info,
    read_test_parts,
    sha256_hex,
)
from metaimage.meta import MetaImageInfo

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")

#: ``Dataset.meta["layout"]`` of a plain class-folder dataset (it has no metaimage.json).
CLASS_FOLDERS = "class-folders"


@dataclass(frozen=True)
class Dataset:
    """A checked dataset folder: its metadata and labelled meta-images.

    Attributes
    ----------
    root : Path
        The folder (absolute).
    meta : dict
        Its ``metaimage.json`` (what a run logs and a model carries). For a plain
        class-folder dataset, a stand-in: ``{"layout": "class-folders", "grid",
        "grid_known", "tile", "image_size", "config": {}, "config_hash": ""}``.
    rows : list of dict
        Manifest rows with a non-empty label (see ``metaimage.io.read_manifest``).
        A class-folder dataset has one row per PNG, each its own part
        (``part_id`` = path without suffix).
    labels : tuple of str
        The class names, sorted: index ``i`` is output ``i`` of the model.
    test_parts : list of str or None
        The fixed test split from ``test_parts.txt``, if the folder has one.
    info : MetaImageInfo or None
        ``metaimage.json`` as checked data (None for a class-folder dataset).
    digest : str
        SHA-256 (hex) over every labelled image's path, label, part and content
        (the manifest's ``sha256`` where recorded, else the file's, hashed while
        checking it), and the render config: what a run records as its input's
        digest. Empty when the images were not read (``check_images=False``).
    grid : (rows, cols)
        The meta-image grid; (1, 1) when unknown (tile shuffling is then a no-op).
    """

    root: Path
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    labels: tuple[str, ...]
    test_parts: list[str] | None = None
    n_unlabelled: int = 0
    info: MetaImageInfo | None = None
    digest: str = ""
    grid: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        rows, cols = self.meta["grid"]
        object.__setattr__(self, "grid", (int(rows), int(cols)))

    @property
    def layout(self) -> str:
        """``"rendered"`` (written by ``metaview render``) or ``"class-folders"``."""
        return self.meta.get("layout", "rendered")

    @property
    def grid_known(self) -> bool:
        """False for a class-folder dataset read without a grid."""
        return bool(self.meta.get("grid_known", True))

    def part_labels(self) -> dict[str, str]:
        """Return part id -> label (every variant of a part shares its label)."""
        return {r["part_id"]: r["label"] for r in self.rows}


def _read_checked(png: Path) -> tuple[bytes, tuple[int, int]]:
    """The file's bytes and its image size (h, w) read from them; DatasetError names the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        data = png.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{png}: no such image file") from None
    except OSError as exc:
        raise DatasetError(f"{png}: could not read it: {exc.strerror or exc}") from None
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DatasetError(f"{png}: expected a PNG image, could not read it: {exc}") from None
    return data, (h, w)


def _digest(entries: list[tuple[str, str, str, str]], config_hash: str) -> str:
    h = hashlib.sha256(config_hash.encode("utf-8"))
    for entry in sorted(entries):
        h.update(json.dumps(entry, ensure_ascii=True).encode("ascii") + b"\n")
    return h.hexdigest()


def load_dataset(
    dataset_dir: str | Path,
    check_images: bool = True,
    grid: tuple[int, int] | None = None,
    labels_for: Mapping[str, str] | None = None,
) -> Dataset:
    """Read and check a dataset folder written by ``metaview render`` (or plain class folders).

    Parameters
    ----------
    dataset_dir : path
        The folder holding ``metaimage.json`` and ``manifest.csv``; or, without
        both, a folder of class folders of PNGs (``DATA/<class>/*.png``).
    check_images : bool
        Read every PNG: compare its size with ``metaimage.json`` and, where
        ``manifest.csv`` recorded them, its byte size and SHA-256 with the
        manifest's ``png_bytes`` and ``sha256`` (one read of each file; on by
        default). Also computes :attr:`Dataset.digest`.
    grid : (rows, cols), optional
        The meta-image grid. Needed by a class-folder dataset for tile shuffling
        (without it the grid is unknown and tile shuffling does nothing); for a
        rendered dataset it must agree with ``metaimage.json``.
    labels_for : mapping, optional
        Part id -> label for meta-images the manifest leaves unlabelled (meshes that sat
        in no class folder): the labels ``metaview reach`` gives them
        (:meth:`train.labelsets.ValidSets.primary_labels`). Manifest labels win.

    Raises
    ------
    DatasetError
        If a file is missing or unreadable, a PNG's size disagrees with the
        grid and tile size of ``metaimage.json``, its bytes disagree with the
        manifest (truncated or changed after rendering), a row was rendered with
        another config (``config_hash``), a part carries two labels, or fewer
        than two classes are labelled. The message names the file.
    """
    root = Path(dataset_dir).resolve()
    if not root.is_dir():
        raise DatasetError(
            f"{root}: expected a dataset folder written by 'metaview render', found none"
        )
    if not (root / METAIMAGE_JSON).exists() and not (root / MANIFEST_CSV).exists():
        return _load_class_folders(root, check_images, grid)
    info = read_metaimage_info(root)
    meta = info.to_dict()
    json_path = root / METAIMAGE_JSON
    rows_, cols_ = info.grid
    tile = info.tile
    h, w = info.image_size
    if grid is not None and tuple(grid) != info.grid:
        raise DatasetError(
            f"--grid {grid[0]}x{grid[1]}: {json_path} says the grid is {rows_}x{cols_}; "
            "leave --grid out for a rendered dataset"
        )
    manifest = read_manifest(root)
    if not manifest:
        raise DatasetError(f"{root / MANIFEST_CSV}: no meta-images listed")
    labelled = []
    n_unlabelled = 0
    part_label: dict[str, str] = {}
    entries: list[tuple[str, str, str, str]] = []
    from_sets = 0
    for row in manifest:
        png = root / row["path"]
        if not row["label"] and labels_for and row["part_id"] in labels_for:
            row = {**row, "label": labels_for[row["part_id"]]}
            from_sets += 1
        if row["config_hash"] != info.config_hash:
            raise DatasetError(
                f"{png}: rendered with config_hash {row['config_hash']!r}, but {json_path} says "
                f"{info.config_hash!r}; the folder mixes render configs (re-render it)"
            )
        content = row["sha256"]
        if check_images:
            if row["label"]:
                data, size = _read_checked(png)
            else:  # not trained on: the header is enough
                data, size = b"", image_size(png)
            if size != (h, w):
                raise DatasetError(
                    f"{png}: expected a {h}x{w} meta-image (grid {rows_}x{cols_}, tile {tile} px, "
                    f"from {json_path}), found {size[0]}x{size[1]}"
                )
            if row["label"]:
                _check_recorded(png, data, row, root)
                content = row["sha256"] or sha256_hex(data)
        if not row["label"]:
            n_unlabelled += 1
            continue
        previous = part_label.setdefault(row["part_id"], row["label"])
        if previous != row["label"]:
            raise DatasetError(
                f"{root / MANIFEST_CSV}: part {row['part_id']!r} has two labels, "
                f"{previous!r} and {row['label']!r}"
            )
        entries.append((row["path"], row["label"], row["part_id"], content))
        labelled.append(row)
    if from_sets:
        log.info("%s: %d unlabelled meta-images labelled from their valid sets", root, from_sets)
    if n_unlabelled:
        log.warning(
            "%s: ignoring %d unlabelled meta-images (empty label) for training", root, n_unlabelled
        )
    labels = tuple(sorted({r["label"] for r in labelled}))
    if len(labels) < 2:
        raise DatasetError(
            f"{root / MANIFEST_CSV}: expected at least 2 labelled classes to train on, found "
            f"{len(labels)} ({list(labels)})"
        )
    return Dataset(
        root=root,
        meta=meta,
        rows=labelled,
        labels=labels,
        test_parts=read_test_parts(root),
        n_unlabelled=n_unlabelled,
        info=info,
        digest=_digest(entries, info.config_hash) if check_images else "",
    )


def _check_recorded(png: Path, data: bytes, row: Mapping[str, Any], root: Path) -> None:
    """Compare a PNG's bytes with the size and SHA-256 the manifest recorded (if it did)."""
    recorded = row.get("png_bytes")
    if recorded is not None and recorded != len(data):
        raise DatasetError(
            f"{png}: expected {recorded} bytes (png_bytes in {root / MANIFEST_CSV}), found "
            f"{len(data)}: the file was truncated or changed after rendering; re-render it"
        )
    if row.get("sha256") and row["sha256"] != sha256_hex(data):
        raise DatasetError(
            f"{png}: its SHA-256 differs from the one in {root / MANIFEST_CSV}: the file was "
            "damaged or changed after rendering; re-render it"
        )


def _load_class_folders(root: Path, check_images: bool, grid: tuple[int, int] | None) -> Dataset:
    """Read ``root/<class>/**/*.png`` as a dataset: each PNG its own part (see load_dataset)."""
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    rows: list[dict[str, Any]] = []
    others = 0
    for folder in classes:
        for f in sorted(folder.rglob("*")):
            if not f.is_file() or f.name.startswith("."):
                continue
            if f.suffix.lower() != ".png":
                others += 1
                continue
            rel = f.relative_to(root).as_posix()
            rows.append(
                {"path": rel, "label": folder.name, "source": rel, "part_id": rel.rsplit(".", 1)[0],
                 "variant": 0, "config_hash": "", "png_bytes": None, "sha256": ""}
            )  # fmt: skip
    loose = [f for f in root.iterdir() if f.is_file() and f.suffix.lower() == ".png"]
    labels = tuple(sorted({r["label"] for r in rows}))
    if len(labels) < 2:
        raise DatasetError(
            f"{root}: expected a folder written by 'metaview render' (metaimage.json, "
            "manifest.csv) or class folders of PNGs (DATA/<class>/*.png) with at least 2 "
            f"classes, found {len(labels)} class folders with PNGs"
        )
    if loose or others:
        log.warning(
            "%s: ignoring %d PNGs outside class folders and %d non-PNG files", root, len(loose),
            others,
        )  # fmt: skip
    size: tuple[int, int] | None = None
    entries = []
    for r in rows:
        png = root / r["path"]
        if not check_images and size is not None:
            continue
        data, got = _read_checked(png)
        if size is None:
            size, first = got, png
        elif got != size:
            raise DatasetError(
                f"{png}: expected a {size[0]}x{size[1]} image like {first} (every image of a "
                f"dataset has one size), found {got[0]}x{got[1]}"
            )
        entries.append((r["path"], r["label"], r["part_id"], sha256_hex(data)))
    h, w = size
    if grid is not None:
        rows_, cols_ = grid
        if h % rows_ or w % cols_ or h // rows_ != w // cols_:
            raise DatasetError(
                f"--grid {rows_}x{cols_}: the images of {root} are {h}x{w} px, which does not "
                "split into that many square tiles"
            )
    tile = h // grid[0] if grid is not None else (h if h == w else None)
    meta = {
        "format": 1,
        "layout": CLASS_FOLDERS,
        "grid": list(grid) if grid is not None else [1, 1],
        "grid_known": grid is not None,
        "tile": tile,
        "image_size": [h, w],
        "normals": "",
        "config": {},
        "config_hash": "",
    }
    unknown = [
        "which PNGs show the same part (each PNG is its own part, so views of one part may land "
        "in different splits)",
        "the render config (predict takes PNGs of this size, but cannot render meshes for "
        "this model)",
    ]
    if grid is None:
        unknown.insert(0, "the grid (no tile shuffling; pass --grid ROWSxCOLS to shuffle tiles)")
    log.warning(
        "%s has no metaimage.json or manifest.csv: reading it as class folders of PNGs "
        "(%d classes, %d images of %dx%d px). Unknown without them: %s",
        root, len(labels), len(rows), h, w, "; ".join(unknown),
    )  # fmt: skip
    return Dataset(
        root=root,
        meta=meta,
        rows=rows,
        labels=labels,
        test_parts=read_test_parts(root),
        digest=_digest(entries, "") if check_images else "",
    )


def split_rows(dataset: Dataset, split: Mapping[str, Any], which: str) -> list[dict[str, Any]]:
    """Return the manifest rows of ``dataset`` whose part is in ``split[which]``."""
    if which not in SPLITS:
        raise DatasetError(f"split: expected one of {SPLITS}, got {which!r}")
    parts = set(split[which])
    return [r for r in dataset.rows if r["part_id"] in parts]


def load_split(
    dataset_dir: str | Path, split: Mapping[str, Any], which: str
) -> tuple[list[Path], list[str]]:
    """Return the PNG paths and labels of one split of a dataset folder.

    Parameters
    ----------
    dataset_dir : path
        A folder written by ``metaview render``.
    split : mapping
        A ``split.json`` dict (``{"seed", "train", "val", "test"}``), as a
        training run logs it.
    which : {"train", "val", "test"}

    Returns
    -------
    paths : list of Path
        Absolute paths of the split's meta-image PNGs, in manifest order.
    labels : list of str
        Their class names.
    """
    dataset = load_dataset(dataset_dir, check_images=False)
    rows = split_rows(dataset, split, which)
    return [dataset.root / r["path"] for r in rows], [r["label"] for r in rows]
