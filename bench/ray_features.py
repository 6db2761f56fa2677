"""Backbone features here against Ray Data on this machine's own Ray, in one run.

    python -m bench.ray_features DATA [--images 48] [--runtime litert] [--repeats 2]

``DATA`` is a rendered dataset (``metaview render``; the default render gives 960 px
meta-images). ``--images`` meta-images, spread over the dataset, are copied into two fresh
folders, so that neither finds a feature cache, and embedded by the frozen backbone of the default
model (EfficientNet-Lite0, ImageNet weights) on ``--runtime``: once in this process
(``executor="local"``), once on a Ray instance started here with one actor per CPU
(``executor="ray"``). The order alternates over ``--repeats``. Reported per executor: wall
seconds (min, median, max), meta-images a second, and the ratio of Ray's median to the local
median; the features must agree (largest difference printed). Ray's time includes starting
its instance and its actors (each builds the model), which a long run pays once.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def _copy(data: Path, rows: list[dict], dst: Path) -> Path:
    from metaimage.io import write_manifest

    for r in rows:
        (dst / r["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(data / r["path"], dst / r["path"])
    shutil.copy2(data / "metaimage.json", dst / "metaimage.json")
    write_manifest(dst, rows)
    return dst


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path)
    p.add_argument("--images", type=int, default=48)
    p.add_argument("--runtime", default="auto")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)

    from base.native import allow_gl_and_tensorflow

    allow_gl_and_tensorflow()
    from train import featurize, runtimes
    from train.data import load_dataset
    from train.models import classifier, create_model

    src = load_dataset(args.data)
    step = max(1, len(src.rows) // args.images)  # spread over the classes (rows go by class)
    rows = src.rows[::step][: args.images]
    size = int(src.meta["image_size"][0])
    resolved = runtimes.resolve(args.runtime)
    net = create_model("efficientnet-lite0", n_classes=5, image_size=size, weights="imagenet")
    extractor = classifier.feature_extractor(net)
    times: dict[str, list[float]] = {"local": [], "ray": []}
    feats: dict[str, np.ndarray] = {}
    for rep in range(args.repeats):
        order = ("local", "ray") if rep % 2 == 0 else ("ray", "local")
        for executor in order:
            with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
                ds = load_dataset(_copy(args.data, rows, Path(tmp)))
                t = time.perf_counter()
                feats[executor] = featurize.backbone_features(
                    extractor,
                    ds,
                    ds.rows,
                    model="efficientnet-lite0",
                    weights="imagenet",
                    image_size=size,
                    runtime=resolved,
                    executor=executor,
                    progress=False,
                )
                times[executor].append(time.perf_counter() - t)
    print(f"{len(rows)} meta-images of {size} px, Lite0 on {resolved}, {args.repeats} repeats")
    for executor, ts in times.items():
        med = statistics.median(ts)
        print(
            f"  {executor:5s}  {min(ts):6.1f} / {med:6.1f} / {max(ts):6.1f} s (min/median/max)"
            f"  {len(rows) / med:5.2f} meta-images/s"
        )
    ratio = statistics.median(times["ray"]) / statistics.median(times["local"])
    print(f"  ray / local (median): {ratio:.2f}")
    print(f"  largest feature difference: {np.abs(feats['ray'] - feats['local']).max():.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
