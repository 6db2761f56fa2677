"""Shared test set-up: quiet TensorFlow, and keep every test's MLflow store in tmp_path."""

from __future__ import annotations

import os

import pytest

import metaview  # noqa: F401 - first: lets Mesa GL and TensorFlow share the test process

# TensorFlow's C++ logging floods the output at import; keep errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# oneDNN custom ops make float results depend on thread scheduling; off for repeatable tests.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture(autouse=True)
def _isolated_mlflow(tmp_path, monkeypatch):
    """Point MLflow at a per-test sqlite store so no test writes ./mlflow.db or ./mlruns."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.chdir(tmp_path)
