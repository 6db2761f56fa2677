"""Helpers for the tests of tracking and `metaview runs`: runs that died, servers that are down."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_KILLED = """
import os, signal, sys
from train import tracking
with tracking.TrainRun(run_name="killed") as run:
    run.log_metrics({"val_loss": 1.0}, step=0)
    print(run.run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def killed_run() -> str:
    """Start a training run in a child process that SIGKILLs itself; return the run id.

    MLflow still says RUNNING: the process never ended it. The child uses
    ``$MLFLOW_TRACKING_URI`` (the per-test store).
    """
    res = subprocess.run(
        [sys.executable, "-c", _KILLED], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == -9, res.stderr[-2000:]
    return res.stdout.strip()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
