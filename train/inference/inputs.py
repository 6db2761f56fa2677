"""Meta-image PNG inputs of a prediction: which files are PNGs, and reading one the model fits.

A PNG must already be a meta-image of the size the model was trained on. One the model
does not fit is refused too (:meth:`LoadedModel.check_input`): one from a dataset folder
rendered with another render config, or labelled there with a class the model does not
know.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from train.inference.loaded import LoadedModel

IMAGE_SUFFIXES = (".png",)


def is_image(path: Path) -> bool:
    """True if ``path`` names a meta-image (a suffix in :data:`IMAGE_SUFFIXES`), not a mesh."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def load_png(path: str | os.PathLike, loaded: LoadedModel) -> np.ndarray:
    """Read a meta-image PNG and check it has the size the model was trained on.

    Returns
    -------
    (h, w, 3) uint8
        ``(h, w) == loaded.meta_image_shape``.

    Raises
    ------
    DatasetError
        Missing or unreadable file, a PNG of another size (naming both sizes), or
        one whose dataset folder says the model does not fit it (another render
        config, a class the model does not know; see ``LoadedModel.check_input``).
    """
    from metaimage.errors import DatasetError
    from metaimage.io import read_png

    path = Path(path)
    want = loaded.meta_image_shape
    image = read_png(path)
    if image.shape[:2] != want:
        rows, cols = loaded.metaimage["grid"]
        raise DatasetError(
            f"{path}: expected a {want[0]}x{want[1]} meta-image (a {rows}x{cols} grid of "
            f"{loaded.metaimage['tile']} px tiles, as the model was trained on), "
            f"found {image.shape[0]}x{image.shape[1]}"
        )
    loaded.check_input(path)
    return image
