"""Load a classifier from any ``--model`` spec, with what prediction needs to know about it.

Specs (parsed by :func:`train.inference.spec.parse_model_spec`, which documents the
grammar and the order of its checks): ``"best"``, ``"champion"``, a run id,
``runs:/RUN_ID/model``, ``models:/NAME/VERSION``, ``models:/NAME/latest``,
``models:/NAME@ALIAS``, ``file:PATH`` or a path. Every spec but a path names a run
(:func:`train.inference.resolve.resolve_run_id`; a registered version is resolved to
the run that logged it), whose model, labels.json and metaimage.json are loaded
(:func:`load_run_model`). A path is tried as, in this order (:func:`load_path_model`):

1. a ``.tflite`` file written by ``metaview export``; its ``<file>.tflite.json``
   sidecar carries the labels and the render config;
2. an MLflow model folder (with ``MLmodel``), labels.json and metaimage.json in it
   or beside it;
3. a folder of downloaded run artifacts (with ``model/MLmodel``, labels.json and
   metaimage.json);
4. a ``.keras`` file, with a ``<file>.keras.json`` sidecar or labels.json and
   metaimage.json beside it.

Every model comes back as a :class:`~train.inference.loaded.LoadedModel` that knows its
labels, the meta-image layout it was trained on and its input size, each checked here
(:mod:`train.inference.metadata`). MLflow is reached only through :mod:`train.tracking`;
Keras and TensorFlow are imported inside the functions.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from train import tracking
from train.errors import TrainError
from train.inference.loaded import LoadedModel
from train.inference.metadata import (
    SIDECAR_SUFFIX,
    check_classes,
    check_metadata,
    find_json,
    read_sidecar,
)
from train.inference.resolve import resolve_run_id
from train.inference.spec import parse_model_spec
from train.inference.tflite import TFLiteModel
from train.tracking import artifacts
from train.tracking.names import MODEL_ARTIFACT

log = logging.getLogger(__name__)


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


def model_features(shape: tuple) -> str:
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
    if len(shape) == 2 and model_features(shape):
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
    labels, metaimage = check_metadata(labels, metaimage, f"run {run_id}")
    size = _keras_input_size(model, uri)
    check_classes(model.output_shape[-1], labels, uri)
    features = model_features(tuple(model.input_shape))
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
    labels, metaimage = check_metadata(labels, metaimage, f"run {run_id}")
    check_classes(int(meta.get("classes", -1)), labels, uri)
    # A head on view-pooled features comes with its per-tile backbone apart.
    head, tiles = call if meta.get("features") else (call, None)
    return LoadedModel(
        None,
        labels,
        metaimage,
        int(meta["image_size"]),
        run_id,
        uri,
        features=str(meta.get("features") or ""),
        multi_label=meta["steps"][-1].get("activation") == "sigmoid",
        runtime=str(meta["runtime"]),
        _call=head,
        _tiles=tiles,
    )


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
        check_classes(tfl.n_classes, labels, str(path))
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
    side = find_json([path.with_name(path.name + SIDECAR_SUFFIX)]) if path.is_file() else None
    if isinstance(side, dict):
        labels, metaimage, run_id = side.get("labels"), side.get("metaimage"), side.get("run_id")
    else:
        labels = find_json(d / "labels.json" for d in meta_dirs)
        metaimage = find_json(d / "metaimage.json" for d in meta_dirs)
        run_id = None
        if labels is None or metaimage is None:
            raise TrainError(
                f"{path}: labels.json and metaimage.json must sit beside the model "
                f"(looked in {', '.join(str(d) for d in meta_dirs)}); download them with "
                "the model: mlflow artifacts download -r RUN_ID -d DIR, then "
                "mlflow artifacts download -u runs:/RUN_ID/model -d DIR"
            )
    labels, metaimage = check_metadata(labels, metaimage, str(path))
    model = _load_keras(model_dir)
    check_classes(model.output_shape[-1], labels, str(path))
    size = _keras_input_size(model, str(path))
    features = model_features(tuple(model.input_shape))
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
