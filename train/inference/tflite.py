"""A ``.tflite`` classifier behind the TFLite interpreter, with its (de)quantisation.

``metaview export`` writes these files; :func:`train.inference.loading.load_model`
wraps one in a :class:`~train.inference.loaded.LoadedModel` so it predicts like a
Keras model. An image model takes (1, S, S, 3) meta-images, a feature-vector
family's model (1, D) features. The interpreter comes from LiteRT when installed,
else from TensorFlow (imported only then).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import numpy as np

from train.errors import TrainError


class TFLiteModel:
    """A ``.tflite`` classifier behind the TFLite interpreter, with (de)quantisation.

    Parameters
    ----------
    path : path-like
        The ``.tflite`` file. Its input is (1, S, S, 3) float32 pixel values in
        [0, 255], or (1, D) float32 features of a feature-vector family; or either
        as int8/uint8 with the quantisation parameters stored in it.
    num_threads : int or None
        Interpreter threads (None: the interpreter's default).

    Attributes
    ----------
    image_size : int
        S of an image model; 0 for a feature-vector model.
    features_dim : int
        D of a feature-vector model; 0 for an image model.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        num_threads: int | None = None,
        content: bytes | None = None,
    ):
        self.path = Path(path)
        interpreter_cls = _interpreter_class()
        source = {"model_content": content} if content is not None else {"model_path": str(path)}
        with warnings.catch_warnings():
            # tf.lite.Interpreter warns that it moves to ai_edge_litert; it still works in TF 2.21.
            warnings.filterwarnings(
                "ignore", message=r"\s*Warning: tf\.lite\.Interpreter is deprecated"
            )
            from train.console import native_stderr_to_log

            try:
                # Its C++ side says "INFO: Created TensorFlow Lite XNNPACK delegate": -v only.
                with native_stderr_to_log("TFLite interpreter"):
                    self.interpreter = interpreter_cls(**source, num_threads=num_threads)
                    self.interpreter.allocate_tensors()
            except (ValueError, RuntimeError) as exc:
                raise TrainError(
                    f"{self.path}: expected a TFLite model, could not load it: {exc}"
                ) from None
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        shape = [int(s) for s in self.input["shape"]]
        if len(shape) == 2 and shape[1] > 0:
            self.image_size, self.features_dim = 0, shape[1]
        elif len(shape) == 4 and shape[1] == shape[2] and shape[3] == 3:
            self.image_size, self.features_dim = shape[1], 0
        else:
            raise TrainError(
                f"{self.path}: expected an input of shape (1, S, S, 3) or (1, D), found {shape}"
            )
        self.input_dtype = np.dtype(self.input["dtype"])
        self.output_dtype = np.dtype(self.output["dtype"])
        self.n_classes = int(self.output["shape"][-1])

    @classmethod
    def from_bytes(cls, content: bytes, name: str = "<converted model>") -> TFLiteModel:
        """A model from the flatbuffer in memory (``name`` stands for its path in messages)."""
        return cls(name, content=content)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One input's shape: (S, S, 3) or (D,)."""
        if self.features_dim:
            return (self.features_dim,)
        return (self.image_size, self.image_size, 3)

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """Map float inputs (pixels (n, S, S, 3) in [0, 255], or (n, D) features) to the
        model's input dtype."""
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
        """Return probabilities for a batch, one input at a time.

        Parameters
        ----------
        x : (n, S, S, 3) float32, or (n, D) float32 for a feature-vector model
            Pixel values in [0, 255] (what :func:`train.pipeline.prepare_images` gives),
            or the family's features.

        Returns
        -------
        (n, n_classes) float32

        Raises
        ------
        TrainError
            For inputs of another shape than the model takes.
        """
        x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            want = ", ".join(str(d) for d in self.input_shape)
            raise TrainError(f"{self.path}: expected inputs of shape (n, {want}), found {x.shape}")
        out = np.empty((len(x), self.n_classes), dtype=np.float32)
        q = self.quantize_input(x)
        for i in range(len(x)):
            self.interpreter.set_tensor(self.input["index"], q[i : i + 1])
            self.interpreter.invoke()
            out[i] = self.dequantize_output(self.interpreter.get_tensor(self.output["index"]))[0]
        return out

    def latency_ms(self, x: np.ndarray, repeats: int = 1) -> float:
        """Mean milliseconds per input of ``invoke`` over ``x`` (after one warm-up call)."""
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
        from train.console import import_tensorflow

        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import_tensorflow()  # its native start-up lines go to the debug log
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    return Interpreter
