"""Where the frozen backbone runs: TensorFlow, LiteRT (XNNPACK) or OpenVINO on the CPU.

The frozen backbone is the cost of the image pipeline: every meta-image of a training set
goes through it once for the feature cache (:mod:`train.featurize`). The runtimes:

- ``tensorflow``: the Keras model traced once (:func:`train.batching.compiled`);
- ``litert``: the same model converted to a float32 ``.tflite`` file and run by LiteRT's
  interpreter (``ai-edge-litert``, XNNPACK kernels); the same features (within 1e-4 on a
  0-6 scale);
- ``openvino``: that ``.tflite`` file read by OpenVINO and run in float32; the same
  features;
- ``openvino-bf16``: OpenVINO computing in bfloat16 where the CPU has it (AVX-512 BF16 or
  AMX; elsewhere it is ``openvino``): the fastest on such CPUs, with features a few per
  cent off float32's.

``python -m bench.memory`` measures each against TensorFlow; ``python -m bench.runtimes``
compares the accuracy their features give. Converted files are cached under
:func:`cache_dir`, keyed by the model's weights, its input size, the runtime and the
TensorFlow version that converted it, so a conversion (a few seconds for Lite0) runs
once per backbone. OpenVINO's file does not depend on the precision, which is chosen
when it is compiled (a fraction of a second).

``auto`` picks the first of :data:`AUTO_ORDER` that can run here; asking for a runtime
whose package is missing falls back (``openvino-bf16`` -> ``openvino`` -> ``tensorflow``,
``litert`` -> ``tensorflow``) with one warning line. Nothing is downloaded. The runtime
packages are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from base.files import atomic_write_bytes
from train.errors import TrainError

log = logging.getLogger(__name__)

#: ``--runtime`` values: ``auto`` resolves to one of the others.
RUNTIMES = ("auto", "tensorflow", "litert", "openvino", "openvino-bf16")

#: What ``auto`` tries, in order: the fastest first among those whose features keep
#: TensorFlow's test accuracy (``python -m bench.memory`` for speed, ``python -m
#: bench.accuracy --models efficientnet-lite0@RUNTIME,...`` for accuracy; docs/runtimes.md).
AUTO_ORDER = ("openvino-bf16", "litert", "tensorflow")

_PACKAGES = {"litert": "ai-edge-litert", "openvino": "openvino", "openvino-bf16": "openvino"}
_warned: set[str] = set()  # runtimes whose fallback this process has reported


def available(runtime: str) -> bool:
    """Whether ``runtime`` can run here: its package imports (``tensorflow`` always can)
    and, for ``openvino-bf16``, the CPU computes in bfloat16."""
    if runtime == "litert":
        try:
            import ai_edge_litert.interpreter  # noqa: F401
        except ImportError:
            return False
    elif runtime.startswith("openvino"):
        try:
            _import_openvino()
        except ImportError:
            return False
        if runtime == "openvino-bf16":
            return "BF16" in _openvino_capabilities()
    return True


def _import_openvino():
    """``import openvino`` without its usage reports.

    Importing ``openvino`` imports its model converter, which sends an "import" event to
    Google Analytics unless the user opted out (``openvino-telemetry``). metaview never
    goes online unasked: with ``openvino_telemetry`` unimportable while OpenVINO loads,
    the converter takes its built-in stub, which sends nothing. The package is importable
    again afterwards.
    """
    import sys

    if sys.modules.get("openvino") is not None:
        return sys.modules["openvino"]
    saved = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "openvino_telemetry"}
    sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import openvino
    finally:
        del sys.modules["openvino_telemetry"]
        sys.modules.update(saved)
    return openvino


@functools.cache
def _openvino_capabilities() -> tuple[str, ...]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of this CPU (``BF16`` with AVX-512 BF16
    or AMX)."""
    ov = _import_openvino()
    try:
        return tuple(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except RuntimeError:  # no CPU plugin: nothing to run on
        return ()


def resolve(runtime: str) -> str:
    """The runtime that will run: ``auto`` -> the first of :data:`AUTO_ORDER` that can run
    here; a runtime that cannot -> its fallback, said once a process in a warning line.

    Raises
    ------
    TrainError
        For a name not in :data:`RUNTIMES`.
    """
    if runtime not in RUNTIMES:
        raise TrainError(f"runtime: expected one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "auto":
        return next(r for r in (*AUTO_ORDER, "tensorflow") if available(r))
    if runtime == "tensorflow" or available(runtime):
        return runtime
    report = log.warning if runtime not in _warned else log.debug
    _warned.add(runtime)  # one line a process, however many stages resolve it
    if runtime == "openvino-bf16" and available("openvino"):
        report(
            "runtime openvino-bf16: this CPU does not compute in bfloat16 (it needs AVX-512 "
            "BF16 or AMX); the backbone runs on openvino in float32"
        )
        return "openvino"
    report(
        "runtime %s: the package %s is not installed; the backbone runs on tensorflow "
        "(pip install %s for the faster runtime)",
        runtime,
        _PACKAGES[runtime],
        _PACKAGES[runtime],
    )
    return "tensorflow"


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
    resolved : str
        One of :data:`RUNTIMES` other than ``auto``.
    """
    from train import batching

    resolved = resolve(runtime)
    if resolved == "tensorflow":
        return batching.compiled(model), resolved
    if resolved == "litert":
        return _litert_runner(_litert_file(model)), resolved
    return _openvino_runner(_litert_file(model), bf16=resolved == "openvino-bf16"), resolved


def threads() -> int:
    """CPU cores this process may use (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def backbone_name(model) -> str:
    """The cached file name of ``model`` converted (``<name>-<model_key>``, no suffix)."""
    return f"{model.name}-{model_key(model, 'litert')}"


def cached_backbone(name: str) -> Path | None:
    """The converted backbone ``name`` (:func:`backbone_name`) if this machine has it."""
    if not name or "/" in name or name.startswith("."):
        return None
    path = cache_dir() / "backbones" / f"{name}.tflite"
    return path if path.is_file() else None


def file_runner(path: Path, runtime: str) -> Callable[[np.ndarray], np.ndarray]:
    """A converted backbone file run on ``runtime`` (``litert`` or ``openvino[-bf16]``,
    resolved), without TensorFlow: what a cold ``metaview predict`` runs."""
    if runtime == "litert":
        return _litert_runner(path)
    if runtime in ("openvino", "openvino-bf16"):
        return _openvino_runner(path, bf16=runtime == "openvino-bf16")
    raise TrainError(f"runtime {runtime!r} does not run a converted backbone file")


def _litert_file(model) -> Path | bytes:
    """The converted float32 ``.tflite`` of ``model`` (what LiteRT runs and OpenVINO
    reads): a cached file, or bytes when the cache folder cannot be written."""
    folder = cache_dir() / "backbones"
    path = folder / f"{backbone_name(model)}.tflite"
    if path.is_file():
        return path
    flat = _convert(model)
    try:
        atomic_write_bytes(path, flat)
    except OSError as exc:
        log.info("%s: cannot cache the converted backbone (%s); using it from memory", folder, exc)
        return flat
    log.info("converted the backbone: %s (%d bytes)", path, len(flat))
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
        interpreter = Interpreter(**kwargs, num_threads=threads())
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


def _openvino_runner(source: Path | bytes, *, bf16: bool) -> Callable[[np.ndarray], np.ndarray]:
    """OpenVINO on the CPU, reading the converted ``.tflite`` (about 0.4 s for Lite0) and
    compiling it for any batch size, in float32 or bfloat16 (``INFERENCE_PRECISION_HINT``;
    OpenVINO's own default on a bf16 CPU is bf16, so float32 is asked for explicitly)."""
    ov = _import_openvino()
    core = ov.Core()
    if isinstance(source, bytes):
        with tempfile.TemporaryDirectory(prefix="metaview-ov-") as tmp:
            path = Path(tmp) / "backbone.tflite"
            path.write_bytes(source)
            net = core.read_model(str(path))
    else:
        net = core.read_model(str(source))
    shape = list(net.input(0).get_partial_shape())
    net.reshape({0: ov.PartialShape([-1, *shape[1:]])})
    config = {
        "INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32",
        "PERFORMANCE_HINT": "LATENCY",  # one request at a time, every core on it
        "INFERENCE_NUM_THREADS": threads(),
    }
    try:
        compiled = core.compile_model(net, "CPU", config)
    except RuntimeError as exc:
        raise TrainError(f"OpenVINO could not compile the backbone: {exc}") from exc
    request = compiled.create_infer_request()
    output = compiled.output(0)

    def call(x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        return np.array(request.infer({0: x})[output], dtype=np.float32)

    return call
