"""Tests of :mod:`train.explain.report` and ``metaview explain``: pictures and index.html."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import trimesh
from _reach_fixtures import blind_pocket_z, t_slot
from _train_fixtures import nearest_template_normals, pocketed_box

from geometry.directions import DIRECTIONS
from train.explain.report import explain_files, picture_names
from train.inference.prediction import Prediction

CLASSES = list(DIRECTIONS)


def test_picture_names_are_safe_and_unique():
    names = picture_names(["a/x plus/0001.stl", "b/0001.stl", "c/0001.stl", "p<q>.stl", "d/.stl"])
    assert names == ["x_plus_0001", "b_0001", "c_0001", "p_q", "stl"]
    assert picture_names(["a/0.stl", "a/0.png"]) == ["a_0", "a_0_2"]


@pytest.fixture(scope="module")
def normals_model():
    return nearest_template_normals()


def _write(path, mesh):
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(path)
    return path


@pytest.fixture
def inputs(tmp_path):
    pocket = trimesh.Trimesh(*pocketed_box("x_plus"))
    return [
        _write(tmp_path / "in" / "z_pocket.stl", blind_pocket_z()),
        _write(tmp_path / "in" / "x_pocket.stl", pocket),
        _write(tmp_path / "in" / "tslot.stl", t_slot(open_ends=False)),
        tmp_path / "in" / "missing.stl",
    ]


def test_explain_writes_a_picture_per_part_and_an_index(tmp_path, inputs, normals_model, gl_ok):
    out = tmp_path / "out"
    items = explain_files(inputs, normals_model, out)
    assert [it.name for it in items] == ["z_pocket", "x_pocket", "tslot", "missing"]
    z, x, slot, missing = items
    assert z.prediction.label == "z_plus" and z.prediction.reachable == ("z_plus",)
    assert x.prediction.label == "x_plus" and not z.disagrees and not x.disagrees
    assert slot.prediction.reachable == () and slot.disagrees  # an undercut: nothing reaches it
    assert missing.error and "missing.stl" in missing.error and missing.picture is None
    from PIL import Image

    for it in (z, x, slot):
        assert it.evidence == "faces"
        with Image.open(out / it.picture) as im:
            assert im.size[0] > 1000 and im.size[1] > 700
            pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
        # The direction colours reach the picture (the top row), not only grey.
        sky = np.abs(pixels - (86, 180, 233)).max(axis=1) < 40
        assert sky.sum() > 100 or it is slot
    page = (out / "index.html").read_text()
    for name in ("z_pocket.stl", "x_pocket.stl", "tslot.stl", "missing.stl"):
        assert name in page
    assert "1 failed" in page and "z_pocket.png" in page
    summary = json.loads((out / "explain.json").read_text())
    assert [s["picture"] for s in summary] == ["z_pocket.png", "x_pocket.png", "tslot.png", None]
    assert summary[3]["error"] and summary[0]["agrees"] is True


def test_a_disagreement_is_said_in_words(tmp_path, inputs, normals_model, gl_ok):
    wrong = Prediction(
        file=str(inputs[0]),
        label="x_minus",
        probability=0.7,
        probabilities={"x_minus": 0.7, "z_plus": 0.3},
        reachable=("z_plus",),
        reach_reasons={"x_minus": "40.0 % of feature area faces away from -X"},
    )
    items = explain_files([inputs[0]], normals_model, tmp_path / "out", predictions=[wrong])
    assert items[0].disagrees and items[0].picture
    page = (tmp_path / "out" / "index.html").read_text()
    assert "DISAGREES: x_minus (-X) cannot reach every feature face" in page
    assert "faces away from -X" in page


def test_the_index_opens_in_headless_chromium(tmp_path, inputs, normals_model, gl_ok):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium on this machine (./run.sh test installs Debian's chromium)")
    out = tmp_path / "out"
    explain_files(inputs[:3], normals_model, out)
    url = (out / "index.html").as_uri()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000"]
    dom = subprocess.run(
        [*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert re.search(r'data-images-loaded="3/3"', dom), dom[-2000:]
    assert "z_pocket.stl" in dom and "agrees with the geometry" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1400,1800", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    with Image.open(shot) as im:
        pixels = np.asarray(im.convert("RGB")).reshape(-1, 3).astype(int)
    # The pictures are drawn: the stock grey and the +Z colour of the pocket are on screen.
    assert (np.abs(pixels - (86, 180, 233)).max(axis=1) < 40).sum() > 50
    assert (np.abs(pixels - 200).max(axis=1) < 30).sum() > 1000


def test_the_explain_and_predict_commands(tmp_path, inputs, normals_model, gl_ok, capsys):
    import os

    from _toy_fixtures import cli, log_fake_run

    uri = os.environ["MLFLOW_TRACKING_URI"]
    log_fake_run(
        uri,
        metrics={"best_val_f1_macro": 0.9, "best_val_loss": 0.1},
        model=normals_model.keras_model,
        labels=CLASSES,
    )
    code = cli(["explain", *map(str, inputs), "--out", str(tmp_path / "ex")])
    assert code == 2  # one input is missing; the others are explained
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith(str(inputs[0]))
    assert "z_plus" in lines[0] and "reachable: z_plus" in lines[0] and "DISAGREES" in lines[2]
    assert "missing.stl" in err and "1 of 4 inputs failed" in err
    assert (tmp_path / "ex" / "index.html").is_file() and (
        tmp_path / "ex" / "z_pocket.png"
    ).is_file()

    code = cli(["predict", str(inputs[1]), "--explain", str(tmp_path / "pe")])
    assert code == 0
    summary = json.loads((tmp_path / "pe" / "explain.json").read_text())
    assert summary[0]["label"] == "x_plus" and summary[0]["picture"] == "x_pocket.png"
