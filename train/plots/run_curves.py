"""``metaview runs``' validation curves, as a PNG: one panel per metric, one line per run.

Runs whose curves are identical (same seed and data) are drawn side by side, and
their legend entries say so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from train.plots import integer_epochs, pyplot
from train.plots.fonts import text_fonts


def _same_curves(curves: Sequence[tuple[str, Sequence[int], Sequence[float]]]) -> list[int | None]:
    """For each curve, the index of an earlier identical one (same steps and values), or None."""
    out: list[int | None] = []
    for i, (_, steps, values) in enumerate(curves):
        twin = None
        for j in range(i):
            if out[j] is None and list(curves[j][1]) == list(steps):
                if np.allclose(curves[j][2], values, rtol=1e-9, atol=1e-12, equal_nan=True):
                    twin = j
                    break
        out.append(twin)
    return out


def plot_run_curves(
    curves: Mapping[str, Sequence[tuple[str, Sequence[int], Sequence[float]]]], path: str | Path
) -> Path:
    """Write one panel per metric with one line per run (``metaview runs``' validation curves).

    Parameters
    ----------
    curves : mapping metric -> sequence of (run label, steps, values)
        What :func:`train.tracking.compare.run_curves` returns; MLflow steps count
        epochs from 0 and are drawn as epochs from 1. A metric without runs gets a
        "no data" panel. A run whose curve repeats an earlier run's exactly (same
        seed and data) is drawn shifted a little to the right, dashed, and its
        legend entry says ``(= earlier run)``: otherwise it would hide under it.
    path : path of the PNG to write (atomically)
    """
    import io

    from base.files import atomic_write_bytes

    plt = pyplot()
    metrics = list(curves)
    labels = [label for metric in metrics for label, _, _ in curves[metric]]
    with text_fonts(labels):
        fig = run_curves_figure(curves)
        try:
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=100)
        finally:
            plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def run_curves_figure(
    curves: Mapping[str, Sequence[tuple[str, Sequence[int], Sequence[float]]]],
):
    """The figure :func:`plot_run_curves` writes."""
    plt = pyplot()
    metrics = list(curves)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        runs = list(curves[metric])
        twins = _same_curves(runs)
        shift: dict[int, int] = {}
        for i, (label, steps, values) in enumerate(runs):
            x = np.asarray(steps, dtype=np.float64) + 1.0
            style: dict = {"marker": "."}
            if twins[i] is not None:
                k = shift[twins[i]] = shift.get(twins[i], 0) + 1
                x = x + 0.06 * k  # beside the run it repeats, not on top of it
                style = {"marker": "x", "linestyle": "--"}
                label = f"{label} (= {runs[twins[i]][0]})"
            ax.plot(x, list(values), label=label, **style)
        ax.set_title(metric)
        integer_epochs(ax)
        ax.grid(alpha=0.3)
        if runs:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig
