"""Trained runs as models: pick the best run, promote it, load a model by spec.

A *spec* names a model the way a user types it after ``--model``:

- ``"best"`` (the default): the best finished ``metaview train`` run of the
  experiment by the selection metric (``best_val_f1_macro``, higher is better;
  ties go to the lower ``best_val_loss``, then to the earlier run);
- ``"champion"``: the run behind the registered model's ``champion`` alias;
- a run id (32 hex characters);
- a path: an MLflow model folder (with ``MLmodel``), a folder of downloaded run
  artifacts (with ``model/``), a ``.keras`` file, or a ``.tflite`` file written
  by ``metaview export`` (its ``<file>.tflite.json`` sidecar carries the labels
  and the render config).

Every model comes back as a :class:`LoadedModel` that knows its labels, the
meta-image layout it was trained on and its input size, so prediction never
guesses a grid or a class order.

MLflow and TensorFlow are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from train import tracking
from train.errors import TrainError

log = logging.getLogger(__name__)

KIND_TAG = "metaview.kind"
KIND_TRAIN = "train"
DATASET_TAG = "metaview.dataset"
SELECTION_METRIC = "best_val_f1_macro"
TIEBREAK_METRIC = "best_val_loss"
DEFAULT_MODEL_NAME = "metaview"
CHAMPION_ALIAS = "champion"
SIDECAR_SUFFIX = ".json"  # model.tflite -> model.tflite.json

_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_NO_RUNS_HINT = "train one first with: metaview train DATA"


# --------------------------------------------------------------------------- tracking


def make_client(tracking_uri: str | None = None):
    """Return an ``mlflow.MlflowClient`` for ``tracking_uri`` (resolved by ``tracking``)."""
    # Downloads of a few small JSON files need no progress bars on stderr.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow import MlflowClient

    uri = tracking.resolve_tracking_uri(tracking_uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def get_experiment_id(client, experiment: str | None = None) -> str:
    """Return the id of the experiment named ``experiment`` (``tracking.resolve_experiment``).

    Raises
    ------
    TrainError
        If the tracking store has no such experiment.
    """
    name = tracking.resolve_experiment(experiment)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        raise TrainError(
            f"no experiment {name!r} in the tracking store {client.tracking_uri}: {_NO_RUNS_HINT}"
        )
    return exp.experiment_id


# --------------------------------------------------------------------------- selection


def _higher_is_better(metric: str) -> bool:
    # Losses and errors go down; accuracy, F1, precision and recall go up.
    return not any(word in metric for word in ("loss", "error"))


def run_sort_key(run, metric: str = SELECTION_METRIC) -> tuple:
    """Sort key that puts the best run first.

    Order: runs with ``metric`` before runs without it; then the metric (higher
    first, or lower first for a loss); then the lower ``best_val_loss``; then
    the earlier start time; then the run id, so the order is total.
    """
    metrics = run.data.metrics
    value = metrics.get(metric)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        primary = math.inf
    else:
        primary = -value if _higher_is_better(metric) else value
    tie = metrics.get(TIEBREAK_METRIC)
    if tie is None or math.isnan(tie):
        tie = math.inf
    return (missing, primary, tie, run.info.start_time or 0, run.info.run_id)


def search_train_runs(client, experiment_id: str, finished_only: bool = True) -> list:
    """Return the experiment's ``metaview train`` runs (all pages), unordered.

    Parameters
    ----------
    finished_only : bool
        Keep only runs with status FINISHED (what model selection uses); False
        also returns RUNNING, FAILED and KILLED runs (what ``metaview runs`` shows).
    """
    filt = f"tags.`{KIND_TAG}` = '{KIND_TRAIN}'"
    if finished_only:
        filt += " and attributes.status = 'FINISHED'"
    runs: list = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string=filt, max_results=1000, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def rank_runs(runs: Iterable, metric: str = SELECTION_METRIC) -> list:
    """Return ``runs`` sorted best first (see :func:`run_sort_key`)."""
    return sorted(runs, key=lambda r: run_sort_key(r, metric))


def find_best_run(client, experiment_id: str, metric: str = SELECTION_METRIC):
    """Return the best finished training run of an experiment, or None if it has none.

    Parameters
    ----------
    client : mlflow.MlflowClient
    experiment_id : str
    metric : str
        Selection metric; higher is better unless its name contains "loss" or
        "error". Runs that did not log it are never the best.

    Returns
    -------
    mlflow.entities.Run or None
        The best FINISHED run tagged ``metaview.kind=train``; ties go to the
        lower ``best_val_loss``, then to the earlier start time.
    """
    ranked = [
        r
        for r in rank_runs(search_train_runs(client, experiment_id), metric)
        if not run_sort_key(r, metric)[0]
    ]
    return ranked[0] if ranked else None


# --------------------------------------------------------------------------- registry


def _logged_model_id(run) -> str | None:
    """The id of the logged model named "model" that ``run`` produced (MLflow 3), if any."""
    outputs = getattr(run, "outputs", None)
    for out in getattr(outputs, "model_outputs", None) or []:
        return out.model_id
    return None


def champion_run_id(
    client, model_name: str = DEFAULT_MODEL_NAME, alias: str = CHAMPION_ALIAS
) -> str | None:
    """Return the run id behind ``model_name@alias``, or None if there is no such alias."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_model_version_by_alias(model_name, alias).run_id
    except MlflowException:
        return None


def promote_if_best(
    client,
    run_id: str,
    experiment_id: str,
    model_name: str = DEFAULT_MODEL_NAME,
    alias: str = CHAMPION_ALIAS,
    metric: str = SELECTION_METRIC,
) -> bool:
    """Register a run's model and point the ``champion`` alias at it if it is the best run.

    Parameters
    ----------
    client : mlflow.MlflowClient
    run_id : str
        A finished run that logged its model under the artifact path ``model``.
    experiment_id : str
        Its experiment; "best" is judged among that experiment's training runs.
    model_name, alias : str
        Registered model name and alias to set.
    metric : str
        Selection metric (see :func:`find_best_run`).

    Returns
    -------
    bool
        True if the run is the best (a RUNNING run is judged as if finished, so
        the call may come just before or after the run ends) and
        ``model_name@alias`` now points at a version of it (registered now or
        earlier); False if another run is better.

    Raises
    ------
    TrainError
        If the model registry refuses the registration.
    """
    from mlflow.exceptions import MlflowException

    runs = search_train_runs(client, experiment_id)
    if run_id not in {r.info.run_id for r in runs}:
        # Called before the run is marked FINISHED: judge it as if it were.
        try:
            candidate = client.get_run(run_id)
        except MlflowException:
            raise TrainError(f"no run with id {run_id} in {client.tracking_uri}") from None
        if candidate.info.status == "RUNNING" and candidate.data.tags.get(KIND_TAG) == KIND_TRAIN:
            runs.append(candidate)
    ranked = [r for r in rank_runs(runs, metric) if not run_sort_key(r, metric)[0]]
    best = ranked[0] if ranked else None
    if best is None or best.info.run_id != run_id:
        log.info(
            "run %s is not the best run by %s (best: %s); %s@%s unchanged",
            run_id,
            metric,
            best.info.run_id if best else None,
            model_name,
            alias,
        )
        return False
    try:
        try:
            client.get_registered_model(model_name)
        except MlflowException:
            client.create_registered_model(
                model_name, description="metaview classifiers; @champion is the best run."
            )
        existing = list(
            client.search_model_versions(f"name = '{model_name}' and run_id = '{run_id}'")
        )
        if existing:
            version = max(existing, key=lambda v: int(v.version))
        else:
            model_id = _logged_model_id(best)
            source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/model"
            tags = {metric: str(best.data.metrics.get(metric))}
            version = client.create_model_version(
                model_name, source, run_id=run_id, tags=tags, model_id=model_id
            )
        client.set_registered_model_alias(model_name, alias, version.version)
    except MlflowException as exc:
        raise TrainError(
            f"could not register run {run_id} as {model_name}@{alias} in {client.tracking_uri}: "
            f"{exc}"
        ) from exc
    log.info(
        "run %s is the best by %s: %s version %s is now @%s",
        run_id,
        metric,
        model_name,
        version.version,
        alias,
    )
    return True


# --------------------------------------------------------------------------- loaded models


class TFLiteModel:
    """A ``.tflite`` classifier behind the TFLite interpreter, with (de)quantisation.

    Parameters
    ----------
    path : path-like
        The ``.tflite`` file. Its input is (1, S, S, 3) float32 pixel values in
        [0, 255], or int8/uint8 with the quantisation parameters stored in it.
    num_threads : int or None
        Interpreter threads (None: the interpreter's default).
    """

    def __init__(self, path: str | os.PathLike, num_threads: int | None = None):
        self.path = Path(path)
        interpreter_cls = _interpreter_class()
        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that it moves to ai_edge_litert; it still works in TF 2.21.
            warnings.filterwarnings(
                "ignore", message=r"\s*Warning: tf\.lite\.Interpreter is deprecated"
            )
            try:
                self.interpreter = interpreter_cls(
                    model_path=str(self.path), num_threads=num_threads
                )
                self.interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise TrainError(
                    f"{self.path}: expected a TFLite model, could not load it: {exc}"
                ) from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        shape = [int(s) for s in self.input["shape"]]
        if len(shape) != 4 or shape[1] != shape[2] or shape[3] != 3:
            raise TrainError(f"{self.path}: expected an input of shape (1, S, S, 3), found {shape}")
        self.image_size = shape[1]
        self.input_dtype = np.dtype(self.input["dtype"])
        self.output_dtype = np.dtype(self.output["dtype"])
        self.n_classes = int(self.output["shape"][-1])

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Map float pixels (n, S, S, 3) in [0, 255] to the model's input dtype."""
        if self.input_dtype == np.float32:
            return x.astype(np.float32, copy=False)
        scale, zero = self.input["quantization"]
        info = np.iinfo(self.input_dtype)
        q = np.round(x / scale + zero)
        return np.clip(q, info.min, info.max).astype(self.input_dtype)

    def dequantize_output(self, y: np.ndarray) -> np.ndarray:
        """Map the model's raw output to float32 probabilities."""
        if self.output_dtype == np.float32:
            return y.astype(np.float32, copy=False)
        scale, zero = self.output["quantization"]
        return ((y.astype(np.float32) - zero) * scale).astype(np.float32)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Return probabilities for a batch, one image at a time.

        Parameters
        ----------
        x : (n, S, S, 3) float32
            Pixel values in [0, 255] (what :func:`train.data.prepare_images` gives).

        Returns
        -------
        (n, n_classes) float32
        """
        x = np.asarray(x)
        out = np.empty((len(x), self.n_classes), dtype=np.float32)
        q = self.quantize_input(x)
        for i in range(len(x)):
            self.interpreter.set_tensor(self.input["index"], q[i : i + 1])
            self.interpreter.invoke()
            out[i] = self.dequantize_output(self.interpreter.get_tensor(self.output["index"]))[0]
        return out

    def latency_ms(self, x: np.ndarray, repeats: int = 1) -> float:
        """Mean milliseconds per image of ``invoke`` over ``x`` (after one warm-up call)."""
        q = self.quantize_input(np.asarray(x))
        self.interpreter.set_tensor(self.input["index"], q[:1])
        self.interpreter.invoke()
        t0 = time.perf_counter()
        for _ in range(repeats):
            for i in range(len(q)):
                self.interpreter.set_tensor(self.input["index"], q[i : i + 1])
                self.interpreter.invoke()
        return (time.perf_counter() - t0) * 1000.0 / max(1, repeats * len(q))


def _interpreter_class():
    # LiteRT is the interpreter's new home; TF's own copy is the fallback.
    try:
        from ai_edge_litert.interpreter import Interpreter  # type: ignore[import-not-found]
    except ImportError:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter


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
        The model's input size S.
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

    @property
    def kind(self) -> str:
        """``"keras"`` or ``"tflite"``."""
        return "tflite" if self.tflite is not None else "keras"

    @property
    def meta_image_shape(self) -> tuple[int, int]:
        """(height, width) of the meta-images the model was trained on."""
        h, w = self.metaimage["image_size"]
        return int(h), int(w)

    def predict(self, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
        """Return class probabilities.

        Parameters
        ----------
        x : (n, S, S, 3) float32
            Pixel values in [0, 255], resized to ``image_size``.

        Returns
        -------
        (n, len(labels)) float32
        """
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != (self.image_size, self.image_size, 3):
            raise TrainError(
                f"expected input of shape (n, {self.image_size}, {self.image_size}, 3), found "
                f"{x.shape}"
            )
        if self.tflite is not None:
            return self.tflite.predict(x)
        # A direct call, not model.predict: no tf.function is traced per loaded model.
        with warnings.catch_warnings():
            # A model built with inputs=[image] warns when called with a bare tensor; harmless.
            warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
            parts = [
                np.asarray(self.keras_model(x[i : i + batch_size], training=False))
                for i in range(0, len(x), batch_size)
            ]
        if not parts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32)


def _check_metadata(labels: Any, metaimage: Any, where: str) -> tuple[list[str], dict]:
    if not isinstance(labels, list) or not labels or not all(isinstance(s, str) for s in labels):
        raise TrainError(
            f"{where}: expected labels as a non-empty JSON list of class names, found {labels!r}"
        )
    if not isinstance(metaimage, dict):
        raise TrainError(
            f"{where}: expected metaimage.json as a JSON object, found {type(metaimage).__name__}"
        )
    missing = [k for k in ("grid", "tile", "image_size", "config") if k not in metaimage]
    if missing:
        raise TrainError(
            f"{where}: metaimage.json lacks keys {missing} (needs grid, tile, image_size, config)"
        )
    return labels, metaimage


def _keras_input_size(model, where: str) -> int:
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] != shape[2] or shape[1] is None or shape[3] != 3:
        raise TrainError(f"{where}: expected a model input of shape (None, S, S, 3), found {shape}")
    return int(shape[1])


def _load_keras(path: Path):
    """Load a Keras model from an MLflow model folder or a ``.keras`` file."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        if path.is_dir():
            import mlflow.keras

            return mlflow.keras.load_model(str(path))
        import keras

        return keras.saving.load_model(str(path), compile=False)
    except (OSError, ValueError) as exc:
        raise TrainError(f"{path}: could not load the Keras model: {exc}") from exc


def _download_json(run_id: str, name: str, tracking_uri: str, dst: str) -> Any:
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=name, dst_path=dst, tracking_uri=tracking_uri
        )
        return json.loads(Path(local).read_text(encoding="utf-8"))
    except (MlflowException, OSError) as exc:
        raise TrainError(
            f"run {run_id} has no artifact {name} (was it logged by metaview train?): {exc}"
        ) from None
    except json.JSONDecodeError as exc:
        raise TrainError(f"run {run_id}: artifact {name} is not valid JSON: {exc}") from None


def read_run_json(client, run_id: str, name: str) -> Any:
    """Download and parse the JSON artifact ``name`` of a run.

    Raises
    ------
    TrainError
        If the run has no such artifact or it is not JSON.
    """
    with tempfile.TemporaryDirectory(prefix="metaview-") as dst:
        return _download_json(run_id, name, client.tracking_uri, dst)


def load_run_model(client, run_id: str) -> LoadedModel:
    """Load the Keras model, labels and meta-image layout that run ``run_id`` logged.

    Raises
    ------
    TrainError
        If the run does not exist or lacks ``model/``, ``labels.json`` or ``metaimage.json``.
    """
    from mlflow.exceptions import MlflowException

    try:
        client.get_run(run_id)
    except MlflowException:
        raise TrainError(
            f"no run with id {run_id} in the tracking store {client.tracking_uri}"
        ) from None
    import mlflow.artifacts

    with tempfile.TemporaryDirectory(prefix="metaview-") as dst:
        labels = _download_json(run_id, "labels.json", client.tracking_uri, dst)
        metaimage = _download_json(run_id, "metaimage.json", client.tracking_uri, dst)
        uri = f"runs:/{run_id}/model"
        from train.tracking import using_tracking_uri

        try:
            # MLflow resolves runs:/ID/model (a logged model) through the global tracking
            # URI whatever tracking_uri= says, so set it for the download.
            with using_tracking_uri(client.tracking_uri):
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=uri, dst_path=dst, tracking_uri=client.tracking_uri
                )
        except (MlflowException, OSError) as exc:
            raise TrainError(f"run {run_id} has no logged model at {uri}: {exc}") from None
        model = _load_keras(Path(local))
    labels, metaimage = _check_metadata(labels, metaimage, f"run {run_id}")
    size = _keras_input_size(model, uri)
    _check_classes(model.output_shape[-1], labels, uri)
    return LoadedModel(model, labels, metaimage, size, run_id, uri)


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
    return LoadedModel(
        model, labels, metaimage, _keras_input_size(model, str(path)), run_id, str(path)
    )


def _looks_like_path(spec: str) -> bool:
    return (
        os.sep in spec or "/" in spec or spec.endswith((".tflite", ".keras")) or Path(spec).exists()
    )


def resolve_run_id(spec: str, client, experiment: str | None = None) -> str:
    """Turn ``"best"``, ``"champion"`` or a run id into a run id.

    Raises
    ------
    TrainError
        If the experiment has no finished training runs, there is no champion,
        or ``spec`` is not a run id.
    """
    if spec == "best":
        exp_id = get_experiment_id(client, experiment)
        best = find_best_run(client, exp_id)
        if best is None:
            raise TrainError(
                f"no finished training runs with metric {SELECTION_METRIC} in experiment "
                f"{tracking.resolve_experiment(experiment)!r} ({client.tracking_uri}): "
                f"{_NO_RUNS_HINT}"
            )
        return best.info.run_id
    if spec == CHAMPION_ALIAS:
        run_id = champion_run_id(client)
        if run_id is None:
            raise TrainError(
                f"no model version has the alias {DEFAULT_MODEL_NAME}@{CHAMPION_ALIAS} in "
                f"{client.tracking_uri}: {_NO_RUNS_HINT}"
            )
        return run_id
    if _RUN_ID.match(spec):
        return spec
    raise TrainError(
        f"--model {spec!r}: expected 'best', 'champion', a run id (32 hex characters) or a path to "
        "a model (.keras, .tflite, MLflow model folder), and no such file exists"
    )


def load_model(
    spec: str = "best", tracking_uri: str | None = None, experiment: str | None = None
) -> LoadedModel:
    """Load a classifier by spec: ``"best"``, ``"champion"``, a run id or a path.

    Parameters
    ----------
    spec : str
        See the module docstring.
    tracking_uri : str or None
        MLflow tracking URI (None: ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``).
    experiment : str or None
        Experiment searched by ``"best"`` (None: ``MLFLOW_EXPERIMENT_NAME`` or ``"metaview"``).

    Returns
    -------
    LoadedModel

    Raises
    ------
    TrainError
        No runs in the experiment, an unknown run id, a missing artifact or file.
    """
    spec = str(spec)
    if spec not in ("best", CHAMPION_ALIAS) and _looks_like_path(spec):
        loaded = load_path_model(spec)
    else:
        client = make_client(tracking_uri)
        run_id = resolve_run_id(spec, client, experiment)
        loaded = load_run_model(client, run_id)
    log.info(
        "loaded %s model from %s (%d classes, input %d px)",
        loaded.kind,
        loaded.source,
        len(loaded.labels),
        loaded.image_size,
    )
    return loaded
