"""Where runs live: the tracking URI, the experiment, and a client for them.

The store is ``sqlite:///mlflow.db`` in the working directory unless
``$MLFLOW_TRACKING_URI`` (or an explicit URI) says otherwise; the experiment is
``metaview`` unless ``$MLFLOW_EXPERIMENT_NAME`` (or an explicit name) says otherwise.

Before a command uses a store it is opened once per process (:func:`open_store`):

- an HTTP(S) tracking server is asked for ``/health`` with a short timeout
  (:func:`check_reachable`): a server that is down is an error naming the URI
  within seconds, where MLflow's own client retries for about four minutes;
- a new sqlite store is created under a file lock, so two commands starting at
  once on a fresh ``mlflow.db`` do not both create its tables (MLflow does not
  guard this: the loser fails with ``table ... already exists``).

MLflow is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from train.errors import TrainError
from train.tracking.names import DEFAULT_EXPERIMENT, DEFAULT_TRACKING_URI, NO_RUNS_HINT

log = logging.getLogger(__name__)

#: Seconds :func:`check_reachable` waits for a tracking server to connect and to answer.
REACH_TIMEOUT_S = 4.0

_opened: set[str] = set()  # stores opened by this process (sqlite: by absolute file path)
_opened_lock = threading.Lock()


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Return ``uri``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (in the cwd)."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def resolve_experiment(name: str | None = None) -> str:
    """Return ``name``, else ``$MLFLOW_EXPERIMENT_NAME``, else ``"metaview"``."""
    return name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def check_reachable(uri: str | None = None, timeout: float = REACH_TIMEOUT_S) -> str:
    """Check that an HTTP(S) tracking server answers; return the resolved URI.

    Any HTTP answer counts (``/health`` of an ``mlflow server``, or a 401/404 of a
    proxy in front of one); so does a TLS handshake error, which MLflow's client
    may resolve with its own certificate settings. Other URIs (sqlite, file,
    databricks) are not checked here.

    Parameters
    ----------
    uri : str, optional
        See :func:`resolve_tracking_uri`.
    timeout : float
        Seconds to wait for the connection, and again for the answer.

    Raises
    ------
    TrainError
        Naming the URI, if the server refuses the connection, does not answer
        within ``timeout`` or its host name does not resolve.
    """
    import ssl
    import urllib.error
    import urllib.request

    uri = resolve_tracking_uri(uri)
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return uri
    # Credentials in the URI are MLflow's to send; the probe needs only the host.
    host = parts.netloc.rsplit("@", 1)[-1]
    url = parts._replace(netloc=host, query="", fragment="").geturl().rstrip("/") + "/health"
    shown = parts._replace(netloc=("***@" if "@" in parts.netloc else "") + host).geturl()
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        pass  # it answered
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ssl.SSLError):
            return uri
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            reason = f"no answer within {timeout:g} s"
        raise TrainError(
            f"cannot reach the MLflow tracking server at {shown} ({reason}); start it, or point "
            "--tracking-uri / MLFLOW_TRACKING_URI at one that runs "
            f"(unset, the store is {DEFAULT_TRACKING_URI} in the working directory)"
        ) from None
    return uri


#: Database back ends MLflow's SQLAlchemy store takes besides sqlite (``postgresql+psycopg://``).
DATABASE_SCHEMES = ("postgresql", "mysql", "mssql")
#: Retries of an HTTP request to the tracking server, and their backoff factor: MLflow's
#: defaults (7, 2) retry for minutes when the server has gone away mid-run; these give up in
#: about 3 s, so a run whose server stopped fails with one line instead of hanging.
HTTP_RETRIES, HTTP_BACKOFF = "2", "1"


def masked_uri(uri: str) -> str:
    """``uri`` with its password, if any, shown as ``***`` (for messages and logs)."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()


def is_database_uri(uri: str) -> bool:
    """True for a SQLAlchemy database URI other than sqlite (``postgresql+psycopg://...``)."""
    return urlsplit(uri).scheme.split("+", 1)[0] in DATABASE_SCHEMES


def check_database(uri: str, timeout: float = REACH_TIMEOUT_S) -> str:
    """Connect to a tracking database once; return ``uri``.

    Raises
    ------
    TrainError
        One line naming the URI (password masked) and the database's own reason: a wrong
        password, a server that does not answer, a missing driver or database.
    """
    scheme = urlsplit(uri).scheme
    try:
        import sqlalchemy

        args = (
            {"connect_timeout": max(1, int(round(timeout)))}
            if scheme.startswith("postgresql")
            else {}
        )
        engine = sqlalchemy.create_engine(
            uri, connect_args=args, poolclass=sqlalchemy.pool.NullPool
        )
        with engine.connect():
            pass
    except ModuleNotFoundError as exc:
        raise TrainError(
            f"cannot open the tracking database {masked_uri(uri)}: its driver is missing "
            f"({exc.name}); for PostgreSQL: pip install 'psycopg[binary]'"
        ) from None
    except Exception as exc:  # SQLAlchemy's errors wrap the driver's: its first line says why
        reason = getattr(exc, "orig", None) or exc
        first = (str(reason).strip().splitlines() or [type(reason).__name__])[0]
        raise TrainError(f"cannot open the tracking database {masked_uri(uri)}: {first}") from None
    return uri


def store_gone(uri: str) -> str | None:
    """Why the tracking server or database at ``uri`` cannot be reached now, or None (it
    answers, or it is a local store)."""
    try:
        if is_database_uri(uri):
            check_database(uri)
        elif urlsplit(uri).scheme in ("http", "https"):
            check_reachable(uri)
    except TrainError as exc:
        return str(exc).split("; start it", 1)[0]
    return None


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (None for in-memory or other URIs)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri[len("sqlite:///") :].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).resolve()


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive ``flock`` on ``path`` (created if missing); no lock where that fails."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        log.debug("no store lock at %s: %s", path, exc)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def open_store(uri: str | None = None) -> str:
    """Make the store at ``uri`` ready to use, once per process; return the resolved URI.

    An HTTP(S) server is checked with :func:`check_reachable` (and MLflow's client is set
    to give up on it within seconds, :data:`HTTP_RETRIES`); a database with
    :func:`check_database`. A sqlite store is
    opened (its tables created if it is new) while holding an exclusive lock on
    ``<tmp>/metaview-store-<hash of its path>.lock``, so concurrent first uses
    take turns instead of racing on ``CREATE TABLE``.

    Raises
    ------
    TrainError
        If a tracking server or database cannot be reached.
    """
    uri = resolve_tracking_uri(uri)
    db = _sqlite_path(uri)
    key = str(db) if db is not None else uri
    with _opened_lock:
        if key in _opened:
            return uri
    if db is not None:
        digest = hashlib.sha256(str(db).encode("utf-8", "surrogateescape")).hexdigest()[:16]
        with _file_lock(Path(tempfile.gettempdir()) / f"metaview-store-{digest}.lock"):
            from mlflow import MlflowClient

            # The first request builds MLflow's store for this URI (cached per process),
            # which creates and migrates the tables of a new database.
            MlflowClient(tracking_uri=uri).search_experiments(max_results=1)
    elif is_database_uri(uri):
        check_database(uri)
    else:
        if urlsplit(uri).scheme in ("http", "https"):
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", HTTP_RETRIES)
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", HTTP_BACKOFF)
        check_reachable(uri)
    with _opened_lock:
        _opened.add(key)
    return uri


def make_client(tracking_uri: str | None = None):
    """Return an ``mlflow.MlflowClient`` for ``tracking_uri`` (see :func:`resolve_tracking_uri`).

    The store is opened first (:func:`open_store`), so a tracking server that is
    down is a :class:`TrainError` naming the URI within seconds. The same URI
    serves as the model registry's.
    """
    # Downloads of a few small JSON files need no progress bars on stderr.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = open_store(tracking_uri)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def get_experiment_id(client, experiment: str | None = None) -> str:
    """Return the id of the experiment named ``experiment`` (see :func:`resolve_experiment`).

    Raises
    ------
    TrainError
        If the tracking store has no such experiment.
    """
    name = resolve_experiment(experiment)
    exp = client.get_experiment_by_name(name)
    if exp is None:
        raise TrainError(
            f"no experiment {name!r} in the tracking store {client.tracking_uri}: {NO_RUNS_HINT}"
        )
    return exp.experiment_id


def ensure_experiment(client, name: str) -> str:
    """The id of experiment ``name``, created if missing; safe when several processes ask at
    once.

    Two ``metaview train`` processes starting together on a new store both find no
    experiment and both create it; the loser's error is not always MLflow's
    RESOURCE_ALREADY_EXISTS (a server on PostgreSQL answers with the database's unique-key
    error), and MLflow's ``set_experiment`` then left its run in the "Default" experiment
    (seen in 1 of 4 tries). Here the loser reads the winner's experiment instead.

    Raises
    ------
    TrainError
        The experiment neither exists nor can be created.
    """
    from mlflow.exceptions import MlflowException

    exp = client.get_experiment_by_name(name)
    if exp is not None:
        if exp.lifecycle_stage != "active":
            raise TrainError(
                f"experiment {name!r} is deleted in {client.tracking_uri}; restore it "
                "(mlflow experiments restore) or pick another name (--experiment)"
            )
        return exp.experiment_id
    try:
        return client.create_experiment(name)
    except MlflowException as exc:
        exp = client.get_experiment_by_name(name)  # created meanwhile by another process
        if exp is None:
            raise TrainError(f"could not create experiment {name!r}: {exc}") from exc
        return exp.experiment_id


class using_tracking_uri:
    """Set MLflow's tracking URI for a ``with`` block, then restore the previous one exactly.

    MLflow's fluent API (``mlflow.start_run``, ``runs:/`` URIs) reads a global URI
    whatever a client was given; this sets it for a block and puts it back, so a
    later caller in the same process sees what it saw before.
    """

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._saved: tuple[Any, str | None] | None = None

    def __enter__(self) -> str:
        import mlflow
        from mlflow.tracking._tracking_service import utils as tracking_utils

        self._saved = (
            getattr(tracking_utils, "_tracking_uri", None),
            os.environ.get("MLFLOW_TRACKING_URI"),
        )
        mlflow.set_tracking_uri(self.uri)
        return self.uri

    def __exit__(self, *exc) -> bool:
        from mlflow.tracking._tracking_service import utils as tracking_utils

        old_global, old_env = self._saved
        # set_tracking_uri() also exports MLFLOW_TRACKING_URI; put both back as they were.
        tracking_utils._tracking_uri = old_global
        if old_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_env
        return False
