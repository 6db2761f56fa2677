"""`metaview runs`: the table best first, the CSV and the validation-curve plot (train.runs)."""

from __future__ import annotations

import csv
import os

import pytest
from _modeluse_fixtures import cli, log_fake_run

from metaimage.io import image_size
from train import registry, runs


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _run(name, f1, loss, start, status="FINISHED", epochs_run=3, **metrics):
    history = {
        "val_loss": [loss + 0.1 * (epochs_run - i) for i in range(epochs_run)],
        "val_f1_macro": [f1 * (i + 1) / epochs_run for i in range(epochs_run)],
    }
    final = {
        "best_val_f1_macro": f1,
        "best_val_loss": loss,
        "best_val_accuracy": f1 + 0.01,
        "test_accuracy": f1 - 0.02,
        "test_f1_macro": f1 - 0.03,
        **metrics,
    }
    return log_fake_run(
        _uri(), metrics=final, history=history, start_time=start, run_name=name, status=status,
        params={"epochs": 10, "model": "efficientnet-b0", "image_size": 64}, artifacts=False,
    )  # fmt: skip


@pytest.fixture
def four_runs():
    return {
        "old_good": _run("old_good", 0.90, 0.30, 1_000),
        "tie_worse_loss": _run("tie_worse_loss", 0.90, 0.40, 2_000, epochs_run=2),
        "latest": _run("latest", 0.60, 0.90, 3_000, epochs_run=4),
        "crashed": _run("crashed", 0.99, 0.10, 4_000, status="FAILED", epochs_run=1),
    }


def test_rows_best_first_with_markers(four_runs):
    client = registry.make_client()
    rows, ordered = runs.collect_runs(client, registry.get_experiment_id(client))

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
        registry.find_best_run(client, registry.get_experiment_id(client)).info.run_id
        == best.run_id
    )


def test_champion_marker(four_runs, monkeypatch):
    client = registry.make_client()
    monkeypatch.setattr(registry, "champion_run_id", lambda c: four_runs["latest"])
    rows, _ = runs.collect_runs(client, registry.get_experiment_id(client))
    assert {r.run_name: r.marker for r in rows} == {
        "old_good": "*",
        "tie_worse_loss": "",
        "latest": "C",
        "crashed": "",
    }


def test_table_text():
    rows = [
        runs.RunRow("*C", "a" * 32, "r1", "efficientnet-b0", "64", "3/10",
                    0.9, 0.91, 0.8, 0.81, 75.0, "FINISHED"),
        runs.RunRow("", "b" * 32, "r2", "efficientnet-b1", "240", "1/10",
                    None, None, None, None, None, "FAILED"),
    ]  # fmt: skip
    lines = runs.format_table(rows).splitlines()
    assert lines[0].split() == [
        "run", "name", "model", "size", "epochs", "val_acc", "val_f1", "test_acc", "test_f1",
        "duration", "status",
    ]  # fmt: skip
    assert lines[1].split() == [
        "*C", "aaaaaaaa", "r1", "efficientnet-b0", "64", "3/10", "0.900", "0.910", "0.800", "0.810",
        "1m15s", "FINISHED",
    ]  # fmt: skip
    assert lines[2].split()[:3] == ["bbbbbbbb", "r2", "efficientnet-b1"]
    assert lines[2].split()[-2:] == ["-", "FAILED"]
    # Columns line up: every row puts "model" at the same offset.
    models = ["model", "efficientnet-b0", "efficientnet-b1"]
    assert len({line.index(m) for line, m in zip(lines, models, strict=True)}) == 1


def test_cli_runs_writes_table_csv_and_plot(four_runs, tmp_path, capsys):
    code = cli(["runs", "--csv", str(tmp_path / "out" / "runs.csv"), "--plot", "curves.png"])

    assert code == 0
    out = capsys.readouterr().out
    table = out.splitlines()
    assert table[0].split()[0] == "run"
    order = ("old_good", "tie_worse_loss", "latest", "crashed")
    for line, name in zip(table[1:5], order, strict=True):
        assert four_runs[name][:8] in line.split() and name in line.split()
    assert table[1].startswith("*")
    with open(tmp_path / "out" / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(runs.COLUMNS)
    assert [r["run_id"] for r in rows] == [four_runs[k] for k in order]
    assert float(rows[0]["val_f1"]) == pytest.approx(0.9) and rows[0]["marker"] == "*"
    h, w = image_size(tmp_path / "curves.png")
    assert (h, w) == (380, 1000)  # two panels, 10 x 3.8 in at 100 dpi


def test_cli_runs_default_plot_in_cwd(four_runs, tmp_path):
    assert cli(["runs"]) == 0
    assert (tmp_path / runs.DEFAULT_PLOT).stat().st_size > 1000


def test_cli_runs_without_experiment_is_a_user_error(capsys):
    assert cli(["runs", "--experiment", "nope"]) == 1
    assert "no experiment 'nope'" in capsys.readouterr().err
