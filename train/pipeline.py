"""Stream meta-image PNGs from disk through tf.data, and resize them for a model.

:func:`make_dataset` reads, decodes, tile-shuffles (training only) and resizes each
PNG with :func:`prepare_images` (the one resize function training, prediction and
export share), in parallel across images; then batching and prefetching.
:func:`naming_bad_files` turns a decoding error there into a
:class:`~metaimage.errors.DatasetError` that names the file.

TensorFlow is imported inside the functions that need it, so importing this module
stays cheap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from metaimage.errors import DatasetError
from train.errors import TrainError


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


def read_batch(paths, image_size: int) -> np.ndarray:
    """PNG files -> (n, image_size, image_size, 3) float32, naming a file that cannot be read."""
    from metaimage.io import read_png

    images = []
    for p in paths:
        try:
            images.append(read_png(p))
        except Exception as exc:  # name the file, whatever the decoder said
            raise TrainError(f"{p}: cannot read the meta-image: {exc}") from None
    return np.asarray(prepare_images(np.stack(images), image_size), dtype=np.float32)
