"""`metaview predict`: PNGs and meshes, bad inputs, text and JSON (train.inference.predict).

The reachable set beside each answer is tested in tests/test_inference_reachability.py,
the Prediction's set, text line and JSON in tests/test_inference_prediction.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import CLASSES, cli, render_in_subprocess

from metaimage.io import read_png, write_png

DIRS = ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus")  # the classes, in class order

pytestmark = pytest.mark.tf


def _uri() -> str:
    return os.environ["MLFLOW_TRACKING_URI"]


def _test_pngs(toy) -> list[Path]:
    from train.data import load_split

    paths, _ = load_split(toy.dataset, toy.split, "test")
    return paths


def _json_out(capsys) -> list[dict]:
    return json.loads(capsys.readouterr().out)


def test_predict_best_png_json(toy, capsys):
    toy.log(_uri(), f1=0.5)
    best = toy.log(_uri(), f1=0.9)
    toy.log(_uri(), f1=0.7)  # latest is not the best
    pngs = _test_pngs(toy)
    from train.data import load_split

    _, labels = load_split(toy.dataset, toy.split, "test")

    code = cli(["predict", *map(str, pngs), "--json"])

    assert code == 0
    out = _json_out(capsys)
    assert [r["file"] for r in out] == [str(p) for p in pngs]
    assert [r["label"] for r in out] == labels  # the toy set is separable: all right
    for r in out:
        assert r["error"] is None
        assert r["model"] == f"runs:/{best}/model"
        assert list(r["probabilities"])[0] == r["label"]
        assert set(r["probabilities"]) == set(CLASSES)
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-5)
        assert r["probability"] == max(r["probabilities"].values())


def test_predict_matches_the_model_on_resized_images(toy):
    """predict_files = prepare_images (the training resize) + the model, nothing else."""
    from train.inference import load_model, predict_files
    from train.pipeline import prepare_images

    run_id = toy.log(_uri())
    pngs = _test_pngs(toy)[:5]
    loaded = load_model(run_id)
    got = predict_files(pngs, loaded)
    x = prepare_images(np.stack([read_png(p) for p in pngs]), loaded.image_size)
    want = np.asarray(toy.model(x))
    for res, p in zip(got, want, strict=True):
        assert [res.probabilities[c] for c in CLASSES] == pytest.approx(p.tolist(), abs=1e-6)


def test_bad_inputs_are_reported_and_the_rest_predicted(toy, tmp_path, capsys):
    toy.log(_uri())
    good = _test_pngs(toy)[:2]
    wrong_size = write_png(tmp_path / "wrong.png", np.zeros((20, 16, 3), np.uint8))
    not_png = tmp_path / "text.png"
    not_png.write_text("not an image")
    broken_stl = tmp_path / "broken.stl"
    broken_stl.write_bytes(b"\x00" * 90)  # a binary STL header that promises triangles not there
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello")
    inputs = [good[0], tmp_path / "missing.png", wrong_size, not_png, unknown, good[1]]

    code = cli(["predict", *map(str, inputs)])

    out, err = capsys.readouterr()
    assert code == 2
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == [str(good[0]), str(good[1])]
    assert lines[0].split()[1] in CLASSES
    assert f"{tmp_path / 'missing.png'}  error:" in err and "no such image file" in err
    assert f"{wrong_size}  error:" in err and "expected a 16x16 meta-image" in err
    assert "found 20x16" in err
    assert f"{not_png}  error:" in err and "could not read it" in err
    assert f"{unknown}  error:" in err and "expected a mesh file" in err
    assert "4 of 6 inputs failed" in err

    code = cli(["predict", str(good[0]), str(broken_stl), "--json"])
    assert code == 2
    out = _json_out(capsys)
    assert out[0]["error"] is None and out[0]["label"] in CLASSES
    assert out[1]["label"] is None and str(broken_stl) in out[1]["error"]
    assert out[1]["reachable"] is None and out[1]["reach_error"] is None  # never analysed
    assert out[1]["agrees"] is None and out[1]["predicted_set"] == []


def test_text_output_and_top_k(toy, capsys):
    toy.log(_uri())
    png = _test_pngs(toy)[0]
    assert cli(["predict", str(png), "--top", "2"]) == 0
    line = capsys.readouterr().out.strip()
    # "<file>  <label>  <p>  (<other> <p>)": the top class plus one other.
    file, label, prob, rest = line.split("  ", 3)
    assert file == str(png) and label in CLASSES and 0.0 <= float(prob) <= 1.0
    assert rest.startswith("(") and rest.count(",") == 0
    assert cli(["predict", str(png), "--json", "--top", "1"]) == 0
    assert list(_json_out(capsys)[0]["probabilities"]) == [label]


def test_predict_without_runs_is_a_user_error(tmp_path, capsys):
    png = write_png(tmp_path / "x.png", np.zeros((16, 16, 3), np.uint8))
    assert cli(["predict", str(png)]) == 1
    assert "metaview train DATA" in capsys.readouterr().err


@pytest.mark.gl
def test_predict_stl_renders_with_the_runs_config(toy, gl_ok, tmp_path, capsys):
    """A mesh is rendered with the model's render config; the result equals predicting its PNG."""
    import trimesh

    from train.inference import load_model, predict_files

    toy.log(_uri())
    meshes = [
        trimesh.creation.box(extents=(1, 2, 3)),
        trimesh.creation.cylinder(radius=0.5, height=2.0, sections=24),
        trimesh.creation.icosphere(subdivisions=2),
    ]
    stls = [tmp_path / f"part{i}.stl" for i in range(len(meshes))]
    for mesh, stl in zip(meshes, stls, strict=True):
        mesh.export(stl)
    loaded = load_model("best")
    pngs = [stl.with_suffix(".png") for stl in stls]
    res = render_in_subprocess(loaded.metaimage["config"], list(zip(stls, pngs, strict=True)))
    assert res.returncode == 0, res.stderr

    from_stl = predict_files([*stls, tmp_path / "gone.stl"], loaded)
    from_png = predict_files(pngs, loaded)

    for a, b in zip(from_stl[:-1], from_png, strict=True):
        assert a.ok, a.error
        assert a.label == b.label
        assert a.probabilities == pytest.approx(b.probabilities, abs=1e-6)
        # Meshes are analysed, PNGs are not; the toy classes are not directions: no verdict.
        assert a.reachable is not None and a.reach_error is None and a.agrees is None
        assert b.reachable is None and b.agrees is None
    assert from_stl[0].reachable == DIRS  # a plain box: nothing cut, every direction
    assert from_stl[-1].error == f"{tmp_path / 'gone.stl'}: no such file"
    # In chunks of one (one render worker for all chunks), mixed with PNGs: the same results.
    mixed = predict_files([stls[0], pngs[1], stls[2]], loaded, batch_size=1)
    assert [r.probabilities for r in mixed] == [
        pytest.approx(from_stl[i].probabilities, abs=1e-6) for i in range(3)
    ]
    assert read_png(pngs[0]).shape == (16, 16, 3)
    # A renderer kept open by the caller (a service): one worker serves every call, and
    # stays open after them.
    from render.worker import MeshRenderer

    with MeshRenderer(loaded.metaimage["config"]) as renderer:
        first = predict_files([stls[1]], loaded, renderer=renderer, reach=False)
        worker = renderer._pool
        again = predict_files([stls[2]], loaded, renderer=renderer, reach=False)
        assert worker is not None and renderer._pool is worker
    assert renderer._pool is None
    assert first[0].probabilities == pytest.approx(from_stl[1].probabilities, abs=1e-6)
    assert again[0].probabilities == pytest.approx(from_stl[2].probabilities, abs=1e-6)

    assert cli(["predict", str(stls[0]), str(pngs[1]), "--json"]) == 0
    out = _json_out(capsys)
    assert [r["label"] for r in out] == [from_stl[0].label, from_png[1].label]
