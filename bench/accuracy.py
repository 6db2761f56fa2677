"""Accuracy benchmark: held-out accuracy against training parts per class, split by part.

    .venv/bin/python -m bench.accuracy --work /tmp/bench_acc
    .venv/bin/python -m bench.accuracy --work /tmp/bench_acc --sets hard --models normals

For each synthetic set (``default``: ``metaview synth --per-class P --seed 1001``; ``hard``:
the same with ``--seed 1002 --tilt-deg 5 --distractors 3``), rendered once with the render
defaults, and for each split seed: the parts are split 70/15/15 by part as ``metaview
train`` splits them (stratified, seeded); the test split stays fixed while the training
parts per class grow (the first N of each class's shuffled training parts). Each point
trains the model's head as ``metaview train`` does (:func:`train.loop.fit_head`: the same
standardisation, Adam, batch size, early stopping on the validation split) on features
computed once per meta-image (the frozen backbone's, cached beside the dataset; or a
feature-vector family's), and reports the test accuracy and macro F1 with their spread
over the seeds, and the time: features (per image, times the images of the point) plus
the head's training.

A model name ending in ``+ft`` (``efficientnet-lite0+ft``) adds phase 2 of ``metaview
train --fine-tune-layers N``: after the head, the top ``--ft-layers`` backbone layers
(BatchNorm frozen) train on the training parts' meta-images for up to ``--ft-epochs``
epochs at ``--fine-tune-learning-rate``'s default, and the test parts are scored by the
whole network on their images (by the head on features when phase 2 did not beat phase 1,
as ``metaview train`` does). Its time is measured, not estimated: a CPU needs minutes per
epoch at 960 px, so give it small points (``--curve 25,50``).

A name ending in ``+scratch`` (``efficientnet-b0+scratch``) trains the whole network from
random weights on the training parts' meta-images, as ``metaview train --weights none``
does (:func:`train.loop.fit_images`), at the model's default input size. On a CPU that is
slow and, measured, stays near chance on few parts: it is the curve for a GPU machine.

``NAME@RUNTIME`` (``efficientnet-lite0@openvino-bf16``) computes an image model's features on
that runtime of ``metaview train --runtime`` (:mod:`train.runtimes`; each has its own cache),
so that runtimes compare on the same splits and seeds; without it, ``auto``'s.

No MLflow, no model files: this measures the recipe. The end-to-end number (``metaview
train DATA`` on the full set, with MLflow) is in docs/accuracy.md beside these.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SETS = {
    "default": ["--seed", "1001"],
    "hard": ["--seed", "1002", "--tilt-deg", "5", "--distractors", "3"],
    # Features that open on two sides: parts valid from more than one direction.
    "through": ["--seed", "1011", "--through"],
    "through-hard": ["--seed", "1012", "--through", "--tilt-deg", "5", "--distractors", "3"],
    # Unlike the generator's defaults: plates and bars from 10 to 400 mm, one feature a part,
    # finer circles. Only for testing a model trained on the default set (--transfer).
    "shifted": [
        "--seed", "1003", "--min-side", "10", "--max-side", "400", "--max-features", "1",
        "--segments", "64",
    ],
}  # fmt: skip


def _metaview(*args: str) -> None:
    cmd = [sys.executable, "-m", "metaview", "-q", *args]
    subprocess.run(cmd, check=True)


#: Parts per class of a set used only as a transfer target.
TRANSFER_PER_CLASS = 60


def make_set(work: Path, name: str, per_class: int, render_args: list[str]) -> Path:
    """Synth and render one set (skipped when already there); return the dataset folder."""
    parts, data = work / f"{name}_parts", work / f"{name}_data"
    if name == "shifted":
        per_class = min(per_class, TRANSFER_PER_CLASS)
    if not (parts / "parts.csv").is_file():
        _metaview("synth", str(parts), "--per-class", str(per_class), *SETS[name])
    if not (data / "manifest.csv").is_file():
        _metaview("render", str(parts), str(data), "--no-progress", *render_args)
    return data


def features_for(
    model: str, dataset, meshes: Path, runtime: str = "auto"
) -> tuple[np.ndarray, float]:
    """(features of every row, seconds per meta-image to compute them).

    A family's features are computed afresh (seconds). The backbone's come from the
    dataset's cache for ``runtime`` when it has them (``metaview train`` fills it); their
    cost is timed on a sample of up to 32 meta-images, without the cache.
    """
    from train import featurize, runtimes
    from train.config import TrainConfig
    from train.models import classifier, create_model, get_model_spec

    spec = get_model_spec(model)
    if spec.input_kind == "features":
        for f in dataset.root.glob(f".features-{spec.features}.npz"):
            f.unlink()
        t = time.perf_counter()
        feats = featurize.family_features(
            spec.features, dataset, dataset.rows, meshes=str(meshes), progress=False
        )
        return feats, (time.perf_counter() - t) / max(1, len(dataset.rows))
    cfg = TrainConfig(model=model)
    size = max(int(v) for v in dataset.meta["image_size"])
    net = create_model(model, len(dataset.labels), size, cfg.weights, cfg.dropout)
    extractor = classifier.feature_extractor(net)
    sample = [dataset.root / r["path"] for r in dataset.rows[:32]]
    call, _ = runtimes.backbone_runner(extractor, runtime)
    featurize._run_backbone(call, sample[:2], size, 16, False)  # warm-up (tracing)
    t = time.perf_counter()
    featurize._run_backbone(call, sample, size, 16, False)
    per_image = (time.perf_counter() - t) / len(sample)
    feats = featurize.backbone_features(
        extractor, dataset, dataset.rows, model=model, weights=cfg.weights, image_size=size,
        progress=True, runtime=runtime,
    )  # fmt: skip
    return feats, per_image


def _train_head(
    model: str, labels, feats, y, tr, val, seed: int, objective="label", target=None, tune=None
):
    """Train ``model``'s head as ``metaview train`` does; return it (a model on features).

    ``objective`` and ``target`` (the rows' training targets, :func:`train.labelsets.targets`)
    train a set objective; by default the head learns the primary labels ``y``.

    ``tune = (dataset, layers, epochs)`` adds phase 2 (fine-tuning the top ``layers`` of the
    backbone on the images of the training rows): the return value is then ``(head, net,
    phase2_ran)``, ``net`` the whole image model.
    """
    import keras

    from train.config import TrainConfig
    from train.loop import fit_head
    from train.models import classifier, create_model, get_model_spec
    from train.split import class_weights

    spec = get_model_spec(model)
    cfg = TrainConfig(model=model, seed=seed, objective=objective)
    cfg = cfg.replace(learning_rate=cfg.learning_rate or 1e-3)
    keras.utils.set_random_seed(seed)
    phase2 = None
    if spec.input_kind == "features":
        net = create_model(model, len(labels), spec.input_size, "none", cfg.dropout)
    elif tune is not None:  # the whole image model: phase 2 trains its top on images
        dataset, layers, epochs = tune
        size = max(int(v) for v in dataset.meta["image_size"])
        cfg = cfg.replace(image_size=size, fine_tune_layers=layers, fine_tune_epochs=epochs)
        net = create_model(model, len(labels), size, cfg.weights, cfg.dropout)
        phase2 = _image_batches(
            dataset, {"train": tr, "val": val}, y, size, cfg.batch_size, cfg.shuffle_tiles, seed
        )
    else:  # the image model's head, on its pooled features: "norm" -> dropout -> dense
        net = classifier.feature_head(feats.shape[1], len(labels), cfg.dropout, "head")
    rows_tr = [{"label": labels[i]} for i in y[tr]]
    weights = class_weights(rows_tr, labels) if cfg.class_weights else None
    classifier.set_output_activation(net, "sigmoid" if objective == "sets" else "softmax")
    t = y if target is None else target
    head, history = fit_head(
        net, cfg, (feats[tr], t[tr]), (feats[val], t[val]), class_weight=weights, phase2=phase2
    )
    if tune is not None:
        return head, net, bool(history.get("phase2_ran"))
    return head


def _image_batches(
    dataset, masks: dict, y, image_size: int, batch_size=16, shuffle_tiles=False, seed=0
):
    """``make_dataset(split, training)`` over the meta-images of the rows in ``masks[split]``."""
    from train.pipeline import make_dataset

    def make(split: str, training: bool):
        from train.batching import images_per_batch

        idx = np.flatnonzero(masks[split])
        # Scoring batches are bounded by pixels, as metaview train's are.
        batch = batch_size if training else images_per_batch(image_size, most=batch_size)
        return make_dataset(
            [dataset.root / dataset.rows[i]["path"] for i in idx],
            y[idx],
            image_size=image_size,
            grid=dataset.grid,
            batch_size=batch,
            training=training,
            shuffle_tiles=shuffle_tiles,
            seed=seed,
        )

    return make


def _train_scratch(model: str, dataset, y, tr, val, test, seed: int) -> np.ndarray:
    """Train ``model`` from random weights on images; return the test rows' probabilities."""
    import keras

    from train.config import TrainConfig
    from train.loop import fit_images
    from train.model_setup import SCRATCH_LEARNING_RATE
    from train.models import create_model, get_model_spec, native_size
    from train.split import class_weights

    spec = get_model_spec(model)
    size = max(int(v) for v in dataset.meta["image_size"])
    size = size if spec.full_resolution else native_size(model)
    cfg = TrainConfig(model=model, weights="none", seed=seed, image_size=size)
    cfg = cfg.replace(learning_rate=cfg.learning_rate or SCRATCH_LEARNING_RATE)
    keras.utils.set_random_seed(seed)
    net = create_model(model, len(dataset.labels), size, "none", cfg.dropout)
    labels = list(dataset.labels)
    weights = None
    if cfg.class_weights:
        weights = class_weights([{"label": labels[i]} for i in y[tr]], labels)
    batches = _image_batches(
        dataset, {"train": tr, "val": val, "test": test}, y, size, cfg.batch_size,
        cfg.shuffle_tiles, seed,
    )  # fmt: skip
    fit_images(net, cfg, batches("train", True), batches("val", False), class_weight=weights)
    return np.asarray(net.predict(batches("test", False), verbose=0))


def _score(head, rows, feats, labels, probs=None) -> dict:
    """Accuracy and macro F1 per part: the mean over its meta-images, as metaview train scores.

    ``probs`` (one row per meta-image) replaces the head's predictions on ``feats``.
    """
    from train.evaluate import per_part
    from train.metrics import confusion_matrix, scores_from_confusion

    index = {lab: i for i, lab in enumerate(labels)}
    if probs is None:
        probs = np.asarray(head.predict(feats, verbose=0))
    part_rows, part_probs = per_part(rows, probs)
    y_part = np.asarray([index[r["label"]] for r in part_rows])
    s = scores_from_confusion(confusion_matrix(y_part, part_probs.argmax(axis=1), len(labels)))
    return {"accuracy": s["accuracy"], "f1_macro": s["f1_macro"], "test_parts": len(part_rows)}


def _labels_and_parts(dataset):
    labels = list(dataset.labels)
    index = {lab: i for i, lab in enumerate(labels)}
    y = np.asarray([index[r["label"]] for r in dataset.rows])
    return labels, y, np.asarray([r["part_id"] for r in dataset.rows])


def curve(
    model: str, dataset, feats: np.ndarray, per_image_s: float, ns, seeds, tune=None, label=None
) -> list[dict]:
    """One point per (n, seed): test accuracy, macro F1 and time.

    ``label`` names the rows' model (``model@runtime``); by default ``model``.

    ``tune = (layers, epochs)`` fine-tunes the top of the backbone after the head (phase 2);
    ``tune = "scratch"`` trains the whole network from random weights on images instead (no
    ``feats``, and its time is all training).
    """
    from train.split import split_parts

    labels, y, part = _labels_and_parts(dataset)
    out = []
    for seed in seeds:
        split = split_parts(dataset.part_labels(), 0.15, 0.15, seed)
        rng = np.random.default_rng(seed)
        by_class: dict[str, list[str]] = {}
        for p in sorted(split["train"]):
            by_class.setdefault(dataset.part_labels()[p], []).append(p)
        for lab in by_class:
            rng.shuffle(by_class[lab])
        val, test = np.isin(part, split["val"]), np.isin(part, split["test"])
        test_rows = [r for r, t in zip(dataset.rows, test, strict=True) if t]
        for n in ns:
            chosen = [p for lab in sorted(by_class) for p in by_class[lab][:n]]
            tr = np.isin(part, chosen)
            t = time.perf_counter()
            if tune == "scratch":
                probs = _train_scratch(model, dataset, y, tr, val, test, seed)
                head_s = time.perf_counter() - t
                s = _score(None, test_rows, None, labels, probs)
                name, ran = f"{model}+scratch", None
            elif tune is None:
                head = _train_head(model, labels, feats, y, tr, val, seed)
                head_s = time.perf_counter() - t
                s = _score(head, test_rows, feats[test], labels)
                name, ran = label or model, None
            else:
                head, net, ran = _train_head(
                    model, labels, feats, y, tr, val, seed, tune=(dataset, *tune)
                )
                head_s = time.perf_counter() - t
                probs = None
                if ran:  # scored as metaview train scores: the fine-tuned network on images
                    size = int(net.inputs[0].shape[1])
                    batches = _image_batches(dataset, {"test": test}, y, size)
                    probs = np.asarray(net.predict(batches("test", False), verbose=0))
                s = _score(head, test_rows, feats[test], labels, probs)
                name = f"{model}+ft"
            out.append({
                "model": name, "n_per_class": n, "seed": seed, "train_parts": len(chosen),
                **s, "head_s": head_s,
                "features_s": 0.0 if tune == "scratch" else per_image_s * int(tr.sum() + val.sum()),
                **({} if ran is None else {"phase2_kept": ran}),
            })  # fmt: skip
            print(
                f"{name:24s} n={n:4d} seed={seed} acc {s['accuracy']:.3f} "
                f"f1 {s['f1_macro']:.3f} head {head_s:.1f} s"
                + ("" if ran is None else f" (phase 2 {'kept' if ran else 'not better'})"),
                flush=True,
            )
    return out


def transfer(model: str, train_set, train_feats, targets: dict, seeds) -> list[dict]:
    """Train on ``train_set``'s training split (all its parts), test on every part of others."""
    from train.split import split_parts

    labels, y, part = _labels_and_parts(train_set)
    out = []
    for seed in seeds:
        split = split_parts(train_set.part_labels(), 0.15, 0.15, seed)
        tr, val = np.isin(part, split["train"]), np.isin(part, split["val"])
        head = _train_head(model, labels, train_feats, y, tr, val, seed)
        for name, (ds, feats) in targets.items():
            s = _score(head, ds.rows, feats, labels)
            out.append({
                "set": f"default -> {name}", "model": model, "seed": seed, **s,
                "n_per_class": len(split["train"]) // len(labels), "features_s": 0.0,
                "head_s": 0.0,
            })  # fmt: skip
            print(f"{model:20s} default -> {name}: acc {s['accuracy']:.3f}", flush=True)
    return out


def summarise(rows: list[dict]) -> str:
    """A markdown table: mean and spread over seeds per (set, model, n)."""
    keys = sorted({(r["set"], r["model"], r["n_per_class"]) for r in rows})
    lines = [
        "| set | model | parts/class | test accuracy (mean, min-max) | macro F1 | train time |",
        "|---|---|---|---|---|---|",
    ]
    for k in keys:
        g = [r for r in rows if (r["set"], r["model"], r["n_per_class"]) == k]
        acc = [r["accuracy"] for r in g]
        f1 = [r["f1_macro"] for r in g]
        secs = np.mean([r["features_s"] + r["head_s"] for r in g])
        lines.append(
            f"| {k[0]} | {k[1]} | {k[2]} | {np.mean(acc):.3f} ({min(acc):.3f}-{max(acc):.3f}) "
            f"| {np.mean(f1):.3f} | {secs:.0f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default="bench/out/accuracy", help="working folder")
    p.add_argument("--sets", default="default,hard")
    p.add_argument(
        "--models",
        default="efficientnet-lite0,normals,colour-stats",
        help="registered models; NAME+ft adds phase-2 fine-tuning, NAME+scratch trains the "
        "whole network from random weights, NAME@RUNTIME computes an image model's features "
        "on that --runtime",
    )
    p.add_argument("--per-class", type=int, default=200, help="parts per class in each set")
    p.add_argument("--curve", default="25,50,100,140", help="training parts per class")
    p.add_argument("--seeds", default="0,1,2", help="split seeds")
    p.add_argument(
        "--ft-layers", type=int, default=20, help="'+ft' models: backbone layers to fine-tune"
    )
    p.add_argument("--ft-epochs", type=int, default=3, help="'+ft' models: phase-2 epochs")
    p.add_argument(
        "--render-args", default="", help="extra metaview render options (default: its defaults)"
    )
    p.add_argument(
        "--transfer",
        default="hard,shifted",
        help="also train on the whole default set's training split and test on every part of "
        "these sets ('' for none)",
    )
    args = p.parse_args(argv)
    from train.runtimes import RUNTIMES

    models = []  # (base, how, runtime, label)
    for m in args.models.split(","):
        label, _, runtime = m.partition("@")
        base, _, how = label.partition("+")
        if how not in ("", "ft", "scratch") or (runtime and runtime not in RUNTIMES):
            p.error(
                f"--models {m}: expected a model name, NAME+ft, NAME+scratch or NAME@RUNTIME "
                f"(RUNTIME one of {', '.join(RUNTIMES)})"
            )
        models.append((base, how, runtime or "auto", m if runtime else None))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from base.native import allow_gl_and_tensorflow

    allow_gl_and_tensorflow()
    from train.data import load_dataset

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    ns = [int(v) for v in args.curve.split(",")]
    seeds = [int(v) for v in args.seeds.split(",")]
    rows: list[dict] = []
    feats_of: dict = {}  # (set, model, runtime) -> (dataset, features, seconds a meta-image)
    targets = [t for t in args.transfer.split(",") if t]
    for name in dict.fromkeys([*args.sets.split(","), *(["default", *targets] if targets else [])]):
        dataset = load_dataset(make_set(work, name, args.per_class, args.render_args.split()))
        for base, how, runtime, label in models:
            key = (name, base, runtime)
            if how != "scratch" and key not in feats_of:
                feats, per_image = features_for(base, dataset, work / f"{name}_parts", runtime)
                feats_of[key] = (dataset, feats, per_image)
                print(
                    f"{name}: {label or base} features {per_image * 1000:.1f} ms a meta-image",
                    flush=True,
                )
            _, feats, per_image = feats_of.get(key, (None, None, 0.0))
            if name in args.sets.split(","):
                tune = {"": None, "ft": (args.ft_layers, args.ft_epochs), "scratch": how}[how]
                for r in curve(base, dataset, feats, per_image, ns, seeds, tune, label):
                    rows.append({"set": name, **r})
    # A model trained from scratch has no features to transfer a head on.
    for model, runtime in dict.fromkeys(
        (base, runtime) for base, how, runtime, _ in models if how != "scratch" and targets
    ):
        ds, feats, _ = feats_of["default", model, runtime]
        tg = {t: feats_of[t, model, runtime][:2] for t in targets}
        rows.extend(transfer(model, ds, feats, tg, seeds))
    (work / "accuracy.json").write_text(json.dumps(rows, indent=1))
    print(summarise(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
