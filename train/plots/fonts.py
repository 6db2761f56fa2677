"""Fonts for the plots' text: the installed families that cover its characters.

A class named in katakana is drawn as such where a font for it is installed, and
without a glyph warning where none is (:func:`text_fonts`). The plots that show
class or file names draw them inside :func:`text_fonts`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import warnings
from collections.abc import Iterable

log = logging.getLogger(__name__)

#: Families tried first, in order, when some text needs more than the default font:
#: wide-coverage fonts that Linux distributions commonly install.
PREFERRED_FONTS = (
    "DejaVu Sans",
    "Noto Sans",
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans JP",
    "Source Han Sans",
    "Droid Sans Fallback",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "Arial Unicode MS",
    "Unifont",
)
# matplotlib's own last resort draws a box for every character: never "coverage".
_NOT_COVERAGE = ("Last Resort",)


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@functools.cache
def _installed_fonts() -> tuple[tuple[str, str], ...]:
    """(family, file) of every installed font, preferred families first."""
    from matplotlib import font_manager

    entries = {(f.name, f.fname) for f in font_manager.fontManager.ttflist}
    entries = {e for e in entries if not e[0].startswith(_NOT_COVERAGE)}
    rank = {name: i for i, name in enumerate(PREFERRED_FONTS)}
    return tuple(sorted(entries, key=lambda e: (rank.get(e[0], len(rank)), e[0], e[1])))


def font_families(texts: Iterable[str]) -> list[str]:
    """Installed font families that together cover the characters of ``texts``.

    matplotlib's default (DejaVu Sans) first, then, greedily, the installed family
    that covers most of the characters still missing (preferring
    :data:`PREFERRED_FONTS`), until nothing more can be covered. matplotlib falls
    back from family to family per character. Characters no installed font has
    stay boxes; install a wide font (Debian: ``fonts-noto-cjk``) to see them.
    """
    import matplotlib

    default = list(matplotlib.rcParams["font.sans-serif"])
    fonts = _installed_fonts()
    names = {name for name, _ in fonts}
    families = [next((f for f in default if f in names), "DejaVu Sans")]
    need = {ord(c) for t in texts for c in str(t) if not c.isspace()}
    for name, path in fonts:
        if name == families[0]:
            need -= _charmap(path)
    while need:
        best, got = None, set()
        for name, path in fonts:
            if name in families:
                continue
            covered = need & _charmap(path)
            if len(covered) > len(got):
                best, got = name, covered
        if best is None:
            log.debug("no installed font has %d characters: %s", len(need), sorted(need)[:10])
            break
        families.append(best)
        need -= got
    return families


@contextlib.contextmanager
def text_fonts(texts: Iterable[str]):
    """Draw ``texts`` with :func:`font_families`; missing glyphs make no warning."""
    import matplotlib

    with (
        matplotlib.rc_context({"font.family": font_families(texts)}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        yield
