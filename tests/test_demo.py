"""``metaview demo``: the README's main command, end to end on a tiny configuration."""

from __future__ import annotations

import json

import pytest

from metaview import cli


@pytest.mark.gl
@pytest.mark.tf
@pytest.mark.slow
def test_demo_runs_every_step_and_leaves_a_finished_run(tmp_path, capsys):
    out = tmp_path / "demo"
    code = cli.main(
        [
            "demo",
            "--out",
            str(out),
            "--per-class",
            "3",
            "--tile",
            "8",
            "--image-size",
            "32",
            "--epochs",
            "1",
            "--weights",
            "none",
            "--workers",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    # 1. parts, 2. meta-images: 3 parts x 5 classes, each rendered once.
    assert len(list((out / "parts").glob("*/*.stl"))) == 15
    assert len(list((out / "data").glob("*/*.png"))) == 15
    # 3. one finished MLflow run in ./mlflow.db (the test runs in tmp_path).
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("metaview").experiment_id])
    assert [r.info.status for r in runs] == ["FINISHED"]
    summary = json.loads(printed.strip().splitlines()[-1])
    assert summary["run_id"] == runs[0].info.run_id
    # 4. every held-out part (one per class) predicted from its STL file.
    lines = [s for s in printed.splitlines() if s.strip().startswith("[")]
    assert len(lines) == 5
    assert all(".stl" in s for s in lines)
    assert "held-out parts right" in printed
    assert "mlflow ui" in printed
