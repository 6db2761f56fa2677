"""Specs that name a run: runs:/ and models:/ URIs, and their errors (train.inference.resolve)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from _toy_fixtures import CLASSES, MODEL_SIZE, log_metric_run, metaimage_dict

from train.errors import TrainError
from train.inference import load_model


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


# -- MLflow URIs as specs: runs:/, models:/ (issue 20) ------------------------------------------


def _register(client, name: str, run_id: str | None, alias: str | None = None) -> str:
    """Register a version of ``name`` (created if needed) for ``run_id``; return its number."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name)
    source = f"runs:/{run_id}/model" if run_id else "/nowhere/model"
    version = client.create_model_version(name, source, run_id=run_id).version
    if alias:
        client.set_registered_model_alias(name, alias, version)
    return str(version)


def test_registered_specs_resolve_to_the_run_that_logged_the_version():
    from mlflow import MlflowClient

    from train.inference.resolve import resolve_run_id

    client = MlflowClient(_uri())
    a, b = log_metric_run(0.8), log_metric_run(0.9)
    _register(client, "metaview-exp", a)
    _register(client, "metaview-exp", b, alias="champion")
    assert resolve_run_id("models:/metaview-exp/1", client) == a
    assert resolve_run_id("models:/metaview-exp/2", client) == b
    assert resolve_run_id("models:/metaview-exp/latest", client) == b
    assert resolve_run_id("models:/metaview-exp@champion", client) == b
    assert resolve_run_id(f"runs:/{a}/model", client) == a
    assert resolve_run_id(f"runs:/{a}", client) == a


@pytest.mark.parametrize(
    "spec, match",
    [
        (
            "models:/metaview-exp/7",
            r"models:/metaview-exp/7: registered model 'metaview-exp' has no version 7 .*"
            r"its versions \(latest first\): 2, 1; its aliases: @champion -> 2",
        ),
        (
            "models:/metaview-exp@staging",
            r"models:/metaview-exp@staging: registered model 'metaview-exp' has no alias "
            r"@staging .*its versions \(latest first\): 2, 1; its aliases: @champion -> 2",
        ),
        (
            "models:/metaview-nope/1",
            r"models:/metaview-nope/1: no registered model 'metaview-nope' .*"
            r"registered models: metaview-empty, metaview-exp, metaview-orphan\)",
        ),
        ("models:/metaview-nope@champion", r"no registered model 'metaview-nope'"),
        ("models:/metaview-empty/latest", r"models:/metaview-empty/latest: .* has no versions"),
        ("models:/metaview-empty/1", r"has no version 1 .*it has no versions; it has no aliases"),
        (
            "models:/metaview-orphan/1",
            r"models:/metaview-orphan/1: version 1 .* not logged by a run",
        ),
        (f"runs:/{'0' * 32}/model", f"no run with id {'0' * 32}"),
        ("runs:/", "runs:/ needs a run id"),
        ("models:/", "models:/ needs a registered model name"),
        ("s3://bucket/model", r"s3: URIs are not read.*models:/NAME@ALIAS"),
    ],
)
def test_missing_registered_versions_and_aliases_are_named(spec, match):
    from mlflow import MlflowClient

    client = MlflowClient(_uri())
    a, b = log_metric_run(0.8), log_metric_run(0.9)
    _register(client, "metaview-exp", a)
    _register(client, "metaview-exp", b, alias="champion")
    client.create_registered_model("metaview-empty")
    _register(client, "metaview-orphan", None)
    with pytest.raises(TrainError, match=match):
        load_model(spec)


@pytest.mark.tf
def test_runs_and_models_uris_load_the_same_run_as_its_id(toy, caplog):
    from mlflow import MlflowClient

    from train import tracking

    uri = _uri()
    run_id = toy.log(uri, experiment="exp")
    client = MlflowClient(uri)
    assert tracking.promote_if_best(client, run_id, tracking.get_experiment_id(client, "exp"))
    x = np.random.default_rng(2).uniform(0, 255, (4, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)
    by_id = load_model(run_id)
    expected = by_id.predict(x)
    # The id as `metaview runs` shows it: its first 8 characters, in the run's experiment.
    assert load_model(run_id[:8], experiment="exp").run_id == run_id
    for spec in (
        f"runs:/{run_id}/model",
        f"runs:/{run_id}",
        "models:/metaview-exp/1",
        "models:/metaview-exp/latest",
        "models:/metaview-exp@champion",
    ):
        loaded = load_model(spec)
        assert loaded.run_id == run_id, spec
        assert loaded.source == f"runs:/{run_id}/model"
        assert loaded.labels == list(CLASSES) and loaded.metaimage == metaimage_dict()
        np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-6, atol=1e-7)
    other = next(c for c in "0123456789abcdef" if c != run_id[0]) + run_id[1:8]
    with pytest.raises(TrainError, match=f"--model {other}: no training run of experiment"):
        load_model(other, experiment="exp")
    # Another artifact path still loads the run's model, and says so.
    with caplog.at_level("WARNING", logger="train.inference.resolve"):
        assert load_model(f"runs:/{run_id}/labels.json").run_id == run_id
    assert "not labels.json" in caplog.text


@pytest.mark.tf
def test_cli_predict_and_export_take_runs_and_models_uris(toy, tmp_path, capsys):
    from _toy_fixtures import cli

    from train.data import load_split
    from train.inference.export import export_model

    run_id = toy.log(_uri())
    pngs, labels = load_split(toy.dataset, toy.split, "test")
    code = cli(["predict", "--model", f"runs:/{run_id}/model", *map(str, pngs[:3]), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [r["label"] for r in out] == labels[:3]
    assert {r["model"] for r in out} == {f"runs:/{run_id}/model"}

    from mlflow import MlflowClient

    _register(MlflowClient(_uri()), "metaview-metaview", run_id, alias="champion")
    report = export_model(
        tmp_path / "m.tflite", "float32", spec="models:/metaview-metaview@champion"
    )
    assert report.run_id == run_id
    code = cli(["predict", "--model", f"file:{tmp_path / 'm.tflite'}", str(pngs[0]), "--json"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)[0]["label"] == labels[0]
