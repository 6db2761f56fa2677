"""Every plot metaview draws, as PNG files (matplotlib, Agg backend: no display needed).

This module holds what the plots share (:func:`pyplot`, :func:`integer_epochs`); each
kind of plot has its own module.

Of one training run (logged as its artifacts ``plots/*.png``):

- :func:`train.plots.confusion.plot_confusion_matrix`  rows = true class, columns =
  predicted, with counts;
- :func:`train.plots.training_curves.plot_training_curves`  loss, accuracy, macro F1 and
  learning rate per epoch, train vs validation, the best epoch marked;
- :func:`train.plots.misclassified.plot_misclassified`  a contact sheet of misclassified
  meta-images;
- :func:`train.plots.set_scores.plot_set_scores`  per direction, how well the predicted
  sets match the parts' valid sets.

Of several runs (``metaview runs``):

- :func:`train.plots.run_curves.plot_run_curves`  one panel per metric, one line per run;
  runs whose curves are identical are drawn side by side and say so in the legend.

Epochs are counted from 1 on every x axis (as Keras prints them), with integer ticks.
Text (class names, file names) is drawn with the installed fonts that cover its
characters (:func:`train.plots.fonts.font_families`), so a class named in katakana shows
as such where a font for it is installed, and without a warning where none is.

The functions take plain data (arrays, lists, dicts); matplotlib is imported inside them.
"""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def integer_epochs(ax) -> None:
    """Label the x axis of ``ax`` "epoch", with integer ticks only."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
