"""Export a trained model to TFLite for small devices, and measure what it keeps.

Modes (``--quantize``):

- ``float32``: plain conversion;
- ``float16``: weights stored as float16, computed in float32;
- ``dynamic``: dynamic-range quantisation (int8 weights, float activations);
- ``int8``: full-integer quantisation, calibrated on meta-images from the run's
  training split; inputs and outputs are int8 (the default), uint8 or float32
  (``--io-type``), as microcontrollers need.

A model of a feature-vector family (``normals``, ``colour-stats``: input (None, D))
is exported the same way; its inputs, for calibration and evaluation, are the
family's features of the split's rows (:func:`train.featurize.family_features`;
``normals`` reads the meshes under the dataset's recorded ``source_dir``, or
``--meshes DIR`` when they moved).

The exported model is evaluated on the run's test split with the TFLite
interpreter, beside the Keras model: accuracy, file size, per-input latency and
top-1 agreement. The numbers go to the run as metrics
(``export.<key>.accuracy`` ...) and an artifact (``export_<key>.json``), and into
a sidecar ``OUT.tflite.json`` that also carries the labels, the render config and
the feature family (``"features"``, "" for an image model), so
``metaview predict --model OUT.tflite`` needs nothing else. The run's
split, dataset tag and the recording go through :mod:`train.tracking`. A dataset
folder rendered with another render config than the model's is refused. The
converter's native log lines show only with ``metaview -v``
(:func:`train.console.native_stderr_to_log`).

At about 600 lines this module is kept whole on purpose: it is the one
``metaview export`` command, read top to bottom (check the options and the
output path, convert, evaluate beside Keras, write the sidecar, record).

Why one module of this size: conversion, calibration data, evaluation of the file against
Keras and the sidecar are the one export transaction, for image and feature models alike.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from train.errors import TrainError
from train.inference.loading import SIDECAR_SUFFIX, load_model
from train.inference.tflite import TFLiteModel
from train.tracking import artifacts
from train.tracking.names import DATASET_TAG
from train.tracking.store import make_client

log = logging.getLogger(__name__)

MODES = ("float32", "float16", "dynamic", "int8")
IO_TYPES = ("float32", "int8", "uint8")
DEFAULT_REPRESENTATIVE = 100  # calibration inputs for int8, drawn from the training split


class ExportError(TrainError):
    """A model cannot be exported as asked (bad mode, no test split, unwritable path)."""


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


def export_key(mode: str, io_type: str) -> str:
    """Metric/artifact name of an export: ``mode``, or ``mode-io_type`` for non-float I/O."""
    return mode if io_type == "float32" else f"{mode}-{io_type}"


def check_options(mode: str, io_type: str | None) -> str:
    """Validate a mode and I/O type; return the I/O type to use.

    ``io_type=None`` means int8 I/O for ``int8`` and float32 otherwise.

    Raises
    ------
    ExportError
        For an unknown mode or I/O type, or integer I/O without full-integer quantisation.
    """
    if mode not in MODES:
        raise ExportError(f"unknown quantisation mode {mode!r}: expected one of {', '.join(MODES)}")
    if io_type is None:
        return "int8" if mode == "int8" else "float32"
    if io_type not in IO_TYPES:
        raise ExportError(
            f"unknown input/output type {io_type!r}: expected one of {', '.join(IO_TYPES)}"
        )
    if io_type != "float32" and mode != "int8":
        raise ExportError(
            f"--io-type {io_type} needs --quantize int8 (full-integer); a {mode} model takes "
            "float32 inputs"
        )
    return io_type


def check_writable(out: str | os.PathLike) -> Path:
    """Check that ``out`` (a ``.tflite`` path) and its sidecar can be written.

    Creates missing parent folders. Raises ExportError otherwise.
    """
    out = Path(out)
    if out.suffix != ".tflite":
        raise ExportError(f"{out}: expected an output path ending in .tflite")
    if out.is_dir():
        raise ExportError(f"{out}: is a folder; expected a .tflite file path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise ExportError(f"{out}: cannot write there: {exc.strerror or exc}") from None
    for p in (out, out.with_name(out.name + ".json")):
        if p.exists() and not os.access(p, os.W_OK):
            raise ExportError(f"{p}: exists and cannot be overwritten (no write permission)")
    return out


def _read_images(paths, size: int) -> np.ndarray:
    """Read meta-image PNGs and resize them: (n, size, size, 3) float32 in [0, 255]."""
    from metaimage.io import read_png
    from train.data import prepare_images

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


def _split_features(
    features: str, dataset_dir, split: dict, which: str, meshes: str = ""
) -> tuple[np.ndarray, list[str]]:
    """A family's features of one split's rows: ((n, D) float32, their labels)."""
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
    x, _ = _split_features(features, dataset_dir, split, "train", meshes)
    if not len(x):
        raise ExportError(
            f"{dataset_dir}: the run's training split is empty; int8 needs calibration inputs"
        )
    rng = np.random.default_rng(seed)
    pick = sorted(rng.choice(len(x), size=min(n, len(x)), replace=False).tolist())
    return x[pick]


def convert(
    keras_model, mode: str, io_type: str = "float32", representative: np.ndarray | None = None
) -> bytes:
    """Convert a Keras classifier to a TFLite flatbuffer.

    Parameters
    ----------
    keras_model : keras.Model
        Input (None, S, S, 3) float32 in [0, 255], or (None, D) float32 features.
    mode : {"float32", "float16", "dynamic", "int8"}
    io_type : {"float32", "int8", "uint8"}
        Input/output tensor type; integer types only with ``mode="int8"``.
    representative : (m, S, S, 3) or (m, D) float32, LazyImages, or None
        Calibration inputs (images or features, as the model takes); required for ``int8``.
        They are handed to the converter one at a time, so a :class:`LazyImages` is read
        one image at a time.

    Returns
    -------
    bytes
        The ``.tflite`` model.
    """
    io_type = check_options(mode, io_type)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if mode == "int8":
        from train.models.classifier import per_branch_head

        # The same function without a concatenation of depths: see per_branch_head.
        keras_model = per_branch_head(keras_model)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        if representative is None or len(representative) == 0:
            raise ExportError(
                "int8 quantisation needs representative inputs (from the training split)"
            )
        reps = representative

        def gen():
            for i in range(len(reps)):
                yield [np.asarray(reps[i : i + 1], dtype=np.float32)]

        converter.representative_dataset = gen
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        dtype = {"float32": tf.float32, "int8": tf.int8, "uint8": tf.uint8}[io_type]
        converter.inference_input_type = dtype
        converter.inference_output_type = dtype
    from train.console import native_stderr_to_log

    # Keras prints "Saved artifact at ..." while the converter exports the model; keep stdout
    # clean. The converter's C++ side logs "W0000 ... Ignored output_format" and the like
    # straight to fd 2: into the debug log.
    buf = io.StringIO()
    with (
        contextlib.redirect_stdout(buf),
        warnings.catch_warnings(),
        native_stderr_to_log("TFLite converter"),
    ):
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs were expected")
        try:
            flat = converter.convert()
        except Exception as exc:  # the converter raises ConverterError and plain errors alike
            raise ExportError(f"TFLite conversion ({mode}, {io_type} I/O) failed: {exc}") from exc
    log.debug("converter said: %s", buf.getvalue().strip())
    return flat


def keras_latency_ms(keras_model, x: np.ndarray) -> float:
    """Mean milliseconds per input of the Keras model, one input at a time.

    The model runs as a traced ``tf.function`` (a graph, as ``model.predict``
    uses), so the time is the network's and not Python's per-layer dispatch;
    the first call (tracing) is a warm-up and not counted.
    """
    if len(x) == 0:
        return float("nan")
    import tensorflow as tf

    spec = tf.TensorSpec((1, *x.shape[1:]), tf.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The structure of `inputs` doesn't match")
        fn = tf.function(lambda t: keras_model(t, training=False), input_signature=[spec])
        fn(tf.constant(x[:1]))
        calls = _latency_calls(len(x))
        t0 = time.perf_counter()
        for i in calls:
            fn(tf.constant(x[i : i + 1])).numpy()
    return (time.perf_counter() - t0) * 1000.0 / len(calls)


def _latency_calls(n: int, min_calls: int = 20) -> list[int]:
    """Input indices to time: every input, cycled until there are at least ``min_calls``."""
    return [i % n for i in range(max(n, min_calls))]


def keras_weights_bytes(keras_model) -> int:
    """Size in bytes of the model's weights saved as ``.weights.h5`` (no optimizer state)."""
    with tempfile.TemporaryDirectory(prefix="metaview-") as tmp:
        p = Path(tmp) / "model.weights.h5"
        keras_model.save_weights(p)
        return p.stat().st_size


def _test_set(loaded, dataset_dir, split, meshes: str = "") -> tuple[Any, np.ndarray]:
    """The run's test inputs and their class indices.

    Returns
    -------
    inputs : LazyImages or (n, D) float32
        The test meta-images (read when sliced) or the family's features.
    y : (n,) int64
    """
    from train.data import load_split

    x, paths = None, []
    if loaded.features:
        x, labels = _split_features(loaded.features, dataset_dir, split, "test", meshes)
    else:
        paths, labels = load_split(dataset_dir, split, "test")
    if not labels:
        raise ExportError(
            f"run {loaded.run_id}: the test split is empty in {dataset_dir}; "
            "a model without a test split cannot be evaluated after export"
        )
    index = {name: i for i, name in enumerate(loaded.labels)}
    unknown = sorted(set(labels) - set(index))
    if unknown:
        raise ExportError(
            f"{dataset_dir}: test labels {unknown} are not among the model's labels {loaded.labels}"
        )
    y = np.array([index[name] for name in labels], dtype=np.int64)
    if x is None:
        x = LazyImages(paths, loaded.image_size)
    return x, y


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
    from metaimage.io import write_json

    io_type = check_options(mode, io_type)
    out = check_writable(out)
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
    meshes = str(meshes or "")
    if meshes and loaded.features != "normals":
        log.warning(
            "--meshes %s: unused; only a normals model reads meshes (%s takes %s)",
            meshes,
            loaded.source,
            f"{loaded.features} features" if loaded.features else "meta-images",
        )
    client = make_client(tracking_uri)
    split, dataset_dir = _run_split_and_dataset(client, loaded.run_id, dataset)
    _check_render_config(loaded, dataset_dir)
    x_test, y_test = _test_set(loaded, dataset_dir, split, meshes)

    reps = None
    if mode == "int8" and loaded.features:
        reps = representative_features(
            loaded.features, dataset_dir, split, n_representative, meshes=meshes
        )
    elif mode == "int8":
        reps = representative_images(dataset_dir, split, loaded.image_size, n_representative)
    t0 = time.perf_counter()
    flat = convert(loaded.keras_model, mode, io_type, reps)
    convert_s = time.perf_counter() - t0
    # The model and its sidecar land together, before anything is measured: a measurement
    # that fails (or a process that is killed) leaves a usable pair, never a bare .tflite.
    sidecar_path = out.with_name(out.name + SIDECAR_SUFFIX)
    tfl = TFLiteModel.from_bytes(flat, name=str(out))
    sidecar = write_model(out, flat, _sidecar(loaded, mode, io_type, flat, tfl))
    log.info("wrote %s (%d bytes, %s, %s I/O) in %.1f s", out, len(flat), mode, io_type, convert_s)

    top_tfl, top_keras = _top_classes(tfl, loaded, x_test)
    sample = x_test[: min(len(x_test), LATENCY_INPUTS)]
    key = export_key(mode, io_type)
    report = ExportReport(
        key=key,
        mode=mode,
        io_type=io_type,
        path=str(out),
        sidecar=str(sidecar_path),
        run_id=loaded.run_id,
        n_test=len(y_test),
        n_representative=0 if reps is None else len(reps),
        size_bytes=len(flat),
        accuracy=float(np.mean(top_tfl == y_test)),
        latency_ms=tfl.latency_ms(sample, repeats=-(-20 // max(1, len(sample)))),
        agreement=float(np.mean(top_tfl == top_keras)),
        keras_size_bytes=keras_weights_bytes(loaded.keras_model),
        keras_accuracy=float(np.mean(top_keras == y_test)),
        keras_latency_ms=keras_latency_ms(loaded.keras_model, sample),
        convert_s=convert_s,
        features=loaded.features,
    )
    write_json(sidecar_path, {**sidecar, "report": report.to_dict()})
    if log_to_run:
        _log_report(client, report)
    return report


#: Inputs that the latency figures are timed on (cycled to 20 calls).
LATENCY_INPUTS = 8


def _sidecar(loaded, mode: str, io_type: str, flat: bytes, quant: TFLiteModel) -> dict[str, Any]:
    """What ``metaview predict --model OUT.tflite`` needs beside the file (``quant``: the
    converted model, for its quantisation parameters)."""
    from metaimage.io import sha256_hex

    return {
        "format": 1,
        "labels": loaded.labels,
        "metaimage": loaded.metaimage,
        "image_size": loaded.image_size,
        # What predict computes for the input: "" = the resized meta-image, else this family.
        "features": loaded.features,
        # One sigmoid per direction (--objective sets): predict names a set, not one class.
        "multi_label": bool(loaded.multi_label),
        "quantization": {
            "mode": mode,
            "io_type": io_type,
            "input": _quant_params(quant.input),
            "output": _quant_params(quant.output),
        },
        # The sidecar belongs to these bytes: a loader refuses a model beside another's.
        "tflite_sha256": sha256_hex(flat),
        "run_id": loaded.run_id,
        "source": loaded.source,
    }


def write_model(out: Path, flat: bytes, sidecar: dict[str, Any]) -> dict[str, Any]:
    """Write the ``.tflite`` file and its sidecar together, each atomically; return ``sidecar``.

    The sidecar goes first, then the model, each through :func:`metaimage.io.
    atomic_write_bytes`. A reader sees the old pair, the new pair, or (if the process
    dies between the two) a new sidecar beside an old model, which ``tflite_sha256``
    lets it refuse; never a half-written file nor a new model without its sidecar.
    """
    from base.files import atomic_write_bytes
    from metaimage.io import write_json

    try:
        write_json(out.with_name(out.name + SIDECAR_SUFFIX), sidecar)
        atomic_write_bytes(out, flat)
    except OSError as exc:
        raise ExportError(f"{out}: cannot write the model and its sidecar: {exc}") from None
    return sidecar


def _top_classes(tfl: TFLiteModel, loaded, inputs) -> tuple[np.ndarray, np.ndarray]:
    """Top class of each input from the TFLite and the Keras model: two (n,) int64 arrays.

    The inputs are walked a few at a time (two 960 px meta-images, or 256 feature rows),
    so memory stays bounded by pixels whatever the size of the test split.
    """
    from train import batching

    per_batch = batching.images_per_batch(loaded.image_size, most=32)
    tops_tfl, tops_keras = [], []
    for sl in batching.batch_slices(len(inputs), per_batch):
        x = np.asarray(inputs[sl], dtype=np.float32)
        tops_tfl.append(tfl.predict(x).argmax(1))
        tops_keras.append(loaded.predict(x).argmax(1))
    if not tops_tfl:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(tops_tfl), np.concatenate(tops_keras)


def _quant_params(detail: dict) -> dict:
    scale, zero = detail["quantization"]
    return {"dtype": np.dtype(detail["dtype"]).name, "scale": float(scale), "zero_point": int(zero)}


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
