"""``metaview server``: a team's MLflow tracking server on a database, checked before it starts.

A team shares one ``mlflow server`` with its runs in a database (PostgreSQL:
``postgresql+psycopg://USER:PASSWORD@HOST:5432/DB``) and its artifacts proxied through the
server (``--artifacts-destination``: a folder, or ``s3://...``), so clients need nothing but
the server's URL. This module checks the database first (one line naming the URI and the
reason, where ``mlflow server`` prints a long traceback and exits) and then runs MLflow's
own server in a child process: the server is MLflow's, not a home-made one.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

from train.errors import TrainError
from train.tracking.store import check_database, is_database_uri, masked_uri

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerConfig:
    """Where the server keeps runs and artifacts, and where it listens."""

    backend_store_uri: str = "sqlite:///mlflow.db"
    artifacts_destination: str = "./mlartifacts"
    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 < self.port < 65536:
            raise TrainError(f"port: expected 1..65535, got {self.port!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise TrainError(f"workers: expected a positive integer, got {self.workers!r}")
        if not self.backend_store_uri or "://" not in self.backend_store_uri:
            raise TrainError(
                "backend store: expected a database URI (postgresql+psycopg://USER:PASSWORD@"
                f"HOST:5432/DB, sqlite:///FILE), got {self.backend_store_uri!r}"
            )

    @property
    def url(self) -> str:
        """The URL clients set as ``MLFLOW_TRACKING_URI``."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


def server_command(cfg: ServerConfig) -> list[str]:
    """The ``mlflow server`` command line for ``cfg`` (the mlflow beside this Python)."""
    exe = shutil.which("mlflow", path=os.path.dirname(sys.executable))
    base = [exe] if exe else [sys.executable, "-m", "mlflow"]
    return [
        *base, "server",
        "--backend-store-uri", cfg.backend_store_uri,
        "--artifacts-destination", cfg.artifacts_destination,
        "--serve-artifacts",
        "--host", cfg.host,
        "--port", str(cfg.port),
        "--workers", str(cfg.workers),
    ]  # fmt: skip


def check_store(cfg: ServerConfig) -> None:
    """Open the server's database once (a SQLAlchemy URI other than sqlite).

    Raises
    ------
    TrainError
        One line naming the URI (password masked) and why it cannot be opened.
    """
    if is_database_uri(cfg.backend_store_uri):
        check_database(cfg.backend_store_uri)


def run_server(cfg: ServerConfig) -> int:
    """Check the database, then run ``mlflow server`` until it exits or is interrupted.

    Returns
    -------
    int
        The server's exit code (0 after Ctrl-C or SIGTERM).

    Raises
    ------
    TrainError
        The database cannot be opened (wrong password, not running, no driver).
    """
    check_store(cfg)
    log.info(
        "MLflow server at %s: runs in %s, artifacts in %s",
        cfg.url,
        masked_uri(cfg.backend_store_uri),
        cfg.artifacts_destination,
    )
    proc = subprocess.Popen(server_command(cfg), start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return 0
