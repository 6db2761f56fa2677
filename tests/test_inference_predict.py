"""`metaview predict`: PNGs and meshes, bad inputs, text and JSON (train.inference.predict).

The reachability tests use a stand-in model (a fixed output row, no TensorFlow) of the
``normals`` family, which reads the mesh itself: nothing is rendered. Their parts are a
40 x 30 x 20 block with holes cut by manifold3d, whose reachable sets are known by
construction (as in tests/test_reach.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import CLASSES, cli, metaimage_dict, render_in_subprocess

from metaimage.io import read_png, write_png
from train.errors import TrainError
from train.inference.loaded import LoadedModel
from train.inference.predict import (
    Prediction,
    format_prediction,
    predict_files,
    predicted_set,
)
from train.labelsets import SET_THRESHOLD

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


# --- reachable set next to the model's answer ---------------------------------------------


class _FixedOutput:
    """A stand-in Keras model: every input gets the same output row."""

    def __init__(self, row):
        self.row = np.asarray(row, np.float32)

    def __call__(self, x, training=False):
        return np.tile(self.row, (len(x), 1))


def _fake_model(row, features="normals", labels=DIRS, multi_label=False) -> LoadedModel:
    return LoadedModel(
        keras_model=_FixedOutput(row), labels=list(labels), metaimage=metaimage_dict(),
        image_size=0, run_id=None, source="fake", features=features, multi_label=multi_label,
    )  # fmt: skip


def _one_hot(label: str, labels=DIRS) -> list[float]:
    """A softmax row whose top class is ``label`` (0.6; the others share 0.4)."""
    rest = 0.4 / (len(labels) - 1)
    return [0.6 if name == label else rest for name in labels]


def _block_minus(path: Path, *cutters) -> Path:
    import trimesh

    block = trimesh.creation.box(extents=(40.0, 30.0, 20.0))
    part = trimesh.boolean.difference([block, *cutters], engine="manifold")
    assert part.is_watertight
    part.export(path)
    return path


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> dict[str, Path]:
    """Parts with known reachable sets: name -> STL path (see :data:`REACHABLE`)."""
    import trimesh

    def rod(p0, p1):
        return trimesh.creation.cylinder(radius=3.0, segment=[p0, p1], sections=32)

    def span(lo, hi):
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        move = trimesh.transformations.translation_matrix((lo + hi) / 2)
        return trimesh.creation.box(extents=hi - lo, transform=move)

    root = tmp_path_factory.mktemp("reach_parts")
    return {
        # 11 mm deep into the +Z face: its floor faces +Z, its wall hides it from the sides.
        "blind_z": _block_minus(root / "blind_z.stl", rod((0, 0, 4), (0, 0, 15))),
        "through_x": _block_minus(root / "through_x.stl", rod((-25, 0, 0), (25, 0, 0))),
        # A closed T-slot from +Z: the channel's ceiling faces -Z, under material.
        "undercut": _block_minus(
            root / "undercut.stl", span((-12, -2, 4), (12, 2, 15)), span((-12, -6, 0), (12, 6, 4))
        ),
    }


REACHABLE = {"blind_z": ("z_plus",), "through_x": ("x_plus", "x_minus"), "undercut": ()}


@pytest.mark.parametrize("top", DIRS)
def test_mesh_prediction_records_its_reachable_set(parts, top):
    names = list(REACHABLE)
    got = predict_files([parts[n] for n in names], _fake_model(_one_hot(top)))

    for name, res in zip(names, got, strict=True):
        assert res.ok and res.label == top and res.reach_error is None
        assert res.reachable == REACHABLE[name]
        assert res.predicted_set == (top,)
        # Why: every direction outside the set, and only those.
        assert set(res.reach_reasons) == set(DIRS) - set(REACHABLE[name])
        want = (top in REACHABLE[name]) if REACHABLE[name] else None  # undercut: no verdict
        assert res.agrees is want
        assert res.to_dict()["agrees"] is want
        assert res.to_dict()["reachable"] == list(REACHABLE[name])


def test_reach_false_and_pngs_are_not_analysed(parts, tmp_path):
    model = _fake_model(_one_hot("z_plus"))
    (res,) = predict_files([parts["blind_z"]], model, reach=False)
    assert res.ok and res.label == "z_plus"
    assert res.reachable is None and res.reach_error is None and res.reach_reasons == {}
    assert res.agrees is None
    assert format_prediction(res) == f"{parts['blind_z']}  z_plus  0.600  " + ", ".join(
        ["(x_plus 0.100", "x_minus 0.100", "y_plus 0.100", "y_minus 0.100)"]
    )

    # A colour-stats model takes meta-image PNGs: predicted, never analysed (no geometry).
    png = write_png(tmp_path / "part.png", np.full((16, 16, 3), 90, np.uint8))
    (res,) = predict_files([png], _fake_model(_one_hot("z_plus"), features="colour-stats"))
    assert res.ok and res.label == "z_plus"
    assert res.reachable is None and res.reach_error is None and res.agrees is None


def test_a_failed_analysis_keeps_the_prediction(parts, monkeypatch):
    import geometry.reach
    from geometry.errors import ReachError

    def crash(path, cfg=None):
        raise RuntimeError("ray caster fell over")

    def refuse(path, cfg=None):
        raise ReachError(f"{path}: the mesh has no area")

    model = _fake_model(_one_hot("x_plus"))
    monkeypatch.setattr(geometry.reach, "reach_file", crash)
    a, b = predict_files([parts["blind_z"], parts["through_x"]], model)
    monkeypatch.setattr(geometry.reach, "reach_file", refuse)
    (c,) = predict_files([parts["blind_z"]], model)

    for res in (a, b, c):
        assert res.ok and res.label == "x_plus" and res.probability == pytest.approx(0.6)
        assert res.reachable is None and res.agrees is None and res.reach_reasons == {}
    assert a.reach_error == f"{parts['blind_z']}: RuntimeError: ray caster fell over"
    assert c.reach_error == f"{parts['blind_z']}: the mesh has no area"
    assert c.to_dict()["reach_error"] == c.reach_error
    # The line keeps its prediction and says why there is no set, without the file again.
    assert format_prediction(c).endswith("  x_plus  0.600  (x_minus 0.100, y_plus 0.100, "
                                         "y_minus 0.100, z_plus 0.100)  "
                                         "reachable: ? (the mesh has no area)")  # fmt: skip


def test_predicted_set():
    # Softmax: the top class alone, whatever the others.
    assert predicted_set([0.1, 0.5, 0.4, 0.0, 0.0], DIRS, multi_label=False) == ("x_minus",)
    # Multi-label: every output at or above the threshold, in label order, not by probability.
    probs = [0.7, 0.2, 0.9, SET_THRESHOLD, 0.1]
    assert predicted_set(probs, DIRS, multi_label=True) == ("x_plus", "y_plus", "y_minus")
    below = np.nextafter(SET_THRESHOLD, 0.0)
    assert predicted_set([0.2, below, 0.1, 0.0, 0.0], DIRS, True) == ("x_minus",)
    # The top label is always in, even below the threshold.
    assert predicted_set([0.2, 0.3, 0.1, 0.0, 0.05], DIRS, True) == ("x_minus",)
    assert predicted_set(np.float32([0.1, 0.9]), ["a", "b"], True) == ("b",)
    with pytest.raises(TrainError, match="one probability per label"):
        predicted_set([0.5, 0.5], DIRS, True)


def test_multi_label_model_predicts_a_set(parts):
    sigmoids = [0.9, 0.8, 0.3, 0.1, 0.6]  # independent: they need not sum to 1
    softmax = _fake_model(sigmoids)
    multi = _fake_model(sigmoids, multi_label=True)

    (plain,) = predict_files([parts["through_x"]], softmax)
    (res,) = predict_files([parts["through_x"]], multi)

    assert plain.predicted_set == ("x_plus",) and "set:" not in format_prediction(plain)
    assert res.label == "x_plus" and res.predicted_set == ("x_plus", "x_minus", "z_plus")
    assert res.to_dict()["predicted_set"] == ["x_plus", "x_minus", "z_plus"]
    assert res.agrees is True  # the top class is compared, not the set
    assert format_prediction(res, top=1) == (
        f"{parts['through_x']}  x_plus  0.900  set: x_plus|x_minus|z_plus  "
        "reachable: x_plus|x_minus"
    )


def _pred(label="x_plus", reachable=None, labels=DIRS, **kw) -> Prediction:
    probs = dict.fromkeys(labels, 0.1) | {label: 0.6}
    probs = dict(sorted(probs.items(), key=lambda kv: -kv[1]))
    return Prediction("p.stl", label, 0.6, probs, reachable=reachable, **kw)


@pytest.mark.parametrize("label", DIRS)
@pytest.mark.parametrize("reachable", [("x_plus", "x_minus"), ("z_plus",), DIRS])
def test_format_flags_a_top_class_outside_the_reachable_set(label, reachable):
    reasons = {d: f"why not {d}" for d in DIRS if d not in reachable}
    pred = _pred(label, reachable, reach_reasons=reasons)

    line = format_prediction(pred, top=1)

    start = f"p.stl  {label}  0.600  reachable: {'|'.join(reachable)}"
    if label in reachable:
        assert pred.agrees is True and line == start
    else:
        assert pred.agrees is False
        assert line == f"{start}  DISAGREES: {label} does not reach every feature (why not {label})"


def test_format_undercut_unknown_classes_and_missing_reasons():
    undercut = _pred("z_plus", (), reach_reasons={d: "shadowed" for d in DIRS})
    assert undercut.agrees is None
    assert format_prediction(undercut, top=1) == (
        "p.stl  z_plus  0.600  reachable: none (no direction reaches every feature)"
    )
    # A model of other classes: the set is shown, but there is nothing to compare.
    toy = _pred("a", ("z_plus",), labels=("a", "b"))
    assert toy.agrees is None
    assert format_prediction(toy) == "p.stl  a  0.600  (b 0.100)  reachable: z_plus"
    # No reason recorded: the flag without parentheses.
    bare = _pred("x_plus", ("z_plus",))
    assert format_prediction(bare, top=1) == (
        "p.stl  x_plus  0.600  reachable: z_plus  DISAGREES: x_plus does not reach every feature"
    )
    # A long analysis error is cut short in the line, kept whole in JSON.
    long = _pred(reach_error="p.stl: " + "x" * 200)
    line = format_prediction(long, top=1)
    assert line.startswith("p.stl  x_plus  0.600  reachable: ? (xxx") and line.endswith("...)")
    assert len(line) < 130 and long.to_dict()["reach_error"] == "p.stl: " + "x" * 200
    # Not analysed (a PNG): the line of old.
    assert format_prediction(_pred(), top=2) == "p.stl  x_plus  0.600  (x_minus 0.100)"


def test_cli_reach_fields_flag_and_summary(parts, monkeypatch, capsys):
    import train.inference

    model = _fake_model(_one_hot("x_plus"))
    monkeypatch.setattr(train.inference, "load_model", lambda *a, **k: model)
    meshes = [str(parts[n]) for n in ("blind_z", "through_x", "undercut")]

    assert cli(["predict", *meshes, "--json"]) == 0
    out = _json_out(capsys)
    assert [r["reachable"] for r in out] == [["z_plus"], ["x_plus", "x_minus"], []]
    assert [r["agrees"] for r in out] == [False, True, None]
    assert [r["predicted_set"] for r in out] == [["x_plus"]] * 3
    assert [r["reach_error"] for r in out] == [None] * 3
    assert all(r["model"] == "fake" for r in out)

    assert cli(["predict", *meshes, "--json", "--no-reach"]) == 0
    out = _json_out(capsys)
    assert [(r["reachable"], r["agrees"], r["label"]) for r in out] == [(None, None, "x_plus")] * 3

    # Text: one line per mesh on stdout, the disagreements counted on stderr; exit code 0.
    assert cli(["predict", *meshes, "--top", "1"]) == 0
    std, err = capsys.readouterr()
    assert std.splitlines() == [
        f"{meshes[0]}  x_plus  0.600  reachable: z_plus  DISAGREES: x_plus does not reach "
        "every feature (40.0 % of feature area faces away from +X, 60.0 % is shadowed from +X)",
        f"{meshes[1]}  x_plus  0.600  reachable: x_plus|x_minus",
        f"{meshes[2]}  x_plus  0.600  reachable: none (no direction reaches every feature)",
    ]
    assert err.strip() == (
        "metaview predict: 1 of 2 predictions are not among their part's reachable directions"
    )
    assert cli(["predict", *meshes, "--no-reach"]) == 0
    std, err = capsys.readouterr()
    assert "reachable" not in std and "DISAGREES" not in std and err == ""
