"""Tests of ``parts.csv`` (:mod:`assets.partsfile`): the valid column of every generated set."""

from __future__ import annotations

import pytest
from _synth_fixtures import (
    hard_set,
    load_stl,
    plain_set,
    set_and_config,
    through_set,
    tilted_set,
)

from assets.partsfile import read_parts_csv
from geometry.reach import reachable_directions

__all__ = ["hard_set", "plain_set", "through_set", "tilted_set"]

OPPOSITE = {"x_plus": "x_minus", "x_minus": "x_plus", "y_plus": "y_minus", "y_minus": "y_plus"}


@pytest.mark.parametrize("which", ["plain", "hard", "tilted", "through", "bundled"])
def test_valid_column_is_the_reach_analysis_and_holds_the_label(which, request):
    out, cfg = set_and_config(which, request)
    rows = read_parts_csv(out / "parts.csv")
    for row in rows:
        mesh = load_stl(out / row["file"])
        assert row["valid"] == reachable_directions(mesh).valid, row["file"]
        assert row["label"] in row["valid"], row["file"]
        if cfg.through and row["label"] in OPPOSITE:
            # Through features are reached from the opposite side too.
            assert OPPOSITE[row["label"]] in row["valid"], row["file"]
    if not cfg.through:
        # Without --through, only parts whose features all sit on edges have more.
        for row in rows:
            if len(row["valid"]) > 1:
                kinds = {f["type"] for f in row["features"] if f["role"] == "feature"}
                assert kinds <= {"step", "slot", "chamfer"}, row["file"]
