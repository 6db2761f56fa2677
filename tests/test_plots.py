"""Plots: each writes a readable PNG of the size its figure asks, with something drawn on it,
including the 'nothing misclassified' case; text is drawn with fonts that cover it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from train import plots

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")


def _is_png(path):
    """(width, height) of a PNG that is not blank: a white page with something drawn on it."""
    with Image.open(path) as im:
        assert im.format == "PNG"
        rgb = np.asarray(im.convert("RGB"))
    ink = (rgb < 200).any(axis=2).mean()  # the share of pixels clearly not white
    assert 0.001 < ink < 0.9, f"{path}: {ink:.4f} of the pixels drawn"
    return rgb.shape[1], rgb.shape[0]


def test_confusion_matrix_png(tmp_path):
    m = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 7]])
    w, h = _is_png(plots.plot_confusion_matrix(m, ["a", "b", "c"], tmp_path / "cm.png"))
    assert (w, h) == (360, 340)  # (1.2 + 0.8 k) x (1.0 + 0.8 k) in at 100 dpi, k = 3


def test_training_curves_png_with_missing_series(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.9]}
    w, h = _is_png(plots.plot_training_curves(history, tmp_path / "curves.png"))
    assert (w, h) == (1320, 360)  # three panels of 4.4 x 3.6 in (no learning rate: no panel)


def test_misclassified_contact_sheet_caps_images(tmp_path):
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 255, (16, 16, 3), dtype=np.uint8) for _ in range(30)]
    path = plots.plot_misclassified(
        imgs, ["a"] * 30, ["b"] * 30, [0.9] * 30, tmp_path / "mis.png", max_images=7
    )
    w, h = _is_png(path)
    assert (w, h) == (1560, 580)  # 6 columns x 2 rows of 2.6 x 2.9 in


def test_misclassified_empty_still_writes_a_png(tmp_path):
    assert _is_png(plots.plot_misclassified([], [], [], [], tmp_path / "none.png")) == (400, 150)


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
        w, h = _is_png(
            plots.plot_confusion_matrix(np.eye(2), ["テスト", "+X"], tmp_path / "cm.png")
        )
    assert (w, h) == (280, 260)
    assert plots.sheet_name("x_plus/0003_v0.png") == "x_plus/0003_v0"
    assert plots.sheet_name("0003_v0.png") == "0003_v0"


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
    assert (w, h) == (400, 360)  # (2 + k) x 3.6 in, k = 2


# --------------------------------------------------------------------------- fonts
#
# The fonts are made by the tests (tiny TrueType files, fontTools ships with matplotlib) and
# are the only ones matplotlib's font list holds while a test runs: what a machine has
# installed does not matter. Every glyph is a filled block, .notdef is empty, so drawn text
# shows as ink exactly where some font covers it.

NONE_HAS = "€"  # no test font covers it


def _make_font(path, family: str, chars: str, style: str = "Regular"):
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef"] + [f"u{ord(c):04X}" for c in chars]
    glyphs = {}
    for name in names:
        pen = TTGlyphPen(None)
        if name != ".notdef":  # a filled block
            pen.moveTo((50, 0))
            pen.lineTo((50, 700))
            pen.lineTo((550, 700))
            pen.lineTo((550, 0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): name for c, name in zip(chars, names[1:], strict=True)})
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({name: (600, 50) for name in names})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": family, "styleName": style})
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    fb.save(str(path))
    return path


@pytest.fixture
def built_fonts(tmp_path, monkeypatch):
    """Matplotlib's font list holds only these fonts, "Test Sans" is the default family:

    - "Test Sans" Regular: ASCII letters, digits, "/" and "_";
    - "Test Sans" Bold: also "𝗔" (U+1D5D4), which the regular file lacks (as the system's
      DejaVu Sans lacks what matplotlib's bundled DejaVuSans-Bold has);
    - "Test Kana": テ ス ト; "Test Wide": テ ス ト and Ж (covers more than Test Kana);
    - "Test Greek": Ω; "Last Resort": everything above, and is never chosen;
    - nobody: "€".
    """
    import string

    import matplotlib
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    ascii_ = string.ascii_letters + string.digits + "/_"
    files = [
        _make_font(tmp_path / "sans.ttf", "Test Sans", ascii_),
        _make_font(tmp_path / "sans-bold.ttf", "Test Sans", ascii_ + "𝗔", "Bold"),
        _make_font(tmp_path / "kana.ttf", "Test Kana", "テスト"),
        _make_font(tmp_path / "wide.ttf", "Test Wide", "テストЖ"),
        _make_font(tmp_path / "greek.ttf", "Test Greek", "Ω"),
        _make_font(tmp_path / "last.ttf", "Last Resort", ascii_ + "𝗔テストЖΩ"),
    ]
    # As matplotlib itself lists an installed font (name, weight and style from the file).
    entries = [font_manager.ttfFontProperty(FT2Font(str(f))) for f in files]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    findfont_cache = font_manager.fontManager._findfont_cached
    findfont_cache.cache_clear()
    plots._installed_fonts.cache_clear()
    with matplotlib.rc_context({"font.sans-serif": ["Test Sans"], "font.family": "sans-serif"}):
        yield {e.name: e.fname for e in entries}
    plots._installed_fonts.cache_clear()
    findfont_cache.cache_clear()  # nothing may find the test's fonts once they are gone


def _charmaps(families) -> set[int]:
    """The characters that the font files of ``families`` have, together."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    files = [e.fname for e in font_manager.fontManager.ttflist if e.name in families]
    return set().union(*(FT2Font(f).get_charmap() for f in files))


def test_font_families_together_cover_every_character_a_font_has(built_fonts):
    texts = ["x_plus/0003_v0", "テスト", "Ж", "Ω", "𝗔", NONE_HAS]
    families = plots.font_families(texts)
    # The default family first, then the greedy choice: Test Wide covers four of the missing
    # characters (Test Kana only three of them), then Test Greek; nothing adds NONE_HAS.
    assert families == ["Test Sans", "Test Wide", "Test Greek"]
    need = {ord(c) for t in texts for c in t}
    coverable = need & _charmaps(set(built_fonts) - {"Last Resort"})
    assert coverable == need - {ord(NONE_HAS)}
    assert coverable <= _charmaps(families)  # the promise
    for i in range(1, len(families)):  # and no family is there for nothing
        assert (need & _charmaps(families[i : i + 1])) - _charmaps(families[:i])


def test_font_families_add_nothing_that_the_default_family_covers(built_fonts):
    assert plots.font_families(["plain ascii 123"]) == ["Test Sans"]
    # In the default family's bold file only: still that family, no other one.
    assert plots.font_families(["𝗔"]) == ["Test Sans"]
    assert plots.font_families([NONE_HAS, " \n"]) == ["Test Sans"]
    assert plots.font_families(["テ"]) in (["Test Sans", "Test Kana"], ["Test Sans", "Test Wide"])


def test_installed_fonts_never_offer_last_resort_and_rank_preferred_families_first(
    built_fonts, monkeypatch
):
    from matplotlib import font_manager

    # Say that the Greek file is "Noto Sans", one of PREFERRED_FONTS: it is offered first.
    entries = list(font_manager.fontManager.ttflist)
    greek = next(e for e in entries if e.name == "Test Greek")
    entries[entries.index(greek)] = font_manager.FontEntry(fname=greek.fname, name="Noto Sans")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    plots._installed_fonts.cache_clear()
    names = [name for name, _ in plots._installed_fonts()]
    assert "Last Resort" not in names
    assert names == ["Noto Sans", "Test Kana", "Test Sans", "Test Sans", "Test Wide"]


def test_captions_are_drawn_with_the_families_chosen(built_fonts):
    """Drawn with the chosen families, characters of three fonts look like text of the default
    one (every test glyph is the same block: the same ink, up to antialiasing at the edges);
    drawn with the default family alone, they are boxes."""
    import warnings

    plt = plots._pyplot()

    def drawn(text: str, families=None) -> np.ndarray:
        """Where the text leaves ink (dark pixels) on a 300 x 100 px figure."""
        with plots._text_fonts([text]) if families is None else _rc_family(families):
            fig = plt.figure(figsize=(3, 1), dpi=100)
            fig.text(0.05, 0.3, text, fontsize=30)
            fig.canvas.draw()
            ink = (np.asarray(fig.canvas.buffer_rgba())[..., :3] < 128).all(axis=2)
            plt.close(fig)
        return ink

    blocks = drawn("abc", ["Test Sans"])
    assert blocks.sum() > 1000  # three filled blocks
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # what the plots draw makes no glyph warning
        differ = (drawn("ЖΩテ") != blocks).sum()  # drawn by Test Wide and Test Greek
        assert differ <= 0.02 * blocks.sum(), differ
        drawn(NONE_HAS)  # no font has it: a box, and no warning either
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib's "Glyph ... missing" for the control
        assert (drawn("ЖΩテ", ["Test Sans"]) != blocks).sum() > 0.5 * blocks.sum()


def _rc_family(families):
    import matplotlib

    return matplotlib.rc_context({"font.family": families})
