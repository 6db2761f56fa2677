"""Helpers for the tests of the plots (tests/test_plot_*.py): is a PNG drawn and how large."""

from __future__ import annotations

import numpy as np
from PIL import Image


def is_png(path):
    """(width, height) of a PNG that is not blank: a white page with something drawn on it."""
    with Image.open(path) as im:
        assert im.format == "PNG"
        rgb = np.asarray(im.convert("RGB"))
    ink = (rgb < 200).any(axis=2).mean()  # the share of pixels clearly not white
    assert 0.001 < ink < 0.9, f"{path}: {ink:.4f} of the pixels drawn"
    return rgb.shape[1], rgb.shape[0]
