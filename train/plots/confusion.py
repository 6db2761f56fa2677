"""The confusion matrix of a run's test split, as a PNG: rows = true class, columns = predicted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from train.plots import pyplot
from train.plots.fonts import text_fonts


def plot_confusion_matrix(
    matrix: np.ndarray, labels: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Write a confusion matrix with counts in each cell.

    Parameters
    ----------
    matrix : (k, k) int
        ``matrix[i, j]`` = number of class-``i`` images predicted as class ``j``.
    labels : sequence of k str
    path : path of the PNG to write
    title : str
    """
    plt = pyplot()
    with text_fonts([*labels, title]):
        return _confusion_matrix(plt, matrix, labels, path, title)


def _confusion_matrix(plt, matrix, labels, path, title) -> Path:
    m = np.asarray(matrix)
    k = len(labels)
    fig, ax = plt.subplots(figsize=(1.2 + 0.8 * k, 1.0 + 0.8 * k), dpi=100)
    # Colour by row fraction so a small class's errors show as clearly as a big one's.
    frac = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    ax.imshow(frac, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(int(m[i, j])),
                ha="center",
                va="center",
                color="white" if frac[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(k), labels, rotation=45, ha="right")
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"confusion matrix ({int(m.sum())} images)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
