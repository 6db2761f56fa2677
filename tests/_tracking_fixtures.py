"""Helpers for the tests of tracking and `metaview runs`: runs that died, servers that are down."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
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


@contextlib.contextmanager
def reserved_port() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that refuses connections while the block runs.

    The port is held bound but never listening: the kernel refuses every connection to
    it, and no other process can bind it meanwhile. (A port found free and released
    could be taken by anything running beside the tests before it is used.)
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
