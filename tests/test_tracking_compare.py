"""The rows and curves of ``metaview runs``, in selection order (train.tracking.compare)."""

from __future__ import annotations

import pytest

from train import tracking
from train.tracking import compare


def test_rows_best_first_with_markers(four_runs):
    client = tracking.make_client()
    rows, ordered = compare.collect_runs(client, tracking.get_experiment_id(client))

    assert [r.run_name for r in rows] == ["old_good", "tie_worse_loss", "latest", "crashed"]
    assert [r.info.run_id for r in ordered] == [r.run_id for r in rows]
    best = rows[0]
    assert best.marker == "*"  # best, not (yet) champion
    assert [r.marker for r in rows[1:]] == ["", "", ""]
    assert best.run_id == four_runs["old_good"]
    assert best.model == "efficientnet-b0" and best.image_size == "64"
    assert best.epochs == "3/10" and rows[1].epochs == "2/10" and rows[2].epochs == "4/10"
    assert best.val_f1 == pytest.approx(0.90) and best.val_accuracy == pytest.approx(0.91)
    assert best.test_accuracy == pytest.approx(0.88) and best.test_f1 == pytest.approx(0.87)
    assert best.duration_s == pytest.approx(2.0)  # start + 2 s in log_fake_run
    assert rows[3].status == "FAILED"
    # The same order as model selection.
    assert (
        tracking.find_best_run(client, tracking.get_experiment_id(client)).info.run_id
        == best.run_id
    )


def test_champion_marker(four_runs, monkeypatch):
    client = tracking.make_client()
    monkeypatch.setattr(compare, "champion_run_id", lambda c: four_runs["latest"])
    rows, _ = compare.collect_runs(client, tracking.get_experiment_id(client))
    assert {r.run_name: r.marker for r in rows} == {
        "old_good": "*",
        "tie_worse_loss": "",
        "latest": "C",
        "crashed": "",
    }


def test_curves_per_metric_and_run(four_runs):
    client = tracking.make_client()
    _, ordered = compare.collect_runs(client, tracking.get_experiment_id(client))
    curves = compare.run_curves(client, ordered, ("val_loss", "val_f1_macro", "absent"))
    assert [label for label, _, _ in curves["val_loss"]] == [
        "old_good", "tie_worse_loss", "latest", "crashed"
    ]  # fmt: skip
    label, steps, values = curves["val_f1_macro"][2]
    assert label == "latest" and steps == [0, 1, 2, 3]
    assert values == pytest.approx([0.15, 0.3, 0.45, 0.6])
    assert curves["absent"] == []
