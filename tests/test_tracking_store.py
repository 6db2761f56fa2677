"""Where runs live: tracking URI and experiment resolution, the client, the URI context."""

from __future__ import annotations

import os

import pytest
from _tracking_fixtures import free_port

from train import tracking
from train.errors import TrainError


def test_resolve_uri_and_experiment(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    assert tracking.resolve_tracking_uri() == "sqlite:///mlflow.db"
    assert tracking.resolve_experiment() == "metaview"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "team")
    assert tracking.resolve_tracking_uri() == "http://127.0.0.1:5000"
    assert tracking.resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"
    assert tracking.resolve_experiment() == "team"
    assert tracking.resolve_experiment("mine") == "mine"


def test_using_tracking_uri_restores_global_and_environment(tmp_path, monkeypatch):
    import mlflow

    before = os.environ["MLFLOW_TRACKING_URI"]
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with tracking.using_tracking_uri(other):
        assert mlflow.get_tracking_uri() == other
    assert os.environ["MLFLOW_TRACKING_URI"] == before == mlflow.get_tracking_uri()
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    with tracking.using_tracking_uri(other):
        pass
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_client_and_missing_experiment(tmp_path):
    uri = f"sqlite:///{tmp_path / 'c.db'}"
    client = tracking.make_client(uri)
    assert client.tracking_uri == uri
    with pytest.raises(TrainError, match=r"no experiment 'nope'.*metaview train DATA"):
        tracking.get_experiment_id(client, "nope")
    exp_id = client.create_experiment("here")
    assert tracking.get_experiment_id(client, "here") == exp_id


# --------------------------------------------------------------------------- opening a store


def test_unreachable_server_is_a_fast_error_naming_the_uri():
    import time

    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(TrainError, match=rf"cannot reach the MLflow tracking server at {uri}"):
        tracking.check_reachable(uri)
    with pytest.raises(TrainError, match="cannot reach"):
        tracking.make_client(uri)
    assert time.monotonic() - t0 < 10


def test_credentials_in_the_uri_are_neither_probed_nor_shown():
    port = free_port()
    with pytest.raises(TrainError) as exc:
        tracking.check_reachable(f"http://me:secret@127.0.0.1:{port}/prefix")
    msg = str(exc.value)
    assert f"at http://***@127.0.0.1:{port}/prefix (" in msg and "Connection refused" in msg
    assert "secret" not in msg


def test_silent_server_times_out_quickly():
    """A port that accepts connections but never answers (a hung server) is an error too."""
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        uri = f"http://127.0.0.1:{s.getsockname()[1]}"
        t0 = time.monotonic()
        with pytest.raises(
            TrainError, match=r"at http://127\.0\.0\.1:\d+ \(no answer within 1 s\)"
        ):
            tracking.check_reachable(uri, timeout=1.0)
        assert time.monotonic() - t0 < 5


def test_local_uris_are_not_probed(tmp_path):
    assert tracking.check_reachable(f"sqlite:///{tmp_path / 'x.db'}").startswith("sqlite:")


_RACE = """
import sys, time
from train import tracking
uri, t0 = sys.argv[1], float(sys.argv[2])
while time.time() < t0:
    time.sleep(0.002)
with tracking.TrainRun(tracking_uri=uri, experiment="race") as run:
    run.log_metrics({"x": 1.0})
print(run.run_id)
"""


def test_concurrent_first_use_of_a_new_sqlite_store_records_every_run(tmp_path):
    """Three commands starting at once on a new mlflow.db: all runs recorded, none crashes.

    MLflow alone races on table creation ("table scorers already exists", "duplicate
    column name"); the store is created under a lock.
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    uri = f"sqlite:///{tmp_path / 'race.db'}"
    start = time.time() + 8  # after every child has imported MLflow
    repo = Path(__file__).resolve().parents[1]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RACE, uri, str(start)],
            cwd=repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err[-2000:]
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("race")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(r.info.run_id for r in runs) == sorted(out.strip() for out, _ in outs)
    assert {r.info.status for r in runs} == {"FINISHED"}
