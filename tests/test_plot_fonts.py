"""Fonts: the families chosen together cover the text's characters, and text is drawn with them
(train.plots.fonts)."""

from __future__ import annotations

import numpy as np
import pytest

from train.plots import fonts, pyplot
from train.plots.fonts import font_families, text_fonts

# Matplotlib's defaults, whatever matplotlibrc the machine has (sizes below follow from them).
pytestmark = pytest.mark.usefixtures("matplotlib_defaults")

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
    fonts._installed_fonts.cache_clear()
    with matplotlib.rc_context({"font.sans-serif": ["Test Sans"], "font.family": "sans-serif"}):
        yield {e.name: e.fname for e in entries}
    fonts._installed_fonts.cache_clear()
    findfont_cache.cache_clear()  # nothing may find the test's fonts once they are gone


def _charmaps(families) -> set[int]:
    """The characters that the font files of ``families`` have, together."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    files = [e.fname for e in font_manager.fontManager.ttflist if e.name in families]
    return set().union(*(FT2Font(f).get_charmap() for f in files))


def test_font_families_together_cover_every_character_a_font_has(built_fonts):
    texts = ["x_plus/0003_v0", "テスト", "Ж", "Ω", "𝗔", NONE_HAS]
    families = font_families(texts)
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
    assert font_families(["plain ascii 123"]) == ["Test Sans"]
    # In the default family's bold file only: still that family, no other one.
    assert font_families(["𝗔"]) == ["Test Sans"]
    assert font_families([NONE_HAS, " \n"]) == ["Test Sans"]
    assert font_families(["テ"]) in (["Test Sans", "Test Kana"], ["Test Sans", "Test Wide"])


def test_installed_fonts_never_offer_last_resort_and_rank_preferred_families_first(
    built_fonts, monkeypatch
):
    from matplotlib import font_manager

    # Say that the Greek file is "Noto Sans", one of PREFERRED_FONTS: it is offered first.
    entries = list(font_manager.fontManager.ttflist)
    greek = next(e for e in entries if e.name == "Test Greek")
    entries[entries.index(greek)] = font_manager.FontEntry(fname=greek.fname, name="Noto Sans")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", entries)
    fonts._installed_fonts.cache_clear()
    names = [name for name, _ in fonts._installed_fonts()]
    assert "Last Resort" not in names
    assert names == ["Noto Sans", "Test Kana", "Test Sans", "Test Sans", "Test Wide"]


def test_captions_are_drawn_with_the_families_chosen(built_fonts):
    """Drawn with the chosen families, characters of three fonts look like text of the default
    one (every test glyph is the same block: the same ink, up to antialiasing at the edges);
    drawn with the default family alone, they are boxes."""
    import warnings

    plt = pyplot()

    def drawn(text: str, families=None) -> np.ndarray:
        """Where the text leaves ink (dark pixels) on a 300 x 100 px figure."""
        with text_fonts([text]) if families is None else _rc_family(families):
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
