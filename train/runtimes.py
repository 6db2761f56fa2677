"""Where the frozen backbone runs: TensorFlow, or LiteRT (XNNPACK) on the CPU.

The frozen backbone is the cost of the image pipeline: every meta-image of a training set
goes through it once for the feature cache (:mod:`train.featurize`). Two runtimes give the
same features (float32 both, within 1e-4 on a 0-6 scale):

- ``tensorflow``: the Keras model traced once (:func:`train.batching.compiled`);
- ``litert``: the same model converted to a float32 ``.tflite`` file and run by LiteRT's
  interpreter (``ai-edge-litert``, XNNPACK kernels), 1.5-1.9 times faster on this CPU
  (``python -m bench.memory``). The converted file is cached under
  :func:`cache_dir`, keyed by the model's weights, its input size, the runtime and the
  TensorFlow version that converted it, so a conversion (a few seconds for Lite0) runs
  once per backbone.

``auto`` picks ``litert`` when its package imports, else ``tensorflow``; asking for
``litert`` without the package falls back to ``tensorflow`` with one warning line. Nothing
is downloaded. TensorFlow and LiteRT are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from train.errors import TrainError

log = logging.getLogger(__name__)

#: ``--runtime`` values: ``auto`` resolves to one of the others.
RUNTIMES = ("auto", "tensorflow", "litert")


def available(runtime: str) -> bool:
    """Whether ``runtime``'s package can be imported here (``tensorflow`` always can)."""
    if runtime == "litert":
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            return False
    return True


def resolve(runtime: str) -> str:
    """The runtime that will run: ``auto`` -> ``litert`` when installed, else ``tensorflow``.

    Raises
    ------
    TrainError
        For a name not in :data:`RUNTIMES`.
    """
    if runtime not in RUNTIMES:
        raise TrainError(f"runtime: expected one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "auto":
        return "litert" if available("litert") else "tensorflow"
    if runtime == "litert" and not available("litert"):
        log.warning(
            "runtime litert: the package ai-edge-litert is not installed; the backbone runs "
            "on tensorflow (pip install ai-edge-litert for the faster runtime)"
        )
        return "tensorflow"
    return runtime


def cache_dir() -> Path:
    """Where converted backbones are kept: ``$METAVIEW_CACHE``, else
    ``$XDG_CACHE_HOME/metaview``, else ``~/.cache/metaview``."""
    if os.environ.get("METAVIEW_CACHE"):
        return Path(os.environ["METAVIEW_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "metaview"


def model_key(model, runtime: str) -> str:
    """16 hex digits naming ``model``'s weights, input shape, ``runtime`` and TensorFlow."""
    import tensorflow as tf

    h = hashlib.sha256()
    h.update(f"{runtime}|{tf.__version__}|{tuple(model.input_shape)}".encode())
    for w in model.weights:
        h.update(np.ascontiguousarray(np.asarray(w), dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


def backbone_runner(model, runtime: str) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    """A function running ``model`` on the given runtime, and the runtime it resolved to.

    Parameters
    ----------
    model : keras.Model
        Image (None, S, S, 3) float32 in [0, 255] -> (None, D) features.
    runtime : str
        One of :data:`RUNTIMES`.

    Returns
    -------
    call : callable
        (n, S, S, 3) float32 -> (n, D) float32, for any n (bound it with
        :func:`train.batching.images_per_batch`).
    resolved : {"tensorflow", "litert"}
    """
    from train import batching

    resolved = resolve(runtime)
    if resolved == "tensorflow":
        return batching.compiled(model), resolved
    return _litert_runner(_litert_file(model)), resolved


def _litert_file(model) -> Path | bytes:
    """The converted float32 ``.tflite`` of ``model``: a cached file, or bytes when the
    cache folder cannot be written."""
    folder = cache_dir() / "backbones"
    path = folder / f"{model.name}-{model_key(model, 'litert')}.tflite"
    if path.is_file():
        return path
    flat = _convert(model)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(flat)
        os.replace(tmp, path)
    except OSError as exc:
        log.info("%s: cannot cache the converted backbone (%s); using it from memory", folder, exc)
        return flat
    log.info("converted the backbone for LiteRT: %s (%d bytes)", path, len(flat))
    return path


def _convert(model) -> bytes:
    import tensorflow as tf

    from train.console import native_stderr_to_log

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    buf = io.StringIO()  # Keras prints "Saved artifact at ..." while exporting
    with contextlib.redirect_stdout(buf), native_stderr_to_log("LiteRT conversion"):
        try:
            return converter.convert()
        except Exception as exc:  # the converter raises ConverterError and plain errors alike
            raise TrainError(f"converting the backbone for LiteRT failed: {exc}") from exc


def _litert_runner(source: Path | bytes) -> Callable[[np.ndarray], np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    from train.console import native_stderr_to_log

    kwargs = {"model_content": source} if isinstance(source, bytes) else {"model_path": str(source)}
    with native_stderr_to_log("LiteRT"):  # "INFO: Created TensorFlow Lite XNNPACK delegate"
        interpreter = Interpreter(**kwargs, num_threads=os.cpu_count() or 1)
    inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]
    batch = [0]  # the batch size the tensors are allocated for

    def call(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if len(x) != batch[0]:
            with native_stderr_to_log("LiteRT"):  # the delegate is applied here
                interpreter.resize_tensor_input(inp["index"], [len(x), *x.shape[1:]])
                interpreter.allocate_tensors()
            batch[0] = len(x)
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return np.array(interpreter.get_tensor(out["index"]), dtype=np.float32)

    return call
