"""Where runs live: tracking URI and experiment resolution, the client, the URI context."""

from __future__ import annotations

import os

import pytest

from train import tracking
from train.errors import TrainError

# MLflow's own client retries a server that does not answer for minutes (7 retries,
# backoff doubling from 2 s to 120 s); "fast" means seconds, far from that, on any machine.
WITHIN_SECONDS = 60.0


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


def test_unreachable_server_is_a_fast_error_naming_the_uri(refused_port, mlflow_http_requests):
    import time

    uri = f"http://127.0.0.1:{refused_port}"  # bound by the test, refusing connections
    t0 = time.monotonic()
    with pytest.raises(TrainError, match=rf"cannot reach the MLflow tracking server at {uri}"):
        tracking.check_reachable(uri)
    with pytest.raises(TrainError, match="cannot reach"):
        tracking.make_client(uri)
    assert mlflow_http_requests == []  # refused before MLflow's retrying client is used
    assert time.monotonic() - t0 < WITHIN_SECONDS


def test_credentials_in_the_uri_are_neither_probed_nor_shown(refused_port):
    port = refused_port
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
        waited = time.monotonic() - t0
    # It waited for the answer (the timeout given, not an instant refusal) and gave up
    # after it, far from the 120 s MLflow's client waits for an answer by default.
    assert 0.9 <= waited < WITHIN_SECONDS / 2


def test_local_uris_are_not_probed(tmp_path):
    assert tracking.check_reachable(f"sqlite:///{tmp_path / 'x.db'}").startswith("sqlite:")


_RACE = """
import sys
import mlflow.store.tracking.sqlalchemy_store  # the slow imports, before the start line
from train import tracking
print("ready", flush=True)
sys.stdin.readline()  # the start signal: every child waits here until all are ready
with tracking.TrainRun(tracking_uri=sys.argv[1], experiment="race") as run:
    run.log_metrics({"x": 1.0})
print(run.run_id)
"""


def _wait_until_ready(proc, deadline: float) -> None:
    """Wait for a child's "ready" line (it has imported MLflow); fail on its exit or at deadline."""
    import select
    import time

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("a child did not import MLflow within the deadline")
        if select.select([proc.stdout], [], [], left)[0]:
            line = proc.stdout.readline()
            if line.strip() == "ready":
                return
            if not line:  # it exited before it was ready
                proc.wait()
                pytest.fail(f"a child exited ({proc.returncode}) before it was ready")


def test_concurrent_first_use_of_a_new_sqlite_store_records_every_run(tmp_path):
    """Three commands starting at once on a new mlflow.db: all runs recorded, none crashes.

    MLflow alone races on table creation ("table scorers already exists", "duplicate
    column name"); the store is created under a lock. The children start together: each
    imports MLflow, says it is ready and waits; all are released at once when all are
    ready (a barrier, not a guess of how long imports take on this machine).
    """
    import subprocess
    import sys
    import time
    from pathlib import Path

    uri = f"sqlite:///{tmp_path / 'race.db'}"
    repo = Path(__file__).resolve().parents[1]
    procs = []
    for i in range(3):
        with (tmp_path / f"child{i}.err").open("w") as err:  # the child keeps its own copy
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", _RACE, uri],
                    cwd=repo,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                    text=True,
                )  # fmt: skip
            )
    try:
        deadline = time.monotonic() + 300
        for p in procs:
            _wait_until_ready(p, deadline)
        for p in procs:  # all ready: go
            p.stdin.write("go\n")
            p.stdin.flush()
        outs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for i, p in enumerate(procs):
        assert p.returncode == 0, (tmp_path / f"child{i}.err").read_text()[-2000:]
    from mlflow import MlflowClient

    client = MlflowClient(uri)
    exp = client.get_experiment_by_name("race")
    runs = client.search_runs([exp.experiment_id])
    assert sorted(r.info.run_id for r in runs) == sorted(out.strip() for out in outs)
    assert {r.info.status for r in runs} == {"FINISHED"}


def test_ensure_experiment_reads_the_one_another_process_created_meanwhile():
    from types import SimpleNamespace

    from mlflow.exceptions import MlflowException

    from train.errors import TrainError
    from train.tracking.store import ensure_experiment

    class Racing:
        """No experiment at first; creating it fails as another process just did."""

        tracking_uri = "http://server"

        def __init__(self, created: bool):
            self.created, self.asked = created, 0

        def get_experiment_by_name(self, name):
            self.asked += 1
            if self.asked == 1 or not self.created:
                return None
            return SimpleNamespace(experiment_id="7", lifecycle_stage="active")

        def create_experiment(self, name):
            raise MlflowException("duplicate key value violates unique constraint")

    assert ensure_experiment(Racing(created=True), "metaview") == "7"
    with pytest.raises(TrainError, match="could not create experiment 'metaview'"):
        ensure_experiment(Racing(created=False), "metaview")
