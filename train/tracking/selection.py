"""Which training run is best: search an experiment's runs and rank them.

"Best" is the highest ``best_val_f1_macro`` (:data:`~train.tracking.names.SELECTION_METRIC`)
among FINISHED runs tagged ``metaview.kind=train``; ties go to the lower
``best_val_loss``, then to the earlier run, then to the run id, so the order is
total. ``metaview predict --model best``, the champion promotion and ``metaview
runs`` all use this one order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from train.tracking.names import KIND_TAG, KIND_TRAIN, SELECTION_METRIC, TIEBREAK_METRIC


def _higher_is_better(metric: str) -> bool:
    # Losses and errors go down; accuracy, F1, precision and recall go up.
    return not any(word in metric for word in ("loss", "error"))


def run_sort_key(run, metric: str = SELECTION_METRIC) -> tuple:
    """Sort key that puts the best run first.

    Order: runs with ``metric`` before runs without it; then the metric (higher
    first, or lower first for a loss); then the lower ``best_val_loss``; then
    the earlier start time; then the run id, so the order is total.
    """
    metrics = run.data.metrics
    value = metrics.get(metric)
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        primary = math.inf
    else:
        primary = -value if _higher_is_better(metric) else value
    tie = metrics.get(TIEBREAK_METRIC)
    if tie is None or math.isnan(tie):
        tie = math.inf
    return (missing, primary, tie, run.info.start_time or 0, run.info.run_id)


#: Runs :func:`find_best_run` asks the store for: the leader and any exact ties with it.
_TOP = 10


def _filter(finished_only: bool) -> str:
    filt = f"tags.`{KIND_TAG}` = '{KIND_TRAIN}'"
    if finished_only:
        filt += " and attributes.status = 'FINISHED'"
    return filt


def search_train_runs(client, experiment_id: str, finished_only: bool = True) -> list:
    """Return the experiment's ``metaview train`` runs (all pages), unordered.

    Parameters
    ----------
    finished_only : bool
        Keep only runs with status FINISHED (what model selection uses); False
        also returns RUNNING, FAILED and KILLED runs (what ``metaview runs`` shows).
    """
    filt = _filter(finished_only)
    runs: list = []
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string=filt, max_results=1000, page_token=token
        )
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def rank_runs(runs: Iterable, metric: str = SELECTION_METRIC) -> list:
    """Return ``runs`` sorted best first (see :func:`run_sort_key`)."""
    return sorted(runs, key=lambda r: run_sort_key(r, metric))


def best_of(runs: Iterable, metric: str = SELECTION_METRIC):
    """Return the best of ``runs`` that logged ``metric``, or None."""
    ranked = [r for r in rank_runs(runs, metric) if not run_sort_key(r, metric)[0]]
    return ranked[0] if ranked else None


def find_best_run(client, experiment_id: str, metric: str = SELECTION_METRIC):
    """Return the best finished training run of an experiment, or None if it has none.

    The tracking store ranks the runs (``search_runs(order_by=..., max_results=...)``):
    one query, however many runs the experiment holds. Its order is the one of
    :func:`run_sort_key` (runs without the metric, or with NaN, sort last either way);
    the few runs it returns first are ranked again here only so that exact ties end in
    the same total order as :func:`rank_runs`.

    Parameters
    ----------
    client : mlflow.MlflowClient
    experiment_id : str
    metric : str
        Selection metric; higher is better unless its name contains "loss" or
        "error". Runs that did not log it are never the best.

    Returns
    -------
    mlflow.entities.Run or None
        The best FINISHED run tagged ``metaview.kind=train``; ties go to the
        lower ``best_val_loss``, then to the earlier start time.
    """
    direction = "DESC" if _higher_is_better(metric) else "ASC"
    order = [f"metrics.`{metric}` {direction}"]
    if metric != TIEBREAK_METRIC:  # the store refuses a field twice
        order.append(f"metrics.`{TIEBREAK_METRIC}` ASC")
    order.append("attributes.start_time ASC")
    first = client.search_runs(
        [experiment_id], filter_string=_filter(True), order_by=order, max_results=_TOP
    )
    return best_of(first, metric)
