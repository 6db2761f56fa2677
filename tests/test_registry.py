"""Best-run selection, the champion alias, and loading models by spec (train.registry)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from _modeluse_fixtures import CLASSES, MODEL_SIZE, log_fake_run, metaimage_dict, toy  # noqa: F401

from train import registry
from train.errors import TrainError

REPO = Path(__file__).resolve().parents[1]


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _metrics(f1, loss=0.5):
    return {"best_val_f1_macro": f1, "best_val_loss": loss}


def _log(f1=None, loss=0.5, start=1000, **kw):
    metrics = {} if f1 is None else _metrics(f1, loss)
    return log_fake_run(_uri(), metrics=metrics, start_time=start, artifacts=False, **kw)


# --------------------------------------------------------------------------- selection


def test_find_best_run_picks_best_metric_not_latest():
    ids = {
        "low": _log(0.70, start=1000),
        "tie_hi_loss": _log(0.90, loss=0.5, start=2000),
        "best": _log(0.90, loss=0.3, start=3000),
        "tie_later": _log(0.90, loss=0.3, start=4000),  # same metric and loss, started later
        "latest": _log(0.80, start=5000),
    }
    # Runs that must never win, whatever their metric.
    _log(0.99, start=6000, status="FAILED")
    _log(0.99, start=6100, status="KILLED")
    _log(0.99, start=6200, status="RUNNING")
    _log(1.0, start=6300, kind="bench")
    _log(None, start=6400)  # finished, but never logged the metric
    client = registry.make_client()
    exp_id = registry.get_experiment_id(client)

    best = registry.find_best_run(client, exp_id)

    assert best.info.run_id == ids["best"]
    assert best.info.run_id != ids["latest"]
    ranked = [r.info.run_id for r in registry.rank_runs(registry.search_train_runs(client, exp_id))]
    expected = [ids[k] for k in ("best", "tie_later", "tie_hi_loss", "latest", "low")]
    assert ranked[:5] == expected
    assert len(ranked) == 6  # the five above plus the one without the metric, last


def test_find_best_run_lower_is_better_for_a_loss():
    _log(0.9, loss=0.4, start=1000)
    good = _log(0.5, loss=0.1, start=2000)
    client = registry.make_client()
    best = registry.find_best_run(
        client, registry.get_experiment_id(client), metric="best_val_loss"
    )
    assert best.info.run_id == good


def test_find_best_run_none_without_finished_runs():
    _log(0.9, status="FAILED")
    client = registry.make_client()
    assert registry.find_best_run(client, registry.get_experiment_id(client)) is None


def test_no_experiment_error_says_to_train_first():
    with pytest.raises(TrainError, match="metaview train DATA"):
        registry.load_model("best")


def test_no_finished_runs_error_says_to_train_first():
    _log(0.9, status="FAILED")
    with pytest.raises(TrainError, match=r"no finished training runs.*metaview train DATA"):
        registry.load_model("best")


@pytest.mark.parametrize(
    "spec, match",
    [
        ("0123456789abcdef0123456789abcdef", "no run with id 0123456789abcdef"),
        ("not-a-run", "expected 'best', 'champion', a run id"),
        ("missing/model.keras", "no such model file or folder"),
        ("champion", "no model version has the alias metaview@champion"),
    ],
)
def test_bad_specs_are_clear_errors(spec, match):
    _log(0.9)
    with pytest.raises(TrainError, match=match):
        registry.load_model(spec)


# --------------------------------------------------------------------------- champion


@pytest.mark.tf
def test_promote_if_best_sets_champion_on_the_best_run_only(toy):  # noqa: F811
    from mlflow import MlflowClient

    uri = _uri()
    client = MlflowClient(uri)
    a = toy.log(uri, f1=0.80, run_name="a")
    exp_id = registry.get_experiment_id(client)
    assert registry.promote_if_best(client, a, exp_id) is True
    assert registry.champion_run_id(client) == a

    b = toy.log(uri, f1=0.70, run_name="b")  # later but worse
    assert registry.promote_if_best(client, b, exp_id) is False
    assert registry.champion_run_id(client) == a

    c = toy.log(uri, f1=0.95, run_name="c")
    assert registry.promote_if_best(client, c, exp_id) is True
    assert registry.promote_if_best(client, c, exp_id) is True  # idempotent
    assert registry.promote_if_best(client, a, exp_id) is False
    version = client.get_model_version_by_alias("metaview", "champion")
    assert version.run_id == c
    versions = client.search_model_versions("name = 'metaview'")
    assert sorted(v.run_id for v in versions) == sorted([a, c])  # one version per promoted run
    # The registered version loads as the same model.
    import mlflow.keras

    x = np.random.default_rng(0).uniform(0, 255, (2, MODEL_SIZE, MODEL_SIZE, 3)).astype(np.float32)
    with _uri_env(uri):
        model = mlflow.keras.load_model("models:/metaview@champion")
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(toy.model(x)), rtol=1e-5, atol=1e-6)
    # "champion" is also a --model spec.
    assert registry.load_model("champion").run_id == c


@pytest.mark.tf
def test_promote_if_best_judges_a_running_run_as_finished(toy):  # noqa: F811
    """TRAIN may promote just before its run ends: the live run competes as if finished."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    uri = _uri()
    client = MlflowClient(uri)
    old = toy.log(uri, f1=0.5)
    exp_id = registry.get_experiment_id(client)
    x = np.zeros((1, MODEL_SIZE, MODEL_SIZE, 3), dtype=np.float32)
    with (
        _uri_env(uri),
        mlflow.start_run(experiment_id=exp_id, tags={"metaview.kind": "train"}) as run,
    ):
        mlflow.log_metrics(_metrics(0.9))
        mlflow.keras.log_model(
            toy.model, name="model", signature=infer_signature(x, np.asarray(toy.model(x))),
            pip_requirements=["keras"],
        )  # fmt: skip
        # While it runs, "best" (what predict loads) is still the finished run ...
        assert registry.find_best_run(client, exp_id).info.run_id == old
        # ... but promotion judges the live run, which wins.
        assert registry.promote_if_best(client, run.info.run_id, exp_id) is True
    assert registry.champion_run_id(client) == run.info.run_id
    assert registry.find_best_run(client, exp_id).info.run_id == run.info.run_id


class _uri_env:
    """Temporarily point MLflow's fluent API at a URI."""

    def __init__(self, uri):
        from _modeluse_fixtures import tracking_uri

        self._cm = tracking_uri(uri)

    def __enter__(self):
        return self._cm.__enter__()

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


# --------------------------------------------------------------------------- loading


@pytest.mark.tf
def test_load_best_run_model_has_labels_layout_and_predicts(toy):  # noqa: F811
    uri = _uri()
    toy.log(uri, f1=0.6)
    best = toy.log(uri, f1=0.9)
    toy.log(uri, f1=0.7)  # latest, not best

    loaded = registry.load_model("best")

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
    assert registry.load_model(best).run_id == best


@pytest.mark.tf
def test_load_model_uses_the_given_tracking_uri_not_the_environment(toy, tmp_path):  # noqa: F811
    """A team store passed as --tracking-uri must be read even when MLFLOW_TRACKING_URI differs."""
    import os

    other = f"sqlite:///{tmp_path / 'team.db'}"
    best = toy.log(other, f1=0.9)
    assert os.environ["MLFLOW_TRACKING_URI"] != other  # the per-test default store, empty

    loaded = registry.load_model("best", tracking_uri=other)

    assert loaded.run_id == best and loaded.labels == list(CLASSES)
    assert os.environ["MLFLOW_TRACKING_URI"] != other  # the environment is left as it was


@pytest.mark.tf
def test_missing_artifact_is_a_clear_error(toy):  # noqa: F811
    from mlflow import MlflowClient

    run_id = log_fake_run(
        _uri(), metrics={"best_val_f1_macro": 0.9}, model=toy.model, artifacts=False
    )
    with pytest.raises(TrainError, match=rf"run {run_id} has no artifact labels.json"):
        registry.load_model("best")
    no_model = log_fake_run(_uri(), metrics={"best_val_f1_macro": 0.95})
    with pytest.raises(TrainError, match="has no logged model"):
        registry.load_model(no_model)
    assert MlflowClient(_uri()).get_run(no_model).info.status == "FINISHED"


@pytest.mark.tf
def test_load_from_paths(toy, tmp_path):  # noqa: F811
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
        loaded = registry.load_model(str(spec))
        assert loaded.labels == list(CLASSES)
        np.testing.assert_allclose(loaded.predict(x), want, rtol=1e-5, atol=1e-6)

    keras_dir = tmp_path / "k"
    keras_dir.mkdir()
    toy.model.save(keras_dir / "m.keras")
    with pytest.raises(TrainError, match="labels.json and metaimage.json must sit beside"):
        registry.load_model(str(keras_dir / "m.keras"))
    (keras_dir / "labels.json").write_text(json.dumps(list(CLASSES)))
    (keras_dir / "metaimage.json").write_text(json.dumps(metaimage_dict()))
    loaded = registry.load_model(str(keras_dir / "m.keras"))
    assert loaded.run_id is None and loaded.image_size == MODEL_SIZE
    np.testing.assert_allclose(loaded.predict(x), want, rtol=1e-5, atol=1e-6)

    (keras_dir / "labels.json").write_text(json.dumps(["only-one"]))
    with pytest.raises(TrainError, match="3 outputs but labels.json lists 1"):
        registry.load_model(str(keras_dir / "m.keras"))


def test_import_cli_model_is_light():
    code = (
        "import sys, train.cli_model; "
        "heavy = [m for m in ('tensorflow', 'keras', 'mlflow') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# --------------------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path):
    """A real ``mlflow server`` on 127.0.0.1 (sqlite, served artifacts), killed at the end."""
    exe = Path(sys.executable).with_name("mlflow")
    if not exe.exists():
        pytest.skip(f"no mlflow executable beside {sys.executable}")
    port = _free_port()
    log_file = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            str(exe), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination", str(tmp_path / "server-artifacts"),
        ],
        stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log_file.flush()
                pytest.fail(
                    f"mlflow server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        # The server was started in its own session: end exactly that process group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log_file.close()


@pytest.mark.slow
@pytest.mark.tf
def test_real_mlflow_server_records_the_run_and_selects_the_best(toy, mlflow_server, monkeypatch):  # noqa: F811
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    worse = toy.log(mlflow_server, f1=0.6, run_name="worse")
    best = toy.log(mlflow_server, f1=0.9, run_name="best", params={"epochs": 5})
    latest = toy.log(mlflow_server, f1=0.7, run_name="latest")
    client = MlflowClient(mlflow_server)
    exp_id = registry.get_experiment_id(client)

    run = client.get_run(best)
    assert run.info.status == "FINISHED"
    assert run.data.tags["metaview.kind"] == "train"
    assert run.data.params["epochs"] == "5" and run.data.params["image_size"] == str(MODEL_SIZE)
    assert run.data.metrics["best_val_f1_macro"] == pytest.approx(0.9)
    assert len(client.get_metric_history(best, "val_loss")) == len(toy.history["val_loss"])
    names = {f.path for f in client.list_artifacts(best)}
    assert {"labels.json", "metaimage.json", "split.json", "train_config.json"} <= names

    assert registry.find_best_run(client, exp_id).info.run_id == best
    assert registry.promote_if_best(client, best, exp_id) is True
    assert registry.promote_if_best(client, latest, exp_id) is False
    assert registry.champion_run_id(client) == best

    loaded = registry.load_model("best", tracking_uri=mlflow_server)
    assert loaded.run_id == best and loaded.labels == list(CLASSES)
    x = np.full((1, MODEL_SIZE, MODEL_SIZE, 3), 128.0, dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x), np.asarray(toy.model(x)), rtol=1e-5, atol=1e-6)
    assert worse != best
