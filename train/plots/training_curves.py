"""A run's training curves, as a PNG: loss, accuracy, macro F1 and learning rate per epoch.

Train vs validation, epochs counted from 1, the best epoch (lowest ``val_loss``)
marked on every panel. A model whose parts trained one after the other (the combined
family: ``views.*`` and ``normals.*`` in its history) gets each part's curves, and the
combined model's validation score as a horizontal line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from train.plots import integer_epochs, pyplot


def best_epoch(history: Mapping[str, Sequence[float]]) -> int | None:
    """The epoch (from 1) with the lowest finite ``val_loss``, or None without one."""
    values = np.asarray(history.get("val_loss") or [], dtype=np.float64)
    if not len(values) or not np.isfinite(values).any():
        return None
    return int(np.argmin(np.where(np.isfinite(values), values, np.inf))) + 1


def plot_training_curves(
    history: Mapping[str, Sequence[float]], path: str | Path, best: int | None = None
) -> Path:
    """Write loss, accuracy, macro F1 and the learning rate per epoch, train and validation.

    Parameters
    ----------
    history : mapping metric name -> per-epoch values
        Keras ``History.history`` style: ``loss``, ``val_loss``, ``accuracy``,
        ``val_accuracy``, ``f1_macro``, ``val_f1_macro``, ``learning_rate`` (or
        ``lr``); missing ones are skipped (no learning-rate panel without it).
    path : path of the PNG to write
    best : int, optional
        The best epoch, counted from 1 (default: :func:`best_epoch`, lowest
        ``val_loss``, as training picks it); marked on every panel.
    """
    plt = pyplot()
    fig = training_curves_figure(history, best)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def training_curves_figure(history: Mapping[str, Sequence[float]], best: int | None = None):
    """The figure :func:`plot_training_curves` writes (epochs from 1 on the x axes)."""
    parts = sorted({k.split(".", 1)[0] for k in history if "." in k})
    if parts:
        return _parts_figure(history, parts)
    plt = pyplot()
    lr = history.get("learning_rate") or history.get("lr")
    panels = ["loss", "accuracy", "f1_macro"] + (["learning rate"] if lr else [])
    best = best_epoch(history) if best is None else best
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6), dpi=100)
    for ax, name in zip(axes, panels, strict=True):
        if name == "learning rate":
            ax.plot(range(1, len(lr) + 1), lr, "-o", markersize=3, color="tab:green", label="lr")
            ax.set_yscale("log")
        else:
            for key, style in ((name, "-o"), (f"val_{name}", "--s")):
                values = history.get(key)
                if values:
                    ax.plot(
                        range(1, len(values) + 1),
                        values,
                        style,
                        markersize=3,
                        label="train" if key == name else "val",
                    )
        if best is not None:
            ax.axvline(
                best, color="0.4", linestyle=":", linewidth=1.2, label=f"best (epoch {best})"
            )
        ax.set_title(name)
        integer_epochs(ax)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def _parts_figure(history: Mapping[str, Sequence[float]], parts: list[str]):
    """Each part's train and validation curves (its best epoch marked), and the whole
    model's validation value as a horizontal line."""
    plt = pyplot()
    panels = ["loss", "accuracy", "f1_macro"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6), dpi=100)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, name in zip(axes, panels, strict=True):
        for colour, part in zip(colours, parts, strict=False):
            for key, style, what in ((name, "-o", "train"), (f"val_{name}", "--s", "val")):
                values = history.get(f"{part}.{key}")
                if values:
                    x = range(1, len(values) + 1)
                    ax.plot(x, values, style, markersize=2, color=colour, label=f"{part} {what}")
            best = best_epoch({"val_loss": history.get(f"{part}.val_loss") or []})
            if best is not None:
                ax.axvline(best, color=colour, linestyle=":", linewidth=1.0)
        whole = history.get(f"val_{name}")
        if whole:
            ax.axhline(whole[-1], color="0.2", linewidth=1.2, label=f"combined val {whole[-1]:.3g}")
        ax.set_title(f"{name} (parts trained apart)")
        integer_epochs(ax)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="x-small")
    fig.tight_layout()
    return fig
