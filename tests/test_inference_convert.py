"""Conversion of a Keras classifier to TFLite (:mod:`train.inference.convert`): every mode
gives a model that answers as the Keras one, stored as the mode says."""

from __future__ import annotations

import numpy as np
import pytest
from _toy_fixtures import MODEL_SIZE, tiny_classifier

from train.inference.export_options import ExportError

pytestmark = pytest.mark.tf

# (mode, io_type, largest difference of a probability from Keras's): int8 rounds every
# activation (measured 0.003 here), the float modes round nothing that matters.
CASES = [
    ("float32", "float32", 1e-5),
    ("float16", "float32", 1e-3),
    ("dynamic", "float32", 1e-3),
    ("int8", "int8", 0.03),
    ("int8", "uint8", 0.03),
    ("int8", "float32", 0.03),
]


@pytest.fixture(scope="module")
def model_and_inputs():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(16, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)
    return tiny_classifier(seed=0), x


@pytest.mark.parametrize("mode, io_type, tol", CASES, ids=[f"{m}-{io}" for m, io, _ in CASES])
def test_each_mode_predicts_like_keras(model_and_inputs, mode, io_type, tol):
    from train.inference.convert import convert
    from train.inference.tflite import TFLiteModel

    net, x = model_and_inputs
    flat = convert(net, mode, io_type, representative=x if mode == "int8" else None)
    assert isinstance(flat, bytes) and flat
    tfl = TFLiteModel.from_bytes(flat)
    assert tfl.input_dtype.name == io_type and tfl.output_dtype.name == io_type
    dtypes = {np.dtype(t["dtype"]).name for t in tfl.interpreter.get_tensor_details()}
    assert ("float16" in dtypes) == (mode == "float16")  # weights stored as float16
    if mode == "int8":
        assert "int8" in dtypes
    keras_probs = np.asarray(net(x))
    np.testing.assert_allclose(tfl.predict(x), keras_probs, atol=tol)


def test_int8_needs_calibration_inputs_and_integer_io_needs_int8(model_and_inputs):
    from train.inference.convert import convert

    net, x = model_and_inputs
    with pytest.raises(ExportError, match="int8 quantisation needs representative inputs"):
        convert(net, "int8", "int8", representative=None)
    with pytest.raises(ExportError, match="int8 quantisation needs representative inputs"):
        convert(net, "int8", "int8", representative=x[:0])
    with pytest.raises(ExportError, match="--io-type uint8 needs --quantize int8"):
        convert(net, "float16", "uint8")
