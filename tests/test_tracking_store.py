"""Where runs live: tracking URI and experiment resolution, the client, the URI context."""

from __future__ import annotations

import os

import pytest

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
