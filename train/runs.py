"""Compare an experiment's training runs: a table best first, a CSV, validation curves.

The order is the one model selection uses (:func:`train.registry.run_sort_key`):
finished runs by ``best_val_f1_macro`` (ties: lower ``best_val_loss``, then the
earlier run), then runs that are still running, failed or were killed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from train import registry, tracking
from train.errors import TrainError

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


@dataclass
class RunRow:
    """One training run as a table row.

    Attributes
    ----------
    marker : str
        ``"*"`` for the best run, ``"C"`` for the champion, ``"*C"`` for both.
    epochs : str
        Epochs run, over the epochs asked for (``"12/30"``).
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


def _epochs_run(client, run) -> int:
    # The per-epoch history holds one val_loss value per epoch that ran.
    from mlflow.exceptions import MlflowException

    try:
        return len(client.get_metric_history(run.info.run_id, "val_loss"))
    except MlflowException:
        return 0


def collect_runs(
    client, experiment_id: str, metric: str = registry.SELECTION_METRIC
) -> tuple[list[RunRow], list]:
    """Return the experiment's training runs as rows, best first, and the runs themselves.

    Finished runs come first in selection order; the rest (running, failed,
    killed) follow, newest first.

    Returns
    -------
    rows : list of RunRow
    runs : list of mlflow.entities.Run
        In the same order as ``rows``.
    """
    runs = registry.search_train_runs(client, experiment_id, finished_only=False)
    finished = registry.rank_runs([r for r in runs if r.info.status == "FINISHED"], metric)
    others = sorted(
        (r for r in runs if r.info.status != "FINISHED"), key=lambda r: -(r.info.start_time or 0)
    )
    ordered = finished + others
    best = (
        finished[0].info.run_id
        if finished and not registry.run_sort_key(finished[0], metric)[0]
        else None
    )
    champion = registry.champion_run_id(client)
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
                image_size=data.params.get("image_size", ""),
                epochs=f"{_epochs_run(client, run)}/{asked}",
                val_accuracy=data.metrics.get("best_val_accuracy"),
                val_f1=data.metrics.get("best_val_f1_macro"),
                test_accuracy=data.metrics.get("test_accuracy"),
                test_f1=data.metrics.get("test_f1_macro"),
                duration_s=duration,
                status=info.status,
            )
        )
    return rows, ordered


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


def plot_val_curves(client, runs: list, path: str | os.PathLike, metrics=CURVE_METRICS) -> Path:
    """Plot each run's per-epoch validation curves into one PNG.

    Parameters
    ----------
    runs : list of mlflow.entities.Run
        One line per run in every panel, labelled with its name.
    path : path-like
        Output PNG.
    metrics : sequence of str
        One panel per metric (default: val_loss and val_f1_macro).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metaimage.io import atomic_write_bytes

    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
    try:
        for ax, metric in zip(axes[0], metrics, strict=True):
            drawn = 0
            for run in runs:
                hist = sorted(
                    client.get_metric_history(run.info.run_id, metric), key=lambda m: m.step
                )
                if not hist:
                    continue
                label = f"{run.info.run_name or run.info.run_id[:8]}"
                ax.plot(
                    [m.step + 1 for m in hist], [m.value for m in hist], marker=".", label=label
                )
                drawn += 1
            ax.set_title(metric)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if drawn:
                ax.legend(fontsize="small")
            else:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        import io

        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


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
    client = registry.make_client(tracking_uri)
    exp_id = registry.get_experiment_id(client, experiment)
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
        plot_val_curves(client, runs, plot_path)
        log.info("wrote %s", plot_path)
    return rows, format_table(rows)
