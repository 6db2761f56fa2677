"""Installed package versions, recorded beside every output that depends on them.

``metaimage.json`` (render), ``synth.json`` (synth) and each MLflow run (train) say
which library versions made them; this is the one function they all use.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import metadata


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Return ``{name: version}`` for the installed distributions among ``names``.

    Parameters
    ----------
    names : iterable of str
        Distribution names as pip knows them (``"fast-simplification"``, ``"pillow"``).

    Returns
    -------
    dict of str to str
        In the order of ``names``; a package that is not installed is left out, so a
        missing optional dependency never makes a writer fail.
    """
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
