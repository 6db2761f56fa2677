"""Training curves: panels per metric, epochs from 1, the best epoch marked, the learning rate
(train.plots.training_curves)."""

from __future__ import annotations

import pytest
from _plot_fixtures import is_png

from train.plots.training_curves import plot_training_curves

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def test_training_curves_png_with_missing_series(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.9]}
    w, h = is_png(plot_training_curves(history, tmp_path / "curves.png"))
    assert (w, h) == (1320, 360)  # three panels of 4.4 x 3.6 in (no learning rate: no panel)


def test_training_curves_count_epochs_from_1_mark_the_best_and_show_the_lr():
    from train.plots.training_curves import training_curves_figure

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


def test_a_model_trained_in_parts_shows_each_parts_curves_and_the_whole_as_a_line():
    """The combined family: views.* and normals.* per epoch, the folded model once."""
    import matplotlib.pyplot as plt

    from train.plots.training_curves import training_curves_figure

    history = {
        "views.loss": [1.0, 0.4, 0.3],
        "views.val_loss": [1.1, 0.5, 0.6],
        "normals.loss": [1.2, 0.9, 0.5, 0.4],
        "normals.val_loss": [1.3, 1.0, 0.7, 0.8],
        "loss": [0.2],
        "val_loss": [0.35],
    }
    fig = training_curves_figure(history)
    loss_ax = fig.axes[0]
    lines = {line.get_label(): line for line in loss_ax.get_lines()}
    assert list(lines["views val"].get_ydata()) == [1.1, 0.5, 0.6]
    assert list(lines["normals train"].get_xdata()) == [1, 2, 3, 4]
    whole = lines["combined val 0.35"]
    assert list(whole.get_ydata()) == [0.35, 0.35]  # a horizontal line
    best = sorted(
        line.get_xdata()[0] for line in loss_ax.get_lines() if line.get_linestyle() == ":"
    )
    assert best == [2, 3]  # each part's best epoch (lowest val_loss)
    plt.close(fig)
