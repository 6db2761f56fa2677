"""The exported model measured beside the Keras one (:mod:`train.inference.evaluation`):
the run's test inputs and their classes, the top class of each, the latency's calls."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from _toy_fixtures import CLASSES, MODEL_SIZE, make_toy_dataset, toy_split

from train.inference import evaluation
from train.inference.calibration import LazyImages
from train.inference.export_options import ExportError


class _Model:
    """Stands for a TFLite or a Keras model: a fixed linear map, recording batch sizes."""

    def __init__(self, weights: np.ndarray):
        self.weights = weights
        self.batches: list[int] = []

    def predict(self, x):
        self.batches.append(len(x))
        return np.asarray(x, dtype=np.float64).reshape(len(x), -1) @ self.weights


def test_top_classes_walks_every_input_in_bounded_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 5)).astype(np.float32)
    tfl, keras = _Model(rng.normal(size=(5, 3))), _Model(rng.normal(size=(5, 3)))
    loaded = SimpleNamespace(image_size=0, predict=keras.predict)
    top_tfl, top_keras = evaluation.top_classes(tfl, loaded, x)
    np.testing.assert_array_equal(top_tfl, (x @ tfl.weights).argmax(1))
    np.testing.assert_array_equal(top_keras, (x @ keras.weights).argmax(1))
    assert sum(tfl.batches) == 70 and len(tfl.batches) > 1  # a few at a time, all of them
    assert tfl.batches == keras.batches and max(tfl.batches) < 70
    empty = evaluation.top_classes(tfl, loaded, x[:0])
    assert [(len(a), a.dtype) for a in empty] == [(0, np.int64), (0, np.int64)]


def test_load_test_set_gives_the_test_images_and_classes_in_model_order(tmp_path):
    root = make_toy_dataset(tmp_path / "data")
    split = toy_split()
    order = list(reversed(CLASSES))  # the model's output order, not the dataset's
    loaded = SimpleNamespace(features="", labels=order, image_size=MODEL_SIZE, run_id="r")
    x, y = evaluation.load_test_set(loaded, root, split)
    assert isinstance(x, LazyImages) and len(x) == len(split["test"]) == len(y)
    assert y.dtype == np.int64
    parts = [p.parent.name + "/" + p.stem.split("_")[0] for p in x.paths]
    assert parts == split["test"]  # one meta-image a part in the toy set
    assert [order[i] for i in y] == [p.split("/")[0] for p in parts]


def test_load_test_set_refuses_an_empty_test_split_and_unknown_labels(tmp_path):
    root = make_toy_dataset(tmp_path / "data")
    loaded = SimpleNamespace(features="", labels=list(CLASSES), image_size=MODEL_SIZE, run_id="r")
    with pytest.raises(ExportError, match="run r: the test split is empty"):
        evaluation.load_test_set(loaded, root, {**toy_split(), "test": []})
    loaded.labels = ["blue", "green"]
    with pytest.raises(ExportError, match=r"test labels \['red'\] are not among"):
        evaluation.load_test_set(loaded, root, toy_split())


@pytest.mark.parametrize("n", [1, 3, evaluation.MIN_LATENCY_CALLS, 30])
def test_latency_is_timed_on_enough_calls_over_every_input(n):
    seen = {}

    class Tfl:
        def latency_ms(self, x, repeats):
            seen["calls"] = repeats * len(x)
            return 1.0

    assert evaluation.tflite_latency_ms(Tfl(), np.zeros((n, 4), np.float32)) == 1.0
    assert seen["calls"] >= max(n, evaluation.MIN_LATENCY_CALLS)
    assert seen["calls"] - n < evaluation.MIN_LATENCY_CALLS  # never a whole round more
    calls = evaluation._latency_calls(n)
    assert len(calls) == max(n, evaluation.MIN_LATENCY_CALLS) and set(calls) == set(range(n))
