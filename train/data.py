"""Read a rendered dataset folder, split it by part, and stream it through tf.data.

The folder is the one ``metaview render`` writes (see :mod:`metaimage.io`):
``metaimage.json``, ``manifest.csv`` (one row per meta-image PNG), optionally
``test_parts.txt``. Three steps:

1. :func:`load_dataset` reads and checks the folder: every PNG must exist, have
   the size ``metaimage.json`` promises and, where the manifest recorded them,
   the byte size and SHA-256 it was written with (a truncated or damaged PNG is
   named here, not by a TensorFlow error in the middle of training); every row
   must come from the same render config (``config_hash``). Unlabelled rows are
   dropped with a warning. A plain folder of class folders of PNGs (Keras'
   ``image_dataset_from_directory`` layout: ``DATA/<class>/*.png``) is read too,
   with a warning about what it cannot tell (the grid, the parts, the render config).
2. :func:`split_parts` assigns whole parts (all variants of a mesh) to train,
   validation and test, stratified by class and seeded; a fixed test list
   (``test_parts.txt``) is honoured.
3. :func:`make_dataset` streams PNGs from disk: read, decode, tile shuffle
   (training only) and resize with :func:`prepare_images` (the one resize
   function training, prediction and export share), in parallel across
   images; then batching and prefetching. :func:`naming_bad_files` turns a
   decoding error there into one that names the file.

TensorFlow is imported inside the functions that need it, so the first two
steps (and this module) stay cheap.

Why one module of this size: every way a dataset is read (rendered folder, plain class
folders), checked and split by part, and the tf.data pipeline built from it, are kept
together so that one set of checks guards them all.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

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

_GRID = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


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


def parse_grid(text: str) -> tuple[int, int]:
    """``"10x10"`` -> ``(10, 10)``: a meta-image grid as ``ROWSxCOLS``, both positive.

    Raises
    ------
    DatasetError
        For anything else.
    """
    m = _GRID.match(str(text))
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise DatasetError(
            f"grid: expected ROWSxCOLS of positive integers (e.g. 10x10), got {text!r}"
        )
    return int(m.group(1)), int(m.group(2))


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


def split_parts(
    part_labels: Mapping[str, str],
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
    test_parts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Split parts into train / val / test, stratified by class and seeded.

    Parameters
    ----------
    part_labels : mapping part id -> label
    val_fraction, test_fraction : float
        Fractions of each class's parts. Each is rounded; a class with at least
        3 parts gets at least one part in validation and in test (and keeps at
        least one for training).
    seed : int
        The same seed and parts give the same split.
    test_parts : sequence of str, optional
        A fixed test split (from ``test_parts.txt``): exactly these parts are
        the test set; the rest are split into train and val (ids not in
        ``part_labels`` are ignored with a warning).

    Returns
    -------
    dict
        ``{"seed": int, "train": [...], "val": [...], "test": [...]}``, each list
        of part ids sorted.

    Raises
    ------
    DatasetError
        If a class has too few parts to give each split at least one part.
    """
    by_class: dict[str, list[str]] = {}
    for part, label in part_labels.items():
        by_class.setdefault(label, []).append(part)
    fixed_test: set[str] = set()
    if test_parts is not None:
        fixed_test = {p for p in test_parts if p in part_labels}
        unknown = sorted(set(test_parts) - fixed_test)
        if unknown:
            log.warning(
                "test_parts.txt: %d part ids are not labelled meta-images here, ignored: %s",
                len(unknown),
                ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else ""),
            )
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for label in sorted(by_class):
        parts = sorted(by_class[label])
        # A per-class generator derived from the seed and the class name: adding a
        # class does not reshuffle the others.
        rng = np.random.default_rng([seed, zlib.crc32(label.encode("utf-8"))])
        if test_parts is not None:
            test = [p for p in parts if p in fixed_test]
            rest = [p for p in parts if p not in fixed_test]
            if not test:
                log.warning(
                    "test_parts.txt lists no part of class %r: it has no test metrics", label
                )
            if len(rest) < 2:
                raise DatasetError(
                    f"class {label!r}: expected at least 2 parts outside test_parts.txt (one for "
                    f"training, one for validation), found {len(rest)}"
                )
            rest = [rest[i] for i in rng.permutation(len(rest))]
            n_val = min(max(1, round(val_fraction * len(parts))), len(rest) - 1)
            out["test"] += test
            out["val"] += rest[:n_val]
            out["train"] += rest[n_val:]
            continue
        n = len(parts)
        if n < 3:
            raise DatasetError(
                f"class {label!r}: expected at least 3 labelled parts (one each for training, "
                f"validation and test), found {n}; add parts or list test parts in test_parts.txt"
            )
        n_test = max(1, round(test_fraction * n))
        n_val = max(1, round(val_fraction * n))
        while n_test + n_val > n - 1:  # keep at least one part to train on
            if n_test >= n_val:
                n_test -= 1
            else:
                n_val -= 1
        order = [parts[i] for i in rng.permutation(n)]
        out["test"] += order[:n_test]
        out["val"] += order[n_test : n_test + n_val]
        out["train"] += order[n_test + n_val :]
    return {"seed": int(seed), **{s: sorted(out[s]) for s in SPLITS}}


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


def class_counts(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict[str, int]:
    """Return label -> number of meta-images in ``rows`` (0 for absent labels)."""
    counts = Counter(r["label"] for r in rows)
    return {label: counts.get(label, 0) for label in labels}


def class_weights(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> dict[int, float]:
    """Inverse-frequency class weights of the training rows (``n / (k * n_c)``).

    Returns class index -> weight; a balanced split gives 1.0 for every class.
    """
    counts = class_counts(rows, labels)
    n, k = sum(counts.values()), len(labels)
    return {i: (n / (k * counts[lab]) if counts[lab] else 0.0) for i, lab in enumerate(labels)}


def prepare_images(images, size: int):
    """Resize meta-images to the model input: THE resize used by training, predict and export.

    Parameters
    ----------
    images : (n, h, w, 3) uint8 or float array (numpy) or tensor
        Meta-images with values in 0..255.
    size : int
        The model's input size in pixels.

    Returns
    -------
    (n, size, size, 3) float32, values in 0..255
        A numpy array for numpy input, a tensor for tensor input. Resized with
        area averaging (``tf.image.resize(method="area")``), which averages the
        pixels of each output pixel rather than sampling them, so thin edges in
        small tiles survive downscaling. The EfficientNet model rescales 0..255
        itself.
    """
    if isinstance(images, np.ndarray) and images.ndim == 4 and images.shape[1:] == (size, size, 3):
        return images.astype(np.float32)  # nothing to resize: no TensorFlow to import
    import tensorflow as tf

    is_numpy = isinstance(images, np.ndarray)
    x = tf.convert_to_tensor(images)
    if x.shape.rank != 4 or (x.shape[-1] is not None and x.shape[-1] != 3):
        raise DatasetError(
            f"prepare_images: expected (n, h, w, 3) images, got shape {tuple(x.shape)}"
        )
    x = tf.cast(x, tf.float32)
    if x.shape[1] != size or x.shape[2] != size:
        x = tf.image.resize(x, (size, size), method="area")
    return x.numpy() if is_numpy else x


def make_dataset(
    paths: Sequence[str | Path],
    labels: Sequence[int],
    *,
    image_size: int,
    grid: tuple[int, int],
    batch_size: int,
    training: bool = False,
    shuffle_tiles: bool = True,
    seed: int = 0,
):
    """A tf.data pipeline that streams meta-image PNGs from disk.

    Parameters
    ----------
    paths : sequence of path
        PNG files, all of the same size.
    labels : sequence of int, or (n, k) float array
        Class index of each file, or its target codes for a set objective
        (:func:`train.labelsets.targets`).
    image_size : int
        Model input size in pixels (see :func:`prepare_images`).
    grid : (rows, cols)
        The meta-image grid, for tile shuffling.
    batch_size : int
    training : bool
        Shuffle the order every epoch and (with ``shuffle_tiles``) the tiles of
        every meta-image. Off for validation, test and prediction.
    shuffle_tiles : bool
        Tile-shuffle augmentation (training only).
    seed : int
        Seeds the order and the tile permutations; they change every epoch.

    Returns
    -------
    tf.data.Dataset
        Of ``(images, labels)``: images (b, image_size, image_size, 3) float32
        in 0..255, labels (b,) int32 (or (b, k) float32 codes).
    """
    import tensorflow as tf

    from train import augment

    autotune = tf.data.AUTOTUNE
    rows, cols = grid
    files = tf.constant([str(p) for p in paths], dtype=tf.string)
    ys = np.asarray(labels)
    ys = tf.constant(ys.astype(np.float32 if ys.ndim == 2 else np.int32))
    ds = tf.data.Dataset.from_tensor_slices((files, ys))
    if training:
        ds = ds.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)

    augment_tiles = training and shuffle_tiles
    if augment_tiles:
        # One stateless seed per image and epoch: repeatable, and parallel-safe.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
    else:
        seeds = tf.data.Dataset.from_tensors(tf.zeros([2], tf.int64)).repeat()
    ds = tf.data.Dataset.zip((ds, seeds))

    def _load(xy, s):
        # Decode, shuffle and resize one image per call, so all three run in
        # parallel across images (measured faster than resizing whole batches).
        image = tf.io.decode_png(tf.io.read_file(xy[0]), channels=3)
        if augment_tiles:
            image = augment.shuffle_tiles(image, rows, cols, s)
        return prepare_images(image[None], image_size)[0], xy[1]

    ds = ds.map(_load, num_parallel_calls=autotune)
    return ds.batch(batch_size).prefetch(autotune)


def find_undecodable(paths: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Return ``(path, reason)`` for each PNG that TensorFlow cannot read or decode.

    Decodes every file with ``tf.io.decode_png``, the decoder of :func:`make_dataset`,
    one at a time (about a millisecond each): the slow path that runs only after
    the pipeline failed.
    """
    import tensorflow as tf

    bad = []
    for p in paths:
        try:
            tf.io.decode_png(tf.io.read_file(str(p)), channels=3)
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as exc:
            bad.append(
                (Path(p), exc.message.splitlines()[0] if exc.message else type(exc).__name__)
            )
    return bad


@contextlib.contextmanager
def naming_bad_files(paths: Sequence[str | Path]):
    """Turn a decoding error of the tf.data pipeline into a :class:`DatasetError` naming the file.

    TensorFlow's ``InvalidArgumentError`` for a damaged PNG says nothing about which
    file it was. Inside this block such an error makes every path in ``paths`` be
    decoded once (:func:`find_undecodable`); if some fail, a ``DatasetError`` names
    them (chained to TensorFlow's error), else the original error goes on unchanged.

    Parameters
    ----------
    paths : sequence of path
        Every PNG the pipelines inside the block read.
    """
    import tensorflow as tf

    try:
        yield
    except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as exc:
        bad = find_undecodable(paths)
        if not bad:
            raise
        first, reason = bad[0]
        more = ""
        if len(bad) > 1:
            shown = ", ".join(str(p) for p, _ in bad[1:4])
            more = f"; {len(bad) - 1} more: {shown}" + (" ..." if len(bad) > 4 else "")
        raise DatasetError(
            f"{first}: TensorFlow cannot decode this PNG ({reason}); re-render the dataset or "
            f"remove the file{more}"
        ) from exc
