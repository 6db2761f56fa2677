"""Read a rendered dataset folder, split it by part, and stream it through tf.data.

The folder is the one ``metaview render`` writes (see :mod:`metaimage.io`):
``metaimage.json``, ``manifest.csv`` (one row per meta-image PNG), optionally
``test_parts.txt``. Three steps:

1. :func:`load_dataset` reads and checks the folder: every PNG must exist and
   have the size ``metaimage.json`` promises, and every row must come from the
   same render config (``config_hash``). Unlabelled rows are dropped with a
   warning.
2. :func:`split_parts` assigns whole parts (all variants of a mesh) to train,
   validation and test, stratified by class and seeded; a fixed test list
   (``test_parts.txt``) is honoured.
3. :func:`make_dataset` streams PNGs from disk: read, decode, tile shuffle
   (training only) and resize with :func:`prepare_images` (the one resize
   function training, prediction and export share), in parallel across
   images; then batching and prefetching.

TensorFlow is imported inside the functions that need it, so the first two
steps (and this module) stay cheap.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaimage.errors import DatasetError
from metaimage.io import image_size, read_manifest, read_metaimage_json, read_test_parts

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Dataset:
    """A checked dataset folder: its metadata and labelled meta-images.

    Attributes
    ----------
    root : Path
        The folder (absolute).
    meta : dict
        Its ``metaimage.json``.
    rows : list of dict
        Manifest rows with a non-empty label (see ``metaimage.io.read_manifest``).
    labels : tuple of str
        The class names, sorted: index ``i`` is output ``i`` of the model.
    test_parts : list of str or None
        The fixed test split from ``test_parts.txt``, if the folder has one.
    """

    root: Path
    meta: dict[str, Any]
    rows: list[dict[str, Any]]
    labels: tuple[str, ...]
    test_parts: list[str] | None = None
    n_unlabelled: int = 0
    grid: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        rows, cols = self.meta["grid"]
        object.__setattr__(self, "grid", (int(rows), int(cols)))

    def part_labels(self) -> dict[str, str]:
        """Return part id -> label (every variant of a part shares its label)."""
        return {r["part_id"]: r["label"] for r in self.rows}


def load_dataset(dataset_dir: str | Path, check_images: bool = True) -> Dataset:
    """Read and check a dataset folder written by ``metaview render``.

    Parameters
    ----------
    dataset_dir : path
        The folder holding ``metaimage.json`` and ``manifest.csv``.
    check_images : bool
        Read every PNG header and compare its size with ``metaimage.json``
        (milliseconds per file; on by default).

    Raises
    ------
    DatasetError
        If a file is missing or unreadable, a PNG's size disagrees with the
        grid and tile size of ``metaimage.json``, a row was rendered with
        another config (``config_hash``), a part carries two labels, or fewer
        than two classes are labelled. The message names the file.
    """
    root = Path(dataset_dir).resolve()
    if not root.is_dir():
        raise DatasetError(
            f"{root}: expected a dataset folder written by 'metaview render', found none"
        )
    meta = read_metaimage_json(root)
    json_path = root / "metaimage.json"
    try:
        rows_, cols_ = (int(v) for v in meta["grid"])
        tile = int(meta["tile"])
        h, w = (int(v) for v in meta["image_size"])
    except (TypeError, ValueError) as exc:
        raise DatasetError(
            f"{json_path}: expected grid [rows, cols], tile and image_size [h, w]: {exc}"
        ) from None
    if (h, w) != (rows_ * tile, cols_ * tile):
        raise DatasetError(
            f"{json_path}: image_size {[h, w]} disagrees with grid {[rows_, cols_]} x tile {tile} "
            f"(expected {[rows_ * tile, cols_ * tile]})"
        )
    manifest = read_manifest(root)
    if not manifest:
        raise DatasetError(f"{root / 'manifest.csv'}: no meta-images listed")
    labelled = []
    n_unlabelled = 0
    part_label: dict[str, str] = {}
    for row in manifest:
        png = root / row["path"]
        if row["config_hash"] != meta["config_hash"]:
            raise DatasetError(
                f"{png}: rendered with config_hash {row['config_hash']!r}, but {json_path} says "
                f"{meta['config_hash']!r}; the folder mixes render configs (re-render it)"
            )
        if check_images:
            size = image_size(png)
            if size != (h, w):
                raise DatasetError(
                    f"{png}: expected a {h}x{w} meta-image (grid {rows_}x{cols_}, tile {tile} px, "
                    f"from {json_path}), found {size[0]}x{size[1]}"
                )
        if not row["label"]:
            n_unlabelled += 1
            continue
        previous = part_label.setdefault(row["part_id"], row["label"])
        if previous != row["label"]:
            raise DatasetError(
                f"{root / 'manifest.csv'}: part {row['part_id']!r} has two labels, "
                f"{previous!r} and {row['label']!r}"
            )
        labelled.append(row)
    if n_unlabelled:
        log.warning(
            "%s: ignoring %d unlabelled meta-images (empty label) for training", root, n_unlabelled
        )
    labels = tuple(sorted({r["label"] for r in labelled}))
    if len(labels) < 2:
        raise DatasetError(
            f"{root / 'manifest.csv'}: expected at least 2 labelled classes to train on, found "
            f"{len(labels)} ({list(labels)})"
        )
    return Dataset(
        root=root,
        meta=meta,
        rows=labelled,
        labels=labels,
        test_parts=read_test_parts(root),
        n_unlabelled=n_unlabelled,
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
    labels : sequence of int
        Class index of each file.
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
        in 0..255, labels (b,) int32.
    """
    import tensorflow as tf

    from train import augment

    autotune = tf.data.AUTOTUNE
    rows, cols = grid
    files = tf.constant([str(p) for p in paths], dtype=tf.string)
    ys = tf.constant(np.asarray(labels, dtype=np.int32))
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
