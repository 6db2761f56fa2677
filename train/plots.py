"""Every plot metaview draws, as PNG files (matplotlib, Agg backend: no display needed).

Of one training run (logged as its artifacts ``plots/*.png``):

- :func:`plot_confusion_matrix`  rows = true class, columns = predicted, with counts;
- :func:`plot_training_curves`   loss, accuracy, macro F1 and learning rate per epoch,
  train vs validation, the best epoch marked;
- :func:`plot_misclassified`     a contact sheet of misclassified meta-images;
- :func:`plot_set_scores`        per direction, how well the predicted sets match the
  parts' valid sets.

Of several runs (``metaview runs``):

- :func:`plot_run_curves`        one panel per metric, one line per run; runs whose
  curves are identical are drawn side by side and say so in the legend.

Epochs are counted from 1 on every x axis (as Keras prints them), with integer ticks.
Text (class names, file names) is drawn with the installed fonts that cover its
characters (:func:`font_families`), so a class named in katakana shows as such
where a font for it is installed, and without a warning where none is.

The functions take plain data (arrays, lists, dicts); matplotlib is imported inside them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath

import numpy as np

log = logging.getLogger(__name__)

MAX_MISCLASSIFIED = 24

#: Families tried first, in order, when some text needs more than the default font:
#: wide-coverage fonts that Linux distributions commonly install.
PREFERRED_FONTS = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans JP",
    "Source Han Sans",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "Arial Unicode MS",
    "Unifont",
)
# matplotlib's own last resort draws a box for every character: never "coverage".
_NOT_COVERAGE = ("Last Resort",)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@functools.cache
def _installed_fonts() -> tuple[tuple[str, str], ...]:
    """(family, file) of every installed font, preferred families first."""
    from matplotlib import font_manager

    entries = {(f.name, f.fname) for f in font_manager.fontManager.ttflist}
    entries = {e for e in entries if not e[0].startswith(_NOT_COVERAGE)}
    rank = {name: i for i, name in enumerate(PREFERRED_FONTS)}
    return tuple(sorted(entries, key=lambda e: (rank.get(e[0], len(rank)), e[0], e[1])))


def font_families(texts: Iterable[str]) -> list[str]:
    """Installed font families that together cover the characters of ``texts``.

    matplotlib's default (DejaVu Sans) first, then, greedily, the installed family
    that covers most of the characters still missing (preferring
    :data:`PREFERRED_FONTS`), until nothing more can be covered. matplotlib falls
    back from family to family per character. Characters no installed font has
    stay boxes; install a wide font (Debian: ``fonts-noto-cjk``) to see them.
    """
    import matplotlib

    default = list(matplotlib.rcParams["font.sans-serif"])
    fonts = _installed_fonts()
    names = {name for name, _ in fonts}
    families = [next((f for f in default if f in names), "DejaVu Sans")]
    need = {ord(c) for t in texts for c in str(t) if not c.isspace()}
    for name, path in fonts:
        if name == families[0]:
            need -= _charmap(path)
    while need:
        best, got = None, set()
        for name, path in fonts:
            if name in families:
                continue
            covered = need & _charmap(path)
            if len(covered) > len(got):
                best, got = name, covered
        if best is None:
            log.debug("no installed font has %d characters: %s", len(need), sorted(need)[:10])
            break
        families.append(best)
        need -= got
    return families


@contextlib.contextmanager
def _text_fonts(texts: Iterable[str]):
    """Draw ``texts`` with :func:`font_families`; missing glyphs make no warning."""
    import matplotlib

    with (
        matplotlib.rc_context({"font.family": font_families(texts)}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield


def _integer_epochs(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")


def sheet_name(path: str | Path) -> str:
    """A caption for a dataset file: its class folder and name without suffix.

    ``"x_plus/0003_v0.png"`` -> ``"x_plus/0003_v0"``; two classes' ``0003_v0``
    stay apart.
    """
    p = PurePosixPath(str(path).replace("\\", "/"))
    stem = p.stem if p.suffix.lower() == ".png" else p.name
    return f"{p.parent.name}/{stem}" if p.parent.name else stem


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
    with _text_fonts([*labels, title]):
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
    plt = _pyplot()
    with _text_fonts([*per_direction, title]):
        fig = set_scores_figure(per_direction, top_valid, title)
        fig.savefig(path)
        plt.close(fig)
    return Path(path)


def set_scores_figure(
    per_direction: Mapping[str, Mapping[str, float]], top_valid: float, title: str = ""
):
    """The figure :func:`plot_set_scores` writes: precision bars, then recall bars, per class."""
    plt = _pyplot()
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
    plt = _pyplot()
    fig = training_curves_figure(history, best)
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def training_curves_figure(history: Mapping[str, Sequence[float]], best: int | None = None):
    """The figure :func:`plot_training_curves` writes (epochs from 1 on the x axes)."""
    plt = _pyplot()
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
        _integer_epochs(ax)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


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
    plt = _pyplot()
    captions = [sheet_name(n) if "/" in str(n) else str(n) for n in names] if names else None
    with _text_fonts([*true_labels, *pred_labels, *(captions or [])]):
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

    plt = _pyplot()
    metrics = list(curves)
    labels = [label for metric in metrics for label, _, _ in curves[metric]]
    with _text_fonts(labels):
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
    plt = _pyplot()
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
        _integer_epochs(ax)
        ax.grid(alpha=0.3)
        if runs:
            ax.legend(fontsize="small")
        else:
            ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return fig
