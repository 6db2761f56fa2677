"""The runs' validation curves: one panel per metric, identical runs side by side
(train.plots.run_curves)."""

from __future__ import annotations

import pytest
from _plot_fixtures import is_png

from train.plots.run_curves import plot_run_curves

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def test_run_curves_one_panel_per_metric(tmp_path):
    curves = {
        "val_loss": [("a", [0, 1, 2], [1.0, 0.8, 0.7]), ("a", [0, 1], [0.9, 0.5])],  # same names
        "val_f1_macro": [],
    }
    w, h = is_png(plot_run_curves(curves, tmp_path / "runs.png"))
    assert (w, h) == (1000, 380)  # two panels of 5 x 3.8 in at 100 dpi


def test_run_curves_show_identical_runs_side_by_side():
    import matplotlib.pyplot as plt

    from train.plots.run_curves import run_curves_figure

    same = ([0, 1, 2], [1.0, 0.8, 0.7])
    curves = {"val_loss": [("a", *same), ("b", [0, 1], [0.9, 0.5]), ("c", *same), ("d", *same)]}
    fig = run_curves_figure(curves)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"a", "b", "c (= a)", "d (= a)"}
    assert list(lines["a"].get_xdata()) == [1, 2, 3]  # MLflow step 0 is epoch 1
    xs = [tuple(lines[k].get_xdata()) for k in ("a", "c (= a)", "d (= a)")]
    assert len(set(xs)) == 3  # none drawn exactly over another
    assert lines["c (= a)"].get_linestyle() == "--"
    plt.close(fig)
