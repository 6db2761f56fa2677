"""A real PostgreSQL for the tests: a throw-away cluster on a free port, password auth.

``pg_ctl`` refuses to run as root, and CI runs as root: there the cluster belongs to the
``postgres`` user that Debian's package creates, and its commands run through ``runuser``.
The cluster lives in a fresh folder under the system temporary directory (pytest's
``tmp_path`` sits below folders only its owner may enter).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

USER, PASSWORD = "metaview", "s3cret-pw"


def pg_bin() -> Path | None:
    """The folder of PostgreSQL's server programs (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("pg_ctl")
    return Path(exe).parent if exe else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yield its server URI without a database name
    (``postgresql+psycopg://metaview:PASSWORD@127.0.0.1:PORT``). Skips without PostgreSQL."""
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server programs (./run.sh test installs Debian's postgresql)")
    root = Path(tempfile.mkdtemp(prefix="metaview-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to own the cluster")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    secret = root / "pw"
    secret.write_text(PASSWORD)
    if prefix:
        os.chown(secret, pw.pw_uid, pw.pw_gid)
    data, log = root / "data", root / "log"
    subprocess.run(
        [*prefix, str(bindir / "initdb"), "-D", str(data), "-U", USER, f"--pwfile={secret}",
         "-A", "scram-sha-256", "--no-sync", "-E", "UTF8"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = _free_port()
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w",
         "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://{USER}:{PASSWORD}@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True, timeout=120,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def create_database(server: str, name: str) -> str:
    """Create database ``name`` on ``server`` (from :func:`postgres_cluster`); its URI."""
    import psycopg

    plain = server.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"
