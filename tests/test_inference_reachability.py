"""The reachable set of each predicted mesh beside its answer (train.inference.reachability).

The tests use a stand-in model (a fixed output row, no TensorFlow) of the ``normals``
family, which reads the mesh itself: nothing is rendered. Their parts are a 40 x 30 x 20
block with holes cut by manifold3d, whose reachable sets are known by construction (as in
tests/test_reach.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import cli, metaimage_dict

from metaimage.io import write_png
from train.inference.loaded import LoadedModel
from train.inference.predict import predict_files
from train.inference.prediction import format_prediction

DIRS = ("x_plus", "x_minus", "y_plus", "y_minus", "z_plus")  # the classes, in class order

pytestmark = pytest.mark.tf


def _json_out(capsys) -> list[dict]:
    return json.loads(capsys.readouterr().out)


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
