"""The exported model measured beside the Keras one: test inputs, top classes, latency, size.

The exported model is evaluated on the run's test split with the TFLite interpreter,
beside the Keras model: top-1 classes (for accuracy and agreement), mean latency per
input, one input at a time, and the Keras weights' file size. An image model's test
inputs are its meta-images, read a few at a time (:class:`~train.inference.calibration.
LazyImages`); a feature-vector family's are the family's features of the split's rows.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from train.inference.calibration import LazyImages, split_features
from train.inference.export_options import ExportError
from train.inference.tflite import TFLiteModel

#: Inputs that the latency figures are timed on (cycled to MIN_LATENCY_CALLS calls).
LATENCY_INPUTS = 8
#: Fewest timed calls of a latency figure: a few calls alone time mostly noise.
MIN_LATENCY_CALLS = 20


def load_test_set(loaded, dataset_dir, split, meshes: str = "") -> tuple[Any, np.ndarray]:
    """The run's test inputs and their class indices.

    Parameters
    ----------
    loaded : LoadedModel
        The run's Keras model: its labels, input size and feature family.
    dataset_dir : path-like
        The dataset folder the run trained on.
    split : dict
        The run's ``split.json``.
    meshes : str
        The mesh folder for a ``normals`` model ("": the dataset's recorded ``source_dir``).

    Returns
    -------
    inputs : LazyImages or (n, D) float32
        The test meta-images (read when sliced) or the family's features.
    y : (n,) int64
    """
    from train.data import load_split

    x, paths = None, []
    if loaded.features:
        x, labels = split_features(loaded.features, dataset_dir, split, "test", meshes)
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


def top_classes(tfl: TFLiteModel, loaded, inputs) -> tuple[np.ndarray, np.ndarray]:
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


def tflite_latency_ms(tfl: TFLiteModel, x: np.ndarray) -> float:
    """Mean milliseconds per input of the TFLite model, one input at a time.

    Parameters
    ----------
    tfl : TFLiteModel
        The exported model.
    x : (n, S, S, 3) or (n, D) float32
        The inputs to time, walked whole until at least :data:`MIN_LATENCY_CALLS` calls.

    Returns
    -------
    float
        Milliseconds per call, after one warm-up call that is not counted.
    """
    return tfl.latency_ms(x, repeats=-(-MIN_LATENCY_CALLS // max(1, len(x))))


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


def _latency_calls(n: int, min_calls: int = MIN_LATENCY_CALLS) -> list[int]:
    """Input indices to time: every input, cycled until there are at least ``min_calls``."""
    return [i % n for i in range(max(n, min_calls))]


def keras_weights_bytes(keras_model) -> int:
    """Size in bytes of the model's weights saved as ``.weights.h5`` (no optimizer state)."""
    with tempfile.TemporaryDirectory(prefix="metaview-") as tmp:
        p = Path(tmp) / "model.weights.h5"
        keras_model.save_weights(p)
        return p.stat().st_size
