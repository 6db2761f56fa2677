"""The ``server`` sub-command: a team's MLflow tracking server (:mod:`train.tracking.server`)."""

from __future__ import annotations

import sys

from base.options import positive_int


def register(sub) -> None:
    """Add ``metaview server`` to ``sub``."""
    p = sub.add_parser(
        "server",
        help="run a team's MLflow tracking server on a database (PostgreSQL)",
        description=(
            "Check the database, then run MLflow's tracking server on it, with artifacts "
            "proxied through the server (clients then need only its URL: export "
            "MLFLOW_TRACKING_URI=http://HOST:PORT). A database that cannot be opened (wrong "
            "password, not running, no driver) is one line naming it, exit 1. Ctrl-C stops "
            "the server."
        ),
    )
    p.add_argument(
        "--backend-store-uri",
        default="sqlite:///mlflow.db",
        metavar="URI",
        help="where runs are kept: postgresql+psycopg://USER:PASSWORD@HOST:5432/DB for a team "
        "(default: sqlite:///mlflow.db, one machine)",
    )
    p.add_argument(
        "--artifacts-destination",
        default="./mlartifacts",
        metavar="DIR",
        help="where the server keeps artifacts: a folder or s3://... (default: ./mlartifacts)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    p.add_argument("--port", type=positive_int, default=5000, help="port (default: 5000)")
    p.add_argument(
        "--server-workers",
        type=positive_int,
        default=2,
        metavar="N",
        help="processes answering requests (default: 2)",
    )
    p.set_defaults(func=run)


def run(args) -> int:
    from train.tracking.server import ServerConfig, check_store, run_server

    cfg = ServerConfig(
        backend_store_uri=args.backend_store_uri,
        artifacts_destination=args.artifacts_destination,
        host=args.host,
        port=args.port,
        workers=args.server_workers,
    )
    check_store(cfg)  # a wrong password is one line, before anything starts
    sys.stderr.write(
        f"metaview server: starting MLflow at {cfg.url}; clients: "
        f"export MLFLOW_TRACKING_URI={cfg.url}\n"
    )
    return run_server(cfg)
