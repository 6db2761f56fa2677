"""Helpers for the tests of tracking and `metaview runs`: runs that died, servers that are down."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

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


# --------------------------------------------------------------------------- servers


def _unused_port() -> int:
    """A port nothing listens on now; another process may take it before the server binds
    it, so :func:`start_mlflow_server` tries again on another port when its bind fails."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_server(proc: subprocess.Popen) -> None:
    """End the server's process group (it was started in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def _start_server(exe: Path, port: int, backend: str, tmp_path: Path, log_path: Path):
    """Start ``mlflow server`` on ``port``; return (process, url) once it answers ``/health``,
    or (None, None) when the port was taken meanwhile (the server could not bind it)."""
    with log_path.open("wb") as log_file:  # the child keeps its own copy
        proc = subprocess.Popen(
            [
                str(exe), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
                "--backend-store-uri", backend,
                "--artifacts-destination", str(tmp_path / "server-artifacts"),
            ],
            stdout=log_file, stderr=subprocess.STDOUT, cwd=tmp_path, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    # A generous wait: starting the server (imports, tables) takes 10-40 s on a loaded
    # 2-core machine. It is a limit for a hung start, not a claim about speed.
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                    # Ours, not another process that took the port: ours still runs.
                    if r.status == 200 and proc.poll() is None:
                        return proc, url
            except OSError:
                pass
            time.sleep(0.5)
    except BaseException:
        stop_server(proc)
        raise
    log = log_path.read_text(errors="replace")
    stop_server(proc)
    if "address already in use" in log.lower():
        return None, None
    pytest.fail(f"mlflow server did not start: {log[-2000:]}")


def start_mlflow_server(exe: Path, backend: str, tmp_path: Path, port: int | None = None):
    """A real ``mlflow server`` on 127.0.0.1 with ``backend`` as its store and artifacts
    served from ``tmp_path/server-artifacts``: (process, url). Stop it with
    :func:`stop_server`. A port taken before the server binds it is tried again (three
    times); a given ``port`` (a restart) is tried once."""
    for _ in range(1 if port else 3):
        log_path = tmp_path / f"server-{time.monotonic_ns()}.log"
        proc, url = _start_server(exe, port or _unused_port(), backend, tmp_path, log_path)
        if proc is not None:
            return proc, url
    pytest.fail("mlflow server: the ports tried were taken before it could bind them")


def mlflow_exe() -> Path:
    """The ``mlflow`` command beside this Python; skips the test where there is none."""
    exe = Path(sys.executable).with_name("mlflow")
    if not exe.exists():
        pytest.skip(f"no mlflow executable beside {sys.executable}")
    return exe
