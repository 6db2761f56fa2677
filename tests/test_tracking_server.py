"""A team's tracking server: ``metaview server``, MLflow's server on a real PostgreSQL, and
every command against it over HTTP (:mod:`train.tracking.server`, :mod:`train.tracking.store`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _postgres_fixtures import PASSWORD, create_database, postgres_cluster
from _toy_fixtures import cli
from _tracking_fixtures import REPO, mlflow_exe, start_mlflow_server, stop_server
from _train_fixtures import make_dataset_folder

from train.tracking.server import ServerConfig, server_command
from train.tracking.store import masked_uri

LABELS = ("x_plus", "y_plus")


@pytest.fixture(scope="module")
def postgres():
    with postgres_cluster() as server:
        yield server


def _metaview(args: list[str], uri: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(
        [sys.executable, "-m", "metaview", *args],
        cwd=kw.pop("cwd", REPO),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _run(args: list[str], uri: str, timeout: float = 600) -> tuple[int, str, str]:
    proc = _metaview(args, uri)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_masked_uri_hides_the_password_only():
    uri = "postgresql+psycopg://team:hunter2@db.example:5432/mlflow"
    assert masked_uri(uri) == "postgresql+psycopg://team:***@db.example:5432/mlflow"
    assert masked_uri("http://host:5000") == "http://host:5000"


def test_server_command_is_mlflows_with_proxied_artifacts():
    cfg = ServerConfig("postgresql+psycopg://u:p@h/db", "/srv/artifacts", "0.0.0.0", 5005, 3)
    cmd = server_command(cfg)
    assert cmd[-12:] == [
        "server", "--backend-store-uri", "postgresql+psycopg://u:p@h/db",
        "--artifacts-destination", "/srv/artifacts", "--serve-artifacts",
        "--host", "0.0.0.0", "--port", "5005", "--workers", "3",
    ]  # fmt: skip
    assert cfg.url == "http://127.0.0.1:5005"
    from train.errors import TrainError

    with pytest.raises(TrainError, match="expected a database URI"):
        ServerConfig("mlflow.db")


@pytest.mark.slow
def test_a_wrong_password_or_a_database_that_is_down_is_one_line(postgres, capsys, refused_port):
    uri = create_database(postgres, "wrongpw")
    bad = uri.replace(PASSWORD, "not-the-password")
    for command in (["runs", "--tracking-uri", bad], ["server", "--backend-store-uri", bad]):
        assert cli(command) == 1
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "metaview:***@127.0.0.1" in err and "not-the-password" not in err
        assert "password authentication failed" in err
    down = f"postgresql+psycopg://metaview:x@127.0.0.1:{refused_port}/db"
    assert cli(["runs", "--tracking-uri", down]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"127.0.0.1:{refused_port}" in err, err


@pytest.fixture
def team_server(postgres, tmp_path):
    """``mlflow server`` on a fresh PostgreSQL database, artifacts proxied: (uri, db, port)."""
    db = create_database(postgres, f"t{time.monotonic_ns()}")
    proc, url = start_mlflow_server(mlflow_exe(), db, tmp_path)
    state = {"proc": proc}
    try:
        yield url, db, state
    finally:
        if state["proc"] is not None:
            stop_server(state["proc"])


@pytest.mark.slow
@pytest.mark.tf
def test_every_command_works_against_a_postgresql_server(team_server, tmp_path):
    url, _, _ = team_server
    data = make_dataset_folder(tmp_path / "ds", labels=LABELS, parts_per_class=6, tile=8)
    train = ["train", str(data), "--model", "colour-stats", "--epochs", "3", "--seed", "0"]
    # Two engineers train at once: both runs are recorded.
    procs = [_metaview([*train, "--run-name", name], url) for name in ("alice", "bob")]
    try:
        results = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err[-3000:]
    code, out, err = _run(["runs"], url)
    assert code == 0, err
    assert "alice" in out and "bob" in out and out.count("FINISHED") == 2, out
    png = str(sorted(data.glob("x_plus/*.png"))[0])
    for spec in ("best", "champion", "models:/metaview-metaview@champion"):
        code, out, err = _run(["predict", png, "--model", spec], url)
        assert code == 0 and png in out, (spec, err[-2000:])
    # The champion is also the served form (models from code), loaded over HTTP.
    import base64

    import mlflow
    import pandas as pd

    from train.tracking.store import using_tracking_uri

    with using_tracking_uri(url):
        served = mlflow.pyfunc.load_model("models:/metaview-metaview@champion")
    content = base64.b64encode(Path(png).read_bytes()).decode()
    out = served.predict(pd.DataFrame([{"name": "p.png", "format": "png", "content": content}]))
    assert out["label"][0] in LABELS and out["reachable"][0] is None
    tflite = tmp_path / "m.tflite"
    code, out, err = _run(["export", "--model", "champion", str(tflite)], url)
    assert code == 0 and tflite.stat().st_size > 0, err[-2000:]


@pytest.mark.slow
@pytest.mark.tf
def test_a_server_that_stops_mid_run_fails_the_client_in_seconds_and_loses_nothing(
    team_server, tmp_path
):
    url, db, state = team_server
    data = make_dataset_folder(tmp_path / "ds", labels=LABELS, parts_per_class=6, tile=8)
    base = ["train", str(data), "--model", "colour-stats", "--seed", "0"]
    code, _, err = _run([*base, "--epochs", "2", "--run-name", "finished"], url)
    assert code == 0, err[-2000:]
    args = [*base, "--epochs", "100000", "--patience", "100000", "--run-name", "cut"]
    long = _metaview(args, url)
    try:
        from mlflow import MlflowClient

        client = MlflowClient(url)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # until the run is training (its first epochs logged)
            runs = client.search_runs(
                [client.get_experiment_by_name("metaview").experiment_id],
                filter_string="attributes.run_name = 'cut'",
            )
            if runs and runs[0].data.metrics.get("val_loss") is not None:
                break
            time.sleep(0.5)
        else:
            long.kill()
            pytest.fail("the long run never started")
        stop_server(state["proc"])
        state["proc"] = None
        stopped = time.monotonic()
        out, err = long.communicate(timeout=300)
        took = time.monotonic() - stopped
        assert long.returncode == 1, err[-2000:]
        assert took < 60, took  # MLflow's own retries would take minutes
        last = err.strip().splitlines()[-1]
        lost = "metaview train: error: lost the tracking store mid-run"
        assert last.startswith(lost), err[-2000:]
        assert url.split("//")[1] in last and err.count("error:") == 1, err[-2000:]
    finally:
        if long.poll() is None:  # a failed check must not leave training running
            long.kill()
            long.wait()
    # Restarted on the same database: everything is there, the cut run STALE or FAILED.
    port = int(url.rsplit(":", 1)[1])
    proc, url2 = start_mlflow_server(mlflow_exe(), db, tmp_path, port=port)
    state["proc"] = proc
    code, out, err = _run(["runs", "--stale-after", "0"], url2)
    assert code == 0, err
    (done,) = [line for line in out.splitlines() if " finished " in f" {line} "]
    (cut,) = [line for line in out.splitlines() if " cut " in f" {line} "]
    assert "FINISHED" in done, out
    assert "STALE" in cut or "FAILED" in cut, out
