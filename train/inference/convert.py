"""Conversion of a Keras classifier to a TFLite flatbuffer, in one of the export modes.

The modes and I/O types are those of :mod:`train.inference.export_options`; ``int8``
takes calibration inputs from :mod:`train.inference.calibration`. The converter's
native log lines show only with ``metaview -v``
(:func:`train.console.native_stderr_to_log`).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings

import numpy as np

from train.inference.export_options import ExportError, check_options

log = logging.getLogger(__name__)


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
