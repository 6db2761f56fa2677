"""A contact sheet of a run's misclassified test meta-images, as a PNG.

Each image is captioned with its class folder and file (:func:`sheet_name`) and its
true and predicted labels; at most :data:`MAX_MISCLASSIFIED` are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from train.plots import pyplot
from train.plots.fonts import text_fonts

MAX_MISCLASSIFIED = 24


def sheet_name(path: str | Path) -> str:
    """A caption for a dataset file: its class folder and name without suffix.

    ``"x_plus/0003_v0.png"`` -> ``"x_plus/0003_v0"``; two classes' ``0003_v0``
    stay apart.
    """
    p = PurePosixPath(str(path).replace("\\", "/"))
    stem = p.stem if p.suffix.lower() == ".png" else p.name
    return f"{p.parent.name}/{stem}" if p.parent.name else stem


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
        A caption per image: a dataset-relative path (``"x_plus/0003_v0.png"``) is
        shown as class folder and name (:func:`sheet_name`), anything else as is.
    max_images : int
    """
    plt = pyplot()
    captions = [sheet_name(n) if "/" in str(n) else str(n) for n in names] if names else None
    with text_fonts([*true_labels, *pred_labels, *(captions or [])]):
        return _misclassified(
            plt, images, true_labels, pred_labels, probs, path, captions, max_images
        )


def _misclassified(plt, images, true_labels, pred_labels, probs, path, names, max_images):
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
