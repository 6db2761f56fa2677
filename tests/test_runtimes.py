"""train.runtimes: the frozen backbone on TensorFlow, LiteRT or OpenVINO, the same features."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from train import runtimes
from train.errors import TrainError

pytestmark = pytest.mark.tf

needs_litert = pytest.mark.skipif(
    not runtimes.available("litert"), reason="ai-edge-litert is not installed"
)
needs_openvino = pytest.mark.skipif(
    not runtimes.available("openvino"), reason="openvino is not installed"
)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("METAVIEW_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(runtimes, "_warned", set())  # each test sees its own first warning


def _extractor(seed: int = 0, size: int = 24):
    """A small image -> pooled features model with the project's contract."""
    import keras

    keras.utils.set_random_seed(seed)
    inp = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1 / 128.0, offset=-1.0)(inp)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu6")(x)
    x = keras.layers.DepthwiseConv2D(3, activation="relu6")(x)
    return keras.Model(inp, keras.layers.GlobalMaxPooling2D()(x), name="tiny_features")


def test_resolve_names_the_runtime_that_runs():
    assert runtimes.resolve("tensorflow") == "tensorflow"
    first = next(r for r in runtimes.AUTO_ORDER if runtimes.available(r))
    assert runtimes.resolve("auto") == first
    with pytest.raises(TrainError, match="expected one of auto, tensorflow, litert, openvino"):
        runtimes.resolve("onnx")


def test_the_cli_offers_every_runtime():
    import dataclasses

    from train.config import TrainConfig

    field = next(f for f in dataclasses.fields(TrainConfig) if f.name == "runtime")
    assert field.metadata["choices"] == runtimes.RUNTIMES


def test_a_missing_litert_package_falls_back_to_tensorflow_with_one_line(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import fails
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    # auto passes over LiteRT without a word, to whatever comes next on this machine.
    after = next(r for r in runtimes.AUTO_ORDER if r != "litert" and runtimes.available(r))
    with caplog.at_level(logging.WARNING, logger="train.runtimes"):
        assert not runtimes.available("litert")
        assert runtimes.resolve("auto") == after
        assert caplog.records == []
        assert runtimes.resolve("litert") == "tensorflow"
        assert runtimes.resolve("litert") == "tensorflow"  # once a process: featurize, log
    assert len(caplog.records) == 1 and "ai-edge-litert is not installed" in caplog.text


def test_a_missing_openvino_package_falls_back_to_tensorflow_with_one_line(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "openvino", None)
    with caplog.at_level(logging.WARNING, logger="train.runtimes"):
        assert runtimes.resolve("openvino-bf16") == "tensorflow"
    assert len(caplog.records) == 1 and "package openvino is not installed" in caplog.text


@needs_openvino
def test_bf16_on_a_cpu_without_it_runs_openvino_in_float32(monkeypatch, caplog):
    monkeypatch.setattr(runtimes, "_openvino_capabilities", lambda: ("FP32", "INT8"))
    with caplog.at_level(logging.WARNING, logger="train.runtimes"):
        assert runtimes.resolve("openvino-bf16") == "openvino"
    assert len(caplog.records) == 1 and "bfloat16" in caplog.text


@needs_litert
def test_litert_gives_tensorflows_features_for_any_batch():
    model = _extractor()
    x = np.random.default_rng(0).uniform(0, 255, (5, 24, 24, 3)).astype(np.float32)
    tf_call, tf_name = runtimes.backbone_runner(model, "tensorflow")
    lr_call, lr_name = runtimes.backbone_runner(model, "litert")
    assert (tf_name, lr_name) == ("tensorflow", "litert")
    want = tf_call(x)
    for batch in (1, 3, 5, 2):  # the interpreter is resized between calls
        got = np.concatenate([lr_call(x[i : i + batch]) for i in range(0, 5, batch)])
        assert got.shape == want.shape == (5, 8) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-4)


@needs_openvino
def test_openvino_gives_tensorflows_features_in_float32_and_close_ones_in_bf16():
    model = _extractor()
    x = np.random.default_rng(0).uniform(0, 255, (5, 24, 24, 3)).astype(np.float32)
    want = runtimes.backbone_runner(model, "tensorflow")[0](x)
    call, name = runtimes.backbone_runner(model, "openvino")
    assert name == "openvino"
    for batch in (1, 3, 5, 2):  # one compiled model serves every batch size
        got = np.concatenate([call(x[i : i + batch]) for i in range(0, 5, batch)])
        assert got.shape == want.shape == (5, 8) and got.dtype == np.float32
        np.testing.assert_allclose(got, want, atol=1e-4)
    call, name = runtimes.backbone_runner(model, "openvino-bf16")
    assert name == runtimes.resolve("openvino-bf16")
    got = call(x)
    assert got.shape == (5, 8) and got.dtype == np.float32
    # bfloat16 keeps 8 bits of mantissa: within a few per cent of the features' scale.
    np.testing.assert_allclose(got, want, atol=0.05 * float(np.abs(want).max()))


@needs_openvino
def test_openvino_never_starts_its_telemetry(tmp_path):
    """Importing OpenVINO sends a usage event online unless the user opted out; metaview's
    import makes no telemetry object and sends nothing (counted in a fresh process)."""
    import subprocess
    from pathlib import Path

    code = (
        "import sys, numpy as np, openvino_telemetry\n"
        "from openvino_telemetry.utils.sender import TelemetrySender\n"
        "made = []\n"
        "openvino_telemetry.Telemetry.__init__ = lambda *a, **k: made.append('made')\n"
        "TelemetrySender.send = lambda *a, **k: made.append('sent')\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_runtimes import _extractor\n"
        "from train import runtimes\n"
        "call, name = runtimes.backbone_runner(_extractor(), 'openvino')\n"
        "call(np.zeros((1, 24, 24, 3), 'f4'))\n"
        "print(name, len(made), 'openvino' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[-3:] == ["openvino", "0", "True"]


@needs_litert
def test_the_converted_backbone_is_cached_by_weights(tmp_path):
    model = _extractor(seed=0)
    runtimes.backbone_runner(model, "litert")
    files = list((tmp_path / "cache" / "backbones").glob("*.tflite"))
    assert len(files) == 1
    stamp = files[0].stat().st_mtime_ns
    runtimes.backbone_runner(model, "litert")  # same weights: the same file, not rewritten
    assert files[0].stat().st_mtime_ns == stamp
    runtimes.backbone_runner(_extractor(seed=1), "litert")  # other weights: another file
    assert len(list((tmp_path / "cache" / "backbones").glob("*.tflite"))) == 2
    assert runtimes.model_key(model, "litert") != runtimes.model_key(model, "tensorflow")


@needs_litert
def test_each_runtime_keeps_its_own_feature_cache(tmp_path):
    from _train_fixtures import make_dataset_folder

    from train.data import load_dataset
    from train.featurize import backbone_features

    root = make_dataset_folder(tmp_path / "data", tile=12, rows=2, cols=2)
    ds = load_dataset(root)
    model = _extractor(size=24)
    kw = {"model": "tiny", "weights": "none", "image_size": 24, "progress": False}
    f_tf = backbone_features(model, ds, ds.rows, runtime="tensorflow", **kw)
    f_lr = backbone_features(model, ds, ds.rows, runtime="litert", **kw)
    assert (root / ".features-tiny-24.npz").is_file()
    assert (root / ".features-tiny-24-litert.npz").is_file()
    assert f_tf.shape == (len(ds.rows), 8)
    np.testing.assert_allclose(f_lr, f_tf, atol=1e-4)


def _classifier(size: int = 24):
    import keras

    from train.models import classifier

    keras.utils.set_random_seed(0)
    inp = keras.Input((size, size, 3), name="image")
    a = keras.layers.Conv2D(4, 3, strides=2, activation="relu6")(inp)
    b = keras.layers.Conv2D(6, 3, strides=2, activation="relu6")(a)
    return classifier.add_head(inp, [a, b], 3, 0.2, "tiny")


@needs_litert
@needs_openvino
def test_a_model_predicts_the_same_on_either_runtime():
    from train.inference.loaded import LoadedModel

    net = _classifier()
    x = np.random.default_rng(1).uniform(0, 255, (5, 24, 24, 3)).astype(np.float32)
    probs = {}
    for runtime in ("tensorflow", "litert", "openvino"):
        loaded = LoadedModel(net, ["a", "b", "c"], {}, 24, None, "test", runtime=runtime)
        probs[runtime] = loaded.predict(x, batch_size=2)
    assert probs["litert"].shape == (5, 3)
    np.testing.assert_allclose(probs["litert"], probs["tensorflow"], atol=1e-5)
    np.testing.assert_allclose(probs["openvino"], probs["tensorflow"], atol=1e-5)
    np.testing.assert_allclose(probs["tensorflow"], np.asarray(net(x)), atol=1e-5)


def test_a_run_loads_with_the_runtime_it_trained_with(tmp_path):
    import os

    from _toy_fixtures import log_fake_run, tiny_classifier

    from train.inference.loading import load_model

    uri = os.environ["MLFLOW_TRACKING_URI"]
    model = tiny_classifier()
    new = log_fake_run(uri, metrics={"best_val_f1_macro": 0.9}, model=model,
                       params={"runtime": "litert"})  # fmt: skip
    assert load_model(new).runtime == "litert"
    old = log_fake_run(uri, metrics={"best_val_f1_macro": 0.8}, model=model)  # no runtime key
    assert load_model(old).runtime == "tensorflow"
