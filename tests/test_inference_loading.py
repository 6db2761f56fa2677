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


# --------------------------------------------------------------------------- does it fit the input


def _loaded(metaimage=None, labels=CLASSES):
    from train.inference.loading import LoadedModel

    return LoadedModel(
        None, list(labels), metaimage or metaimage_dict(), MODEL_SIZE, "r", "runs:/r/model"
    )


def _dataset(root: Path, metaimage: dict, label: str = "red") -> Path:
    """A one-image dataset folder (metaimage.json, manifest.csv, <label>/0000_v0.png)."""
    from _toy_fixtures import CONFIG_HASH

    from metaimage.io import write_json, write_manifest, write_png

    png = root / label / "0000_v0.png"
    write_png(png, np.zeros((16, 16, 3), np.uint8))
    write_json(root / "metaimage.json", metaimage)
    row = {"path": f"{label}/0000_v0.png", "label": label, "source": "a.stl", "part_id": "a",
           "variant": 0, "faces_in": 1, "faces_out": 1, "render_s": 0.0,
           "config_hash": metaimage.get("config_hash", CONFIG_HASH)}  # fmt: skip
    write_manifest(root, [row])
    return png


def test_input_from_the_models_render_config_fits(tmp_path):
    png = _dataset(tmp_path / "same", metaimage_dict())
    _loaded().check_input(png)  # no error
    _loaded().check_input(tmp_path / "loose.png")  # outside any dataset folder: not judged here


def test_input_rendered_with_another_config_is_refused(tmp_path):
    from metaimage.errors import DatasetError

    other = metaimage_dict(tile=4, grid=(4, 4))  # also 16x16 px: the size check passes
    other["config_hash"] = "ffffffffffffffff"
    png = _dataset(tmp_path / "other", other)
    with pytest.raises(DatasetError) as exc:
        _loaded().check_input(png)
    msg = str(exc.value)
    assert str(png) in msg and "runs:/r/model" in msg
    assert "config ffffffffffffffff: grid 4x4, tile 4 px" in msg
    assert "config 0123456789abcdef: grid 2x2, tile 8 px" in msg


def test_input_of_a_class_the_model_does_not_know_is_refused(tmp_path):
    from metaimage.errors import DatasetError

    png = _dataset(tmp_path / "ds", metaimage_dict(), label="purple")
    with pytest.raises(DatasetError, match=r"labelled 'purple'.*its classes: blue, green, red"):
        _loaded().check_input(png)


def test_metaimage_of_a_run_is_checked_as_metaimage_info():
    from train.inference.loading import _check_metadata

    bad = metaimage_dict()
    bad["image_size"] = [17, 16]
    with pytest.raises(TrainError, match=r"run x: metaimage.json: image_size \[17, 16\] disagrees"):
        _check_metadata(list(CLASSES), bad, "run x")
    del bad["config"]
    with pytest.raises(TrainError, match=r"expected keys .*missing \['config'\]"):
        _check_metadata(list(CLASSES), bad, "run x")


def test_class_folder_model_takes_pngs_but_cannot_render():
    plain = {"layout": "class-folders", "grid": [1, 1], "grid_known": False, "tile": 16,
             "image_size": [16, 16], "config": {}, "config_hash": ""}  # fmt: skip
    loaded = _loaded(plain)
    assert loaded.metaimage_info is None and not loaded.can_render
    with pytest.raises(TrainError, match="no render config, so meshes cannot be rendered"):
        loaded.render_config()
    assert _loaded().render_config() == metaimage_dict()["config"]


@pytest.mark.tf
def test_predict_refuses_pngs_the_model_does_not_fit(toy, tmp_path, capsys):
    """Through `metaview predict`: each refused PNG is its own error line; the rest is predicted."""
    from _toy_fixtures import cli

    run_id = toy.log(_uri())
    other = metaimage_dict(tile=4, grid=(4, 4))  # 16x16 px too: only the config tells them apart
    other["config_hash"] = "ffffffffffffffff"
    foreign = _dataset(tmp_path / "other", other)
    unknown = _dataset(tmp_path / "purple", metaimage_dict(), label="purple")
    fine = _dataset(tmp_path / "same", metaimage_dict())
    code = cli(["predict", "--model", run_id, str(foreign), str(unknown), str(fine)])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{foreign}  error: {foreign}: its dataset {tmp_path / 'other'} was rendered with" in err
    assert f"{unknown}  error: {unknown}: labelled 'purple'" in err
    assert out.startswith(f"{fine}  ")


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

    from train.inference.loading import resolve_run_id

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
    # Another artifact path still loads the run's model, and says so.
    with caplog.at_level("WARNING", logger="train.inference.loading"):
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
