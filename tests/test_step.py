"""STEP input (``.step``, ``.stp``) through cascadio: load, render, reach, normals, predict.

Every STEP file here is written by ``tests/_step_fixtures.py`` from a mesh built in memory;
nothing is downloaded.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import trimesh
from _reach_fixtures import blind_hole_x, t_slot
from _step_fixtures import step_text, write_step
from _train_fixtures import nearest_template_normals, pocketed_box

from geometry.errors import MeshError
from geometry.mesh import STEP_TOL, load_mesh

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cascadio") is None, reason="cascadio is not installed"
)


def _merged(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    out = mesh.copy()
    out.merge_vertices()
    return out


@pytest.mark.parametrize("suffix", [".step", ".stp"])
def test_a_step_file_loads_as_the_same_triangles_in_millimetres(tmp_path, suffix):
    part = _merged(trimesh.Trimesh(*pocketed_box("y_plus")))
    path = write_step(tmp_path / f"part{suffix}", (part.vertices, part.faces))
    mesh = load_mesh(path)
    assert len(mesh.faces) == len(part.faces) and mesh.is_watertight
    np.testing.assert_allclose(mesh.bounds, part.bounds, atol=1e-5)  # mm, as written
    assert mesh.area == pytest.approx(part.area, rel=1e-6)
    assert mesh.volume == pytest.approx(part.volume, rel=1e-6)  # wound outwards


def test_a_curved_step_part_is_tessellated_to_the_tolerance(tmp_path):
    # A faceted B-rep is planar everywhere: the tolerance then changes nothing, but a
    # value out of range is refused, naming the file.
    part = _merged(blind_hole_x())
    path = write_step(tmp_path / "hole.step", (part.vertices, part.faces))
    assert len(load_mesh(path, step_tol=0.001).faces) == len(load_mesh(path).faces)
    with pytest.raises(MeshError, match=r"hole\.step.*tolerance above 0"):
        load_mesh(path, step_tol=0)


def test_bad_step_files_are_one_clear_error_naming_the_file(tmp_path):
    part = _merged(trimesh.Trimesh(*pocketed_box()))
    other = trimesh.creation.box(extents=(5, 5, 5))
    other.apply_translation((60, 0, 0))
    two = write_step(
        tmp_path / "assembly.step", (part.vertices, part.faces), (other.vertices, other.faces)
    )
    with pytest.raises(
        MeshError, match=r"assembly\.step: expected one solid, found 2 separate bodies"
    ):
        load_mesh(two)
    cut = tmp_path / "cut.step"
    cut.write_text(step_text((part.vertices, part.faces))[:2000])
    with pytest.raises(MeshError, match=r"cut\.step: OpenCASCADE could not read the STEP file: "):
        load_mesh(cut)
    notstep = tmp_path / "notes.stp"
    notstep.write_text("solid nope\nendsolid\n")
    with pytest.raises(MeshError, match=r"notes\.stp: expected a STEP file \(ISO-10303-21"):
        load_mesh(notstep)


def test_reach_and_normals_read_step_as_they_read_stl(tmp_path):
    from geometry.normals import mesh_features
    from geometry.reach import reach_file

    for label, mesh in (
        ("t", t_slot(open_ends=True)),
        ("p", trimesh.Trimesh(*pocketed_box("x_minus"))),
    ):
        mesh = _merged(mesh)
        stl = tmp_path / f"{label}.stl"
        mesh.export(stl)
        step = write_step(tmp_path / f"{label}.step", (mesh.vertices, mesh.faces))
        assert reach_file(step).valid == reach_file(stl).valid
        # glTF carries float32 vertices: a share of 1e-8 becomes 1e-4 under the square root.
        np.testing.assert_allclose(mesh_features(step), mesh_features(stl), atol=1e-3)


def test_a_step_file_and_an_stl_of_one_part_get_the_same_prediction(tmp_path):
    from train.inference import predict_files

    loaded = nearest_template_normals()
    files = []
    for label in ("x_plus", "y_minus", "z_plus"):
        part = _merged(trimesh.Trimesh(*pocketed_box(label)))
        part.export(tmp_path / f"{label}.stl")
        files += [
            tmp_path / f"{label}.stl",
            write_step(tmp_path / f"{label}.step", (part.vertices, part.faces)),
        ]
    preds = predict_files(files, loaded)
    assert all(p.ok for p in preds), [p.error for p in preds]
    for stl, step in zip(preds[::2], preds[1::2], strict=True):
        assert step.label == stl.label == step.reachable[0]
        for k, v in stl.probabilities.items():
            assert step.probabilities[k] == pytest.approx(v, abs=1e-4)


def test_render_takes_step_files_records_the_tolerance_and_lists_a_broken_one(gl_backend, tmp_path):
    from metaimage import io as mio
    from render.batch import render_folder
    from render.config import RenderConfig

    part = _merged(trimesh.Trimesh(*pocketed_box("z_plus")))
    parts = tmp_path / "parts"
    write_step(parts / "z_plus" / "good.step", (part.vertices, part.faces))
    part.export(parts / "z_plus" / "same.stl")
    (parts / "z_plus" / "broken.stp").write_text(
        "ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n#1=JUNK(;\n"
    )
    cfg = RenderConfig(tile=16, rows=2, cols=2, variants=1, backend=gl_backend, step_tol=0.05)
    result = render_folder(parts, tmp_path / "data", cfg, workers=1)
    assert result.rendered == 2 and len(result.failed) == 1
    errors = mio.read_csv(tmp_path / "data" / "errors.csv", required=mio.ERROR_COLUMNS)
    assert [e["source"] for e in errors] == ["z_plus/broken.stp"]
    assert "broken.stp" in errors[0]["error"] and "STEP" in errors[0]["error"]
    meta = mio.read_json(tmp_path / "data" / "metaimage.json")
    assert meta["config"]["step_tol"] == 0.05
    step_png = mio.read_png(tmp_path / "data" / "z_plus" / "good_v0.png")
    stl_png = mio.read_png(tmp_path / "data" / "z_plus" / "same_v0.png")
    assert np.array_equal(step_png, stl_png)  # the same part, the same pixels


def test_the_default_tolerance_keeps_the_render_hash():
    from render.config import RenderConfig

    assert RenderConfig().config_hash() == RenderConfig(step_tol=STEP_TOL).config_hash()
    assert RenderConfig().config_hash() != RenderConfig(step_tol=0.5).config_hash()
