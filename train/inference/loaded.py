"""A loaded classifier: what prediction needs to know about it, and the checks it makes.

A :class:`LoadedModel` (from :func:`train.inference.loading.load_model`) knows its
labels, the meta-image layout it was trained on (``metaimage.json``, checked as
:class:`metaimage.meta.MetaImageInfo`) and its input size, so prediction never guesses
a grid or a class order. :meth:`LoadedModel.check_input` refuses a meta-image PNG the
model does not fit: one from a dataset folder rendered with another render config, or
labelled there with a class the model does not know. A model trained on plain class
folders of PNGs (no ``metaimage.json``, see :func:`train.data.load_dataset`) has no
render config: it takes PNGs of its size, and cannot render meshes
(:attr:`LoadedModel.can_render`). :meth:`LoadedModel.predict` runs a Keras model (its
frozen backbone on the run's runtime, :mod:`train.runtimes`), a ``.tflite`` file or a
compact model (:mod:`train.inference.compact`).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaimage.errors import DatasetError
from metaimage.meta import MetaImageInfo
from train.errors import TrainError
from train.inference.metadata import is_class_folder_layout
from train.inference.tflite import TFLiteModel

log = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A classifier with what prediction needs to know about it.

    Attributes
    ----------
    keras_model : keras.Model or None
        Input (None, S, S, 3) float32 in [0, 255], output softmax (None, n_classes).
    tflite : TFLiteModel or None
        Set instead of ``keras_model`` for a ``.tflite`` file.
    labels : list of str
        Class names in output order.
    metaimage : dict
        The training dataset's ``metaimage.json`` (grid, tile, image_size, config, ...).
    image_size : int
        The model's input size S (0 for a feature-vector model).
    run_id : str or None
        The MLflow run the model comes from, if known.
    source : str
        Where it was loaded from, for messages (``runs:/<id>/model``, a path).
    info : dict
        Anything else known (the sidecar of a ``.tflite`` file).
    """

    keras_model: Any
    labels: list[str]
    metaimage: dict
    image_size: int
    run_id: str | None
    source: str
    tflite: TFLiteModel | None = None
    info: dict = field(default_factory=dict)
    # The feature-vector family the model takes ("normals", "colour-stats"), "" for images.
    features: str = ""
    # True for a model trained with ``--objective sets``: one sigmoid per direction, each
    # the probability that the direction reaches the part (they need not sum to 1).
    multi_label: bool = False
    _fits: dict = field(default_factory=dict, repr=False)  # check_input's per-folder cache
    # Where the frozen backbone of an image model runs (train.runtimes): the run's --runtime.
    runtime: str = "tensorflow"
    _call: Any = field(default=None, repr=False)  # the model on its runtime, built once
    # The view-pooled family's per-tile backbone on its runtime, built on first use.
    _tiles: Any = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        """``"keras"``, ``"tflite"``, or ``"compact"`` (no Keras model: a converted backbone
        and a NumPy head, :mod:`train.inference.compact`)."""
        if self.tflite is not None:
            return "tflite"
        return "keras" if self.keras_model is not None else "compact"

    @property
    def meta_image_shape(self) -> tuple[int, int]:
        """(height, width) of the meta-images the model was trained on."""
        h, w = self.metaimage["image_size"]
        return int(h), int(w)

    @property
    def metaimage_info(self) -> MetaImageInfo | None:
        """The training data's ``metaimage.json`` as checked data (None: plain class folders)."""
        if is_class_folder_layout(self.metaimage):
            return None
        return MetaImageInfo.from_dict(self.metaimage, where=f"{self.source}: metaimage.json")

    @property
    def can_render(self) -> bool:
        """Whether meshes can be rendered for this model (it knows its render config)."""
        return not is_class_folder_layout(self.metaimage)

    def render_config(self) -> dict:
        """The render config to draw meshes with for this model.

        Raises
        ------
        TrainError
            For a model trained on plain class folders of PNGs, which has none.
        """
        if not self.can_render:
            raise TrainError(
                f"{self.source} was trained on plain class folders of PNGs (no metaimage.json): "
                "it has no render config, so meshes cannot be rendered for it; give it "
                f"{self.meta_image_shape[0]}x{self.meta_image_shape[1]} meta-image PNGs"
            )
        return dict(self.metaimage["config"])

    def check_input(self, path: str | os.PathLike) -> None:
        """Refuse a meta-image PNG whose dataset folder says the model does not fit it.

        The PNG's dataset folder is the first of its folder and that folder's parent
        holding ``metaimage.json`` (``DATA/x.png``, ``DATA/<class>/x.png``). A PNG
        outside any dataset folder is not checked here (its size is, by the caller).

        Raises
        ------
        DatasetError
            Naming the file, the model and both sides: the folder was rendered with
            another render config (``config_hash``, grid, tile, normals), or its
            ``manifest.csv`` labels the file with a class the model does not know.
        """
        path = Path(path)
        folder = dataset_folder_of(path)
        if folder is None:
            return
        if folder not in self._fits:
            self._fits[folder] = _folder_fit(self, folder)
        problem, labels_of = self._fits[folder]
        if problem:
            raise DatasetError(f"{path}: {problem}")
        label = labels_of.get(path.resolve())
        if label and label not in self.labels:
            raise DatasetError(
                f"{path}: labelled {label!r} in {folder / 'manifest.csv'}, a class {self.source} "
                f"does not know (its classes: {', '.join(self.labels)}); use a model trained on "
                f"this dataset's classes (--model, --experiment)"
            )

    def predict(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Return class probabilities.

        Parameters
        ----------
        x : (n, S, S, 3) float32, or (n, D) float32 for a feature-vector model
            Pixel values in [0, 255], resized to ``image_size``; or the family's features.
        batch_size : int
            At most this many inputs a forward pass; images go fewer at a time, as
            :func:`train.batching.images_per_batch` allows, so memory is bounded by
            pixels (two 960 px meta-images a pass), not by ``n``.

        Returns
        -------
        (n, len(labels)) float32
        """
        from train import batching

        x = np.asarray(x, dtype=np.float32)
        if self.features:
            if x.ndim != 2:
                raise TrainError(f"expected {self.features} features (n, D), found {x.shape}")
        elif x.ndim != 4 or x.shape[1:] != (self.image_size, self.image_size, 3):
            raise TrainError(
                f"expected input of shape (n, {self.image_size}, {self.image_size}, 3), found "
                f"{x.shape}"
            )
        if self.tflite is not None:
            return self.tflite.predict(x)
        if not len(x):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        if self._call is None and self.features:
            # A head on feature vectors: a direct call costs less than a trace.
            self._call = lambda v: np.asarray(self.keras_model(v, training=False))
        elif self._call is None:
            self._call = _image_call(self.keras_model, self.runtime)
        per_batch = batching.images_per_batch(self.image_size, most=batch_size)
        return batching.run_batched(self._call, x, per_batch)


def _image_call(net, runtime: str):
    """An image classifier as one function (n, S, S, 3) -> (n, classes), on ``runtime``.

    TensorFlow: the whole model traced once (about a second): a graph frees activations
    as it goes, where an eager call holds twice the memory at half the speed. LiteRT: the
    backbone and its pooling on LiteRT (converted once and cached, see
    :mod:`train.runtimes`), the head traced on TensorFlow.
    """
    from train import batching, runtimes
    from train.models import classifier

    names = {layer.name for layer in net.layers}
    if runtimes.resolve(runtime) == "tensorflow" or "pool" not in names:
        return batching.compiled(net)
    backbone, _ = runtimes.backbone_runner(classifier.feature_extractor(net), runtime)
    head = batching.compiled(classifier.head_model(net))
    return lambda x: head(backbone(x))


def dataset_folder_of(png: Path) -> Path | None:
    """The dataset folder (with ``metaimage.json``) that holds ``png`` as ``metaview render``
    writes it, ``DATA/<class>/<part>_v<k>.png`` or ``DATA/<part>_v<k>.png``, or None."""
    for folder in (png.parent, png.parent.parent):
        if (folder / "metaimage.json").is_file():
            return folder.resolve()
    return None


def _describe(info: MetaImageInfo) -> str:
    rows, cols = info.grid
    return (
        f"config {info.config_hash}: grid {rows}x{cols}, tile {info.tile} px, "
        f"normals {info.normals}"
    )


def _folder_fit(loaded: LoadedModel, folder: Path) -> tuple[str, dict[Path, str]]:
    """(problem or "", PNG path -> manifest label) of a dataset folder, for ``loaded``."""
    from metaimage.io import read_manifest, read_metaimage_info

    try:
        theirs = read_metaimage_info(folder)
    except DatasetError as exc:
        return f"its dataset folder's metaimage.json cannot be read: {exc}", {}
    ours = loaded.metaimage_info
    if ours is None:
        return "", {}  # a class-folder model: only the size can be checked
    if theirs.config_hash != ours.config_hash:
        return (
            f"its dataset {folder} was rendered with {_describe(theirs)}, but {loaded.source} was "
            f"trained on {_describe(ours)}; predict the meshes instead (they are rendered with "
            "the model's config), or use a model trained on this render config",
            {},
        )
    labels: dict[Path, str] = {}
    if (folder / "manifest.csv").is_file():
        try:
            labels = {(folder / r["path"]).resolve(): r["label"] for r in read_manifest(folder)}
        except DatasetError as exc:
            log.debug("%s: manifest not read for label checks: %s", folder, exc)
    return "", labels
