"""Which run a ``--model`` spec names: ``best``, ``champion``, a run id, ``runs:/``, ``models:/``.

Every spec but a path (parsed by :func:`train.inference.spec.parse_model_spec`, which
documents the grammar and the order of its checks) names an MLflow run, whose model
:func:`train.inference.loading.load_run_model` loads. ``"champion"`` is the experiment's
own champion (``metaview-<experiment>@champion``), the same as
``models:/metaview-<experiment>@champion``; a registered version is resolved to the run
that logged it. MLflow is reached only through :mod:`train.tracking`.
"""

from __future__ import annotations

import logging

from train import tracking
from train.errors import TrainError
from train.inference.spec import parse_model_spec
from train.tracking.names import MODEL_ARTIFACT, NO_RUNS_HINT

log = logging.getLogger(__name__)


def resolve_run_id(spec: str, client, experiment: str | None = None) -> str:
    """Turn ``"best"``, ``"champion"``, a run id, ``runs:/RUN_ID/...`` or a registered model
    version (``models:/NAME/VERSION``, ``models:/NAME/latest``, ``models:/NAME@ALIAS``)
    into a run id.

    A ``runs:/`` spec is its run id (whatever artifact path follows: the run's ``model``
    is what is loaded); a registered version is the run that logged it.

    Raises
    ------
    TrainError
        If the experiment has no finished training runs, there is no champion, the
        registered model, version or alias does not exist (naming what does), or
        ``spec`` is a path or none of those, or a run id's first characters match no
        training run of the experiment, or several.
    """
    ref = parse_model_spec(spec)
    if ref.kind == "best":
        exp_id = tracking.get_experiment_id(client, experiment)
        best = tracking.find_best_run(client, exp_id)
        if best is None:
            raise TrainError(
                f"no finished training runs with metric {tracking.SELECTION_METRIC} in "
                f"experiment {tracking.resolve_experiment(experiment)!r} ({client.tracking_uri}): "
                f"{NO_RUNS_HINT}"
            )
        return best.info.run_id
    if ref.kind == "champion":
        name = tracking.resolve_experiment(experiment)
        run_id = tracking.champion_run_id(client, name)
        if run_id is None:
            raise TrainError(
                f"no model version has the alias {tracking.registered_model_name(name)}@"
                f"{tracking.CHAMPION_ALIAS} (experiment {name!r}) in {client.tracking_uri}: "
                f"{NO_RUNS_HINT}"
            )
        return run_id
    if ref.kind == "run":
        if ref.artifact_path not in ("", MODEL_ARTIFACT):
            log.warning(
                "--model %s: loading run %s's %s artifact (with its labels.json and "
                "metaimage.json), not %s",
                spec,
                ref.value,
                MODEL_ARTIFACT,
                ref.artifact_path,
            )
        return ref.value
    if ref.kind == "run-prefix":
        return _run_with_prefix(ref.value, client, experiment)
    if ref.kind == "registered":
        return tracking.model_version_run_id(
            client, ref.value, version=ref.version or None, alias=ref.alias or None
        )
    raise TrainError(
        f"--model {spec!r}: expected 'best', 'champion', a run id, runs:/RUN_ID/model or "
        "models:/NAME/VERSION (or @ALIAS), not a path"
    )


def _run_with_prefix(prefix: str, client, experiment: str | None) -> str:
    """The one training run of the experiment whose id starts with ``prefix``."""
    exp_id = tracking.get_experiment_id(client, experiment)
    runs = tracking.search_train_runs(client, exp_id, finished_only=False)
    found = sorted(r.info.run_id for r in runs if r.info.run_id.startswith(prefix))
    where = f"experiment {tracking.resolve_experiment(experiment)!r} ({client.tracking_uri})"
    if not found:
        raise TrainError(
            f"--model {prefix}: no training run of {where} has an id starting so "
            "('metaview runs' lists them)"
        )
    if len(found) > 1:
        raise TrainError(
            f"--model {prefix}: {len(found)} runs of {where} start so ({', '.join(found)}); "
            "give more of the id"
        )
    return found[0]
