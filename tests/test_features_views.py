"""The view-pooled family: where each tile looks, the weights per direction, the per-tile
backbone, and a model that learns, predicts and keeps memory bounded at the default size."""

from __future__ import annotations

import numpy as np
import pytest
from _render_fixtures import binary_stl, box_triangles, gl_backend, write

from geometry.directions import CLASSES, DIRECTIONS
from render.views import grid_rotations, variant_rotation, view_rotations
from train.errors import TrainError
from train.features import views as V

__all__ = ["gl_backend"]

LABELS = sorted(CLASSES)  # a dataset's class order


@pytest.mark.parametrize("variant", [0, 1, 2])
def test_a_face_faces_a_tile_exactly_when_the_renderer_turns_it_to_the_camera(variant):
    """For any normal n, the renderer's camera-space z of n (tile k's rotation R_k Q) is
    n . t_k: the tile directions are the render's own geometry, for every variant."""
    rng = np.random.default_rng(variant)
    t = V.tile_directions(5, 5, 3, "x_plus/0007", variant)
    rot = grid_rotations(5, 5, variant_rotation(3, "x_plus/0007", variant))
    normals = rng.standard_normal((50, 3))
    np.testing.assert_allclose((rot @ normals.T)[:, 2, :], t @ normals.T, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-12)
    if variant == 0:  # the canonical grid: the render's backward axes, unturned
        np.testing.assert_allclose(t, view_rotations(5, 5)[:, 2, :], atol=1e-12)


def test_weights_sum_to_one_and_only_tiles_facing_the_direction_count():
    t = V.tile_directions(5, 5, 0, "p", 0)
    w = V.view_weights(t, LABELS)
    assert w.shape == (5, 25) and w.dtype == np.float32
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-6)
    for c, name in enumerate(LABELS):
        cos = t @ np.array(DIRECTIONS[name], float)
        assert np.all(w[c][cos <= V.FLOOR] == 0) and np.all(w[c][cos > V.FLOOR] > 0)
        assert cos[np.argmax(w[c])] == pytest.approx(cos.max())  # the squarest view weighs most
    # Row 2, column 0 looks from elevation 0 and azimuth 0: straight at +X.
    assert np.argmax(w[LABELS.index("x_plus")]) == 2 * 5 + 0
    # The rows follow the labels' order.
    np.testing.assert_array_equal(V.view_weights(t, LABELS[::-1]), w[::-1])


def test_pooling_is_the_weighted_sum_of_each_directions_tiles():
    rng = np.random.default_rng(0)
    tiles = rng.random((3, 25, 7)).astype(np.float32)
    w = np.stack([V.view_weights(V.tile_directions(5, 5, 0, f"p{i}", i), LABELS) for i in range(3)])
    f = V.pool_views(tiles, w)
    assert f.shape == (3, 5 * 7) and f.dtype == np.float32
    for i in range(3):
        for c in range(5):
            expect = sum(w[i, c, k] * tiles[i, k] for k in range(25))
            np.testing.assert_allclose(f[i, c * 7 : (c + 1) * 7], expect, rtol=1e-5)
    with pytest.raises(TrainError, match=r"tiles \(n, T, D\)"):
        V.pool_views(tiles, w[:, :, :24])


def test_other_classes_and_a_missing_render_config_are_refused():
    with pytest.raises(TrainError, match="five directions.*red, green"):
        V.check_classes(["red", "green"], "DATA")
    with pytest.raises(TrainError, match="render config"):
        V.grid_and_seed({"grid": [5, 5]})


@pytest.mark.gl
def test_the_tiles_that_face_x_show_the_x_colour_in_a_rendered_variant(gl_backend, tmp_path):
    """A box rendered as a turned variant: its +X face's colour is in tile k exactly where
    t_k looks at +X (by more than a sliver), and absent where it looks away."""
    from metaimage.io import read_png
    from render import RenderConfig
    from render.batch import render_folder

    write(tmp_path / "in" / "x_plus" / "box.stl", binary_stl(box_triangles((1.0, 0.8, 0.6))))
    cfg = RenderConfig(variants=2, tile=32, rows=5, cols=5, backend=gl_backend)
    render_folder(tmp_path / "in", tmp_path / "out", cfg, workers=1, progress=False)
    image = read_png(tmp_path / "out" / "x_plus" / "box_v1.png").astype(int)
    t = V.tile_directions(5, 5, cfg.seed, "x_plus/box", 1)
    x_colour = np.array([255, 128, 128])
    for k in range(25):
        i, j = divmod(k, 5)
        tile = image[i * 32 : (i + 1) * 32, j * 32 : (j + 1) * 32]
        shown = np.all(np.abs(tile - x_colour) <= 2, axis=-1).sum()
        if t[k, 0] > 0.2:
            assert shown > 0, (k, t[k])
        elif t[k, 0] < -0.05:
            assert shown == 0, (k, t[k])


@pytest.mark.tf
def test_the_tile_backbone_keeps_the_tiles_apart_and_its_maximum_is_the_image_models_pool():
    from train.models import classifier, create_model
    from train.models.efficientnet_lite import build_tile_backbone

    tiles = build_tile_backbone("efficientnet-lite0", 160, 5, 5)
    assert tuple(tiles.output.shape) == (None, 25, V.TILE_DIM)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (2, 160, 160, 3)).astype(np.float32)
    g = np.asarray(tiles(x))
    pooled = classifier.feature_extractor(
        create_model("efficientnet-lite0", 5, 160, "imagenet", 0.2)
    )
    np.testing.assert_allclose(g.max(axis=1), np.asarray(pooled(x)), rtol=1e-5, atol=1e-5)
    # Only tile 7 (row 1, column 2) differs from a black image: its features move most.
    black = np.zeros((1, 160, 160, 3), np.float32)
    one = black.copy()
    one[0, 32:64, 64:96] = 255.0
    change = np.abs(np.asarray(tiles(one)) - np.asarray(tiles(black)))[0].sum(axis=1)
    assert int(np.argmax(change)) == 7
    with pytest.raises(TrainError, match="does not split"):
        build_tile_backbone("efficientnet-lite0", 96, 5, 5)


# -- a real run at the default render size ----------------------------------------------------


@pytest.fixture(scope="module")
def views_run(tmp_path_factory, gl_backend):
    """``metaview synth`` parts (12 a class) rendered at the default 960 px (one variant a
    part), a view-pooled run on them, and 20 fresh parts never seen: (result, base, uri)."""
    from assets.synth import synth_parts
    from assets.synth_config import SynthConfig
    from render import RenderConfig
    from render.batch import render_folder
    from train import fit
    from train.config import TrainConfig

    base = tmp_path_factory.mktemp("views")
    synth_parts(base / "parts", SynthConfig(per_class=12, seed=41))
    synth_parts(base / "fresh", SynthConfig(per_class=4, seed=42))
    cfg = RenderConfig(variants=1, backend=gl_backend)
    assert cfg.rows * cfg.tile == 960  # the default render
    render_folder(base / "parts", base / "data", cfg, workers=1, progress=False)
    uri = f"sqlite:///{base / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        config = TrainConfig(model="efficientnet-lite0-views", seed=0)
        result = fit.train(config, base / "data", tracking_uri=uri, run_name="views")
    return result, base, uri


@pytest.mark.tf
@pytest.mark.gl
@pytest.mark.slow
def test_a_views_run_finds_the_direction_of_parts_it_never_saw(views_run, monkeypatch):
    """20 fresh parts (chance 0.2; a part with several valid directions counts when the top
    one is among them): rendered and predicted from their meshes."""
    from assets.partsfile import read_parts_csv
    from train.inference import load_model
    from train.inference.predict import predict_files

    result, base, uri = views_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = load_model(result.run_id)
    assert loaded.features == "efficientnet-lite0-views"
    parts = read_parts_csv(base / "fresh" / "parts.csv")
    preds = predict_files([base / "fresh" / p["file"] for p in parts], loaded, reach=False)
    assert all(p.ok for p in preds), [p.error for p in preds if not p.ok]
    hits = [p.label in part["valid"] for p, part in zip(preds, parts, strict=True)]
    assert np.mean(hits) >= 0.7, [(p.file, p.label) for p in preds]


@pytest.mark.tf
@pytest.mark.gl
@pytest.mark.slow
def test_a_rendered_png_predicts_as_its_mesh_and_a_loose_one_is_refused(
    views_run, monkeypatch, tmp_path
):
    """Variant 0 is the same picture from a mesh or its dataset's PNG, so the same answer;
    a PNG outside a dataset folder cannot say where its tiles look from."""
    import shutil

    from train.inference import load_model
    from train.inference.predict import predict_files

    result, base, uri = views_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = load_model(result.run_id)
    png = base / "data" / "y_minus" / "0002_v0.png"
    loose = shutil.copy(png, tmp_path / "0002_v0.png")
    from_png, from_mesh, alone = predict_files(
        [png, base / "parts" / "y_minus" / "0002.stl", loose], loaded, reach=False
    )
    assert from_png.ok and from_mesh.ok
    for label in loaded.labels:
        assert from_png.probabilities[label] == pytest.approx(
            from_mesh.probabilities[label], abs=1e-4
        )
    assert not alone.ok and str(loose) in alone.error and "which view" in alone.error


@pytest.mark.tf
@pytest.mark.gl
@pytest.mark.slow
def test_views_predict_memory_at_the_default_size_is_bounded_by_pixels(views_run, tmp_path):
    """``metaview predict`` of 2 and of 12 960 px meta-images: the same peak (the backbone
    runs in batches bounded by pixels), under 3 GB."""
    import json

    from _toy_fixtures import run_with_peak

    result, base, uri = views_run
    pngs = sorted(str(p) for p in (base / "data").glob("*/*.png"))
    peaks = {}
    for n in (2, 12):
        code, peak, out, err = run_with_peak(
            ["predict", "--tracking-uri", uri, "--model", result.run_id, "--json", *pngs[:n]],
            tmp_path,
        )
        assert code == 0, err
        assert [r["error"] for r in json.loads(out)] == [None] * n
        peaks[n] = peak
    assert peaks[12] < peaks[2] + 0.5 * 1e9, peaks
    assert peaks[12] < 3e9, peaks


@pytest.mark.tf
@pytest.mark.gl
@pytest.mark.slow
def test_explain_shows_each_views_share_for_a_views_run(views_run, monkeypatch, tmp_path):
    import json

    from train.explain.report import explain_files
    from train.inference import load_model

    result, base, uri = views_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = load_model(result.run_id)
    items = explain_files([base / "fresh" / "z_plus" / "0001.stl"], loaded, tmp_path / "ex")
    assert [i.evidence for i in items] == ["views"] and items[0].error is None
    assert (tmp_path / "ex" / items[0].picture).stat().st_size > 10_000
    listed = json.loads((tmp_path / "ex" / "explain.json").read_text())
    assert "views" in json.dumps(listed)


# -- the combined family, on the same render (its view features come from the same cache) -----


@pytest.fixture(scope="module")
def combined_run(views_run):
    """A ``efficientnet-lite0-views-normals`` run on the views run's dataset: (result,
    base, uri)."""
    from train import fit
    from train.config import TrainConfig

    _, base, uri = views_run
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        config = TrainConfig(model=V.COMBINED, seed=0)
        result = fit.train(config, base / "data", tracking_uri=uri, run_name="combined")
    return result, base, uri


@pytest.mark.tf
@pytest.mark.gl
@pytest.mark.slow
def test_a_combined_run_finds_the_direction_of_fresh_meshes_and_reads_a_pngs_mesh(
    combined_run, monkeypatch, tmp_path
):
    """20 fresh parts predicted from their meshes (chance 0.2); a dataset's PNG predicts as
    its mesh (the manifest names it); a loose PNG has neither views nor mesh and is refused,
    naming the file; explain counts both parts."""
    import shutil

    from assets.partsfile import read_parts_csv
    from train.explain.report import explain_files
    from train.inference import load_model
    from train.inference.predict import predict_files

    result, base, uri = combined_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    loaded = load_model(result.run_id)
    assert loaded.features == V.COMBINED
    parts = read_parts_csv(base / "fresh" / "parts.csv")
    png = base / "data" / "y_minus" / "0002_v0.png"
    loose = shutil.copy(png, tmp_path / "0002_v0.png")
    *preds, from_png, from_mesh, alone = predict_files(
        [
            *(base / "fresh" / p["file"] for p in parts),
            png,
            base / "parts" / "y_minus" / "0002.stl",
            loose,
        ],
        loaded,
        reach=False,
    )
    assert all(p.ok for p in preds), [p.error for p in preds if not p.ok]
    hits = [p.label in part["valid"] for p, part in zip(preds, parts, strict=True)]
    assert np.mean(hits) >= 0.7, [(p.file, p.label) for p in preds]
    assert from_png.ok and from_mesh.ok, (from_png.error, from_mesh.error)
    for label in loaded.labels:
        assert from_png.probabilities[label] == pytest.approx(
            from_mesh.probabilities[label], abs=1e-4
        )
    assert not alone.ok and str(loose) in alone.error and "which view" in alone.error
    mesh = base / "parts" / "y_minus" / "0003.stl"
    mesh.rename(mesh.with_suffix(".moved"))
    try:  # a PNG whose mesh moved: an error naming both, not a guess from the image alone
        (gone,) = predict_files([base / "data" / "y_minus" / "0003_v0.png"], loaded, reach=False)
    finally:
        mesh.with_suffix(".moved").rename(mesh)
    assert not gone.ok and "0003_v0.png" in gone.error and f"{mesh} is gone" in gone.error
    # Without TensorFlow's model: the head in NumPy, the per-tile backbone that the features
    # were computed with (converted and cached by the run): the same answers.
    from train.runtimes import resolve

    if resolve("auto") == "tensorflow":  # no converted backbone without LiteRT or OpenVINO
        return
    fast = load_model(result.run_id, need_keras=False)
    assert fast.kind == "compact" and fast.features == V.COMBINED
    again = predict_files([base / "fresh" / p["file"] for p in parts[:3]], fast, reach=False)
    for a, b in zip(again, preds, strict=False):
        for label in loaded.labels:
            assert a.probabilities[label] == pytest.approx(b.probabilities[label], abs=1e-4)
    items = explain_files([base / "fresh" / "z_plus" / "0001.stl", png], loaded, tmp_path / "ex")
    assert [(i.evidence, i.error) for i in items] == [("views", None)] * 2
    assert all("face normals of the mesh add" in i.note for i in items), [i.note for i in items]
