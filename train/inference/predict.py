"""Classify workpieces with a loaded model: meshes rendered on the fly, or meta-image PNGs.

A mesh is rendered with the render config the model was trained on (the
``config`` of its ``metaimage.json``) by :class:`render.worker.MeshRenderer`, a
spawned child process that reuses one renderer for every mesh: headless GL (Mesa
llvmpipe) and TensorFlow crash when they share a process. A PNG must already be
a meta-image of the size the model was trained on. Both are resized with
:func:`train.pipeline.prepare_images`, the resize the training pipeline uses.

A model of a feature-vector family (``loaded.features``) gets what its family needs:
``normals`` the face-normal features of the mesh (a mesh file is required),
``colour-stats`` the colour statistics of the meta-image (rendered from a mesh, or a PNG).

A PNG the model does not fit is refused too (:meth:`LoadedModel.check_input`): one
from a dataset folder rendered with another render config, or labelled there with a
class the model does not know. A model trained on plain class folders of PNGs has
no render config: it takes PNGs, and refuses meshes.

A bad input (missing file, unreadable mesh, PNG of the wrong size or render config)
becomes an error for that file; the other files are still predicted.

Every mesh predicted is also analysed geometrically (:func:`geometry.reach.reach_file`, a
few ms a part): its *reachable set*, the directions that reach every feature face, is
recorded next to the model's answer, and :attr:`Prediction.agrees` says whether the top
class is among them. The analysis only informs: when it fails, the prediction stands and
``reach_error`` says why. A multi-label model (one sigmoid per direction,
``loaded.multi_label``) also predicts a set, :func:`predicted_set`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from base import native
from base.errors import MetaviewError
from base.progress import progress as progress_bar
from render.worker import MeshRenderer
from train.errors import TrainError
from train.inference.loaded import LoadedModel
from train.labelsets import predicted_sets

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png",)
#: Meta-image pixels held at once while predicting: 12 meta-images of 960 px (4 files of 3
#: variants), 33 MB as rendered and 130 MB once resized to float32 for the model.
CHUNK_PIXELS = 12 * 960 * 960
# An analysis error shown in a text line is cut to this many characters (JSON has it whole).
_SHORT_ERROR = 80


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
    predicted_set : tuple of str
        The model's answer as a set (:func:`predicted_set`): ``(label,)`` for a softmax
        model, every direction at or above :data:`train.labelsets.SET_THRESHOLD` for a
        multi-label one; ``()`` when the file failed.
    multi_label : bool
        The model is multi-label (one sigmoid per direction): the text line shows the set.
    reachable : tuple of str or None
        The directions that reach every feature face of the mesh (class order; ``()`` for
        an undercut), from :func:`geometry.reach.reach_file`. None when not analysed: a PNG,
        ``reach=False``, a failed prediction, or a failed analysis.
    reach_error : str or None
        Why the analysis failed (the prediction itself still stands).
    reach_reasons : dict
        Direction -> why it does not reach every feature, for each direction outside
        ``reachable`` (``ReachResult.reasons()``); empty when not analysed.
    """

    file: str
    label: str | None = None
    probability: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    predicted_set: tuple[str, ...] = ()
    multi_label: bool = False
    reachable: tuple[str, ...] | None = None
    reach_error: str | None = None
    reach_reasons: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if the file was predicted."""
        return self.error is None

    @property
    def agrees(self) -> bool | None:
        """Whether the top class is among the part's reachable directions.

        None when there is nothing to compare: the mesh was not analysed, no direction
        reaches every feature (an undercut: ``reachable == ()``), or the model's class is
        not a direction name (a model trained on other classes).
        """
        if not self.reachable or self.label is None:
            return None
        from geometry.directions import DIRECTIONS

        if self.label not in DIRECTIONS:
            return None
        return self.label in self.reachable

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the fields (``reachable`` a list or None) and ``agrees``.

        ``multi_label`` and ``reach_reasons`` are left out: ``predicted_set`` and the
        text line carry them.
        """
        return {
            "file": self.file,
            "label": self.label,
            "probability": self.probability,
            "probabilities": self.probabilities,
            "error": self.error,
            "predicted_set": list(self.predicted_set),
            "reachable": None if self.reachable is None else list(self.reachable),
            "reach_error": self.reach_error,
            "agrees": self.agrees,
        }


def predicted_set(
    probs: Sequence[float] | np.ndarray, labels: Sequence[str], multi_label: bool
) -> tuple[str, ...]:
    """The model's answer as a set of classes.

    Parameters
    ----------
    probs : (n_classes,) array-like
        One input's output, in label order.
    labels : sequence of str
        Class names in output order.
    multi_label : bool
        The outputs are independent sigmoids (each the probability that its direction
        reaches the part) rather than a softmax.

    Returns
    -------
    tuple of str
        Softmax: ``(top label,)``. Multi-label: every label whose probability is at least
        :data:`train.labelsets.SET_THRESHOLD`, in label order, the top label always among them.

    Raises
    ------
    TrainError
        If ``probs`` and ``labels`` differ in length or are empty.
    """
    p = np.asarray(probs, dtype=np.float64).reshape(1, -1)
    if p.shape[1] != len(labels) or len(labels) == 0:
        raise TrainError(f"expected one probability per label ({len(labels)}), found {p.size}")
    # train.labelsets decides, as it does when a run is scored.
    keep = predicted_sets(p, multi_label)[0]
    return tuple(name for name, k in zip(labels, keep, strict=True) if k)


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
    reach: bool = True,
    progress: bool | None = False,
    renderer: MeshRenderer | None = None,
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
        At most this many inputs are read, rendered, resized and predicted at a time;
        fewer for an image model, whose chunk is bounded by pixels
        (:func:`files_per_chunk`).
    variants : int, optional
        Meta-images rendered per mesh (variant 0 and randomly turned ones) whose
        probabilities are averaged; default the training dataset's ``variants``, so a
        part is judged as the test split was. A PNG is one meta-image.
    reach : bool
        Analyse every mesh predicted for the directions that reach all its features
        (``Prediction.reachable``); a PNG has no geometry and is never analysed.
    progress : bool or None
        Report progress on stderr (:func:`base.progress.progress`; None: as the
        command's logging). Off by default for library callers.
    renderer : MeshRenderer or None
        A renderer kept open across calls (``MeshRenderer(loaded.metaimage["config"])``,
        closed by its owner): a service predicting one part at a time then skips starting
        the render worker, about 2 s a call. None: one for this call.

    Returns
    -------
    list of Prediction
        One per input, in input order; failed files carry ``error``. A failed
        analysis leaves the prediction as it is, with ``reach_error`` set.
    """
    results = [Prediction(file=str(p)) for p in paths]
    if variants is None:
        variants = int(loaded.metaimage.get("variants", 1) or 1)
    per_chunk = files_per_chunk(loaded, variants, batch_size)
    # Chunks keep memory bounded by pixels for any number of inputs: only one chunk's
    # meta-images are held at a time; one worker renders them all.
    own = renderer is None
    if own:
        # A compact model runs without TensorFlow, so GL may share this process and the
        # worker's start (about 2 s, most of a cold one-part predict) is saved. Only where
        # base.native has prepared the process (the metaview command does): a caller
        # that imports TensorFlow later then still does not crash.
        alone = loaded.kind == "compact" and "tensorflow" not in sys.modules and native.applied()
        renderer = MeshRenderer(loaded.metaimage.get("config", {}), in_process=alone)
    with (
        contextlib.nullcontext() if not own else renderer,
        progress_bar(len(results), "predict", "file", enabled=progress) as bar,
    ):
        for start in range(0, len(results), per_chunk):
            chunk = results[start : start + per_chunk]
            _predict_chunk(chunk, loaded, renderer, variants)
            bar.update(len(chunk))
    if reach:
        for r in results:
            if r.ok and not _is_image(Path(r.file)):
                _add_reach(r)
    for r in results:
        if r.error:
            log.debug("%s failed: %s", r.file, r.error)
        elif r.reach_error:
            log.debug("%s: reach analysis failed: %s", r.file, r.reach_error)
    return results


def files_per_chunk(loaded: LoadedModel, variants: int, batch_size: int = 32) -> int:
    """How many input files :func:`predict_files` reads, renders and predicts at a time.

    A feature-vector model takes ``batch_size`` files. An image model takes as many as
    keep the chunk's meta-images within :data:`CHUNK_PIXELS` (each file brings
    ``variants`` of them), at least one and at most ``batch_size``.
    """
    if loaded.features:
        return max(1, batch_size)
    h, w = loaded.meta_image_shape
    images = max(1, CHUNK_PIXELS // max(1, h * w))
    return max(1, min(batch_size, images // max(1, variants)))


def _add_reach(pred: Prediction) -> None:
    """Record the mesh's reachable set on ``pred``, or why it could not be found."""
    from geometry.reach import reach_file

    try:
        result = reach_file(pred.file)
    except MetaviewError as exc:  # ReachError, MeshError: they name the file
        pred.reach_error = str(exc)
    except Exception as exc:  # one broken file never stops a batch (as assets.reach does)
        log.debug("reach analysis of %s failed", pred.file, exc_info=True)
        pred.reach_error = f"{pred.file}: {type(exc).__name__}: {exc}"
    else:
        pred.reachable = tuple(result.valid)
        pred.reach_reasons = dict(result.reasons())


def _family_inputs(loaded: LoadedModel, images: list) -> np.ndarray:
    """A feature-vector family's inputs: (n, D) float32 from the files or their meta-images."""
    from train import features as F

    rows, cols = loaded.metaimage["grid"]
    return np.stack([F.colour_features(im, rows, cols) for im in images]).astype(np.float32)


def _predict_chunk(
    chunk: list[Prediction], loaded: LoadedModel, renderer: MeshRenderer, variants: int = 1
) -> None:
    from train.pipeline import prepare_images

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
        res.multi_label = bool(getattr(loaded, "multi_label", False))
        res.predicted_set = predicted_set(p, loaded.labels, res.multi_label)


def format_prediction(pred: Prediction, top: int | None = None) -> str:
    """One line for a person: ``file  label  p  (other p, ...)`` or ``file  error: reason``.

    A multi-label model's set follows (``  set: x_plus|x_minus``), then, for an analysed
    mesh, its reachable set (``  reachable: x_plus|x_minus``, ``  reachable: none (...)``
    for an undercut, ``  reachable: ? (why)`` when the analysis failed) and, when the top
    class is not in it, ``  DISAGREES: x_plus does not reach every feature (why)``.

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
    if others:
        line += f"  ({others})"
    if pred.multi_label and pred.predicted_set:
        line += f"  set: {'|'.join(pred.predicted_set)}"
    if pred.reach_error is not None:
        line += f"  reachable: ? ({_short_error(pred.reach_error, pred.file)})"
    elif pred.reachable is not None and not pred.reachable:
        line += "  reachable: none (no direction reaches every feature)"
    elif pred.reachable is not None:
        line += f"  reachable: {'|'.join(pred.reachable)}"
        if pred.agrees is False:
            why = pred.reach_reasons.get(pred.label or "", "")
            line += f"  DISAGREES: {pred.label} does not reach every feature"
            line += f" ({why})" if why else ""
    return line


def _short_error(error: str, file: str) -> str:
    """An analysis error for a text line that already names the file: first line, cut short."""
    text = error.removeprefix(f"{file}: ").strip().splitlines()[0] if error.strip() else "failed"
    return text if len(text) <= _SHORT_ERROR else text[: _SHORT_ERROR - 3].rstrip() + "..."
