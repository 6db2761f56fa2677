"""``metaview demo``: the README's main command, end to end on a tiny configuration."""

from __future__ import annotations

import json
import re

import pytest

from metaview import cli


@pytest.mark.gl
@pytest.mark.tf
@pytest.mark.slow
def test_demo_runs_every_step_and_compares_three_families(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("METAVIEW_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    # 32 px tiles: the view-pooled image model pools whole tiles of its stride-32 map.
    code = cli.main(["demo", str(out), "--per-class", "3", "--tile", "32", "--workers", "2"])
    printed = capsys.readouterr().out
    assert code == 0, printed
    # 1. parts, 2. meta-images: 3 parts x 5 classes, each rendered once (the demo's variants).
    from metaview.demo import DEMO_VARIANTS

    assert len(list((out / "parts").glob("*/*.stl"))) == 15
    assert len(list((out / "data").glob("*/*.png"))) == 15 * DEMO_VARIANTS
    # 3. three finished MLflow runs in ./mlflow.db (the test runs in tmp_path), one per
    # family, on the same split.
    import mlflow

    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("metaview").experiment_id])
    assert sorted(r.data.params["model"] for r in runs) == [
        "efficientnet-lite0-views",
        "efficientnet-lite0-views-normals",
        "normals",
    ]
    assert [r.info.status for r in runs] == ["FINISHED"] * 3
    splits = [json.loads(_artifact(client, r.info.run_id, "split.json")) for r in runs]
    assert splits[0] == splits[1] == splits[2]
    summary = json.loads(printed.strip().splitlines()[-1])
    assert {v["run_id"] for v in summary.values()} == {r.info.run_id for r in runs}
    # 4. predicted with the best run whatever its family (validation F1, then loss, then age).
    from train.tracking import rank_runs

    best = rank_runs(runs)[0]
    assert best.data.metrics["best_val_f1_macro"] == max(
        r.data.metrics["best_val_f1_macro"] for r in runs
    )
    # Its Keras model, or its compact form (head.npz) where the run has one.
    assert re.search(rf"model: runs:/{best.info.run_id}/(model|head\.npz)\n", printed)
    # Every held-out part (one per class) predicted from its STL file.
    lines = [s for s in printed.splitlines() if s.strip().startswith("[")]
    assert len(lines) == 5
    assert all(".stl" in s for s in lines)
    assert "held-out parts right" in printed
    # ... and explained: a picture each, linked from the index.
    summary_of = json.loads((out / "explain" / "explain.json").read_text())
    assert len(summary_of) == 5 and all(
        (out / "explain" / s["picture"]).is_file() for s in summary_of
    )
    assert "explain/index.html" in printed
    # 5. the runs table of all three.
    for model in ("efficientnet-lite0-views ", "normals ", "efficientnet-lite0-views-normals"):
        assert model in printed
    assert "mlflow ui" in printed


def _artifact(client, run_id: str, name: str) -> str:
    from pathlib import Path

    return Path(client.download_artifacts(run_id, name)).read_text()
