"""An experiment's training runs side by side: one row per run, and their per-epoch curves.

The order is the one model selection uses (:func:`train.tracking.selection.run_sort_key`):
finished runs by ``best_val_f1_macro`` (ties: lower ``best_val_loss``, then the
earlier run), then runs that are still running, failed or were killed, newest
first. Each row has the run's configuration (model, input size, objective), its best
validation metrics and its test metrics (``test_top_valid`` among them where the run
logged it). :mod:`train.runs` turns the rows into ``metaview runs``' table, CSV and plot.

A run killed outright (``SIGKILL``, a machine that went away) stays RUNNING in
MLflow forever. A training run refreshes its heartbeat (tag ``metaview.heartbeat``)
at least every epoch and every minute; a RUNNING run whose last sign of life (that
tag, else its start) is older than ``stale_after_s`` is **stale**
(:func:`is_stale`), and :func:`end_stale_runs` ends such runs as FAILED.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from train.tracking.champion import champion_run_id
from train.tracking.names import (
    ENDED_BY_TAG,
    HEARTBEAT_TAG,
    SELECTION_METRIC,
    STALE_AFTER_MINUTES,
)
from train.tracking.selection import rank_runs, run_sort_key, search_train_runs

STALE_AFTER_S = STALE_AFTER_MINUTES * 60.0
#: The objective of a run without the ``objective`` param (logged before ``--objective``
#: existed, when every run trained on the primary label).
DEFAULT_OBJECTIVE = "label"


@dataclass
class RunRow:
    """One training run as a table row.

    Attributes
    ----------
    marker : str
        ``"*"`` for the best run, ``"C"`` for the champion, ``"*C"`` for both.
    epochs : str
        Epochs run, over the epochs asked for (``"12/30"``).
    objective : str
        The training objective (param ``objective``: ``"label"``, ``"any-valid"``,
        ``"sets"``); ``"label"`` for runs from before ``--objective``, which trained on
        the primary label.
    test_top_valid : float or None
        Share of test parts whose top prediction is one of the part's valid
        directions (metric ``test_top_valid``; None for runs that did not log it).
    duration_s : float or None
        Wall time from start to end (None while running).
    """

    marker: str
    run_id: str
    run_name: str
    model: str
    image_size: str
    epochs: str
    val_accuracy: float | None
    val_f1: float | None
    test_accuracy: float | None
    test_f1: float | None
    duration_s: float | None
    status: str
    stale: bool = False  # RUNNING in MLflow, but silent for longer than the stale limit
    silent_s: float | None = None  # seconds since the last heartbeat (RUNNING runs only)
    family: str = ""  # the model's family ("efficientnet-lite", "normals", ...); "" if unknown
    objective: str = DEFAULT_OBJECTIVE  # the training objective (train.labelsets.OBJECTIVES)
    test_top_valid: float | None = None  # test parts whose top direction is valid (share)


def last_sign_of_life(run) -> float:
    """Unix time (s) of a run's last heartbeat, else of its start (0 if neither is known)."""
    start = (run.info.start_time or 0) / 1000.0
    try:
        beat = float(run.data.tags.get(HEARTBEAT_TAG, ""))
    except ValueError:
        beat = 0.0
    return max(start, beat)


def is_stale(run, stale_after_s: float = STALE_AFTER_S, now: float | None = None) -> bool:
    """True for a RUNNING run whose last sign of life is more than ``stale_after_s`` old."""
    if run.info.status != "RUNNING":
        return False
    now = time.time() if now is None else now
    return now - last_sign_of_life(run) > stale_after_s


def end_stale_runs(
    client, experiment_id: str, stale_after_s: float = STALE_AFTER_S, now: float | None = None
) -> list:
    """End the experiment's stale training runs as FAILED; return them (as they were).

    Each gets the end time of its last sign of life and the tag
    ``metaview.ended_by = "metaview runs --mark-failed"``.
    """
    now = time.time() if now is None else now
    stale = [
        r
        for r in search_train_runs(client, experiment_id, finished_only=False)
        if is_stale(r, stale_after_s, now)
    ]
    for run in stale:
        run_id = run.info.run_id
        client.set_tag(run_id, ENDED_BY_TAG, "metaview runs --mark-failed")
        end_ms = int(last_sign_of_life(run) * 1000) or None
        client.set_terminated(run_id, status="FAILED", end_time=end_ms)
    return stale


def _epochs_run(client, run) -> str:
    # The per-epoch history holds one val_loss value per epoch that ran. A model whose parts
    # trained one after the other (the combined head) logs theirs as "<part>.val_loss".
    from mlflow.exceptions import MlflowException

    parts = sorted(k[: -len(".val_loss")] for k in run.data.metrics if k.endswith(".val_loss"))
    try:
        if parts:
            return "+".join(
                str(len(client.get_metric_history(run.info.run_id, f"{p}.val_loss"))) for p in parts
            )
        return str(len(client.get_metric_history(run.info.run_id, "val_loss")))
    except MlflowException:
        return "0"


def collect_runs(
    client,
    experiment_id: str,
    metric: str = SELECTION_METRIC,
    stale_after_s: float = STALE_AFTER_S,
    now: float | None = None,
) -> tuple[list[RunRow], list]:
    """Return the experiment's training runs as rows, best first, and the runs themselves.

    Finished runs come first in selection order; the rest (running, failed,
    killed) follow, newest first. A RUNNING run silent for more than
    ``stale_after_s`` seconds has ``stale`` set (see :func:`is_stale`).

    Returns
    -------
    rows : list of RunRow
    runs : list of mlflow.entities.Run
        In the same order as ``rows``.
    """
    runs = search_train_runs(client, experiment_id, finished_only=False)
    finished = rank_runs([r for r in runs if r.info.status == "FINISHED"], metric)
    others = sorted(
        (r for r in runs if r.info.status != "FINISHED"), key=lambda r: -(r.info.start_time or 0)
    )
    ordered = finished + others
    best = (
        finished[0].info.run_id if finished and not run_sort_key(finished[0], metric)[0] else None
    )
    champion = champion_run_id(client, experiment_id=experiment_id)
    now = time.time() if now is None else now
    rows = []
    for run in ordered:
        info, data = run.info, run.data
        marker = ("*" if info.run_id == best else "") + ("C" if info.run_id == champion else "")
        asked = data.params.get("epochs", "?")
        duration = (
            (info.end_time - info.start_time) / 1000.0
            if info.end_time and info.start_time
            else None
        )
        rows.append(
            RunRow(
                marker=marker,
                run_id=info.run_id,
                run_name=info.run_name or "",
                model=data.params.get("model", ""),
                family=data.params.get("family", ""),
                image_size=data.params.get("image_size", ""),
                objective=data.params.get("objective", DEFAULT_OBJECTIVE),
                epochs=f"{_epochs_run(client, run)}/{asked}",
                val_accuracy=data.metrics.get("best_val_accuracy"),
                val_f1=data.metrics.get("best_val_f1_macro"),
                test_accuracy=data.metrics.get("test_accuracy"),
                test_f1=data.metrics.get("test_f1_macro"),
                test_top_valid=data.metrics.get("test_top_valid"),
                duration_s=duration,
                status=info.status,
                stale=is_stale(run, stale_after_s, now),
                silent_s=now - last_sign_of_life(run) if info.status == "RUNNING" else None,
            )
        )
    return rows, ordered


def run_curves(
    client, runs: list, metrics: tuple[str, ...]
) -> dict[str, list[tuple[str, list[int], list[float]]]]:
    """Return each metric's per-epoch values for each run.

    Returns
    -------
    dict
        metric -> list of (run label, steps, values), one per run that logged the
        metric, in the order of ``runs``; steps sorted. The label is the run's
        name, else the first 8 characters of its id.
    """
    out: dict[str, list[tuple[str, list[int], list[float]]]] = {}
    for metric in metrics:
        out[metric] = []
        for run in runs:
            hist = sorted(client.get_metric_history(run.info.run_id, metric), key=lambda m: m.step)
            if hist:
                label = run.info.run_name or run.info.run_id[:8]
                out[metric].append((label, [m.step for m in hist], [m.value for m in hist]))
    return out
