"""Classify workpieces with a loaded model: meshes rendered on the fly, or meta-image PNGs.

A mesh is rendered with the render config the model was trained on (the
``config`` of its ``metaimage.json``) by :class:`render.worker.MeshRenderer`, a
spawned child process that reuses one renderer for every mesh: headless GL (Mesa
llvmpipe) and TensorFlow crash when they share a process. A PNG must already be
a meta-image of the size the model was trained on. Both are resized with
:func:`train.data.prepare_images`, the resize the training pipeline uses.

A model of a feature-vector family (``loaded.features``) gets what its family needs:
``normals`` the face-normal features of the mesh (a mesh file is required),
``colour-stats`` the colour statistics of the meta-image (rendered from a mesh, or a PNG).

A PNG the model does not fit is refused too (:meth:`LoadedModel.check_input`): one
from a dataset folder rendered with another render config, or labelled there with a
class the model does not know. A model trained on plain class folders of PNGs has
no render config: it takes PNGs, and refuses meshes.

A bad input (missing file, unreadable mesh, PNG of the wrong size or render config)
becomes an error for that file; the other files are still predicted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaview.errors import MetaviewError
from render.worker import MeshRenderer
from train.inference.loading import LoadedModel

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png",)


@dataclass
class Prediction:
    """The result for one input file.

    Attributes
    ----------
    file : str
        The input path as given.
    label : str or None
        Top class (None when the file failed).
    probability : float or None
        Its probability.
    probabilities : dict
        Class name -> probability, highest first.
    error : str or None
        Why the file could not be predicted (None on success).
    """

    file: str
    label: str | None = None
    probability: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True if the file was predicted."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: file, label, probability, probabilities, error."""
        return {
            "file": self.file,
            "label": self.label,
            "probability": self.probability,
            "probabilities": self.probabilities,
            "error": self.error,
        }


def _is_image(path: Path) -> bool:
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


def predict_files(
    paths: Sequence[str | os.PathLike],
    loaded: LoadedModel,
    batch_size: int = 32,
    variants: int | None = None,
) -> list[Prediction]:
    """Predict the class of each input file.

    Parameters
    ----------
    paths : sequence of path-like
        Mesh files (rendered with the model's render config, see
        :class:`render.worker.MeshRenderer`) and/or meta-image PNGs, in any mix.
    loaded : LoadedModel
        From :func:`train.inference.loading.load_model`.
    batch_size : int
        Inputs are read, rendered, resized and predicted this many at a time.
    variants : int, optional
        Meta-images rendered per mesh (variant 0 and randomly turned ones) whose
        probabilities are averaged; default the training dataset's ``variants``, so a
        part is judged as the test split was. A PNG is one meta-image.

    Returns
    -------
    list of Prediction
        One per input, in input order; failed files carry ``error``.
    """
    results = [Prediction(file=str(p)) for p in paths]
    if variants is None:
        variants = int(loaded.metaimage.get("variants", 1) or 1)
    # Chunks of batch_size keep memory bounded for long input lists; one worker renders them all.
    with MeshRenderer(loaded.metaimage["config"]) as renderer:
        for start in range(0, len(results), batch_size):
            _predict_chunk(results[start : start + batch_size], loaded, renderer, variants)
    for r in results:
        if r.error:
            log.debug("%s failed: %s", r.file, r.error)
    return results


def _family_inputs(loaded: LoadedModel, images: list) -> np.ndarray:
    """A feature-vector family's inputs: (n, D) float32 from the files or their meta-images."""
    from train import features as F

    rows, cols = loaded.metaimage["grid"]
    return np.stack([F.colour_features(im, rows, cols) for im in images]).astype(np.float32)


def _predict_chunk(
    chunk: list[Prediction], loaded: LoadedModel, renderer: MeshRenderer, variants: int = 1
) -> None:
    from train.data import prepare_images

    images: dict[int, np.ndarray] = {}
    meshes = []
    for i, r in enumerate(chunk):
        if getattr(loaded, "features", "") == "normals":
            # The mesh itself is the input: no rendering, and a meta-image will not do.
            if _is_image(Path(r.file)):
                r.error = (
                    f"{r.file}: a 'normals' model reads the part's mesh (STL, OBJ, ...), "
                    "not a meta-image"
                )
            elif not Path(r.file).is_file():
                r.error = f"{r.file}: no such file"
            else:
                from train.features import mesh_features

                try:  # the face-normal features stand in for the meta-image
                    images[i] = mesh_features(r.file)
                except Exception as exc:  # any failure is this file's error
                    r.error = str(exc) if r.file in str(exc) else f"{r.file}: {exc}"
            continue
        if not _is_image(Path(r.file)):
            if not Path(r.file).is_file():
                r.error = f"{r.file}: no such file"
            elif not loaded.can_render:
                try:
                    loaded.render_config()  # raises, saying why
                except MetaviewError as exc:
                    r.error = f"{r.file}: {exc}"
            else:
                meshes.append(i)
            continue
        try:
            images[i] = load_png(r.file, loaded)
        except MetaviewError as exc:
            r.error = str(exc)
    want = loaded.meta_image_shape
    for i, (image, error) in zip(
        meshes, renderer.render([chunk[i].file for i in meshes], variants), strict=True
    ):
        if error is not None:
            chunk[i].error = error
        elif image.shape[-3:-1] != want:
            chunk[i].error = (
                f"{chunk[i].file}: rendered a {image.shape[0]}x{image.shape[1]} meta-image, "
                f"the model expects {want[0]}x{want[1]} "
                "(metaimage.json's config and image_size disagree)"
            )
        else:
            images[i] = image
    if not images:
        return
    idx = sorted(images)
    # Every input may bring several meta-images (variants): predict them all, then average
    # each input's probabilities.
    stacks = [images[i] if images[i].ndim == 4 else images[i][None] for i in idx]
    if getattr(loaded, "features", "") == "normals":
        stacks = [images[i][None] for i in idx]
        x = np.concatenate(stacks).astype(np.float32)
    elif getattr(loaded, "features", ""):
        x = _family_inputs(loaded, list(np.concatenate(stacks)))
    else:
        x = np.asarray(prepare_images(np.concatenate(stacks), loaded.image_size), np.float32)
    probs = loaded.predict(x)
    bounds = np.cumsum([0, *(len(s) for s in stacks)])
    mean = [probs[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for i, p in zip(idx, mean, strict=True):
        res = chunk[i]
        ranked = np.argsort(-p, kind="stable")
        res.label = loaded.labels[int(ranked[0])]
        res.probability = float(p[ranked[0]])
        res.probabilities = {loaded.labels[int(k)]: float(p[k]) for k in ranked}


def format_prediction(pred: Prediction, top: int | None = None) -> str:
    """One line for a person: ``file  label  p  (other p, ...)`` or ``file  error: reason``.

    Parameters
    ----------
    top : int or None
        Show this many classes in all (the top one included); None shows all.
    """
    if not pred.ok:
        return f"{pred.file}  error: {pred.error}"
    items = list(pred.probabilities.items())[1 : None if top is None else max(top, 1)]
    others = ", ".join(f"{name} {p:.3f}" for name, p in items)
    line = f"{pred.file}  {pred.label}  {pred.probability:.3f}"
    return f"{line}  ({others})" if others else line
