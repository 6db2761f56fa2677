"""`metaview runs`: the table best first, the CSV and the validation-curve plot (train.runs)."""

from __future__ import annotations

import csv

import pytest
from _toy_fixtures import cli
from _tracking_fixtures import killed_run

from metaimage.io import image_size
from train import runs
from train.tracking.compare import RunRow


def test_table_text():
    rows = [
        RunRow("*C", "a" * 32, "r1", "efficientnet-b0", "64", "3/10",
                    0.9, 0.91, 0.8, 0.81, 75.0, "FINISHED", family="efficientnet",
                    objective="sets", test_top_valid=0.9),
        RunRow("", "b" * 32, "r2", "normals", "0", "1/10",
                    None, None, None, None, None, "FAILED", family="normals"),
    ]  # fmt: skip
    lines = runs.format_table(rows).splitlines()
    assert lines[0].split() == [
        "run", "name", "family", "model", "size", "objective", "epochs", "val_acc", "val_f1",
        "test_acc", "test_f1", "top_valid", "duration", "status",
    ]  # fmt: skip
    assert lines[1].split() == [
        "*C", "aaaaaaaa", "r1", "efficientnet", "efficientnet-b0", "64", "sets", "3/10", "0.900",
        "0.910", "0.800", "0.810", "0.900", "1m15s", "FINISHED",
    ]  # fmt: skip
    # A run from before --objective and test_top_valid: "label" and "-".
    assert lines[2].split() == [
        "bbbbbbbb", "r2", "normals", "normals", "0", "label", "1/10", "-", "-", "-", "-", "-",
        "-", "FAILED",
    ]  # fmt: skip
    # Columns line up: every row puts "model", "objective", "top_valid" at the same offset.
    off = lines[0].index("model")
    assert lines[1][off:].startswith("efficientnet-b0") and lines[2][off:].startswith("normals")
    off = lines[0].index("objective")
    assert lines[1][off:].startswith("sets ") and lines[2][off:].startswith("label ")
    off = lines[0].index("top_valid")
    assert lines[1][off:].startswith("0.900 ") and lines[2][off:].startswith("- ")


@pytest.mark.usefixtures("matplotlib_defaults")
def test_cli_runs_writes_table_csv_and_plot(four_runs, tmp_path, capsys):
    from mlflow import MlflowClient

    # "latest" trained with --objective sets and logged test_top_valid; the others are
    # older runs without either.
    client = MlflowClient()
    client.log_param(four_runs["latest"], "objective", "sets")
    client.log_metric(four_runs["latest"], "test_top_valid", 0.9)
    code = cli(["runs", "--csv", str(tmp_path / "out" / "runs.csv"), "--plot", "curves.png"])

    assert code == 0
    out = capsys.readouterr().out
    table = out.splitlines()
    assert table[0].split()[0] == "run"
    order = ("old_good", "tie_worse_loss", "latest", "crashed")
    for line, name in zip(table[1:5], order, strict=True):
        assert four_runs[name][:8] in line.split() and name in line.split()
    assert table[1].startswith("*")
    top_valid, objective = table[0].index("top_valid"), table[0].index("objective")
    latest, old = table[3], table[1]
    assert latest[objective:].split()[0] == "sets" and latest[top_valid:].split()[0] == "0.900"
    assert old[objective:].split()[0] == "label" and old[top_valid:].split()[0] == "-"
    with open(tmp_path / "out" / "runs.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [*runs.COLUMNS, "stale", "silent_s"]
    assert {r["stale"] for r in rows} == {"False"}
    assert [r["run_id"] for r in rows] == [four_runs[k] for k in order]
    assert float(rows[0]["val_f1"]) == pytest.approx(0.9) and rows[0]["marker"] == "*"
    assert rows[2]["objective"] == "sets" and float(rows[2]["test_top_valid"]) == 0.9
    assert rows[0]["objective"] == "label" and rows[0]["test_top_valid"] == ""
    h, w = image_size(tmp_path / "curves.png")
    assert (h, w) == (380, 1000)  # two panels, 10 x 3.8 in at 100 dpi (matplotlib defaults)


def test_cli_runs_writes_no_file_unless_asked(four_runs, tmp_path, capsys):
    before = sorted(tmp_path.rglob("*"))
    assert cli(["runs"]) == 0
    assert sorted(tmp_path.rglob("*")) == before  # a table on stdout, nothing in the cwd
    assert "validation curves" not in capsys.readouterr().out


def test_cli_runs_without_experiment_is_a_user_error(capsys):
    assert cli(["runs", "--experiment", "nope"]) == 1
    assert "no experiment 'nope'" in capsys.readouterr().err


def test_cli_runs_shows_a_killed_run_as_stale_and_mark_failed_ends_it(four_runs, capsys):
    from mlflow import MlflowClient

    killed = killed_run()
    assert cli(["runs"]) == 0  # just killed: within the limit, still RUNNING
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if killed[:8] in x)
    assert line.split()[-1] == "RUNNING" and "STALE" not in out

    assert cli(["runs", "--stale-after", "0"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if killed[:8] in x)
    assert line.split()[-1] == "STALE"
    assert "without a heartbeat for over 0 min (killed?)" in out and "--mark-failed" in out

    assert cli(["runs", "--stale-after", "0", "--mark-failed"]) == 0
    out = capsys.readouterr().out
    assert f"marked FAILED: run {killed} killed (no heartbeat for 0 min)" in out
    line = next(x for x in out.splitlines() if x.split() and x.split()[0] == killed[:8])
    assert line.split()[-1] == "FAILED"
    client = MlflowClient()
    assert client.get_run(killed).info.status == "FAILED"
    assert {client.get_run(r).info.status for r in four_runs.values()} == {"FINISHED", "FAILED"}
    assert client.get_run(four_runs["old_good"]).info.status == "FINISHED"  # untouched

    assert cli(["runs", "--stale-after", "0", "--mark-failed"]) == 0
    assert "no stale runs" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["runs"], ["predict", "x.png"], ["export", "out.tflite"]])
def test_unreachable_tracking_server_is_one_line_within_seconds(
    command, refused_port, mlflow_http_requests, monkeypatch, capsys
):
    import time

    uri = f"http://127.0.0.1:{refused_port}"  # bound by the test, refusing connections
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    t0 = time.monotonic()
    assert cli(command) == 1
    # Seconds, not the minutes MLflow's client spends retrying (7 retries, backoff doubling
    # from 2 s to 120 s): refused before that client sends anything.
    assert time.monotonic() - t0 < 60
    assert mlflow_http_requests == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"metaview {command[0]}: error: cannot reach the MLflow tracking ")
    assert uri in err[0]
