"""The confusion matrix: a readable PNG of the size its figure asks (train.plots.confusion)."""

from __future__ import annotations

import numpy as np
import pytest
from _plot_fixtures import is_png

from train.plots.confusion import plot_confusion_matrix

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def test_confusion_matrix_png(tmp_path):
    m = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 7]])
    w, h = is_png(plot_confusion_matrix(m, ["a", "b", "c"], tmp_path / "cm.png"))
    assert (w, h) == (360, 340)  # (1.2 + 0.8 k) x (1.0 + 0.8 k) in at 100 dpi, k = 3
