"""The champion: an experiment's best run's model, as ``metaview-<experiment>@champion``.

After every successful ``metaview train`` the training loop offers its run here
(:func:`promote_if_best`, through :meth:`train.tracking.run.TrainRun.promote`): if
it is the best run of its experiment by :mod:`train.tracking.selection`'s order,
its model becomes a new version of the experiment's registered model
(:func:`~train.tracking.names.registered_model_name`: ``metaview-<experiment>``)
and the alias ``champion`` moves to it. ``--model champion`` loads that version's
run. One registered model per experiment: experiments that train on other classes
or render configs never take each other's champion.

:func:`model_version_run_id` resolves any ``models:/NAME/VERSION``,
``models:/NAME/latest`` or ``models:/NAME@ALIAS`` (``--model``) to the run that
logged that version, and says what exists when it does not.
"""

from __future__ import annotations

import logging

from train.errors import TrainError
from train.tracking.names import (
    CHAMPION_ALIAS,
    KIND_TAG,
    KIND_TRAIN,
    MODEL_ARTIFACT,
    PYFUNC_ARTIFACT,
    SELECTION_METRIC,
    registered_model_name,
)
from train.tracking.selection import best_of, find_best_run
from train.tracking.store import resolve_experiment

log = logging.getLogger(__name__)


def _logged_model_id(run, client=None) -> str | None:
    """The id of the model ``run`` logged (MLflow 3) that the registry should point at: its
    served pyfunc (``pyfunc``) where there is one, else the first (the Keras ``model``)."""
    outputs = getattr(run, "outputs", None)
    ids = [out.model_id for out in getattr(outputs, "model_outputs", None) or []]
    if client is not None and len(ids) > 1:
        for model_id in ids:
            try:
                if client.get_logged_model(model_id).name == PYFUNC_ARTIFACT:
                    return model_id
            except Exception as exc:  # an older server without logged models: the first
                log.debug("logged model %s: %s", model_id, exc)
                break
    return ids[0] if ids else None


def champion_model_name(client, experiment: str | None = None, experiment_id: str | None = None):
    """The registered model of an experiment given by name (default: see
    :func:`~train.tracking.store.resolve_experiment`) or, if given, by id."""
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id).name
    return registered_model_name(resolve_experiment(experiment))


def champion_run_id(
    client,
    experiment: str | None = None,
    alias: str = CHAMPION_ALIAS,
    *,
    experiment_id: str | None = None,
) -> str | None:
    """Return the run id behind the experiment's ``metaview-<experiment>@alias``, or None.

    Parameters
    ----------
    client : mlflow.MlflowClient
    experiment : str, optional
        Experiment name (see :func:`~train.tracking.store.resolve_experiment`).
    alias : str
    experiment_id : str, optional
        The experiment by id instead of by name.
    """
    from mlflow.exceptions import MlflowException

    name = champion_model_name(client, experiment, experiment_id)
    try:
        return client.get_model_version_by_alias(name, alias).run_id
    except MlflowException:
        return None


def _versions(client, name: str) -> list:
    """The versions of registered model ``name``, latest first ([] if they cannot be listed)."""
    from mlflow.exceptions import MlflowException

    quote = '"' if "'" in name else "'"
    try:
        found = client.search_model_versions(f"name = {quote}{name}{quote}")
    except MlflowException:
        return []
    return sorted(found, key=lambda v: int(v.version), reverse=True)


def _what_exists(client, registered, versions: list | None = None) -> str:
    """``"its versions: 3, 2, 1; its aliases: @champion -> 3"`` for a registered model."""
    if versions is None:
        versions = _versions(client, registered.name)
    shown = [str(v.version) for v in versions[:10]]
    if len(versions) > len(shown):
        shown.append(f"... ({len(versions)} in all)")
    have = f"its versions (latest first): {', '.join(shown)}" if shown else "it has no versions"
    aliases = sorted((registered.aliases or {}).items())
    named = ", ".join(f"@{a} -> {v}" for a, v in aliases)
    return f"{have}; {'its aliases: ' + named if aliases else 'it has no aliases'}"


def model_version_run_id(
    client, name: str, version: str | None = None, alias: str | None = None
) -> str:
    """Return the run id behind ``models:/NAME/VERSION`` or ``models:/NAME@ALIAS``.

    Parameters
    ----------
    client : mlflow.MlflowClient
    name : str
        A registered model name.
    version : str, optional
        A version number, or ``"latest"`` (the highest version number).
    alias : str, optional
        An alias (instead of ``version``).

    Raises
    ------
    TrainError
        Naming the spec and what exists: no such registered model (and the ones there
        are), no such version or alias (and the model's versions and aliases), or a
        version not logged by a run (its labels and layout would be unknown).
    """
    from mlflow.exceptions import MlflowException

    if (version is None) == (alias is None):
        raise ValueError("give a version or an alias")
    spec = f"models:/{name}@{alias}" if alias is not None else f"models:/{name}/{version}"
    where = client.tracking_uri
    try:
        registered = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise TrainError(
                f"{spec}: could not read registered model {name!r} in {where}: {exc}"
            ) from exc
        try:
            names = [m.name for m in client.search_registered_models(max_results=20)]
        except MlflowException:
            names = []
        there = f"registered models: {', '.join(names)}" if names else "it has no registered models"
        raise TrainError(f"{spec}: no registered model {name!r} in {where} ({there})") from None
    try:
        if alias is not None:
            found = client.get_model_version_by_alias(name, alias)
        elif version.lower() == "latest":
            versions = _versions(client, name)
            if not versions:
                raise TrainError(f"{spec}: registered model {name!r} in {where} has no versions")
            found = versions[0]
        else:
            found = client.get_model_version(name, version)
    except MlflowException as exc:
        missing = f"alias @{alias}" if alias is not None else f"version {version}"
        log.debug("%s: %s", spec, exc)
        raise TrainError(
            f"{spec}: registered model {name!r} has no {missing} in {where} "
            f"({_what_exists(client, registered)})"
        ) from None
    if not found.run_id:
        raise TrainError(
            f"{spec}: version {found.version} of {name!r} was not logged by a run, so its labels "
            "and meta-image layout are unknown; register a model that metaview train logged"
        )
    return found.run_id


def promote_if_best(
    client,
    run_id: str,
    experiment_id: str,
    model_name: str | None = None,
    alias: str = CHAMPION_ALIAS,
    metric: str = SELECTION_METRIC,
) -> bool:
    """Register a run's model and point the ``champion`` alias at it if it is the best run.

    Parameters
    ----------
    client : mlflow.MlflowClient
    run_id : str
        A finished run that logged its model under the artifact path ``model``.
    experiment_id : str
        Its experiment; "best" is judged among that experiment's training runs.
    model_name : str, optional
        Registered model name (default: the experiment's, ``metaview-<experiment>``).
    alias : str
        Alias to set.
    metric : str
        Selection metric (see :func:`train.tracking.selection.find_best_run`).

    Returns
    -------
    bool
        True if the run is the best (a RUNNING run is judged as if finished, so
        the call may come just before or after the run ends) and
        ``model_name@alias`` now points at a version of it (registered now or
        earlier); False if another run is better.

    Raises
    ------
    TrainError
        If the model registry refuses the registration.
    """
    from mlflow.exceptions import MlflowException

    if model_name is None:
        model_name = champion_model_name(client, experiment_id=experiment_id)
    best = find_best_run(client, experiment_id, metric)  # ranked by the store
    if best is None or best.info.run_id != run_id:
        # Called before the run is marked FINISHED: judge it as if it were.
        try:
            candidate = client.get_run(run_id)
        except MlflowException:
            raise TrainError(f"no run with id {run_id} in {client.tracking_uri}") from None
        if candidate.info.status == "RUNNING" and candidate.data.tags.get(KIND_TAG) == KIND_TRAIN:
            best = best_of([r for r in (best, candidate) if r is not None], metric)
    if best is None or best.info.run_id != run_id:
        log.info(
            "run %s is not the best run by %s (best: %s); %s@%s unchanged",
            run_id,
            metric,
            best.info.run_id if best else None,
            model_name,
            alias,
        )
        return False
    try:
        try:
            client.get_registered_model(model_name)
        except MlflowException:
            experiment = client.get_experiment(experiment_id).name
            client.create_registered_model(
                model_name,
                tags={"metaview.experiment": experiment},
                description=(
                    f"metaview classifiers of experiment {experiment!r}; @champion is its best run."
                ),
            )
        existing = list(
            client.search_model_versions(f"name = '{model_name}' and run_id = '{run_id}'")
        )
        if existing:
            version = max(existing, key=lambda v: int(v.version))
        else:
            model_id = _logged_model_id(best, client)
            source = f"models:/{model_id}" if model_id else f"runs:/{run_id}/{MODEL_ARTIFACT}"
            tags = {metric: str(best.data.metrics.get(metric))}
            version = client.create_model_version(
                model_name, source, run_id=run_id, tags=tags, model_id=model_id
            )
        client.set_registered_model_alias(model_name, alias, version.version)
    except MlflowException as exc:
        raise TrainError(
            f"could not register run {run_id} as {model_name}@{alias} in {client.tracking_uri}: "
            f"{exc}"
        ) from exc
    log.info(
        "run %s is the best by %s: %s version %s is now @%s",
        run_id,
        metric,
        model_name,
        version.version,
        alias,
    )
    return True
