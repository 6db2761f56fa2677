"""Which run is best: search, rank and find_best_run (train.tracking.selection)."""

from __future__ import annotations

from _toy_fixtures import log_metric_run

from train import tracking


def test_find_best_run_picks_best_metric_not_latest():
    ids = {
        "low": log_metric_run(0.70, start=1000),
        "tie_hi_loss": log_metric_run(0.90, loss=0.5, start=2000),
        "best": log_metric_run(0.90, loss=0.3, start=3000),
        "tie_later": log_metric_run(
            0.90, loss=0.3, start=4000
        ),  # same metric and loss, started later
        "latest": log_metric_run(0.80, start=5000),
    }
    # Runs that must never win, whatever their metric.
    log_metric_run(0.99, start=6000, status="FAILED")
    log_metric_run(0.99, start=6100, status="KILLED")
    log_metric_run(0.99, start=6200, status="RUNNING")
    log_metric_run(1.0, start=6300, kind="bench")
    log_metric_run(None, start=6400)  # finished, but never logged the metric
    client = tracking.make_client()
    exp_id = tracking.get_experiment_id(client)

    best = tracking.find_best_run(client, exp_id)

    assert best.info.run_id == ids["best"]
    assert best.info.run_id != ids["latest"]
    ranked = [r.info.run_id for r in tracking.rank_runs(tracking.search_train_runs(client, exp_id))]
    expected = [ids[k] for k in ("best", "tie_later", "tie_hi_loss", "latest", "low")]
    assert ranked[:5] == expected
    assert len(ranked) == 6  # the five above plus the one without the metric, last


def test_find_best_run_lower_is_better_for_a_loss():
    log_metric_run(0.9, loss=0.4, start=1000)
    good = log_metric_run(0.5, loss=0.1, start=2000)
    client = tracking.make_client()
    best = tracking.find_best_run(
        client, tracking.get_experiment_id(client), metric="best_val_loss"
    )
    assert best.info.run_id == good


def test_find_best_run_none_without_finished_runs():
    log_metric_run(0.9, status="FAILED")
    client = tracking.make_client()
    assert tracking.find_best_run(client, tracking.get_experiment_id(client)) is None


def test_runs_without_the_metric_rank_last_and_never_win():
    from train.tracking.selection import best_of, rank_runs

    no_metric = log_metric_run(None, start=1000)
    low = log_metric_run(0.1, start=2000)
    client = tracking.make_client()
    runs = tracking.search_train_runs(client, tracking.get_experiment_id(client))
    assert [r.info.run_id for r in rank_runs(runs)] == [low, no_metric]
    assert best_of([r for r in runs if r.info.run_id == no_metric]) is None


def test_the_store_ranks_like_rank_runs_nan_and_missing_last():
    """find_best_run asks the store to order (one query); its answer is rank_runs' first,
    with NaN and missing metrics never first, and only a page of runs fetched."""
    client = tracking.make_client()
    exp_id = client.create_experiment("ranked")
    rows = [(0.9, 0.3), (0.9, 0.2), (None, 0.1), (float("nan"), 0.1), (0.95, None), (0.5, 0.1)]
    for i, (f1, loss) in enumerate(rows):
        run = client.create_run(exp_id, tags={"metaview.kind": "train"}, start_time=1000 + i)
        if f1 is not None:
            client.log_metric(run.info.run_id, "best_val_f1_macro", f1)
        if loss is not None:
            client.log_metric(run.info.run_id, "best_val_loss", loss)
        client.set_terminated(run.info.run_id)
    fetched = []
    real = client.search_runs

    def spy(*args, **kwargs):
        page = real(*args, **kwargs)
        fetched.append((kwargs.get("order_by"), len(page)))
        return page

    client.search_runs = spy
    best = tracking.find_best_run(client, exp_id)
    assert fetched and fetched[0][0] and fetched[0][1] <= 10  # ordered by the store, one page
    ranked = tracking.rank_runs(real([exp_id]))
    assert best.info.run_id == ranked[0].info.run_id
    assert best.data.metrics["best_val_f1_macro"] == 0.95
    lowest = tracking.find_best_run(client, exp_id, metric="best_val_loss")
    assert lowest.data.metrics["best_val_loss"] == 0.1 and lowest.info.start_time == 1002
