"""Hand-made feature vectors for the classical models: pure numpy, no TensorFlow.

Two families, each a deterministic function from one input to a fixed-length float32
vector, documented bin by bin in its module:

- ``normals`` (:mod:`geometry.normals`): a mesh -> ``(NORMAL_FEATURES_DIM,)`` =
  (322,): area-weighted normal histograms of all faces and of the faces off the
  bounding box, and where those faces sit relative to each box side, after
  straightening a tilted part (:mod:`geometry.straighten`);
- ``colour-stats`` (:mod:`train.features.colour_stats`): a meta-image ->
  ``(colour_features_dim(),)`` = (19899,): quantised normal colours and ordered pairs of
  neighbouring colours inside tiles, the same for any tile order.

Over many files, :func:`extract_normals` and :func:`extract_colour_stats` run
:func:`train.features.cache.extract` (parallel, progress bar, ``.npz`` cache keyed by
family, version, parameters and the files' contents)::

    from train.features import extract_normals
    X = extract_normals(paths, cache_path=default_cache_path("parts/", "normals"))  # (N, 322)
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from geometry.normals import (
    NORMAL_FEATURES_DIM,
    NORMALS_VERSION,
    describe,
    mesh_features,
    normal_features,
)
from geometry.straighten import straighten
from train.errors import TrainError
from train.features.cache import default_workers, extract
from train.features.colour_stats import (
    COLOUR_VERSION,
    colour_describe,
    colour_features,
    colour_features_dim,
    image_features,
)

FAMILIES = ("normals", "colour-stats")

__all__ = [
    "COLOUR_VERSION",
    "FAMILIES",
    "NORMALS_VERSION",
    "NORMAL_FEATURES_DIM",
    "colour_describe",
    "colour_features",
    "colour_features_dim",
    "default_cache_path",
    "default_workers",
    "describe",
    "extract",
    "extract_colour_stats",
    "extract_normals",
    "image_features",
    "mesh_features",
    "normal_features",
    "straighten",
]


def default_cache_path(folder: str | os.PathLike, family: str) -> Path:
    """Where a dataset folder keeps a family's cache: ``folder/.features-<family>.npz``."""
    if family not in FAMILIES:
        raise TrainError(f"family: expected one of {', '.join(FAMILIES)}, got {family!r}")
    return Path(folder) / f".features-{family}.npz"


def extract_normals(
    paths: Sequence[str | os.PathLike],
    *,
    cache_path: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> np.ndarray:
    """``normals`` features of mesh files: ``(N, NORMAL_FEATURES_DIM)`` float32.

    See :func:`train.features.cache.extract` for the parameters and errors.
    """
    return extract(
        paths,
        mesh_features,
        key={"family": "normals", "version": NORMALS_VERSION},
        cache_path=cache_path,
        workers=workers,
        progress=progress,
    )


def extract_colour_stats(
    paths: Sequence[str | os.PathLike],
    rows: int,
    cols: int,
    *,
    cache_path: str | os.PathLike | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> np.ndarray:
    """``colour-stats`` features of meta-image files: ``(N, colour_features_dim())`` float32.

    ``rows, cols`` is the grid the images were rendered with (``metaimage.json``). See
    :func:`train.features.cache.extract` for the other parameters and errors.
    """
    return extract(
        paths,
        functools.partial(image_features, rows=rows, cols=cols),
        key={"family": "colour-stats", "version": COLOUR_VERSION, "rows": rows, "cols": cols},
        cache_path=cache_path,
        workers=workers,
        progress=progress,
    )
