"""Plots: each writes a readable PNG, including the 'nothing misclassified' case."""

from __future__ import annotations

import numpy as np
import pytest
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


def test_training_curves_count_epochs_from_1_mark_the_best_and_show_the_lr():
    from train.plots import training_curves_figure

    history = {
        "loss": [1.0, 0.5, 0.3],
        "val_loss": [1.1, 0.6, 0.7],
        "accuracy": [0.5, 0.7, 0.9],
        "val_accuracy": [0.4, 0.6, 0.6],
        "learning_rate": [1e-3, 1e-3, 5e-4],
    }
    fig = training_curves_figure(history)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "f1_macro", "learning rate"]
    loss_ax, lr_ax = fig.axes[0], fig.axes[3]
    train_line = next(line for line in loss_ax.get_lines() if line.get_label() == "train")
    assert list(train_line.get_xdata()) == [1, 2, 3]  # as Keras says "Epoch 1/3"
    best = [line for line in loss_ax.get_lines() if line.get_label().startswith("best")]
    assert [line.get_label() for line in best] == ["best (epoch 2)"]
    assert list(best[0].get_xdata()) == [2, 2]  # a vertical line at epoch 2
    ticks = [t for t in loss_ax.get_xticks() if 1 <= t <= 3]
    assert ticks and all(float(t).is_integer() for t in ticks)
    assert lr_ax.get_yscale() == "log"
    assert list(lr_ax.get_lines()[0].get_ydata()) == [1e-3, 1e-3, 5e-4]
    import matplotlib.pyplot as plt

    plt.close(fig)
    # An explicit best epoch wins; no learning rate, no panel.
    fig = training_curves_figure({"loss": [1, 0.5], "val_loss": [1, 0.8]}, best=1)
    assert len(fig.axes) == 3
    assert any(line.get_label() == "best (epoch 1)" for line in fig.axes[0].get_lines())
    plt.close(fig)


def test_run_curves_show_identical_runs_side_by_side():
    import matplotlib.pyplot as plt

    from train.plots import run_curves_figure

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


def test_misclassified_sheet_names_the_class_folder_and_draws_any_script(tmp_path):
    """Two classes' '0003_v0' stay apart; a katakana class name makes no glyph warning."""
    import warnings

    imgs = [np.zeros((8, 8, 3), np.uint8)] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _is_png(
            plots.plot_misclassified(
                imgs, ["テスト", "x_plus"], ["x_plus", "テスト"], [0.9, 0.8], tmp_path / "m.png",
                names=["テスト/0003_v0.png", "x_plus/0003_v0.png"],
            )
        )  # fmt: skip
        _is_png(plots.plot_confusion_matrix(np.eye(2), ["テスト", "+X"], tmp_path / "cm.png"))
    assert plots.sheet_name("x_plus/0003_v0.png") == "x_plus/0003_v0"
    assert plots.sheet_name("0003_v0.png") == "0003_v0"


def test_font_families_cover_what_installed_fonts_can():
    families = plots.font_families(["plain ascii"])
    assert families == families[:1]  # the default font suffices
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    # A character the default font lacks but another installed font has, if any.
    default = font_manager.findfont(families[0])
    have = set(FT2Font(default).get_charmap())
    for f in font_manager.fontManager.ttflist:
        if f.name.startswith("Last Resort"):
            continue
        extra = sorted(set(FT2Font(f.fname).get_charmap()) - have)
        extra = [c for c in extra if chr(c).isprintable() and not chr(c).isspace()]
        if extra:
            got = plots.font_families([chr(extra[0])])
            assert len(got) == 2 and got[0] == families[0]
            return
    pytest.skip("every installed font covers no more than the default one")


def test_set_scores_draw_each_directions_precision_and_recall(tmp_path):
    per = {
        "x_plus": {"set_precision": 0.9, "set_recall": 0.6, "set_support": 10.0},
        "z_plus": {"set_precision": 1.0, "set_recall": 0.25, "set_support": 4.0},
    }
    fig = plots.set_scores_figure(per, 0.85)
    ax = fig.axes[0]
    heights = [round(p.get_height(), 6) for p in ax.patches]
    assert heights == [0.9, 1.0, 0.6, 0.25]  # precision bars, then recall bars
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "x_plus\n(10 valid)",
        "z_plus\n(4 valid)",
    ]
    assert [list(line.get_ydata()) for line in ax.lines] == [[0.85, 0.85]]
    w, h = _is_png(plots.plot_set_scores(per, 0.85, tmp_path / "sets.png"))
    assert w > h > 100
