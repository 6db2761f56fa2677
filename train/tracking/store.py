"""Where runs live: the tracking URI, the experiment, and a client for them.

The store is ``sqlite:///mlflow.db`` in the working directory unless
``$MLFLOW_TRACKING_URI`` (or an explicit URI) says otherwise; the experiment is
``metaview`` unless ``$MLFLOW_EXPERIMENT_NAME`` (or an explicit name) says otherwise.
MLflow is imported inside the functions.
"""

from __future__ import annotations

import os
from typing import Any

from train.errors import TrainError
from train.tracking.names import DEFAULT_EXPERIMENT, DEFAULT_TRACKING_URI, NO_RUNS_HINT


def resolve_tracking_uri(uri: str | None = None) -> str:
    """Return ``uri``, else ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (in the cwd)."""
    return uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def resolve_experiment(name: str | None = None) -> str:
    """Return ``name``, else ``$MLFLOW_EXPERIMENT_NAME``, else ``"metaview"``."""
    return name or os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_EXPERIMENT


def make_client(tracking_uri: str | None = None):
    """Return an ``mlflow.MlflowClient`` for ``tracking_uri`` (see :func:`resolve_tracking_uri`).

    The same URI serves as the model registry's.
    """
    # Downloads of a few small JSON files need no progress bars on stderr.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow import MlflowClient

    uri = resolve_tracking_uri(tracking_uri)
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
