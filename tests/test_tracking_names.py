"""The names metaview writes into MLflow (:mod:`train.tracking.names`): the champion's
registered model name, and the selection metrics against what a run logs."""

from __future__ import annotations

from train import tracking
from train.tracking import names


def test_registered_model_names_are_valid_for_any_experiment_name():
    assert tracking.registered_model_name("metaview") == "metaview-metaview"
    assert tracking.registered_model_name("/Users/me/parts:v2@x") == "metaview-_Users_me_parts_v2_x"


def test_selection_metrics_are_among_what_a_run_logs_and_epochs_pair_up():
    """The "best" run is decided on metrics the evaluation step writes, and each per-epoch
    validation metric is the validation twin of a training one."""
    from train.evaluate import best_epoch_metrics

    history = {k: [0.5, 0.25] for k in ("val_loss", "val_accuracy", "val_f1_macro")}
    logged = best_epoch_metrics(history)
    assert {names.SELECTION_METRIC, names.TIEBREAK_METRIC} <= set(logged)
    train = [m for m in names.EPOCH_METRICS if not m.startswith("val_")]
    val = [m for m in names.EPOCH_METRICS if m.startswith("val_")]
    assert val == [f"val_{m}" for m in train] and train
