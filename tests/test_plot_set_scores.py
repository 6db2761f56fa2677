"""Valid sets: each direction's set precision and recall bars (train.plots.set_scores)."""

from __future__ import annotations

import pytest
from _plot_fixtures import is_png

from train.plots.set_scores import plot_set_scores, set_scores_figure

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def test_set_scores_draw_each_directions_precision_and_recall(tmp_path):
    per = {
        "x_plus": {"set_precision": 0.9, "set_recall": 0.6, "set_support": 10.0},
        "z_plus": {"set_precision": 1.0, "set_recall": 0.25, "set_support": 4.0},
    }
    fig = set_scores_figure(per, 0.85)
    ax = fig.axes[0]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [0.9, 1.0, 0.6, 0.25]  # precision bars, then recall bars
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "x_plus\n(10 valid)",
        "z_plus\n(4 valid)",
    ]
    assert [list(line.get_ydata()) for line in ax.lines] == [[0.85, 0.85]]
    w, h = is_png(plot_set_scores(per, 0.85, tmp_path / "sets.png"))
    assert (w, h) == (400, 360)  # (2 + k) x 3.6 in, k = 2
