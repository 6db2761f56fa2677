"""Labelled synthetic workpieces: the generator behind ``metaview synth`` and the bundled set.

- :mod:`assets.synth` makes a set of machined blocks (a process pool), each labelled with the
  direction from which all of its features were cut (``x_plus``, ``x_minus``, ``y_plus``,
  ``y_minus``, ``z_plus``): what it makes is :mod:`assets.synth_config`, one part
  :mod:`assets.part`, its ``parts.csv`` row :mod:`assets.partsfile`;
- :mod:`assets.features` draws the feature kinds (holes, counterbores, pockets, slots, steps,
  chamfers, and the through kinds of ``--through``), :mod:`assets.cutters` cuts each as a
  solid in a face's own frame (:mod:`assets.face_geometry`, :mod:`assets.face_frames`);
- the kinds that complete the machining-feature taxonomy (``--preset taxonomy``) are
  :mod:`assets.kinds_closed` / :mod:`assets.cutters_closed` (pockets, passages, O-rings,
  countersinks) and :mod:`assets.kinds_open` / :mod:`assets.cutters_open` (through slots,
  blind steps, rounds...), all listed in :mod:`assets.taxonomy`; stock beyond boxes is
  :mod:`assets.stock_shapes`;
- :mod:`assets.reach` runs the reachability analysis (:mod:`geometry.reach`) over a folder
  into ``reach.csv`` (``metaview reach``);
- ``assets/parts/`` is a small committed set made by :data:`BUNDLED_COMMAND`, used by the
  demo and the tests; :func:`bundled_parts_dir` returns its path.

This module imports nothing heavy, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path

#: The exact command that regenerates ``assets/parts/`` from the repository root. The test
#: suite runs it into a temporary folder and checks that every file matches byte for byte.
BUNDLED_COMMAND = "metaview synth assets/parts --per-class 4 --seed 0 --force"


def bundled_parts_dir() -> Path:
    """Return the folder of the bundled parts: ``<class>/<id>.stl`` files and ``parts.csv``.

    Returns
    -------
    pathlib.Path
        Absolute path of ``assets/parts`` inside the installed package.
    """
    return Path(__file__).resolve().parent / "parts"
