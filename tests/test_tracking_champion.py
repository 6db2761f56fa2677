"""The champion alias: promotion of the best run, on a local store and a real MLflow server."""

from __future__ import annotations

import os

import numpy as np
import pytest
from _toy_fixtures import CLASSES, MODEL_SIZE, tracking_uri
from _tracking_fixtures import mlflow_exe, start_mlflow_server, stop_server

from train import tracking
from train.inference import load_model


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


@pytest.mark.tf
def test_promote_if_best_sets_champion_on_the_best_run_only(toy):
    from mlflow import MlflowClient

    uri = _uri()
    client = MlflowClient(uri)
    a = toy.log(uri, f1=0.80, run_name="a")
    exp_id = tracking.get_experiment_id(client)
    assert tracking.promote_if_best(client, a, exp_id) is True
    assert tracking.champion_run_id(client) == a

    b = toy.log(uri, f1=0.70, run_name="b")  # later but worse
    assert tracking.promote_if_best(client, b, exp_id) is False
    assert tracking.champion_run_id(client) == a

    c = toy.log(uri, f1=0.95, run_name="c")
    assert tracking.promote_if_best(client, c, exp_id) is True
    assert tracking.promote_if_best(client, c, exp_id) is True  # idempotent
    assert tracking.promote_if_best(client, a, exp_id) is False
    version = client.get_model_version_by_alias("metaview-metaview", "champion")
    assert version.run_id == c
    versions = client.search_model_versions("name = 'metaview-metaview'")
    assert sorted(v.run_id for v in versions) == sorted([a, c])  # one version per promoted run
    # The registered version loads as the same model.
    import mlflow.keras

    x = np.random.default_rng(0).uniform(0, 255, (2, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)
    with tracking_uri(uri):
        model = mlflow.keras.load_model("models:/metaview-metaview@champion")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(toy.model(x)), rtol=1e-5, atol=1e-6)
    # "champion" is also a --model spec.
    assert load_model("champion").run_id == c


@pytest.mark.tf
def test_promote_if_best_judges_a_running_run_as_finished(toy):
    """Training may promote just before its run ends: the live run competes as if finished."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    uri = _uri()
    client = MlflowClient(uri)
    old = toy.log(uri, f1=0.5)
    exp_id = tracking.get_experiment_id(client)
    x = np.zeros((1, MODEL_SIZE, MODEL_SIZE, 3), dtype=np.float32)
    with (
        tracking_uri(uri),
        mlflow.start_run(experiment_id=exp_id, tags={"metaview.kind": "train"}) as run,
    ):
        mlflow.log_metrics({"best_val_f1_macro": 0.9, "best_val_loss": 0.5})
        mlflow.keras.log_model(
            toy.model, name="model", signature=infer_signature(x, np.asarray(toy.model(x))),
            pip_requirements=["keras"],
        )  # fmt: skip
        # While it runs, "best" (what predict loads) is still the finished run ...
        assert tracking.find_best_run(client, exp_id).info.run_id == old
        # ... but promotion judges the live run, which wins.
        assert tracking.promote_if_best(client, run.info.run_id, exp_id) is True
    assert tracking.champion_run_id(client) == run.info.run_id
    assert tracking.find_best_run(client, exp_id).info.run_id == run.info.run_id


@pytest.mark.tf
def test_each_experiment_has_its_own_champion(toy):
    """A better run in another experiment (other classes, other render config) never
    becomes this experiment's champion."""
    from mlflow import MlflowClient

    uri = _uri()
    client = MlflowClient(uri)
    a = toy.log(uri, f1=0.70, experiment="parts-a")
    b = toy.log(uri, f1=0.99, experiment="parts-b")
    for run_id, exp in ((a, "parts-a"), (b, "parts-b")):
        assert tracking.promote_if_best(client, run_id, tracking.get_experiment_id(client, exp))
    assert tracking.champion_run_id(client, "parts-a") == a
    assert tracking.champion_run_id(client, "parts-b") == b
    assert tracking.champion_run_id(client, "metaview") is None
    assert client.get_model_version_by_alias("metaview-parts-a", "champion").run_id == a
    assert load_model("champion", experiment="parts-a").run_id == a
    assert load_model("champion", experiment="parts-b").run_id == b


# --------------------------------------------------------------------------- a real server


@pytest.fixture
def mlflow_server(tmp_path):
    """A real ``mlflow server`` on 127.0.0.1 (sqlite, served artifacts), killed at the end."""
    exe = mlflow_exe()
    proc, url = start_mlflow_server(exe, f"sqlite:///{tmp_path / 'server.db'}", tmp_path)
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.mark.slow
@pytest.mark.tf
def test_real_mlflow_server_records_the_run_and_selects_the_best(toy, mlflow_server, monkeypatch):
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    worse = toy.log(mlflow_server, f1=0.6, run_name="worse")
    best = toy.log(mlflow_server, f1=0.9, run_name="best", params={"epochs": 5})
    latest = toy.log(mlflow_server, f1=0.7, run_name="latest")
    client = MlflowClient(mlflow_server)
    exp_id = tracking.get_experiment_id(client)

    run = client.get_run(best)
    assert run.info.status == "FINISHED"
    assert run.data.tags["metaview.kind"] == "train"
    assert run.data.params["epochs"] == "5" and run.data.params["image_size"] == str(MODEL_SIZE)
    assert run.data.metrics["best_val_f1_macro"] == pytest.approx(0.9)
    assert len(client.get_metric_history(best, "val_loss")) == len(toy.history["val_loss"])
    names = {f.path for f in client.list_artifacts(best)}
    assert {"labels.json", "metaimage.json", "split.json", "train_config.json"} <= names

    assert tracking.find_best_run(client, exp_id).info.run_id == best
    assert tracking.promote_if_best(client, best, exp_id) is True
    assert tracking.promote_if_best(client, latest, exp_id) is False
    assert tracking.champion_run_id(client) == best

    loaded = load_model("best", tracking_uri=mlflow_server)
    assert loaded.run_id == best and loaded.labels == list(CLASSES)
    x = np.full((1, MODEL_SIZE, MODEL_SIZE, 3), 128.0, dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x), np.asarray(toy.model(x)), rtol=1e-5, atol=1e-6)
    assert worse != best
