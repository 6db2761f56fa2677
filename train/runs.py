"""``metaview runs``: an experiment's training runs as a table best first, a CSV and a plot.

The rows and curves come from :mod:`train.tracking.compare` (in model selection's
order: finished runs by ``best_val_f1_macro``, ties by ``best_val_loss``, then the
earlier run; then running, failed and killed runs); the plot is
:func:`train.plots.run_curves.plot_run_curves`. This module only formats and writes them.

The table's columns (:data:`COLUMNS`): marker (``*`` best, ``C`` champion), run id,
name, family, model, input size, objective (``label`` for runs from before
``--objective``), epochs run / asked, best validation accuracy and macro F1, test
accuracy and macro F1, ``top_valid`` (metric ``test_top_valid``: share of test parts
whose top prediction is a valid direction; ``-`` for runs that did not log it),
duration and status.

A RUNNING run with no heartbeat for ``stale_after_minutes`` (its process was
killed without ending it) shows as ``STALE``; :func:`mark_stale_runs` (``metaview
runs --mark-failed``) ends such runs as FAILED.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from train.errors import TrainError
from train.tracking.compare import (
    RunRow,
    collect_runs,
    end_stale_runs,
    last_sign_of_life,
    run_curves,
)
from train.tracking.names import STALE_AFTER_MINUTES

log = logging.getLogger(__name__)

CURVE_METRICS = ("val_loss", "val_f1_macro")

# Column name -> header shown in the table.
COLUMNS = {
    "marker": "",
    "run_id": "run",
    "run_name": "name",
    "family": "family",
    "model": "model",
    "image_size": "size",
    "objective": "objective",
    "epochs": "epochs",
    "val_accuracy": "val_acc",
    "val_f1": "val_f1",
    "test_accuracy": "test_acc",
    "test_f1": "test_f1",
    "test_top_valid": "top_valid",
    "duration_s": "duration",
    "status": "status",
}
#: The CSV has every table column (full run ids, raw numbers), then these.
CSV_EXTRA = ("stale", "silent_s")
STALE = "STALE"  # the status cell of a stale run


@dataclass
class EndedRun:
    """A stale run that :func:`mark_stale_runs` ended as FAILED."""

    run_id: str
    run_name: str
    silent_s: float  # seconds without a heartbeat when it was ended


def _cell(name: str, value) -> str:
    if value is None:
        return "-"
    if name == "run_id":
        return value[:8]
    if name == "duration_s":
        minutes, seconds = divmod(int(round(value)), 60)
        return f"{minutes}m{seconds:02d}s" if minutes else f"{value:.1f}s"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def format_table(rows: list[RunRow]) -> str:
    """Render rows as a fixed-width text table (run ids shortened to 8 characters).

    A stale run's status reads ``STALE`` (MLflow still says RUNNING).
    """
    header = list(COLUMNS.values())
    body = [
        [
            STALE if name == "status" and r.stale else _cell(name, getattr(r, name))
            for name in COLUMNS
        ]
        for r in rows
    ]
    widths = [
        max(len(h), *(len(line[i]) for line in body)) if body else len(h)
        for i, h in enumerate(header)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in body
    ]
    return "\n".join(lines)


def write_runs_csv(rows: list[RunRow], path: str | os.PathLike) -> Path:
    """Write rows as CSV (full run ids, raw numbers, empty cells for missing values).

    Columns: the table's, by their :data:`COLUMNS` names (``objective``,
    ``test_top_valid``, ...; ``status`` is MLflow's), then ``stale`` and ``silent_s``
    (seconds since a RUNNING run's last heartbeat).
    """
    from metaimage.io import write_csv

    columns = [*COLUMNS, *CSV_EXTRA]
    data = [{k: ("" if v is None else v) for k, v in asdict(r).items()} for r in rows]
    return write_csv(path, columns, data)


def mark_stale_runs(
    experiment: str | None = None,
    tracking_uri: str | None = None,
    stale_after_minutes: float = STALE_AFTER_MINUTES,
) -> list[EndedRun]:
    """End the experiment's stale runs (RUNNING, no heartbeat for that long) as FAILED.

    Returns
    -------
    list of EndedRun
        The runs ended, newest first (empty if none was stale).

    Raises
    ------
    TrainError
        If the tracking store cannot be reached or has no such experiment.
    """
    import time

    from train import tracking

    client = tracking.make_client(tracking_uri)
    exp_id = tracking.get_experiment_id(client, experiment)
    now = time.time()
    ended = end_stale_runs(client, exp_id, stale_after_minutes * 60.0, now)
    ended.sort(key=lambda r: -(r.info.start_time or 0))
    return [
        EndedRun(r.info.run_id, r.info.run_name or "", now - last_sign_of_life(r)) for r in ended
    ]


def runs_report(
    experiment: str | None = None,
    tracking_uri: str | None = None,
    csv_path: str | os.PathLike | None = None,
    plot_path: str | os.PathLike | None = None,
    stale_after_minutes: float = STALE_AFTER_MINUTES,
) -> tuple[list[RunRow], str]:
    """Collect the runs of an experiment, write the CSV and plot, and return rows and table.

    The text is the table, followed by a note when some runs are stale.

    Raises
    ------
    TrainError
        If the experiment does not exist or has no training runs.
    """
    from train import tracking
    from train.plots.run_curves import plot_run_curves

    client = tracking.make_client(tracking_uri)
    exp_id = tracking.get_experiment_id(client, experiment)
    rows, runs = collect_runs(client, exp_id, stale_after_s=stale_after_minutes * 60.0)
    if not rows:
        raise TrainError(
            f"experiment {tracking.resolve_experiment(experiment)!r} has no training runs: "
            "train one first with: metaview train DATA"
        )
    if csv_path:
        write_runs_csv(rows, csv_path)
        log.info("wrote %s", csv_path)
    if plot_path:
        plot_run_curves(run_curves(client, runs, CURVE_METRICS), plot_path)
        log.info("wrote %s", plot_path)
    text = format_table(rows)
    stale = [r for r in rows if r.stale]
    if stale:
        text += (
            f"\n\n{STALE}: {len(stale)} run(s) still RUNNING in MLflow but without a heartbeat for "
            f"over {stale_after_minutes:g} min (killed?); end them as FAILED with: "
            "metaview runs --mark-failed"
        )
    return rows, text
