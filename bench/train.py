"""Training benchmark: model throughput vs input pipeline, and accuracy on synthetic parts.

Throughput (default)::

    .venv/bin/python bench/train.py                   # B0, batch 16, at 224 and 128 px
    .venv/bin/python bench/train.py --sizes 224 --data data/   # on a rendered dataset

- model: training images/s of EfficientNet-B0 (weights none, so no network is
  needed; same cost as ImageNet weights trained in full) at batch 16, fed from
  memory so only the model is timed; the first (tracing) step is excluded.
- pipeline: images/s of the training tf.data pipeline alone (read PNG, decode,
  tile shuffle, batch, resize, prefetch), over meta-image PNGs on disk. It must
  be at least 5x the model's, so the CPU never waits on data.

Without ``--data`` the PNGs are generated: 10x10 grids of 64 px tiles (640 px,
the render default), each tile a few flat-coloured faces on black, so they
compress like real meta-images.

Accuracy (``--accuracy``)::

    .venv/bin/python bench/train.py --accuracy --work /tmp/bench_acc

runs ``metaview synth OUT/parts --per-class 200``, ``metaview render`` (tile
``--tile``, grid ``--grid``; default 64 px tiles in a 5x5 grid, so that a
2-core CPU can train at 160 px with 32 px per view) and ``metaview train --weights none`` at
``--image-size``, then prints test accuracy and macro F1 on held-out parts.
Steps already done in ``--work`` are reused.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _fake_pngs(folder: Path, n: int, rows: int = 10, cols: int = 10, tile: int = 64) -> list[Path]:
    import numpy as np

    from metaimage.io import write_png

    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(6, 3))
    paths = []
    for i in range(n):
        img = np.zeros((rows * tile, cols * tile, 3), np.uint8)
        for r in range(rows):
            for c in range(cols):
                for _ in range(3):
                    h, w = rng.integers(tile // 4, tile, 2)
                    y, x = rng.integers(0, tile - h + 1), rng.integers(0, tile - w + 1)
                    y0, x0 = r * tile + y, c * tile + x
                    img[y0 : y0 + h, x0 : x0 + w] = colours[rng.integers(len(colours))]
        paths.append(write_png(folder / f"{i:04d}.png", img))
    return paths


def model_images_per_s(size: int, batch: int, steps: int, n_classes: int = 5) -> float:
    """Training images/s of B0 (weights none) at ``size`` px, batch ``batch``, data in memory."""
    import keras
    import numpy as np
    import tensorflow as tf

    from train import loop
    from train.models import create_model

    keras.utils.set_random_seed(0)
    net = create_model("efficientnet-b0", n_classes, size, "none")
    loop._compile(net, 1e-3, n_classes)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch, size, size, 3)).astype("float32")
    y = rng.integers(0, n_classes, batch).astype("int32")
    ds = tf.data.Dataset.from_tensors((x, y)).repeat()
    net.fit(ds, steps_per_epoch=2, epochs=1, verbose=0)  # tracing, excluded
    t = time.perf_counter()
    net.fit(ds, steps_per_epoch=steps, epochs=1, verbose=0)
    return steps * batch / (time.perf_counter() - t)


def pipeline_images_per_s(paths, grid, size: int, batch: int, epochs: int) -> float:
    """Images/s of the training tf.data pipeline alone (decode, tile shuffle, resize)."""
    from train import pipeline

    ds = pipeline.make_dataset(
        paths, [0] * len(paths), image_size=size, grid=grid, batch_size=batch, training=True
    )
    for _ in ds.take(1):  # warm-up: graph building
        pass
    n = 0
    t = time.perf_counter()
    for _ in range(epochs):
        for x, _y in ds:
            n += int(x.shape[0])
    return n / (time.perf_counter() - t)


def throughput(args) -> dict:
    import numpy as np

    if args.data:
        from train import data

        ds = data.load_dataset(args.data, check_images=False)
        paths = [ds.root / r["path"] for r in ds.rows]
        grid = ds.grid
        source = f"{len(paths)} PNGs of {args.data} ({ds.meta['image_size']} px)"
        tmp = None
    else:
        tmp = tempfile.TemporaryDirectory()
        paths = _fake_pngs(Path(tmp.name), args.n_images)
        grid = (10, 10)
        source = f"{len(paths)} generated 640x640 PNGs (10x10 grid of 64 px tiles)"
    print(f"input: {source}")
    results = {"source": source, "batch": args.batch, "sizes": {}}
    for size in args.sizes:
        pipe = pipeline_images_per_s(paths, grid, size, args.batch, args.pipeline_epochs)
        mod = model_images_per_s(size, args.batch, args.steps)
        ratio = pipe / mod
        ok = "ok" if ratio >= 5 else "TOO SLOW"
        print(
            f"B0 @ {size:>3} px, batch {args.batch}: model {mod:7.1f} img/s | pipeline "
            f"{pipe:7.1f} img/s | pipeline/model {ratio:5.1f}x ({ok}: needs >= 5x)"
        )
        results["sizes"][size] = {"model_img_s": mod, "pipeline_img_s": pipe, "ratio": ratio}
    if tmp is not None:
        tmp.cleanup()
    results["cpu_count"] = os.cpu_count()
    results["numpy"] = np.__version__
    return results


def _metaview(*argv: str) -> None:
    cmd = [sys.executable, "-m", "metaview", *argv]
    print("$ metaview " + " ".join(argv), flush=True)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=REPO)
    print(f"  ({time.perf_counter() - t:.0f} s)", flush=True)


def accuracy(args) -> dict:
    work = Path(args.work).resolve()
    parts, data_dir = work / "parts", work / f"data_t{args.tile}_g{args.grid}"
    if not (parts / "parts.csv").exists():
        _metaview("synth", str(parts), "--per-class", str(args.per_class), "--seed", "7")
    if not (data_dir / "manifest.csv").exists():
        _metaview(
            "render",
            str(parts),
            str(data_dir),
            "--tile",
            str(args.tile),
            "--grid",
            args.grid,
            "--no-progress",
        )
    from train import fit
    from train.config import TrainConfig

    cfg = TrainConfig(
        model="efficientnet-b0",
        weights="none",
        image_size=args.image_size,
        epochs=args.epochs,
        patience=args.patience,
        batch_size=args.batch,
        shuffle_tiles=args.shuffle_tiles,
    )
    uri = f"sqlite:///{work / 'mlflow.db'}"
    print(f"training B0 from scratch at {args.image_size} px for up to {args.epochs} epochs")
    os.chdir(work)  # MLflow artifacts go to work/mlruns
    res = fit.train(cfg, data_dir, tracking_uri=uri, experiment="bench", verbose=2)
    m = res.metrics
    print(
        f"test accuracy {m['test_accuracy']:.4f}, macro F1 {m['test_f1_macro']:.4f} "
        f"(target >= 0.95), best epoch {int(m['best_epoch'])}, {m['train_seconds']:.0f} s; "
        f"run {res.run_id} in {uri}"
    )
    return {"run_id": res.run_id, **m}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[224, 128], help="input sizes")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=10, help="timed training steps per size")
    p.add_argument("--data", help="a rendered dataset folder (default: generated PNGs)")
    p.add_argument("--n-images", type=int, default=96, help="generated PNGs")
    p.add_argument("--pipeline-epochs", type=int, default=2)
    p.add_argument("--accuracy", action="store_true", help="run the accuracy benchmark")
    p.add_argument("--work", default="bench/out/accuracy", help="accuracy: working folder")
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--tile", type=int, default=64, help="accuracy: render tile size")
    p.add_argument("--grid", default="5x5", help="accuracy: render grid ROWSxCOLS")
    p.add_argument("--image-size", type=int, default=160)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--no-shuffle-tiles", dest="shuffle_tiles", action="store_false")
    p.add_argument("--json", help="also write the results to this JSON file")
    args = p.parse_args()
    results = accuracy(args) if args.accuracy else throughput(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
