"""Every plot metaview draws, as PNG files (matplotlib, Agg backend: no display needed).

Of one training run (logged as its artifacts ``plots/*.png``):

- :func:`plot_confusion_matrix`  rows = true class, columns = predicted, with counts;
- :func:`plot_training_curves`   loss, accuracy and macro F1 per epoch, train vs validation;
- :func:`plot_misclassified`     a contact sheet of misclassified meta-images.

Of several runs (``metaview runs``):

- :func:`plot_run_curves`        one panel per metric, one line per run.

The functions take plain data (arrays, lists, dicts); matplotlib is imported inside them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

MAX_MISCLASSIFIED = 24


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


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
    plt = _pyplot()
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


def plot_training_curves(history: Mapping[str, Sequence[float]], path: str | Path) -> Path:
    """Write loss, accuracy and macro F1 per epoch, train and validation.

    Parameters
    ----------
    history : mapping metric name -> per-epoch values
        Keras ``History.history`` style: ``loss``, ``val_loss``, ``accuracy``,
        ``val_accuracy``, ``f1_macro``, ``val_f1_macro`` (missing ones skipped).
    path : path of the PNG to write
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), dpi=100)
    for ax, name in zip(axes, ("loss", "accuracy", "f1_macro"), strict=True):
        for key, style in ((name, "-o"), (f"val_{name}", "--s")):
            values = history.get(key)
            if values:
                ax.plot(
                    range(len(values)),
                    values,
                    style,
                    markersize=3,
                    label="train" if key == name else "val",
                )
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_misclassified(
    images: Sequence[np.ndarray],
    true_labels: Sequence[str],
    pred_labels: Sequence[str],
    probs: Sequence[float],
    path: str | Path,
    names: Sequence[str] | None = None,
    max_images: int = MAX_MISCLASSIFIED,
) -> Path:
    """Write a contact sheet of misclassified meta-images, or a note that there are none.

    Parameters
    ----------
    images : sequence of (h, w, 3) uint8
        The misclassified meta-images (only the first ``max_images`` are drawn).
    true_labels, pred_labels : sequence of str
    probs : sequence of float
        The predicted class's probability.
    path : path of the PNG to write
    names : sequence of str, optional
        A caption per image (for example its part id).
    max_images : int
    """
    plt = _pyplot()
    n = min(len(images), max_images)
    if n == 0:
        fig, ax = plt.subplots(figsize=(4, 1.5), dpi=100)
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified test images", ha="center", va="center", fontsize=12)
        fig.savefig(path)
        plt.close(fig)
        return Path(path)
    cols = min(n, 6)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.9 * rows), dpi=100, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i])
        caption = f"true {true_labels[i]}\npred {pred_labels[i]} ({probs[i]:.2f})"
        if names is not None:
            caption = f"{names[i]}\n{caption}"
        ax.set_title(caption, fontsize=8)
    shown = f"{n} of {len(images)}" if len(images) > n else f"{n}"
    fig.suptitle(f"misclassified test images ({shown})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_run_curves(
    curves: Mapping[str, Sequence[tuple[str, Sequence[int], Sequence[float]]]], path: str | Path
) -> Path:
    """Write one panel per metric with one line per run (``metaview runs``' validation curves).

    Parameters
    ----------
    curves : mapping metric -> sequence of (run label, steps, values)
        What :func:`train.tracking.compare.run_curves` returns; steps count epochs from 0
        and are drawn from 1. A metric without runs gets a "no data" panel.
    path : path of the PNG to write (atomically)
    """
    import io

    from metaimage.io import atomic_write_bytes

    plt = _pyplot()
    metrics = list(curves)
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
    try:
        for ax, metric in zip(axes[0], metrics, strict=True):
            for label, steps, values in curves[metric]:
                ax.plot([s + 1 for s in steps], list(values), marker=".", label=label)
            ax.set_title(metric)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if curves[metric]:
                ax.legend(fontsize="small")
            else:
                ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
    finally:
        plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
