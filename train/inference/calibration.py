"""Inputs drawn from a run's splits: calibration for ``int8`` and the split readers under it.

A full-integer model is calibrated on inputs of the run's training split, as the model
takes them: meta-images (:func:`representative_images`, read lazily through
:class:`LazyImages`) or a feature-vector family's features (:func:`representative_features`;
``normals`` reads the meshes under the dataset's recorded ``source_dir``, or
``--meshes DIR`` when they moved). :func:`split_features` and :class:`LazyImages` also
give the test inputs that :mod:`train.inference.evaluation` evaluates on.
"""

from __future__ import annotations

import numpy as np

from train.inference.export_options import ExportError

DEFAULT_REPRESENTATIVE = 100  # calibration inputs for int8, drawn from the training split


def _read_images(paths, size: int) -> np.ndarray:
    """Read meta-image PNGs and resize them: (n, size, size, 3) float32 in [0, 255]."""
    from metaimage.io import read_png
    from train.pipeline import prepare_images

    if not paths:
        return np.zeros((0, size, size, 3), dtype=np.float32)
    return np.asarray(
        prepare_images(np.stack([read_png(p) for p in paths]), size), dtype=np.float32
    )


class LazyImages:
    """Meta-image PNGs read and resized only when sliced: memory for the slice, not for all.

    ``images[a:b]`` (or a list of indices) is (b - a, size, size, 3) float32 in [0, 255];
    ``len(images)`` is the number of files. Calibration and evaluation walk it a few
    images at a time (:func:`train.batching.images_per_batch`).
    """

    def __init__(self, paths, size: int):
        self.paths = list(paths)
        self.size = int(size)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index) -> np.ndarray:
        if isinstance(index, slice):
            return _read_images(self.paths[index], self.size)
        if isinstance(index, (list, tuple, np.ndarray)):
            return _read_images([self.paths[int(i)] for i in index], self.size)
        return _read_images([self.paths[int(index)]], self.size)[0]


def representative_images(
    dataset_dir, split: dict, size: int, n: int = DEFAULT_REPRESENTATIVE, seed: int = 0
) -> np.ndarray:
    """Draw calibration images for full-integer quantisation from the training split.

    Parameters
    ----------
    dataset_dir : path-like
        The dataset folder the run trained on.
    split : dict
        The run's ``split.json``.
    size : int
        Model input size.
    n : int
        At most this many images, drawn without replacement with ``seed``.

    Returns
    -------
    LazyImages
        ``m = min(n, training images)`` images, read when sliced: (k, size, size, 3)
        float32 in [0, 255].
    """
    from train.data import load_split

    paths, _ = load_split(dataset_dir, split, "train")
    if not paths:
        raise ExportError(
            f"{dataset_dir}: the run's training split is empty; int8 needs calibration images"
        )
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(paths), size=min(n, len(paths)), replace=False).tolist())
    return LazyImages([paths[i] for i in pick], size)


def split_features(
    features: str, dataset_dir, split: dict, which: str, meshes: str = ""
) -> tuple[np.ndarray, list[str]]:
    """A family's features of one split's rows, with their labels.

    Parameters
    ----------
    features : str
        The family (``"normals"``, ``"colour-stats"``).
    dataset_dir : path-like
        The dataset folder the run trained on.
    split : dict
        The run's ``split.json``.
    which : {"train", "val", "test"}
        The split part.
    meshes : str
        The mesh folder for ``normals`` ("": the dataset's recorded ``source_dir``).

    Returns
    -------
    x : (n, D) float32
        The family's features of the part's ``n`` rows; (0, 0) when it has none.
    labels : list of str
        The rows' class labels, in the same order.
    """
    from train.data import load_dataset, split_rows
    from train.featurize import family_features

    dataset = load_dataset(dataset_dir, check_images=False)
    rows = split_rows(dataset, split, which)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32), []
    # A missing mesh raises TrainError naming it and --meshes DIR.
    x = family_features(features, dataset, rows, meshes=meshes)
    return np.asarray(x, dtype=np.float32), [r["label"] for r in rows]


def representative_features(
    features: str,
    dataset_dir,
    split: dict,
    n: int = DEFAULT_REPRESENTATIVE,
    seed: int = 0,
    meshes: str = "",
) -> np.ndarray:
    """Calibration inputs of a feature-vector family, from the training split.

    Parameters
    ----------
    features : str
        The family (``"normals"``, ``"colour-stats"``).
    dataset_dir : path-like
        The dataset folder the run trained on.
    split : dict
        The run's ``split.json``.
    n : int
        At most this many rows, drawn without replacement with ``seed`` (as
        :func:`representative_images` draws images).
    meshes : str
        The mesh folder for ``normals`` ("": the dataset's recorded ``source_dir``).

    Returns
    -------
    (m, D) float32
        The family's features of ``m = min(n, training rows)`` rows.
    """
    x, _ = split_features(features, dataset_dir, split, "train", meshes)
    if not len(x):
        raise ExportError(
            f"{dataset_dir}: the run's training split is empty; int8 needs calibration inputs"
        )
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(x), size=min(n, len(x)), replace=False).tolist())
    return x[pick]
