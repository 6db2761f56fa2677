"""Loading a model by spec: best, champion, run id, paths, and their errors (train.inference)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import CLASSES, MODEL_SIZE, log_fake_run, log_metric_run, metaimage_dict

from train.errors import TrainError
from train.inference import load_model


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def test_no_experiment_error_says_to_train_first():
    with pytest.raises(TrainError, match="metaview train DATA"):
        load_model("best")


def test_no_finished_runs_error_says_to_train_first():
    log_metric_run(0.9, status="FAILED")
    with pytest.raises(TrainError, match=r"no finished training runs.*metaview train DATA"):
        load_model("best")


@pytest.mark.parametrize(
    "spec, match",
    [
        ("0123456789abcdef0123456789abcdef", "no run with id 0123456789abcdef"),
        ("not-a-run", "expected 'best', 'champion', a run id"),
        ("missing/model.keras", "no such model file or folder"),
        ("champion", "no model version has the alias metaview-metaview@champion"),
    ],
)
def test_bad_specs_are_clear_errors(spec, match):
    log_metric_run(0.9)
    with pytest.raises(TrainError, match=match):
        load_model(spec)


@pytest.mark.tf
def test_load_best_run_model_has_labels_layout_and_predicts(toy):
    uri = _uri()
    toy.log(uri, f1=0.6)
    best = toy.log(uri, f1=0.9)
    toy.log(uri, f1=0.7)  # latest, not best

    loaded = load_model("best")

    assert loaded.run_id == best
    assert loaded.kind == "keras"
    assert loaded.labels == list(CLASSES)
    assert loaded.image_size == MODEL_SIZE
    assert loaded.metaimage == metaimage_dict()
    assert loaded.meta_image_shape == (16, 16)
    assert loaded.source == f"runs:/{best}/model"
    x = np.random.default_rng(1).uniform(0, 255, (3, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(x), np.asarray(toy.model(x)), rtol=1e-5, atol=1e-6)
    # The same run by id.
    assert load_model(best).run_id == best


@pytest.mark.tf
def test_load_model_uses_the_given_tracking_uri_not_the_environment(toy, tmp_path):
    """A team store passed as --tracking-uri must be read even when MLFLOW_TRACKING_URI differs."""
    import os

    other = f"sqlite:///{tmp_path / 'team.db'}"
    best = toy.log(other, f1=0.9)
    assert os.environ["MLFLOW_TRACKING_URI"] != other  # the per-test default store, empty

    loaded = load_model("best", tracking_uri=other)

    assert loaded.run_id == best and loaded.labels == list(CLASSES)
    assert os.environ["MLFLOW_TRACKING_URI"] != other  # the environment is left as it was


@pytest.mark.tf
def test_missing_artifact_is_a_clear_error(toy):
    from mlflow import MlflowClient

    run_id = log_fake_run(
        _uri(), metrics={"best_val_f1_macro": 0.9}, model=toy.model, artifacts=False
    )
    with pytest.raises(TrainError, match=rf"run {run_id} has no artifact labels.json"):
        load_model("best")
    no_model = log_fake_run(_uri(), metrics={"best_val_f1_macro": 0.95})
    with pytest.raises(TrainError, match="has no logged model"):
        load_model(no_model)
    assert MlflowClient(_uri()).get_run(no_model).info.status == "FINISHED"


@pytest.mark.tf
def test_load_from_paths(toy, tmp_path):
    """A .keras file and an MLflow model folder load with labels.json/metaimage.json beside them."""
    import mlflow.artifacts

    run_id = toy.log(_uri())
    art = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "run")))
    shutil.copytree(
        mlflow.artifacts.download_artifacts(f"runs:/{run_id}/model", tracking_uri=_uri()),
        art / "model",
    )
    x = np.full((1, MODEL_SIZE, MODEL_SIZE, 3), 200.0, dtype=np.float32)
    want = np.asarray(toy.model(x))
    for spec in (art, art / "model"):
        loaded = load_model(str(spec))
        assert loaded.labels == list(CLASSES)
        np.testing.assert_allclose(loaded.predict(x), want, rtol=1e-5, atol=1e-6)

    keras_dir = tmp_path / "k"
    keras_dir.mkdir()
    toy.model.save(keras_dir / "m.keras")
    with pytest.raises(TrainError, match="labels.json and metaimage.json must sit beside"):
        load_model(str(keras_dir / "m.keras"))
    (keras_dir / "labels.json").write_text(json.dumps(list(CLASSES)))
    (keras_dir / "metaimage.json").write_text(json.dumps(metaimage_dict()))
    loaded = load_model(str(keras_dir / "m.keras"))
    assert loaded.run_id is None and loaded.image_size == MODEL_SIZE
    np.testing.assert_allclose(loaded.predict(x), want, rtol=1e-5, atol=1e-6)

    (keras_dir / "labels.json").write_text(json.dumps(["only-one"]))
    with pytest.raises(TrainError, match="3 outputs but labels.json lists 1"):
        load_model(str(keras_dir / "m.keras"))
