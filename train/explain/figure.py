"""One explain picture: a part seen from its five directions, what the model looked at, and
its answer against the geometry's.

Rows, top to bottom:

1. *What reaches each face*: the five direction views painted by
   :func:`train.explain.colours.paint_reach`. The predicted direction's view is framed in
   black and titled "predicted"; each direction in the reachable set carries "reaches all".
2. *What the model looked at*: an image model's meta-image under its Grad-CAM heat map; a
   ``normals`` model's five views with each face coloured by its part of the score (red
   for, blue against); otherwise one line saying why there is nothing to show.
3. The class probabilities as bars in the directions' colours (hatched: not in the
   reachable set), the legend, and the verdict in words: agrees, or which faces the
   predicted direction cannot reach and why (in red).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import train.explain.colours as C
from base.files import atomic_file
from geometry.directions import AXIS_NAMES, DIRECTIONS
from train.plots import pyplot
from train.plots.fonts import text_fonts


@dataclass
class Panel:
    """What one part's picture shows (built by :mod:`train.explain.report`)."""

    name: str
    label: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    reachable: tuple[str, ...] | None = None
    reasons: dict[str, str] = field(default_factory=dict)
    predicted: tuple[str, ...] = ()  # a multi-label model's predicted set; else (label,)
    geometry: np.ndarray | None = None  # (5, s, s, 3) uint8, paint_reach
    evidence_kind: str = "none"  # "grad-cam", "views" (a heat per tile), "faces" or "none"
    evidence: np.ndarray | None = None  # (H, W, 3) meta-image, or (5, s, s, 3) face views
    heat: np.ndarray | None = None  # (h, w) Grad-CAM, or (rows, cols) per tile, in [0, 1]
    evidence_note: str = ""  # a line under the evidence

    @property
    def disagrees(self) -> bool:
        """The top class is outside a known reachable set."""
        return (
            self.reachable is not None
            and self.label is not None
            and (self.label not in self.reachable)
        )

    def verdict(self) -> str:
        """The answer against the geometry, in words."""
        if self.label is None:
            return "no prediction"
        if self.reachable is None:
            return "no geometry to check against (a meta-image input)"
        if not self.reachable:
            return "no direction reaches every feature face: the part has an undercut"
        if self.label in self.reachable:
            return f"agrees: {self.label} reaches every feature face"
        why = self.reasons.get(self.label, "")
        return (
            f"DISAGREES: {self.label} ({AXIS_NAMES[self.label]}) cannot reach every feature "
            f"face{': ' + why if why else ''}; dotted black in the top row"
        )


def upsample(heat: np.ndarray, shape: tuple[int, int], blocks: bool = False) -> np.ndarray:
    """(h, w) values in [0, 1] -> ``shape``, float32: bilinear (PIL), or one flat block per
    value with ``blocks`` (a value per tile)."""
    from PIL import Image

    img = Image.fromarray(np.asarray(heat, dtype=np.float32), mode="F")
    how = Image.NEAREST if blocks else Image.BILINEAR
    return np.asarray(img.resize((shape[1], shape[0]), how), dtype=np.float32)


def draw(panel: Panel, path: str | Path) -> Path:
    """Write ``panel`` as a PNG at ``path`` (atomically)."""
    plt = pyplot()
    texts = [panel.name, panel.verdict(), panel.evidence_note, *DIRECTIONS]
    with text_fonts(texts):
        fig = _figure(plt, panel)
        try:
            with atomic_file(path, suffix=".png") as tmp:
                fig.savefig(tmp, format="png")
        finally:
            plt.close(fig)
    return Path(path)


def _figure(plt, panel: Panel):
    fig = plt.figure(figsize=(15, 12.5), dpi=90)
    grid = fig.add_gridspec(3, 5, height_ratios=[1.0, 1.7, 0.7], hspace=0.3, wspace=0.06)
    title = panel.name
    if panel.label is not None:
        title += f"  -  predicted {panel.label} ({panel.probabilities.get(panel.label, 0):.2f})"
    fig.suptitle(title, fontsize=14, fontweight="bold")
    for j, name in enumerate(DIRECTIONS):
        ax = fig.add_subplot(grid[0, j])
        _view(ax, panel.geometry[j] if panel.geometry is not None else None)
        marks = []
        if panel.label == name or name in panel.predicted:
            marks.append("predicted" if panel.label == name else "in the predicted set")
        if panel.reachable is not None and name in panel.reachable:
            marks.append("reaches all")
        ax.set_title(
            f"from {AXIS_NAMES[name]} ({name})\n{', '.join(marks) or ' '}",
            fontsize=10,
            fontweight="bold" if panel.label == name else "normal",
            color=_rgb(C.PALETTE[name]),
        )
        if panel.label == name:
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_linewidth(3)
                spine.set_color("black")
    fig.text(0.02, 0.97, "what reaches each face", fontsize=11, va="top")

    if panel.evidence_kind in ("grad-cam", "views") and panel.evidence is not None:
        ax = fig.add_subplot(grid[1, 1:4])
        ax.imshow(panel.evidence)
        if panel.heat is not None:
            ax.imshow(
                upsample(
                    panel.heat, panel.evidence.shape[:2], blocks=panel.evidence_kind == "views"
                ),
                cmap="jet",
                alpha=0.45,
                vmin=0,
                vmax=1,
            )
        ax.set_xticks([])
        ax.set_yticks([])
        method = "Grad-CAM" if panel.evidence_kind == "grad-cam" else "each view's share"
        ax.set_title(f"what the model looked at ({method} for {panel.label})", fontsize=10)
        ax.set_xlabel(_wrap(panel.evidence_note, 110), fontsize=9, color="0.3")
    elif panel.evidence_kind == "faces" and panel.evidence is not None:
        for j, name in enumerate(DIRECTIONS):
            ax = fig.add_subplot(grid[1, j])
            _view(ax, panel.evidence[j])
            ax.set_title(f"from {AXIS_NAMES[name]}", fontsize=9)
            if j == 2:
                ax.set_xlabel(_wrap(panel.evidence_note, 110), fontsize=9, color="0.3")
        fig.text(
            0.02,
            0.66,
            f"faces that carried the score of {panel.label} (red: for, blue: against)",
            fontsize=11,
            va="top",
        )
    else:
        ax = fig.add_subplot(grid[1, :])
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            panel.evidence_note or "no evidence to show",
            ha="center",
            va="center",
            fontsize=11,
            wrap=True,
        )

    _bars(fig.add_subplot(grid[2, 0:2]), panel)
    _legend(fig.add_subplot(grid[2, 2:3]))
    ax = fig.add_subplot(grid[2, 3:5])
    ax.axis("off")
    verdict = panel.verdict()
    reach = "reachable set: " + (
        "unknown" if panel.reachable is None else ", ".join(panel.reachable) or "none"
    )
    ax.text(0.0, 0.9, reach, fontsize=11, va="top", transform=ax.transAxes)
    ax.text(
        0.0,
        0.7,
        _wrap(verdict, 60),
        fontsize=11,
        va="top",
        transform=ax.transAxes,
        color="#d51414" if panel.disagrees else "#006400",
        fontweight="bold",
    )
    return fig


def _view(ax, image) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if image is None:
        ax.text(
            0.5,
            0.5,
            "no geometry\n(a meta-image input)",
            ha="center",
            va="center",
            fontsize=9,
            transform=ax.transAxes,
        )
    else:
        ax.imshow(image)


def _bars(ax, panel: Panel) -> None:
    names = list(DIRECTIONS)
    probs = [panel.probabilities.get(n, 0.0) for n in names]
    bars = ax.barh(
        names[::-1], probs[::-1], color=[_rgb(C.PALETTE[n]) for n in names[::-1]], edgecolor="black"
    )
    for bar, name in zip(bars, names[::-1], strict=True):
        if panel.reachable is not None and name not in panel.reachable:
            bar.set_hatch("//")
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (hatched: cannot reach every feature face)", fontsize=9)
    ax.tick_params(labelsize=9)


def _legend(ax) -> None:
    from matplotlib.patches import Patch

    handles = []
    for text, colour in C.LEGEND:
        if colour is None:
            patch = Patch(
                facecolor=_rgb(C.PALETTE["x_plus"]),
                edgecolor=_rgb(C.PALETTE["x_minus"]),
                hatch="///",
                label=text,
            )
        else:
            patch = Patch(facecolor=_rgb(colour), edgecolor="0.4", label=text)
        handles.append(patch)
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="black",
            hatch="..",
            label="the predicted direction cannot reach it",
        )
    )
    ax.axis("off")
    ax.legend(handles=handles, loc="center", fontsize=8, frameon=False)


def _rgb(colour) -> tuple[float, float, float]:
    return tuple(c / 255.0 for c in colour)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
