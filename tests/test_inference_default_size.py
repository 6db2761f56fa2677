"""The default model at the default size: 960 px meta-images through predict and export.

Small test images hide what users hit: at 960 px one eager forward pass of Lite0 holds
gigabytes, and a batch of 32 does not fit in a 24 GB machine. These tests run the real
commands in a subprocess on 960 px meta-images (a 5x5 grid of 192 px tiles, the default
render) with an EfficientNet-Lite0 classifier at 960 px (the default model and runtime;
random weights, which cost the same memory as ImageNet's), and read the subprocess's peak
resident memory from ``getrusage``:

- ``metaview predict`` peaks the same (within a margin) for 2 and for 12 meta-images:
  memory is bounded by pixels, not by the number of inputs; and stays under 3 GB;
- ``metaview export --quantize int8`` stays under 4 GB, writes the model and its sidecar,
  and the ``.tflite`` file then predicts.

The bounds carry a margin over what was measured (docs/use.md: "Memory"), so that a loaded
machine does not fail them; a regression to unbatched or eager calls exceeds them by
gigabytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _toy_fixtures import log_fake_run, metaimage_dict, run_with_peak, toy_image, toy_split

from metaimage.io import read_png, write_json, write_manifest, write_png

pytestmark = [pytest.mark.tf, pytest.mark.slow]

GRID, TILE = (5, 5), 192  # the default render: 960 px meta-images
SIZE = GRID[0] * TILE
LABELS = ("blue", "green", "red")
GB = 1e9


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """A 960 px dataset (3 classes x 6 parts) and a Lite0 run on it: (folder, uri, run id)."""
    from train.models import create_model

    root = tmp_path_factory.mktemp("default-size")
    data = root / "data"
    rng = np.random.default_rng(0)
    rows = []
    for label in LABELS:
        for i in range(6):
            rel = f"{label}/{i:04d}_v0.png"
            write_png(data / rel, toy_image(label, rng, tile=TILE, grid=GRID))
            rows.append(
                {"path": rel, "label": label, "source": f"{label}/{i:04d}.stl",
                 "part_id": f"{label}/{i:04d}", "variant": 0, "faces_in": 12, "faces_out": 12,
                 "render_s": 0.0, "config_hash": metaimage_dict(TILE, GRID)["config_hash"]}
            )  # fmt: skip
    write_manifest(data, rows)
    meta = metaimage_dict(TILE, GRID)
    write_json(data / "metaimage.json", meta)
    net = create_model("efficientnet-lite0", len(LABELS), SIZE, "none", 0.2)
    assert tuple(net.input_shape) == (None, SIZE, SIZE, 3)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    run_id = log_fake_run(
        uri,
        metrics={"best_val_f1_macro": 0.5, "best_val_loss": 1.0},
        model=net,
        labels=LABELS,
        metaimage=meta,
        split=toy_split(6, n_test=2, n_val=1) | {"seed": 0},
        dataset=data,
        params={"runtime": "auto"},  # the default: LiteRT where it is installed
    )
    return data, uri, run_id


def _pngs(data: Path, n: int) -> list[str]:
    return sorted(str(p) for p in data.glob("*/*.png"))[:n]


def test_predict_memory_is_bounded_by_pixels_not_inputs(default_run, tmp_path, monkeypatch):
    data, uri, run_id = default_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    peaks = {}
    for n in (2, 12):
        code, peak, out, err = run_with_peak(
            ["predict", "--model", run_id, "--json", *_pngs(data, n)], tmp_path
        )
        assert code == 0, err
        results = json.loads(out)
        assert len(results) == n and all(r["error"] is None for r in results)
        assert all(r["label"] in LABELS for r in results)
        peaks[n] = peak
    # Six times the inputs, the same memory: 12 meta-images at once would add over 10 GB.
    assert peaks[12] < peaks[2] + 0.5 * GB, peaks
    assert peaks[12] < 3 * GB, peaks


def test_a_run_with_a_compact_head_predicts_the_same_without_tensorflow(
    default_run, tmp_path, monkeypatch
):
    """The same model logged with ``head.npz`` (as ``metaview train`` logs a LiteRT run):
    predict loads no Keras model, answers as the Keras model does, and peaks far lower."""
    import mlflow

    from train import runtimes
    from train.inference import compact
    from train.inference.loading import load_model
    from train.models import classifier

    if not runtimes.available("litert"):
        pytest.skip("ai-edge-litert is not installed")
    data, uri, run_id = default_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    net = load_model(run_id).keras_model
    runtimes.backbone_runner(classifier.feature_extractor(net), "litert")  # as training does
    head = tmp_path / compact.HEAD_ARTIFACT
    assert compact.write_head(net, "litert", head)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_artifact(str(head))
    pngs = _pngs(data, 2)
    want = load_model(run_id).predict(np.stack([np.asarray(read_png(p), np.float32) for p in pngs]))
    code, peak, out, err = run_with_peak(
        ["-v", "predict", "--model", run_id, "--json", *pngs], tmp_path
    )
    assert code == 0, err
    assert "loaded compact model" in err
    results = json.loads(out)
    got = np.asarray([[r["probabilities"][lab] for lab in LABELS] for r in results])
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert peak < 1.5 * GB, peak  # measured 0.6 GB; the Keras path about 1.2 GB


def test_export_int8_memory_is_bounded_and_writes_a_usable_pair(default_run, tmp_path, monkeypatch):
    data, uri, run_id = default_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    out = tmp_path / "int8.tflite"
    code, peak, text, err = run_with_peak(
        ["export", "--model", run_id, "--quantize", "int8", "--representative", "4",
         "--no-log", str(out)],
        tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert peak < 4 * GB, peak
    side = json.loads(out.with_name(out.name + ".json").read_text())
    assert side["report"]["n_test"] == 6 and side["image_size"] == SIZE
    assert 0.0 <= side["report"]["agreement"] <= 1.0
    assert "top-1 agreement with keras" in text

    from train.inference.loading import load_model

    loaded = load_model(str(out))
    assert loaded.kind == "tflite" and loaded.image_size == SIZE


def test_explain_at_the_default_size_is_bounded_by_pixels(default_run, tmp_path, monkeypatch):
    """Grad-CAM on 960 px meta-images: one picture per input, the same peak for 1 and 4."""
    data, uri, run_id = default_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    peaks = {}
    for n in (1, 4):
        out_dir = tmp_path / f"why{n}"
        code, peak, out, err = run_with_peak(
            ["explain", "--model", run_id, "--out", str(out_dir), *_pngs(data, n)], tmp_path
        )
        assert code == 0, err
        summary = json.loads((out_dir / "explain.json").read_text())
        assert len(summary) == n and all(s["evidence"] == "grad-cam" for s in summary)
        assert all((out_dir / s["picture"]).is_file() for s in summary)
        peaks[n] = peak
    assert peaks[4] < peaks[1] + 0.5 * GB, peaks
    assert peaks[4] < 3 * GB, peaks
