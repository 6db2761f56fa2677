"""Training end to end: a real learning run recorded in MLflow, NaN, Ctrl-C, init-from, phase 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from train import fit, loop
from train.config import TrainConfig
from train.errors import TrainError

# -- failure paths, on a tiny registered model (conftest.register_tiny_model) ---------------


def _only_run(status=None):
    from mlflow import MlflowClient

    client = MlflowClient()
    exp = client.get_experiment_by_name("metaview")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    return runs[0]


@pytest.mark.tf
def test_nan_loss_stops_with_error_and_run_failed(tmp_path, register_tiny_model):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=4, tile=8)
    name = register_tiny_model(nan=True)
    cfg = TrainConfig(model=name, image_size=32, weights="none", epochs=3, batch_size=4)
    with pytest.raises(TrainError, match="NaN"):
        fit.train(cfg, root)
    run = _only_run()
    assert run.info.status == "FAILED"
    assert run.data.tags["metaview.kind"] == "train"


@pytest.mark.tf
def test_interrupted_run_ends_killed(tmp_path, monkeypatch, register_tiny_model):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=4, tile=8)
    name = register_tiny_model()

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_fit_phase", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        fit.train(TrainConfig(model=name, image_size=32, weights="none", epochs=1), root)
    assert _only_run().info.status == "KILLED"


def test_bad_dataset_starts_no_run(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=2, tile=8)
    with pytest.raises(Exception, match="at least 3"):
        fit.train(TrainConfig(model="efficientnet-lite0", image_size=32, weights="none"), root)
    assert not (tmp_path / "mlruns").exists()


# -- a real run -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def learned(tmp_path_factory):
    """Train the default model (Lite0, frozen ImageNet backbone, head on cached features) on
    two colour-coded classes (30 parts each, 2 meta-images a part, 32 px), once."""
    base = tmp_path_factory.mktemp("learned")
    uri = f"sqlite:///{base / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("METAVIEW_CACHE", str(base / "cache"))
        root = make_dataset_folder(base / "ds", parts_per_class=30, variants=2, tile=16, seed=1)
        # The design's model with its defaults (the default model needs the five directions).
        cfg = TrainConfig(model="efficientnet-lite0", seed=0)
        result = fit.train(cfg, root, tracking_uri=uri, run_name="learned")
    return result, root, uri


@pytest.mark.tf
@pytest.mark.slow
def test_learns_two_visually_distinct_classes(learned):
    """Held-out parts (8 parts, 16 meta-images; chance 0.5): a wide margin, not a coin toss."""
    result, _, _ = learned
    assert result.metrics["test_accuracy"] >= 0.9, result.history
    assert result.metrics["test_f1_macro"] >= 0.9


@pytest.mark.tf
@pytest.mark.slow
def test_b0_from_scratch_trains_the_whole_network(tmp_path):
    """From random weights every layer learns: the training loss falls well below its start."""
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=12, tile=16, seed=2)
    cfg = TrainConfig(
        model="efficientnet-b0",
        image_size=32,
        weights="none",
        epochs=6,
        patience=6,
        batch_size=8,
        learning_rate=1e-3,
        seed=0,
    )
    result = fit.train(cfg, root)
    loss = result.history["loss"]
    assert len(loss) == 6 and loss[-1] < 0.5 * loss[0], loss


@pytest.mark.tf
@pytest.mark.slow
def test_run_records_the_promised_params_metrics_and_artifacts(learned, tmp_path):
    from mlflow import MlflowClient

    from train import tracking

    result, root, uri = learned
    client = MlflowClient(uri)
    run = client.get_run(result.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.tags["metaview.kind"] == "train"
    assert run.data.tags["metaview.dataset"] == str(root.resolve())

    p = run.data.params
    assert p["model"] == "efficientnet-lite0" and p["image_size"] == "32"
    assert p["weights"] == "imagenet"  # "auto", resolved
    assert p["batch_size"] == "16" and p["seed"] == "0" and p["shuffle_tiles"] == "False"
    assert p["dataset.grid"] == "[2, 2]" and p["dataset.tile"] == "16"
    assert p["dataset.config_hash"] == "0123456789abcdef"
    n = {s: int(p[f"n.{s}.x_plus"]) + int(p[f"n.{s}.y_plus"]) for s in ("train", "val", "test")}
    assert (
        sum(n.values()) == 120 and n["test"] == 16 and n["val"] == 16
    )  # round(0.15 * 30) = 4 parts
    assert float(p["class_weight.x_plus"]) == pytest.approx(1.0)
    assert "version.keras" in p and "version.mlflow" in p

    n_epochs = len(result.history["loss"])
    for name in (*tracking.EPOCH_METRICS, "lr"):
        hist = client.get_metric_history(result.run_id, name)
        assert sorted(m.step for m in hist) == list(range(n_epochs)), name
    m = run.data.metrics
    labels = ["x_plus", "y_plus"]
    final = ["best_epoch", "best_val_loss", "best_val_accuracy", "best_val_f1_macro", "test_loss"]
    final += [f"test_{k}" for k in ("accuracy", "precision_macro", "recall_macro", "f1_macro")]
    final += [f"test_{k}.{c}" for k in ("precision", "recall") for c in labels]
    # No valid sets beside this dataset: each part's set is its label, so the top answer is
    # valid exactly when it is right.
    assert p["objective"] == "label" and p["valid_sets.source"] == "labels only"
    assert m["test_top_valid"] == pytest.approx(m["test_accuracy"])
    final += [f"test_set_{k}.{c}" for k in ("precision", "recall", "support") for c in labels]
    for name in [*final, "train_seconds"]:
        assert name in m, name
    best = int(m["best_epoch"]) - 1  # best_epoch counts from 1, as Keras prints epochs
    assert m["best_val_loss"] == pytest.approx(min(result.history["val_loss"]))
    assert m["best_val_loss"] == pytest.approx(result.history["val_loss"][best])

    dst = tmp_path / "art"
    client.download_artifacts(result.run_id, "", str(dst))
    for name in (
        "labels.json",
        "metaimage.json",
        "train_config.json",
        "split.json",
        "history.json",
        "confusion_matrix.json",
        "class_scores.json",
        "plots/confusion_matrix.png",
        "plots/training_curves.png",
        "plots/misclassified.png",
        "plots/valid_sets.png",
    ):
        assert (dst / name).is_file(), name
    from train import runtimes

    # A run whose features came from a converted backbone can predict without TensorFlow.
    assert p["runtime"] == "auto" and p["runtime.resolved"] == runtimes.resolve("auto")
    assert (dst / "head.npz").is_file() == (p["runtime.resolved"] != "tensorflow")
    assert json.loads((dst / "labels.json").read_text()) == labels
    cfg = TrainConfig.from_dict(json.loads((dst / "train_config.json").read_text()))
    assert cfg == result.config and cfg.image_size == 32
    split = json.loads((dst / "split.json").read_text())
    assert split["seed"] == 0 and len(split["test"]) == 8
    assert not set(split["train"]) & set(split["test"]) and not set(split["val"]) & set(
        split["test"]
    )
    cm = json.loads((dst / "confusion_matrix.json").read_text())
    assert cm["labels"] == labels and np.sum(cm["matrix"]) == 8  # one count per test part
    assert np.trace(cm["matrix"]) / 8 == pytest.approx(m["test_accuracy"])


@pytest.mark.tf
@pytest.mark.slow
def test_logged_model_predicts_the_test_split_as_logged(learned):
    import mlflow

    from metaimage.io import read_png
    from train import data, evaluate, pipeline, tracking

    result, root, uri = learned
    with tracking.using_tracking_uri(uri):
        net = mlflow.keras.load_model(f"runs:/{result.run_id}/model")
        split = json.loads(
            Path(
                mlflow.artifacts.download_artifacts(
                    run_id=result.run_id, artifact_path="split.json"
                )
            ).read_text()
        )
    paths, labels = data.load_split(root, split, "test")
    x = pipeline.prepare_images(np.stack([read_png(p) for p in paths]), 32)
    probs = net.predict(x, verbose=0)
    pred = probs.argmax(1)
    acc = np.mean([result.labels[i] == lab for i, lab in zip(pred, labels, strict=True)])
    assert acc == pytest.approx(result.metrics["test_image_accuracy"])
    # test_accuracy judges each part once, by the mean of its meta-images' probabilities.
    part_of = {(root / r["path"]).resolve(): r["part_id"] for r in data.load_dataset(root).rows}
    rows = [
        {"part_id": part_of[Path(p).resolve()], "label": lab}
        for p, lab in zip(paths, labels, strict=True)
    ]
    part_rows, part_probs = evaluate.per_part(rows, probs)
    pred_parts = part_probs.argmax(1)
    part_acc = np.mean(
        [result.labels[i] == r["label"] for i, r in zip(pred_parts, part_rows, strict=True)]
    )
    assert len(part_rows) == len(split["test"])
    assert part_acc == pytest.approx(result.metrics["test_accuracy"])


@pytest.mark.tf
@pytest.mark.slow
def test_best_model_loads_by_spec(learned, monkeypatch):
    from train.inference import load_model

    result, _, uri = learned
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = load_model("best")
    assert loaded.run_id == result.run_id
    assert loaded.labels == ["x_plus", "y_plus"] and loaded.image_size == 32


@pytest.mark.tf
@pytest.mark.slow
def test_the_run_predicts_the_same_without_tensorflow(learned, tmp_path):
    """What ``metaview predict`` loads (need_keras=False): the cached backbone and a NumPy
    head, in a process that never imports TensorFlow, with the Keras model's answers."""
    import os
    import subprocess
    import sys

    from metaimage.io import read_png
    from train import pipeline, runtimes
    from train.inference import load_model

    result, root, uri = learned
    if runtimes.resolve("auto") == "tensorflow":
        pytest.skip("no converted-backbone runtime installed")
    paths = sorted(root.glob("*/*.png"))[:6]
    x = pipeline.prepare_images(np.stack([read_png(p) for p in paths]), 32)
    np.save(tmp_path / "x.npy", x)
    keras_probs = load_model(result.run_id, tracking_uri=uri).keras_model.predict(x, verbose=0)
    code = (
        "import json, sys, numpy as np\n"
        "from train.inference import load_model\n"
        f"m = load_model({result.run_id!r}, need_keras=False)\n"
        f"p = m.predict(np.load({str(tmp_path / 'x.npy')!r}))\n"
        "heavy = sorted(k for k in ('tensorflow', 'keras') if k in sys.modules)\n"
        "print(json.dumps([m.kind, m.runtime, heavy, p.tolist()]))\n"
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "METAVIEW_CACHE": str(root.parent / "cache"),  # where training converted it
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    kind, runtime, heavy, probs = json.loads(out.stdout.strip().splitlines()[-1])
    assert (kind, runtime, heavy) == ("compact", runtimes.resolve("auto"), [])
    np.testing.assert_allclose(np.asarray(probs), keras_probs, atol=1e-4)
    # Without the converted file (another machine), the Keras model predicts and converts it.
    env["METAVIEW_CACHE"] = str(tmp_path / "empty-cache")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    kind, _, heavy, probs = json.loads(out.stdout.strip().splitlines()[-1])
    assert kind == "keras" and "tensorflow" in heavy
    np.testing.assert_allclose(np.asarray(probs), keras_probs, atol=1e-4)
    assert list((tmp_path / "empty-cache" / "backbones").glob("*.tflite"))


@pytest.mark.tf
@pytest.mark.slow
def test_cli_init_from_previous_run_with_new_classes(learned, tmp_path, capsys):
    from mlflow import MlflowClient

    from metaview.cli import main

    result, _, uri = learned
    root = make_dataset_folder(
        tmp_path / "three", labels=("x_plus", "y_plus", "z_plus"), parts_per_class=3, tile=16
    )
    argv = [
        "train",
        str(root),
        "--init-from",
        result.run_id,
        "--weights",
        "none",
        "--epochs",
        "1",
        "--tracking-uri",
        uri,
        "--run-name",
        "init",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "finished" in out and "test: accuracy" in out and "mlflow ui" in out
    client = MlflowClient(uri)
    run = client.search_runs([result.experiment_id], "attributes.run_name = 'init'")[0]
    assert run.info.status == "FINISHED"
    assert run.data.params["init_from"] == result.run_id
    assert run.data.params["image_size"] == "32"  # taken from the model started from
    assert run.data.params["n_classes"] == "3"
    assert run.data.params["learning_rate"] == "0.001"  # auto: only the new head trains


@pytest.mark.tf
@pytest.mark.slow
def test_phase_two_fine_tunes_top_layers_of_a_pretrained_backbone(tmp_path):
    """A local backbone file (frozen) -> head training -> top layers unfrozen at a lower LR."""
    from mlflow import MlflowClient

    from train import tracking
    from train.models.efficientnet import build_backbone

    weights = tmp_path / "backbone.weights.h5"
    build_backbone("efficientnet-b0", 32, "none").save_weights(str(weights))
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=4, tile=16)
    cfg = TrainConfig(
        model="efficientnet-b0",
        image_size=32,
        weights=str(weights),
        epochs=1,
        fine_tune_layers=10,
        fine_tune_epochs=1,
        learning_rate=1e-3,
        fine_tune_learning_rate=1e-5,
        batch_size=8,
    )
    result = fit.train(cfg, root)
    assert len(result.history["loss"]) == 2
    lrs = MlflowClient(tracking.resolve_tracking_uri()).get_metric_history(result.run_id, "lr")
    assert sorted((m.step, round(m.value, 8)) for m in lrs) == [(0, 1e-3), (1, 1e-5)]


# -- valid sets: objectives and set scores ---------------------------------------------------


def _valid_set_dataset(tmp_path):
    """Three colour classes (10 parts each) and 6 unlabelled parts coloured like x_plus.

    ``reach.csv`` beside the data: x_plus parts are valid from x_plus and y_plus, the
    others from their label alone; the unlabelled parts take x_plus, their first valid
    direction, as label.
    """
    labels = ("x_plus", "y_plus", "z_plus")
    root = make_dataset_folder(
        tmp_path / "ds", labels=labels, parts_per_class=10, tile=16, seed=3, unlabelled=6
    )
    lines = ["file,valid"]
    for label in labels:
        valid = "x_plus|y_plus" if label == "x_plus" else label
        lines += [f"{label}/{i:04d}.stl,{valid}" for i in range(10)]
    lines += [f"loose_{i:04d}.stl,x_plus|y_plus" for i in range(6)]
    (root / "reach.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.mark.tf
@pytest.mark.parametrize("objective", ["sets", "label"])
def test_valid_sets_train_score_and_load_back(tmp_path, objective):
    """A run finds DATA/reach.csv, labels the unlabelled parts from it, logs set scores that
    the logged model's own predictions reproduce; only a 'sets' model names two directions."""
    from train import labelsets, tracking
    from train.data import load_dataset
    from train.inference import load_model
    from train.inference.predict import predict_files

    root = _valid_set_dataset(tmp_path)
    cfg = TrainConfig(
        model="colour-stats", epochs=60, batch_size=4, learning_rate=0.01, objective=objective
    )
    result = fit.train(cfg, root)
    client = tracking.make_client(None)
    run = client.get_run(result.run_id)
    assert run.data.params["objective"] == objective
    assert run.data.params["valid_sets.source"] == str(root / "reach.csv")
    # 10 x_plus parts and 6 unlabelled ones are valid from x_plus and y_plus.
    assert (run.data.params["valid_sets.listed"], run.data.params["valid_sets.multi"]) == (
        "36",
        "16",
    )
    n_parts = sum(int(v) for k, v in run.data.params.items() if k.startswith("parts."))
    assert n_parts == 36  # 30 labelled + 6 labelled from their valid sets

    loaded = load_model(result.run_id)
    assert loaded.multi_label is (objective == "sets")
    split = tracking.read_run_json(client, result.run_id, "split.json")
    ds = load_dataset(root, labels_for={f"loose_{i:04d}": "x_plus" for i in range(6)})
    test = [r for r in ds.rows if r["part_id"] in set(split["test"])]
    preds = predict_files([root / r["path"] for r in test], loaded, reach=False)
    valid = labelsets.read_valid_sets(root / "reach.csv")
    mask, _ = labelsets.set_masks(
        [r["part_id"] for r in test], [r["label"] for r in test], loaded.labels, valid
    )
    probs = np.array([[p.probabilities[lab] for lab in loaded.labels] for p in preds])
    want, _ = labelsets.set_scores(probs, mask, loaded.labels, loaded.multi_label)
    for key, value in want.items():
        assert result.metrics[f"test_{key}"] == pytest.approx(value, abs=1e-6)
    assert result.metrics["test_top_valid"] == 1.0  # the colours separate the classes
    named_two = [r["label"] for r, p in zip(test, preds, strict=True) if len(p.predicted_set) > 1]
    if objective == "sets":
        # Every x_plus part is named with both its directions, every other with one.
        assert result.metrics["test_set_exact"] == 1.0
        assert named_two and set(named_two) == {"x_plus"}
        assert {p.predicted_set for p in preds} == {("x_plus", "y_plus"), ("z_plus",), ("y_plus",)}
    else:
        assert not named_two and result.metrics["test_set_exact"] < 1.0
