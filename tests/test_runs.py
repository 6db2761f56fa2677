"""`metaview runs`: the table best first, the CSV and the validation-curve plot (train.runs)."""

from __future__ import annotations

import csv

import pytest
from _toy_fixtures import cli

from metaimage.io import image_size
from train import runs
from train.tracking.compare import RunRow


def test_table_text():
    rows = [
        RunRow("*C", "a" * 32, "r1", "efficientnet-b0", "64", "3/10",
                    0.9, 0.91, 0.8, 0.81, 75.0, "FINISHED"),
        RunRow("", "b" * 32, "r2", "efficientnet-b1", "240", "1/10",
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
