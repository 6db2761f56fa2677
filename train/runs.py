"""``metaview runs``: an experiment's training runs as a table best first, a CSV and a plot.

The rows and curves come from :mod:`train.tracking.compare` (in model selection's
order: finished runs by ``best_val_f1_macro``, ties by ``best_val_loss``, then the
earlier run; then running, failed and killed runs); the plot is
:func:`train.plots.plot_run_curves`. This module only formats and writes them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict
from pathlib import Path

from train.errors import TrainError
from train.tracking.compare import RunRow, collect_runs, run_curves

log = logging.getLogger(__name__)

DEFAULT_PLOT = "runs_val_curves.png"
CURVE_METRICS = ("val_loss", "val_f1_macro")

# Column name -> header shown in the table.
COLUMNS = {
    "marker": "",
    "run_id": "run",
    "run_name": "name",
    "model": "model",
    "image_size": "size",
    "epochs": "epochs",
    "val_accuracy": "val_acc",
    "val_f1": "val_f1",
    "test_accuracy": "test_acc",
    "test_f1": "test_f1",
    "duration_s": "duration",
    "status": "status",
}


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
    """Render rows as a fixed-width text table (run ids shortened to 8 characters)."""
    header = list(COLUMNS.values())
    body = [[_cell(name, getattr(r, name)) for name in COLUMNS] for r in rows]
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
    """Write rows as CSV (full run ids, raw numbers, empty cells for missing values)."""
    from metaimage.io import write_csv

    columns = list(COLUMNS)
    data = [{k: ("" if v is None else v) for k, v in asdict(r).items()} for r in rows]
    return write_csv(path, columns, data)


def runs_report(
    experiment: str | None = None,
    tracking_uri: str | None = None,
    csv_path: str | os.PathLike | None = None,
    plot_path: str | os.PathLike | None = DEFAULT_PLOT,
) -> tuple[list[RunRow], str]:
    """Collect the runs of an experiment, write the CSV and plot, and return rows and table.

    Raises
    ------
    TrainError
        If the experiment does not exist or has no training runs.
    """
    from train import plots, tracking

    client = tracking.make_client(tracking_uri)
    exp_id = tracking.get_experiment_id(client, experiment)
    rows, runs = collect_runs(client, exp_id)
    if not rows:
        raise TrainError(
            f"experiment {tracking.resolve_experiment(experiment)!r} has no training runs: "
            "train one first with: metaview train DATA"
        )
    if csv_path:
        write_runs_csv(rows, csv_path)
        log.info("wrote %s", csv_path)
    if plot_path:
        plots.plot_run_curves(run_curves(client, runs, CURVE_METRICS), plot_path)
        log.info("wrote %s", plot_path)
    return rows, format_table(rows)
