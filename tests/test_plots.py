"""Plots: each writes a readable PNG, including the 'nothing misclassified' case."""

from __future__ import annotations

import numpy as np
from PIL import Image

from train import plots


def _is_png(path):
    with Image.open(path) as im:
        assert im.format == "PNG"
        return im.size


def test_confusion_matrix_png(tmp_path):
    m = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 7]])
    w, h = _is_png(plots.plot_confusion_matrix(m, ["a", "b", "c"], tmp_path / "cm.png"))
    assert w > 100 and h > 100


def test_training_curves_png_with_missing_series(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.9]}
    _is_png(plots.plot_training_curves(history, tmp_path / "curves.png"))


def test_misclassified_contact_sheet_caps_images(tmp_path):
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(30)]
    path = plots.plot_misclassified(
        imgs, ["a"] * 30, ["b"] * 30, [0.9] * 30, tmp_path / "mis.png", max_images=7
    )
    w, h = _is_png(path)
    assert w > h  # 6 columns x 2 rows


def test_misclassified_empty_still_writes_a_png(tmp_path):
    _is_png(plots.plot_misclassified([], [], [], [], tmp_path / "none.png"))


def test_run_curves_one_panel_per_metric(tmp_path):
    curves = {
        "val_loss": [("a", [0, 1, 2], [1.0, 0.8, 0.7]), ("a", [0, 1], [0.9, 0.5])],  # same names
        "val_f1_macro": [],
    }
    w, h = _is_png(plots.plot_run_curves(curves, tmp_path / "runs.png"))
    assert (w, h) == (1000, 380)  # two panels of 5 x 3.8 in at 100 dpi
