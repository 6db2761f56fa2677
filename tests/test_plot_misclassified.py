"""The misclassified contact sheet: capped, 'nothing misclassified' still a PNG, captions by
class folder in any script (train.plots.misclassified)."""

from __future__ import annotations

import numpy as np
import pytest
from _plot_fixtures import is_png

from train.plots.confusion import plot_confusion_matrix
from train.plots.misclassified import plot_misclassified, sheet_name

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def test_misclassified_contact_sheet_caps_images(tmp_path):
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(30)]
    path = plot_misclassified(
        imgs, ["a"] * 30, ["b"] * 30, [0.9] * 30, tmp_path / "mis.png", max_images=7
    )
    w, h = is_png(path)
    assert (w, h) == (1560, 580)  # 6 columns x 2 rows of 2.6 x 2.9 in


def test_misclassified_empty_still_writes_a_png(tmp_path):
    assert is_png(plot_misclassified([], [], [], [], tmp_path / "none.png")) == (400, 150)


def test_misclassified_sheet_names_the_class_folder_and_draws_any_script(tmp_path):
    """Two classes' '0003_v0' stay apart; a katakana class name makes no glyph warning."""
    import warnings

    imgs = [np.zeros((8, 8, 3), np.uint8)] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        is_png(
            plot_misclassified(
                imgs, ["テスト", "x_plus"], ["x_plus", "テスト"], [0.9, 0.8], tmp_path / "m.png",
                names=["テスト/0003_v0.png", "x_plus/0003_v0.png"],
            )
        )  # fmt: skip
        w, h = is_png(plot_confusion_matrix(np.eye(2), ["テスト", "+X"], tmp_path / "cm.png"))
    assert (w, h) == (280, 260)
    assert sheet_name("x_plus/0003_v0.png") == "x_plus/0003_v0"
    assert sheet_name("0003_v0.png") == "0003_v0"
