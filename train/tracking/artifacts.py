"""Reading a finished run back, and adding to it: JSON artifacts, tags, the logged model.

What loading a model (:mod:`train.inference.loading`) and ``metaview export`` need
from MLflow, so that they never call MLflow themselves. Errors become
:class:`TrainError` with the run id and what is missing.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from train.errors import TrainError
from train.tracking.names import MODEL_ARTIFACT
from train.tracking.store import using_tracking_uri

log = logging.getLogger(__name__)


def check_run(client, run_id: str):
    """Return the run ``run_id``.

    Raises
    ------
    TrainError
        If the tracking store has no such run.
    """
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        raise TrainError(
            f"no run with id {run_id} in the tracking store {client.tracking_uri}"
        ) from None


def run_tag(client, run_id: str, tag: str) -> str | None:
    """Return the value of tag ``tag`` of run ``run_id`` (None if unset).

    Raises
    ------
    TrainError
        If the run cannot be read.
    """
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id).data.tags.get(tag)
    except MlflowException as exc:
        raise TrainError(f"run {run_id}: {exc}") from None


def download_json(run_id: str, name: str, tracking_uri: str, dst: str | Path) -> Any:
    """Download the JSON artifact ``name`` of a run into ``dst`` and parse it.

    Raises
    ------
    TrainError
        If the run has no such artifact or it is not JSON.
    """
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=name, dst_path=str(dst), tracking_uri=tracking_uri
        )
        return json.loads(Path(local).read_text(encoding="utf-8"))
    except (MlflowException, OSError) as exc:
        raise TrainError(
            f"run {run_id} has no artifact {name} (was it logged by metaview train?): {exc}"
        ) from None
    except json.JSONDecodeError as exc:
        raise TrainError(f"run {run_id}: artifact {name} is not valid JSON: {exc}") from None


def download_optional(run_id: str, name: str, tracking_uri: str, dst: str | Path) -> Path | None:
    """Download the artifact ``name`` of a run into ``dst``; None when the run has none."""
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=name, dst_path=str(dst), tracking_uri=tracking_uri
            )
        )
    except (MlflowException, OSError) as exc:
        log.debug("run %s: no artifact %s (%s)", run_id, name, exc)
        return None


def read_run_json(client, run_id: str, name: str) -> Any:
    """Download and parse the JSON artifact ``name`` of a run.

    Raises
    ------
    TrainError
        If the run has no such artifact or it is not JSON.
    """
    with tempfile.TemporaryDirectory(prefix="metaview-") as dst:
        return download_json(run_id, name, client.tracking_uri, dst)


def download_model(client, run_id: str, dst: str | Path) -> Path:
    """Download the run's logged model (``runs:/<id>/model``) into ``dst``; return its folder.

    Raises
    ------
    TrainError
        If the run has no logged model.
    """
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    uri = f"runs:/{run_id}/{MODEL_ARTIFACT}"
    try:
        # MLflow resolves runs:/ID/model (a logged model) through the global tracking
        # URI whatever tracking_uri= says, so set it for the download.
        with using_tracking_uri(client.tracking_uri):
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(dst), tracking_uri=client.tracking_uri
            )
    except (MlflowException, OSError) as exc:
        raise TrainError(f"run {run_id} has no logged model at {uri}: {exc}") from None
    return Path(local)


def load_keras_flavour(path: str | Path):
    """Load the Keras model of a local MLflow model folder (one with an ``MLmodel`` file).

    MLflow's own errors pass through (the caller names the path).
    """
    import mlflow.keras

    return mlflow.keras.load_model(str(path))


def log_to_run(client, run_id: str, metrics: Mapping[str, float], obj: Any, artifact_file: str):
    """Add metrics (step 0) and a JSON artifact to an existing (finished) run.

    A failure is a warning, not an error: what was computed is already on disk.

    Returns
    -------
    bool
        Whether both were logged.
    """
    from mlflow.entities import Metric
    from mlflow.exceptions import MlflowException

    now = int(time.time() * 1000)
    try:
        client.log_batch(run_id, metrics=[Metric(k, float(v), now, 0) for k, v in metrics.items()])
        client.log_dict(run_id, obj, artifact_file)
    except MlflowException as exc:
        log.warning("could not log %s to run %s: %s", artifact_file, run_id, exc)
        return False
    return True
