"""The train package as a whole: importing it, its CLI modules and its facades stays cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_importing_train_and_its_cli_modules_stays_light():
    """TensorFlow, Keras, MLflow and matplotlib load only inside the functions that need them."""
    code = (
        "import sys, train, train.cli, train.cli_model, train.config, train.errors, train.models,"
        " train.tracking, train.inference, train.inference.export, train.runs, train.metrics,"
        " train.plots, train.plots.fonts, train.plots.confusion, train.plots.training_curves,"
        " train.plots.misclassified, train.plots.set_scores, train.plots.run_curves, train.fit,"
        " train.tracking.provenance, train.tracking.keys, train.tracking.epoch_logger;"
        "heavy = [m for m in ('tensorflow', 'keras', 'mlflow', 'matplotlib') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --------------------------------------------------------------------------- metaview train


def _fake_result(run_id="a" * 32, promoted=True):
    from types import SimpleNamespace

    metrics = {
        "train_seconds": 12.0, "best_epoch": 2.0, "best_val_loss": 0.5,
        "best_val_accuracy": 0.75, "best_val_f1_macro": 0.7, "test_accuracy": 0.8,
        "test_precision_macro": 0.81, "test_recall_macro": 0.82, "test_f1_macro": 0.83,
    }  # fmt: skip
    return SimpleNamespace(
        run_id=run_id, experiment_id="1", tracking_uri="sqlite:///mlflow.db",
        artifact_uri=f"/somewhere/mlruns/1/{run_id}/artifacts", metrics=metrics,
        labels=["+X", "_X"], history={"val_loss": [0.9, 0.5, 0.6]}, promoted=promoted,
        class_scores={"+X": {"precision": 1.0, "recall": 0.5, "f1": 0.667},
                      "_X": {"precision": 0.25, "recall": 1.0, "f1": 0.4}},
    )  # fmt: skip


def test_train_summary_per_class_by_name_model_uri_and_1_based_best_epoch(
    tmp_path, monkeypatch, capsys
):
    """Class names that share an MLflow key ('+X', '_X') print their own scores; the model
    is named by its runs:/ URI (MLflow 3 keeps it outside the run's artifacts/model/)."""
    from _toy_fixtures import cli

    from train import fit

    seen = {}

    def fake_train(cfg, data, **kw):
        seen.update(kw)
        return _fake_result()

    monkeypatch.setattr(fit, "train", fake_train)
    monkeypatch.setattr("train.console.import_tensorflow", lambda: None)
    assert cli(["train", str(tmp_path), "--experiment", "parts", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert seen["verbose"] == 0 and seen["experiment"] == "parts"
    assert "best epoch 2 of 3: val_loss 0.5000" in out
    assert "+X: precision 1.000, recall 0.500, f1 0.667" in out
    assert "_X: precision 0.250, recall 1.000, f1 0.400" in out
    assert f"model: runs:/{'a' * 32}/model" in out
    assert "models:/metaview-parts@champion" in out
    assert "model/)" not in out and "artifacts/model" not in out


def test_train_progress_is_the_one_reporter_one_line_an_epoch_in_a_log():
    import io

    import keras
    import numpy as np

    from train.console import epoch_progress, fit_verbosity

    assert (fit_verbosity(), fit_verbosity(no_progress=True)) == (1, 0)
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = np.random.default_rng(0).normal(size=(16, 3)), np.arange(16) % 2
    log = io.StringIO()
    callback = epoch_progress(5, initial_epoch=2, file=log, tty=False)
    net.fit(x, y, validation_data=(x, y), epochs=5, initial_epoch=2, verbose=0,
            callbacks=[callback])  # fmt: skip
    lines = log.getvalue().splitlines()
    assert len(lines) == 4 and [ln.split(",")[0] for ln in lines[:3]] == [
        "train: 1/3 epochs (33%)", "train: 2/3 epochs (67%)", "train: 3/3 epochs (100%)",
    ]  # fmt: skip
    assert lines[3].startswith("train: 3/3 epochs (100%) in ")  # the final line
    assert all("loss=" in ln and "val_loss=" in ln for ln in lines)
    assert "\r" not in log.getvalue()


def test_train_with_an_unreachable_server_fails_before_any_work(
    tmp_path, refused_port, mlflow_http_requests, monkeypatch, capsys
):
    import time

    from _toy_fixtures import cli

    from train import fit

    monkeypatch.setattr(fit, "train", lambda *a, **k: pytest.fail("training started"))
    uri = f"http://127.0.0.1:{refused_port}"  # bound by the test, refusing connections
    t0 = time.monotonic()
    assert cli(["train", str(tmp_path), "--tracking-uri", uri]) == 1
    # Seconds, not the minutes MLflow's client spends retrying: it never sends a request.
    assert time.monotonic() - t0 < 60
    assert mlflow_http_requests == []
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and err[0].startswith("metaview train: error: cannot reach") and uri in err[0]
    )


def test_train_run_without_tensorflow_or_mlflow_before_the_store_check():
    """The check comes first: the parser and the check import neither TensorFlow nor Keras."""
    code = (
        "import sys\n"
        "from train import tracking\n"
        "try:\n"
        "    tracking.check_reachable('http://127.0.0.1:9')\n"
        "except Exception:\n"
        "    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=60)


def _class_folders(root, classes, n=4, size=16):
    import numpy as np

    from metaimage.io import write_png

    rng = np.random.default_rng(0)
    for k, c in enumerate(classes):
        for i in range(n):
            img = rng.integers(0, 60, (size, size, 3), np.uint8)
            img[..., k % 3] += 150  # a class colour, as in the toy sets
            write_png(root / c / f"{i:04d}_v0.png", img)
    return root


@pytest.mark.tf
def test_train_cli_on_plain_class_folders_records_everything(tmp_path, register_tiny_model, capsys):
    """`metaview train` end to end on a tiny model: DATA/<class>/*.png (no metaimage.json),
    class names that clash as MLflow keys, lineage, heartbeat, 1-based best epoch."""
    import json

    from _toy_fixtures import cli
    from mlflow import MlflowClient

    from train import data, tracking
    from train.inference import load_model

    root = _class_folders(tmp_path / "plain", ["+X", "_X"])
    name = register_tiny_model()
    argv = ["train", str(root), "--model", name, "--image-size", "32", "--weights", "none",
            "--epochs", "2", "--patience", "2", "--batch-size", "4", "--grid", "2x2",
            "--val-fraction", "0.25", "--test-fraction", "0.25", "--no-progress",
            "--experiment", "plain", "--run-name", "plain-run"]  # fmt: skip
    assert cli(argv) == 0
    out = capsys.readouterr().out
    client = MlflowClient()
    [run] = client.search_runs([tracking.get_experiment_id(client, "plain")])
    run_id = run.info.run_id
    assert run.info.status == "FINISHED"
    best, of = (int(x) for x in out.split("best epoch ")[1].split(":")[0].split(" of "))
    assert 1 <= best <= of and run.data.metrics["best_epoch"] == best
    assert f"model: runs:/{run_id}/model" in out
    assert "+X: precision" in out and "_X: precision" in out
    m = run.data.metrics
    assert "test_precision._X" in m and "test_precision._X_2" in m  # both classes kept
    dst = client.download_artifacts(run_id, "", str(tmp_path / "art"))
    scores = json.loads((Path(dst) / "class_scores.json").read_text(encoding="utf-8"))
    assert list(scores) == ["+X", "_X"]
    assert scores["+X"]["precision"] == m["test_precision._X"]
    meta = json.loads((Path(dst) / "metaimage.json").read_text())
    assert meta["layout"] == "class-folders" and meta["grid"] == [2, 2]
    assert run.data.params["grid"] == "2x2"
    # Lineage: the dataset as the run's input, by content digest; the heartbeat.
    [inp] = run.inputs.dataset_inputs
    assert inp.dataset.digest == data.load_dataset(root, grid=(2, 2)).digest[:36]
    assert float(run.data.tags["metaview.heartbeat"]) > 0
    # A model of plain PNG folders predicts PNGs but renders no meshes.
    loaded = load_model(run_id)
    assert loaded.labels == ["+X", "_X"] and not loaded.can_render
    import trimesh

    trimesh.creation.box().export(tmp_path / "part.stl")
    png = root / "+X" / "0000_v0.png"
    capsys.readouterr()
    assert cli(["predict", "--model", run_id, str(png), str(tmp_path / "part.stl")]) == 2
    out, err = capsys.readouterr()
    assert out.startswith(f"{png}  ")
    assert "part.stl: " in err and "no render config, so meshes cannot be rendered" in err


@pytest.mark.tf
def test_train_names_a_png_that_tensorflow_cannot_decode(tmp_path, register_tiny_model, capsys):
    from _toy_fixtures import cli
    from _train_fixtures import make_dataset_folder
    from mlflow import MlflowClient

    root = make_dataset_folder(tmp_path / "ds", parts_per_class=4, tile=8)  # no digests recorded
    bad = root / "y_plus" / "0002_v0.png"
    bad.write_bytes(bad.read_bytes()[:70])  # the header survives the check at load time
    name = register_tiny_model()
    argv = ["train", str(root), "--model", name, "--image-size", "32", "--weights", "none",
            "--epochs", "1", "--batch-size", "4", "--no-progress"]  # fmt: skip
    assert cli(argv) == 1
    err = capsys.readouterr().err
    assert f"metaview train: error: {bad}: TensorFlow cannot decode this PNG" in err
    [run] = MlflowClient().search_runs([tracking_exp_id()])
    assert run.info.status == "FAILED"


def tracking_exp_id(name="metaview"):
    from train import tracking

    client = tracking.make_client()
    return tracking.get_experiment_id(client, name)


def test_native_stderr_goes_to_the_debug_log(capfd, caplog):
    """What C++ code writes to fd 2 (TensorFlow's absl lines) is logged at DEBUG, not shown."""
    import logging
    import os

    from train.console import native_stderr_to_log

    with caplog.at_level(logging.INFO), native_stderr_to_log("native test"):
        os.write(2, b"W0000 00:00:1.0 1 tf_tfl_flatbuffer_helpers.cc:365] Ignored output_format.\n")
    assert capfd.readouterr().err == ""
    with caplog.at_level(logging.DEBUG, logger="train.console"):
        with native_stderr_to_log("native test", enabled=True):
            os.write(2, b"I0000 oneDNN custom operations are on.\n")
    assert capfd.readouterr().err == ""
    assert "native test said:\nI0000 oneDNN custom operations are on." in caplog.text
    with pytest.raises(ZeroDivisionError), native_stderr_to_log("failing", enabled=True):
        os.write(2, b"why it failed\n")
        raise ZeroDivisionError
    assert "failing said:\nwhy it failed" in caplog.text  # kept, at WARNING, on an error
