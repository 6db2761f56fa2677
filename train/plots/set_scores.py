"""Per direction, how well a run's predicted sets match the parts' valid sets, as a PNG."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from train.plots import pyplot
from train.plots.fonts import text_fonts


def plot_set_scores(
    per_direction: Mapping[str, Mapping[str, float]],
    top_valid: float,
    path: str | Path,
    title: str = "",
) -> Path:
    """Bars of each direction's set precision and recall, and the share of valid top answers.

    Parameters
    ----------
    per_direction : mapping class -> {"set_precision", "set_recall", "set_support"}
        From :func:`train.labelsets.set_scores`.
    top_valid : float
        Share of test parts whose top direction is valid (drawn as a line).
    path : path of the PNG to write
    title : str
    """
    plt = pyplot()
    with text_fonts([*per_direction, title]):
        fig = set_scores_figure(per_direction, top_valid, title)
        fig.savefig(path)
        plt.close(fig)
    return Path(path)


def set_scores_figure(
    per_direction: Mapping[str, Mapping[str, float]], top_valid: float, title: str = ""
):
    """The figure :func:`plot_set_scores` writes: precision bars, then recall bars, per class."""
    plt = pyplot()
    labels = list(per_direction)
    k = len(labels)
    fig, ax = plt.subplots(figsize=(2.0 + 1.0 * k, 3.6), dpi=100)
    x = np.arange(k)
    for offset, key in ((-0.2, "set_precision"), (0.2, "set_recall")):
        values = [per_direction[lab][key] for lab in labels]
        bars = ax.bar(x + offset, values, width=0.4, label=key.replace("_", " "))
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.axhline(top_valid, color="black", linestyle="--", linewidth=1,
               label=f"top direction valid: {top_valid:.3f}")  # fmt: skip
    ticks = [f"{lab}\n({int(per_direction[lab]['set_support'])} valid)" for lab in labels]
    ax.set_xticks(x, ticks)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("share of test parts")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "predicted sets against valid sets (test parts)")
    fig.tight_layout()
    return fig
