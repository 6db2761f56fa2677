"""The five directions a 3-axis machine reaches with the part clamped on -Z, and sets of them.

The class names of every stage (``metaview synth`` labels, ``metaview reach`` sets, the
classifier's outputs) are these, in this order. A set of directions is written in one CSV
field as ``"x_plus|z_plus"`` (:func:`label_set`) and read back by :func:`parse_label_set`:
the one codec of ``parts.csv`` and ``reach.csv``.
"""

from __future__ import annotations

from collections.abc import Iterable

#: Direction name -> unit vector along which a tool comes in, in class order.
DIRECTIONS: dict[str, tuple[int, int, int]] = {
    "x_plus": (1, 0, 0),
    "x_minus": (-1, 0, 0),
    "y_plus": (0, 1, 0),
    "y_minus": (0, -1, 0),
    "z_plus": (0, 0, 1),
}
#: The class names, in class order.
CLASSES: tuple[str, ...] = tuple(DIRECTIONS)
#: The clamped side: reported, never a valid direction.
CLAMPED = (0, 0, -1)
#: How messages name each direction's axis.
AXIS_NAMES = {"x_plus": "+X", "x_minus": "-X", "y_plus": "+Y", "y_minus": "-Y", "z_plus": "+Z"}
#: Separator of a set of directions in one CSV field.
SET_SEPARATOR = "|"


def label_set(valid: Iterable[str], order: Iterable[str] = CLASSES) -> str:
    """A set of directions as one CSV field: ``"x_plus|z_plus"``, in ``order`` ("" if empty).

    Names not in ``order`` come after, sorted, so nothing is lost.
    """
    chosen = set(valid)
    order = tuple(order)
    known = [name for name in order if name in chosen]
    return SET_SEPARATOR.join(known + sorted(chosen - set(order)))


def parse_label_set(text: str, known: Iterable[str] | None = CLASSES) -> tuple[str, ...]:
    """The inverse of :func:`label_set`: ``"x_plus|z_plus"`` -> ``("x_plus", "z_plus")``.

    Parameters
    ----------
    text : str
        The field; blanks around names and empty names are ignored ("" is the empty set).
    known : iterable of str or None
        The names allowed (default the five directions); None allows any name (a dataset
        of other classes).

    Raises
    ------
    ValueError
        A name twice, or a name not in ``known``; the caller adds which file and line.
    """
    names = tuple(n.strip() for n in text.split(SET_SEPARATOR) if n.strip())
    if len(set(names)) != len(names):
        raise ValueError(f"a direction twice in {text!r}")
    if known is not None:
        allowed = tuple(known)
        for name in names:
            if name not in allowed:
                raise ValueError(
                    f"unknown direction {name!r} in {text!r}; expected {', '.join(allowed)}"
                )
    return names
