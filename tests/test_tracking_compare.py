"""The rows and curves of ``metaview runs``, in selection order (train.tracking.compare)."""

from __future__ import annotations

import pytest
from _tracking_fixtures import killed_run

from train import tracking
from train.tracking import compare


def test_rows_best_first_with_markers(four_runs):
    client = tracking.make_client()
    # "latest" trained with --objective sets and logged test_top_valid; the others are
    # older runs without either.
    client.log_param(four_runs["latest"], "objective", "sets")
    client.log_metric(four_runs["latest"], "test_top_valid", 0.9)
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
    assert rows[2].objective == "sets" and rows[2].test_top_valid == pytest.approx(0.9)
    assert best.objective == "label" and best.test_top_valid is None  # an older run
    # The same order as model selection.
    assert (
        tracking.find_best_run(client, tracking.get_experiment_id(client)).info.run_id
        == best.run_id
    )


def test_champion_marker(four_runs, monkeypatch):
    client = tracking.make_client()
    monkeypatch.setattr(compare, "champion_run_id", lambda c, **kw: four_runs["latest"])
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


# --------------------------------------------------------------------------- stale runs


def test_killed_run_is_stale_and_can_be_ended(four_runs):
    import time

    client = tracking.make_client()
    killed = killed_run()
    exp_id = tracking.get_experiment_id(client)
    run = client.get_run(killed)
    assert run.info.status == "RUNNING"
    beat = compare.last_sign_of_life(run)  # the heartbeat tag (s), or the later start time
    assert abs(float(run.data.tags["metaview.heartbeat"]) - time.time()) < 120

    rows, _ = compare.collect_runs(client, exp_id)  # default limit: a fresh run is not stale
    row = next(r for r in rows if r.run_id == killed)
    assert row.status == "RUNNING" and not row.stale and row.silent_s < 120

    later = time.time() + 3600  # an hour later, nobody has heard from it
    rows, _ = compare.collect_runs(client, exp_id, now=later)
    row = next(r for r in rows if r.run_id == killed)
    assert row.stale and row.silent_s == pytest.approx(later - beat)
    assert [r.run_name for r in rows if r.stale] == ["killed"]  # finished/failed runs never

    ended = compare.end_stale_runs(client, exp_id, now=later)
    assert [r.info.run_id for r in ended] == [killed]
    run = client.get_run(killed)
    assert run.info.status == "FAILED"
    assert run.info.end_time == int(beat * 1000)
    assert run.data.tags["metaview.ended_by"] == "metaview runs --mark-failed"
    assert compare.end_stale_runs(client, exp_id, now=later) == []


def test_heartbeat_is_throttled_unless_forced():
    client = tracking.make_client()
    with tracking.TrainRun() as run:
        first = client.get_run(run.run_id).data.tags["metaview.heartbeat"]
        client.set_tag(run.run_id, "metaview.heartbeat", "1")
        run.heartbeat(force=False)  # just started: too soon to write again
        assert client.get_run(run.run_id).data.tags["metaview.heartbeat"] == "1"
        run.heartbeat()
        assert int(client.get_run(run.run_id).data.tags["metaview.heartbeat"]) >= int(first)
