"""A ``.tflite`` classifier behind the interpreter (:mod:`train.inference.tflite`): its input
kind, its (de)quantisation and its answers, those of the Keras model it came from."""

from __future__ import annotations

import numpy as np
import pytest
from _toy_fixtures import MODEL_SIZE, tiny_classifier

from train.errors import TrainError

pytestmark = pytest.mark.tf


def _inputs(n: int = 8) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.uniform(0, 255, size=(n, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)


def test_an_image_model_from_a_file_predicts_as_keras(tmp_path):
    from train.inference.convert import convert
    from train.inference.tflite import TFLiteModel

    net, x = tiny_classifier(seed=0), _inputs()
    path = tmp_path / "m.tflite"
    path.write_bytes(convert(net, "float32"))
    tfl = TFLiteModel(path)
    assert (tfl.image_size, tfl.features_dim, tfl.n_classes) == (MODEL_SIZE, 0, 3)
    assert tfl.input_shape == (MODEL_SIZE, MODEL_SIZE, 3)
    probs = tfl.predict(x)
    assert probs.shape == (len(x), 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs, np.asarray(net(x)), atol=1e-5)
    with pytest.raises(TrainError, match=rf"m\.tflite: expected inputs of shape \(n, {MODEL_SIZE}"):
        tfl.predict(x[:, :8, :8])
    assert tfl.latency_ms(x[:2]) > 0


def test_integer_io_is_quantised_in_and_dequantised_out(tmp_path):
    """With int8 inputs and outputs the wrapper still takes pixels and gives probabilities."""
    from train.inference.convert import convert
    from train.inference.tflite import TFLiteModel

    net, x = tiny_classifier(seed=0), _inputs(16)
    tfl = TFLiteModel.from_bytes(convert(net, "int8", "int8", representative=x))
    assert tfl.input_dtype == np.int8 and tfl.output_dtype == np.int8
    q = tfl.quantize_input(np.array([[-1e6, 0.0, 1e6]], dtype=np.float32))
    assert q.dtype == np.int8 and q[0, 0] == -128 and q[0, 2] == 127  # clipped, not wrapped
    probs = tfl.predict(x)
    assert probs.dtype == np.float32 and np.all((probs >= 0) & (probs <= 1))
    np.testing.assert_allclose(probs, np.asarray(net(x)), atol=0.03)


def test_a_feature_vector_model_and_a_file_that_is_no_model(tmp_path):
    from train.inference.convert import convert
    from train.inference.tflite import TFLiteModel
    from train.models.classifier import feature_head

    head = feature_head(7, 3, 0.0, "head", standardize=False)
    tfl = TFLiteModel.from_bytes(convert(head, "float32"))
    assert (tfl.image_size, tfl.features_dim, tfl.input_shape) == (0, 7, (7,))
    v = np.random.default_rng(2).normal(size=(5, 7)).astype(np.float32)
    np.testing.assert_allclose(tfl.predict(v), np.asarray(head(v)), atol=1e-5)

    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"not a flatbuffer" * 8)
    with pytest.raises(TrainError, match=r"junk\.tflite: expected a TFLite model"):
        TFLiteModel(junk)
