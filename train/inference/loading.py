"""Load a classifier from any ``--model`` spec, with what prediction needs to know about it.

Specs (parsed by :func:`train.inference.spec.parse_model_spec`, which documents the
grammar and the order of its checks): ``"best"``, ``"champion"``, a run id,
``runs:/RUN_ID/model``, ``models:/NAME/VERSION``, ``models:/NAME/latest``,
``models:/NAME@ALIAS``, ``file:PATH`` or a path. Every spec but a path names a run
(:func:`resolve_run_id`; a registered version is resolved to the run that logged
it), whose model, labels.json and metaimage.json are loaded
(:func:`load_run_model`). A path is tried as, in this order:

1. a ``.tflite`` file written by ``metaview export``; its ``<file>.tflite.json``
   sidecar carries the labels and the render config;
2. an MLflow model folder (with ``MLmodel``), labels.json and metaimage.json in it
   or beside it;
3. a folder of downloaded run artifacts (with ``model/MLmodel``, labels.json and
   metaimage.json);
4. a ``.keras`` file, with a ``<file>.keras.json`` sidecar or labels.json and
   metaimage.json beside it.

Every model comes back as a :class:`LoadedModel` that knows its labels, the
meta-image layout it was trained on (``metaimage.json``, checked as
:class:`metaimage.meta.MetaImageInfo`) and its input size, so prediction never
guesses a grid or a class order. :meth:`LoadedModel.check_input` refuses a
meta-image PNG the model does not fit: one from a dataset folder rendered with
another render config, or labelled there with a class the model does not know.
A model trained on plain class folders of PNGs (no ``metaimage.json``, see
:func:`train.data.load_dataset`) has no render config: it takes PNGs of its
size, and cannot render meshes (:attr:`LoadedModel.can_render`).

``"champion"`` is the experiment's own champion (``metaview-<experiment>@champion``),
the same as ``models:/metaview-<experiment>@champion``.
MLflow is reached only through :mod:`train.tracking`; Keras and TensorFlow are
imported inside the functions.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from metaimage.errors import DatasetError
from metaimage.meta import MetaImageInfo
from train import tracking
from train.errors import TrainError
from train.inference.spec import parse_model_spec
from train.inference.tflite import TFLiteModel
from train.tracking import artifacts
from train.tracking.names import MODEL_ARTIFACT, NO_RUNS_HINT

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".json"  # model.tflite -> model.tflite.json


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
        folder = _dataset_folder_of(path)
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


def _run_runtime(client, run_id: str, dst: str) -> str:
    """Where run ``run_id`` computed its features: its ``runtime.resolved`` parameter (what
    ``auto`` was on the training machine), else the ``runtime`` of its
    ``train_config.json``, else ``tensorflow`` (runs from before ``--runtime``).

    A head trained on one runtime's features predicts best on the same runtime's; where
    that runtime cannot run, :func:`train.runtimes.resolve` falls back with a warning.
    """
    params = client.get_run(run_id).data.params
    if params.get("runtime.resolved"):
        return str(params["runtime.resolved"])
    try:
        cfg = artifacts.download_json(run_id, "train_config.json", client.tracking_uri, dst)
    except TrainError:
        return "tensorflow"
    runtime = cfg.get("runtime") if isinstance(cfg, dict) else None
    return runtime if isinstance(runtime, str) and runtime else "tensorflow"


def is_class_folder_layout(metaimage: Any) -> bool:
    """True for the ``metaimage.json`` stand-in of a plain class-folder dataset."""
    return isinstance(metaimage, dict) and metaimage.get("layout") == "class-folders"


def _check_metadata(labels: Any, metaimage: Any, where: str) -> tuple[list[str], dict]:
    if not isinstance(labels, list) or not labels or not all(isinstance(s, str) for s in labels):
        raise TrainError(
            f"{where}: expected labels as a non-empty JSON list of class names, found {labels!r}"
        )
    if not isinstance(metaimage, dict):
        raise TrainError(
            f"{where}: expected metaimage.json as a JSON object, found {type(metaimage).__name__}"
        )
    if is_class_folder_layout(metaimage):
        missing = [k for k in ("grid", "image_size") if k not in metaimage]
        if missing:
            raise TrainError(f"{where}: metaimage.json lacks keys {missing}")
        return labels, metaimage
    try:
        MetaImageInfo.from_dict(metaimage, where=f"{where}: metaimage.json")
    except DatasetError as exc:
        raise TrainError(str(exc)) from None
    return labels, metaimage


def _dataset_folder_of(png: Path) -> Path | None:
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


def _features_of(shape: tuple) -> str:
    """The feature family a model with input ``shape`` (None, D) takes, "" for images."""
    from train.models import get_model_spec, list_models

    if len(shape) != 2:
        return ""
    for name in list_models(input_kind="features"):
        spec = get_model_spec(name)
        if spec.input_size == shape[1]:
            return spec.features
    raise TrainError(f"a model taking {shape[1]} features, which no registered family computes")


def _keras_input_size(model, where: str) -> int:
    shape = tuple(model.input_shape)
    if len(shape) == 2 and _features_of(shape):
        return 0
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] is None or shape[3] != 3:
        raise TrainError(f"{where}: expected a model input of shape (None, S, S, 3), found {shape}")
    return int(shape[1])


def _load_keras(path: Path):
    """Load a Keras model from an MLflow model folder or a ``.keras`` file."""
    from train.console import import_tensorflow

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import_tensorflow()  # its native start-up lines go to the debug log
    try:
        if path.is_dir():
            return artifacts.load_keras_flavour(path)
        import keras

        return keras.saving.load_model(str(path), compile=False)
    except (OSError, ValueError) as exc:
        raise TrainError(f"{path}: could not load the Keras model: {exc}") from exc


def load_run_model(client, run_id: str, *, need_keras: bool = True) -> LoadedModel:
    """Load the Keras model, labels and meta-image layout that run ``run_id`` logged.

    ``need_keras=False`` (prediction) loads the run's compact form instead when this
    machine can run it (:mod:`train.inference.compact`: no TensorFlow, no Keras model;
    ``keras_model`` is then None).

    Raises
    ------
    TrainError
        If the run does not exist or lacks ``model/``, ``labels.json`` or ``metaimage.json``.
    """
    artifacts.check_run(client, run_id)
    with tempfile.TemporaryDirectory(prefix="metaview-") as dst:
        labels = artifacts.download_json(run_id, "labels.json", client.tracking_uri, dst)
        metaimage = artifacts.download_json(run_id, "metaimage.json", client.tracking_uri, dst)
        runtime = _run_runtime(client, run_id, dst)
        if not need_keras:
            compact = _compact_run_model(client, run_id, dst, labels, metaimage)
            if compact is not None:
                return compact
        local = artifacts.download_model(client, run_id, dst)
        model = _load_keras(local)
    uri = f"runs:/{run_id}/{MODEL_ARTIFACT}"
    labels, metaimage = _check_metadata(labels, metaimage, f"run {run_id}")
    size = _keras_input_size(model, uri)
    _check_classes(model.output_shape[-1], labels, uri)
    features = _features_of(tuple(model.input_shape))
    return LoadedModel(
        model,
        labels,
        metaimage,
        size,
        run_id,
        uri,
        features=features,
        multi_label=_sigmoid(model),
        runtime=runtime,
    )


def _compact_run_model(client, run_id: str, dst: str, labels, metaimage) -> LoadedModel | None:
    """The run's model as a cached backbone and a NumPy head, or None where it has no
    ``head.npz`` or this machine cannot run it that way."""
    from train.inference.compact import HEAD_ARTIFACT, compact_call

    path = artifacts.download_optional(run_id, HEAD_ARTIFACT, client.tracking_uri, dst)
    if path is None:
        return None
    try:
        found = compact_call(path)
    except TrainError as exc:
        log.warning("run %s: %s; loading its Keras model instead", run_id, exc)
        return None
    if found is None:
        return None
    meta, call = found
    uri = f"runs:/{run_id}/{HEAD_ARTIFACT}"
    labels, metaimage = _check_metadata(labels, metaimage, f"run {run_id}")
    _check_classes(int(meta.get("classes", -1)), labels, uri)
    return LoadedModel(
        None,
        labels,
        metaimage,
        int(meta["image_size"]),
        run_id,
        uri,
        multi_label=meta["steps"][-1].get("activation") == "sigmoid",
        runtime=str(meta["runtime"]),
        _call=call,
    )


def _check_classes(n: int, labels: Sequence[str], where: str) -> None:
    if int(n) != len(labels):
        raise TrainError(
            f"{where}: the model has {n} outputs but labels.json lists {len(labels)} classes"
        )


def _find_json(candidates: Iterable[Path]) -> Any:
    for p in candidates:
        if p.is_file():
            try:
                return json.loads(p.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise TrainError(f"{p}: expected JSON, could not parse it: {exc}") from None
    return None


def read_sidecar(path: str | os.PathLike) -> dict:
    """Read the ``<model>.json`` sidecar of a ``.tflite`` or ``.keras`` file.

    Raises
    ------
    TrainError
        If it is missing or lacks labels or metaimage.
    """
    path = Path(path)
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    data = _find_json([side])
    if data is None:
        raise TrainError(
            f"{path}: its sidecar {side.name} (labels and render config) is missing; "
            "export the model again with metaview export"
        )
    if not isinstance(data, dict):
        raise TrainError(f"{side}: expected a JSON object, found {type(data).__name__}")
    _check_metadata(data.get("labels"), data.get("metaimage"), str(side))
    want = data.get("tflite_sha256")  # written by metaview export since the sidecar has it
    if want and path.is_file():
        from metaimage.io import file_digest

        found = file_digest(path)[1]
        if found != want:
            raise TrainError(
                f"{path}: its sidecar {side.name} was written for another model file "
                f"(sha256 {want[:12]}..., this file has {found[:12]}...); export the model "
                "again with metaview export"
            )
    return data


def load_path_model(path: str | os.PathLike) -> LoadedModel:
    """Load a model from a path (see the module docstring for the accepted layouts).

    Raises
    ------
    TrainError
        If the path does not exist, is not a model, or its labels/metaimage are missing.
    """
    path = Path(path)
    if not path.exists():
        raise TrainError(f"{path}: no such model file or folder")
    if path.suffix == ".tflite":
        meta = read_sidecar(path)
        tfl = TFLiteModel(path)
        labels, metaimage = meta["labels"], meta["metaimage"]
        _check_classes(tfl.n_classes, labels, str(path))
        return LoadedModel(
            None,
            labels,
            metaimage,
            tfl.image_size,
            meta.get("run_id"),
            str(path),
            tflite=tfl,
            info=meta,
            features=str(meta.get("features") or ""),  # what predict computes; "" = images
            multi_label=bool(meta.get("multi_label", False)),
        )
    if path.is_dir() and (path / "MLmodel").is_file():
        model_dir, meta_dirs = path, [path, path.parent]
    elif path.is_dir() and (path / "model" / "MLmodel").is_file():
        model_dir, meta_dirs = path / "model", [path]
    elif path.is_file() and path.suffix == ".keras":
        model_dir, meta_dirs = path, [path.parent]
    else:
        raise TrainError(
            f"{path}: expected a .tflite file, a .keras file, an MLflow model folder "
            "(with MLmodel) or a folder of run artifacts (with model/)"
        )
    side = _find_json([path.with_name(path.name + SIDECAR_SUFFIX)]) if path.is_file() else None
    if isinstance(side, dict):
        labels, metaimage, run_id = side.get("labels"), side.get("metaimage"), side.get("run_id")
    else:
        labels = _find_json(d / "labels.json" for d in meta_dirs)
        metaimage = _find_json(d / "metaimage.json" for d in meta_dirs)
        run_id = None
        if labels is None or metaimage is None:
            raise TrainError(
                f"{path}: labels.json and metaimage.json must sit beside the model "
                f"(looked in {', '.join(str(d) for d in meta_dirs)}); download them with "
                "the model: mlflow artifacts download -r RUN_ID -d DIR, then "
                "mlflow artifacts download -u runs:/RUN_ID/model -d DIR"
            )
    labels, metaimage = _check_metadata(labels, metaimage, str(path))
    model = _load_keras(model_dir)
    _check_classes(model.output_shape[-1], labels, str(path))
    size = _keras_input_size(model, str(path))
    features = _features_of(tuple(model.input_shape))
    return LoadedModel(
        model,
        labels,
        metaimage,
        size,
        run_id,
        str(path),
        features=features,
        multi_label=_sigmoid(model),
    )


def _sigmoid(model) -> bool:
    """True when the output layer is one sigmoid per class (``--objective sets``)."""
    from train.models.classifier import output_activation

    return output_activation(model) == "sigmoid"


def resolve_run_id(spec: str, client, experiment: str | None = None) -> str:
    """Turn ``"best"``, ``"champion"``, a run id, ``runs:/RUN_ID/...`` or a registered model
    version (``models:/NAME/VERSION``, ``models:/NAME/latest``, ``models:/NAME@ALIAS``)
    into a run id.

    A ``runs:/`` spec is its run id (whatever artifact path follows: the run's ``model``
    is what is loaded); a registered version is the run that logged it.

    Raises
    ------
    TrainError
        If the experiment has no finished training runs, there is no champion, the
        registered model, version or alias does not exist (naming what does), or
        ``spec`` is a path or none of those.
    """
    ref = parse_model_spec(spec)
    if ref.kind == "best":
        exp_id = tracking.get_experiment_id(client, experiment)
        best = tracking.find_best_run(client, exp_id)
        if best is None:
            raise TrainError(
                f"no finished training runs with metric {tracking.SELECTION_METRIC} in "
                f"experiment {tracking.resolve_experiment(experiment)!r} ({client.tracking_uri}): "
                f"{NO_RUNS_HINT}"
            )
        return best.info.run_id
    if ref.kind == "champion":
        name = tracking.resolve_experiment(experiment)
        run_id = tracking.champion_run_id(client, name)
        if run_id is None:
            raise TrainError(
                f"no model version has the alias {tracking.registered_model_name(name)}@"
                f"{tracking.CHAMPION_ALIAS} (experiment {name!r}) in {client.tracking_uri}: "
                f"{NO_RUNS_HINT}"
            )
        return run_id
    if ref.kind == "run":
        if ref.artifact_path not in ("", MODEL_ARTIFACT):
            log.warning(
                "--model %s: loading run %s's %s artifact (with its labels.json and "
                "metaimage.json), not %s",
                spec,
                ref.value,
                MODEL_ARTIFACT,
                ref.artifact_path,
            )
        return ref.value
    if ref.kind == "registered":
        return tracking.model_version_run_id(
            client, ref.value, version=ref.version or None, alias=ref.alias or None
        )
    raise TrainError(
        f"--model {spec!r}: expected 'best', 'champion', a run id, runs:/RUN_ID/model or "
        "models:/NAME/VERSION (or @ALIAS), not a path"
    )


def load_model(
    spec: str = "best",
    tracking_uri: str | None = None,
    experiment: str | None = None,
    *,
    need_keras: bool = True,
) -> LoadedModel:
    """Load a classifier by spec: ``"best"``, ``"champion"``, a run id, ``runs:/RUN_ID/model``,
    ``models:/NAME/VERSION``, ``models:/NAME/latest``, ``models:/NAME@ALIAS``, ``file:PATH``
    or a path.

    Parameters
    ----------
    spec : str
        See :mod:`train.inference.spec` (and the module docstring for paths). Every spec
        but a path loads a run (a registered version: the run that logged it), so the
        model's ``run_id`` is set and its labels, layout and split come from that run.
    tracking_uri : str or None
        MLflow tracking URI (None: ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``).
    experiment : str or None
        Experiment whose best run (``"best"``) or champion (``"champion"``) is loaded
        (None: ``MLFLOW_EXPERIMENT_NAME`` or ``"metaview"``).
    need_keras : bool
        False for prediction only: a run's image model then loads without TensorFlow
        where it can (:mod:`train.inference.compact`; ``keras_model`` is None), several
        seconds sooner.

    Returns
    -------
    LoadedModel

    Raises
    ------
    TrainError
        A spec that is none of these, a tracking server that cannot be reached, no
        runs in the experiment, an unknown run id, registered model, version or alias,
        a missing artifact or file.
    """
    ref = parse_model_spec(spec)
    if ref.kind == "path":
        loaded = load_path_model(ref.value)
    else:
        client = tracking.make_client(tracking_uri)
        run_id = resolve_run_id(spec, client, experiment)
        loaded = load_run_model(client, run_id, need_keras=need_keras)
    what = f"{loaded.features} features" if loaded.features else f"{loaded.image_size} px"
    log.info(
        "loaded %s model from %s (%d classes, input %s)",
        loaded.kind,
        loaded.source,
        len(loaded.labels),
        what,
    )
    return loaded
