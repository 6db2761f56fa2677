"""``metaview export``: a run's model to TFLite for small devices, evaluated beside Keras.

:func:`export_model` is the one export, read top to bottom: check the options and the
output path, load the run's model and its test split, calibrate, convert, write the
model and its sidecar, evaluate the file beside the Keras model, record. Each step
lives in its own module:

- :mod:`train.inference.export_options`  modes, I/O types, :class:`ExportError`;
- :mod:`train.inference.calibration`     calibration inputs from the training split;
- :mod:`train.inference.convert`         the TFLite conversion;
- :mod:`train.inference.writing`         the ``.tflite`` file and its sidecar;
- :mod:`train.inference.evaluation`      the test set, top classes, latency and size.

A model of a feature-vector family (``normals``, ``colour-stats``: input (None, D))
is exported the same way; its inputs, for calibration and evaluation, are the
family's features of the split's rows (:func:`train.featurize.family_features`;
``normals`` reads the meshes under the dataset's recorded ``source_dir``, or
``--meshes DIR`` when they moved).

The exported model is evaluated on the run's test split with the TFLite
interpreter, beside the Keras model: accuracy, file size, per-input latency and
top-1 agreement. The numbers go to the run as metrics
(``export.<key>.accuracy`` ...) and an artifact (``export_<key>.json``), and into
the sidecar ``OUT.tflite.json``, so ``metaview predict --model OUT.tflite`` needs
nothing else. The run's split, dataset tag and the recording go through
:mod:`train.tracking`. A dataset folder rendered with another render config than the
model's is refused.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from train.errors import TrainError
from train.features.views import COMBINED
from train.inference.calibration import (
    DEFAULT_REPRESENTATIVE,
    representative_features,
    representative_images,
)
from train.inference.convert import convert
from train.inference.evaluation import (
    LATENCY_INPUTS,
    keras_latency_ms,
    keras_weights_bytes,
    load_test_set,
    tflite_latency_ms,
    top_classes,
)
from train.inference.export_options import ExportError, check_options, export_key
from train.inference.loaded import LoadedModel
from train.inference.loading import load_model
from train.inference.tflite import TFLiteModel
from train.inference.writing import check_writable, sidecar_for, sidecar_path, write_model
from train.tracking import artifacts
from train.tracking.names import DATASET_TAG
from train.tracking.store import make_client

log = logging.getLogger(__name__)


@dataclass
class ExportReport:
    """What an export produced and how the exported model compares with the Keras one.

    Attributes
    ----------
    key : str
        ``mode`` or ``mode-io_type`` (``"int8-uint8"``): names the metrics and artifact.
    size_bytes, keras_size_bytes : int
        The ``.tflite`` file; the Keras model's float32 weights file (``.weights.h5``).
    accuracy, keras_accuracy : float
        Top-1 accuracy on the run's test split.
    agreement : float
        Fraction of test inputs where both models give the same top class.
    latency_ms, keras_latency_ms : float
        Mean milliseconds per input, one input at a time, on this machine.
    features : str
        The model's feature-vector family (``"colour-stats"``), "" for an image model.
    """

    key: str
    mode: str
    io_type: str
    path: str
    sidecar: str
    run_id: str
    n_test: int
    n_representative: int
    size_bytes: int
    accuracy: float
    latency_ms: float
    agreement: float
    keras_size_bytes: int
    keras_accuracy: float
    keras_latency_ms: float
    convert_s: float
    features: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of every field."""
        return asdict(self)


def export_model(
    out: str | os.PathLike,
    mode: str,
    io_type: str | None = None,
    spec: str = "best",
    tracking_uri: str | None = None,
    experiment: str | None = None,
    dataset: str | os.PathLike | None = None,
    n_representative: int = DEFAULT_REPRESENTATIVE,
    log_to_run: bool = True,
    meshes: str | os.PathLike = "",
) -> ExportReport:
    """Export a run's model to ``out`` (``.tflite`` + ``.tflite.json``), evaluate it, log it.

    Parameters
    ----------
    out : path-like
        Output ``.tflite`` path.
    mode : {"float32", "float16", "dynamic", "int8"}
    io_type : {"float32", "int8", "uint8"} or None
        Input/output type (None: int8 for ``int8``, float32 otherwise).
    spec : str
        Model spec for :func:`train.inference.loading.load_model`; must resolve to an MLflow run
        (``best``, ``champion``, a run id, or a path whose sidecar names a run).
    tracking_uri, experiment : str or None
        Where to find the run.
    dataset : path-like or None
        The dataset folder (None: the run's ``metaview.dataset`` tag).
    n_representative : int
        Calibration inputs for ``int8``.
    log_to_run : bool
        Log the metrics and ``export_<key>.json`` to the run.
    meshes : path-like
        The mesh folder of a ``normals`` model's dataset, if the meshes moved ("": the
        ``source_dir`` recorded in the dataset's ``metaimage.json``). Other models read no
        meshes and only log that it is unused.

    Returns
    -------
    ExportReport

    Raises
    ------
    ExportError
        Unknown mode, unwritable path, a model without a test split or dataset,
        a TFLite input model, meshes of a ``normals`` model not found, a failed conversion.
    """
    # Check: refused before any work, even without a run to export.
    io_type = check_options(mode, io_type)
    out = check_writable(out)

    # Load: the run's model, its split and dataset, and the test set to evaluate on.
    loaded = _load_exportable(spec, tracking_uri, experiment)
    meshes = _meshes_for(loaded, meshes)
    client = make_client(tracking_uri)
    split, dataset_dir = _run_split_and_dataset(client, loaded.run_id, dataset)
    _check_render_config(loaded, dataset_dir)
    x_test, y_test = load_test_set(loaded, dataset_dir, split, meshes)

    # Calibrate and convert.
    reps = _calibration_inputs(loaded, mode, dataset_dir, split, n_representative, meshes)
    t0 = time.perf_counter()
    flat = convert(loaded.keras_model, mode, io_type, reps)
    convert_s = time.perf_counter() - t0

    # Write: the model and its sidecar land together, before anything is measured: a
    # measurement that fails (or a process that is killed) leaves a usable pair, never a
    # bare .tflite.
    tfl = TFLiteModel.from_bytes(flat, name=str(out))
    sidecar = write_model(out, flat, sidecar_for(loaded, mode, io_type, flat, tfl))
    log.info("wrote %s (%d bytes, %s, %s I/O) in %.1f s", out, len(flat), mode, io_type, convert_s)

    # Evaluate beside Keras, then record the numbers in the sidecar and the run.
    n_reps = 0 if reps is None else len(reps)
    report = _evaluate(tfl, flat, loaded, x_test, y_test, out, mode, io_type, n_reps, convert_s)
    _write_report(out, sidecar, report)
    if log_to_run:
        _log_report(client, report)
    return report


def _load_exportable(spec: str, tracking_uri: str | None, experiment: str | None) -> LoadedModel:
    """Load the Keras model of an MLflow run: what an export converts and evaluates.

    Returns
    -------
    LoadedModel
        A Keras model with its ``run_id``.

    Raises
    ------
    ExportError
        For a TFLite model, or a model not tied to a run (no ``split.json`` to evaluate on).
    """
    loaded = load_model(spec, tracking_uri=tracking_uri, experiment=experiment)
    if loaded.keras_model is None:
        raise ExportError(
            f"{loaded.source}: already a TFLite model; export from a run (--model best, a run "
            "id, runs:/ID/model or models:/NAME@ALIAS)"
        )
    if loaded.run_id is None:
        raise ExportError(
            f"model without a test split: {loaded.source} is not tied to an MLflow run, "
            "so there is no split.json to evaluate on; use --model best, a run id, "
            "runs:/ID/model or models:/NAME@ALIAS"
        )
    return loaded


def _meshes_for(loaded, meshes: str | os.PathLike) -> str:
    """The ``--meshes`` folder as a string ("": none); warns when the model reads no meshes."""
    meshes = str(meshes or "")
    if meshes and loaded.features not in ("normals", COMBINED):
        log.warning(
            "--meshes %s: unused; only a model with normals features reads meshes (%s takes %s)",
            meshes,
            loaded.source,
            f"{loaded.features} features" if loaded.features else "meta-images",
        )
    return meshes


def _calibration_inputs(
    loaded, mode: str, dataset_dir: Path, split: dict, n: int, meshes: str
) -> np.ndarray | None:
    """Calibration inputs for ``int8``, as the model takes them; None for the other modes.

    Returns
    -------
    (m, D) float32, LazyImages of (m, S, S, 3) float32, or None
        The family's features or the meta-images of ``m <= n`` training rows.
    """
    reps = None
    if mode == "int8" and loaded.features:
        reps = representative_features(loaded.features, dataset_dir, split, n, meshes=meshes)
    elif mode == "int8":
        reps = representative_images(dataset_dir, split, loaded.image_size, n)
    return reps


def _evaluate(
    tfl: TFLiteModel,
    flat: bytes,
    loaded,
    x_test,
    y_test: np.ndarray,
    out: Path,
    mode: str,
    io_type: str,
    n_representative: int,
    convert_s: float,
) -> ExportReport:
    """Measure the exported model beside the Keras one on the run's test set.

    Parameters
    ----------
    tfl : TFLiteModel
        The exported model, interpreted from ``flat``.
    flat : bytes
        The ``.tflite`` model as written.
    loaded : LoadedModel
        The run's Keras model.
    x_test : LazyImages of (n, S, S, 3) float32, or (n, D) float32
        The test inputs.
    y_test : (n,) int64
        Their class indices.
    out : Path
        The ``.tflite`` path written.
    mode, io_type : str
        The export's quantisation mode and input/output type.
    n_representative : int
        Calibration inputs the conversion took (0 unless ``int8``).
    convert_s : float
        Seconds the conversion took.

    Returns
    -------
    ExportReport
        Accuracy, agreement, latency (on the first :data:`LATENCY_INPUTS` inputs) and size.
    """
    top_tfl, top_keras = top_classes(tfl, loaded, x_test)
    sample = x_test[: min(len(x_test), LATENCY_INPUTS)]
    return ExportReport(
        key=export_key(mode, io_type),
        mode=mode,
        io_type=io_type,
        path=str(out),
        sidecar=str(sidecar_path(out)),
        run_id=loaded.run_id,
        n_test=len(y_test),
        n_representative=n_representative,
        size_bytes=len(flat),
        accuracy=float(np.mean(top_tfl == y_test)),
        latency_ms=tflite_latency_ms(tfl, sample),
        agreement=float(np.mean(top_tfl == top_keras)),
        keras_size_bytes=keras_weights_bytes(loaded.keras_model),
        keras_accuracy=float(np.mean(top_keras == y_test)),
        keras_latency_ms=keras_latency_ms(loaded.keras_model, sample),
        convert_s=convert_s,
        features=loaded.features,
    )


def _write_report(out: Path, sidecar: dict[str, Any], report: ExportReport) -> None:
    """Rewrite the sidecar with the export's numbers under ``"report"``."""
    from metaimage.io import write_json

    write_json(sidecar_path(out), {**sidecar, "report": report.to_dict()})


def _run_split_and_dataset(
    client, run_id: str, dataset: str | os.PathLike | None
) -> tuple[dict, Path]:
    try:
        split = artifacts.read_run_json(client, run_id, "split.json")
    except TrainError as exc:
        raise ExportError(f"model without a test split: {exc}") from None
    if not isinstance(split, dict) or not split.get("test"):
        raise ExportError(
            f"model without a test split: run {run_id}'s split.json lists no test parts; "
            "train with a test split to export and evaluate"
        )
    if dataset is None:
        try:
            dataset = artifacts.run_tag(client, run_id, DATASET_TAG)
        except TrainError as exc:
            raise ExportError(str(exc)) from None
        if not dataset:
            raise ExportError(
                f"run {run_id} has no tag {DATASET_TAG} naming its dataset folder; "
                "pass --dataset DIR"
            )
    dataset = Path(dataset)
    if not dataset.is_dir():
        raise ExportError(
            f"{dataset}: the dataset folder of run {run_id} is not there (moved?); pass "
            "--dataset DIR"
        )
    return split, dataset


def _check_render_config(loaded, dataset_dir: Path) -> None:
    """Refuse to evaluate on a dataset rendered with another render config than the model's."""
    from metaimage.io import METAIMAGE_JSON, read_metaimage_info

    ours = loaded.metaimage.get("config_hash")
    if not ours or not (dataset_dir / METAIMAGE_JSON).is_file():
        return  # a class-folder model or dataset: no render config to compare
    try:
        theirs = read_metaimage_info(dataset_dir).config_hash
    except TrainError as exc:  # DatasetError is a MetaviewError, not a TrainError
        raise ExportError(str(exc)) from None
    except Exception as exc:
        raise ExportError(f"{dataset_dir / METAIMAGE_JSON}: {exc}") from None
    if theirs != ours:
        raise ExportError(
            f"{dataset_dir}: rendered with config {theirs}, but {loaded.source} was trained on "
            f"config {ours}; evaluate on the run's own dataset (--dataset DIR)"
        )


def _log_report(client, report: ExportReport) -> None:
    """Log an export's numbers to its run as metrics and ``export_<key>.json``."""
    # The file is written and evaluated; failing to record it only warns.
    values = {
        f"export.{report.key}.accuracy": report.accuracy,
        f"export.{report.key}.size_bytes": report.size_bytes,
        f"export.{report.key}.latency_ms": report.latency_ms,
        f"export.{report.key}.agreement": report.agreement,
        "keras.accuracy": report.keras_accuracy,
        "keras.size_bytes": report.keras_size_bytes,
        "keras.latency_ms": report.keras_latency_ms,
    }
    artifacts.log_to_run(
        client, report.run_id, values, report.to_dict(), f"export_{report.key}.json"
    )
