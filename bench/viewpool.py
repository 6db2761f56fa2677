"""How to pool the image model's features: over the whole meta-image, or per view direction.

    .venv/bin/python -m bench.viewpool --work /tmp/viewpool
    .venv/bin/python -m bench.viewpool --work /tmp/viewpool --modes views --power 1 --floor 0

The design's head sees Lite0's features max-pooled over the whole meta-image
(``global``). ``views`` and ``views-max`` pool them per tile
(:func:`train.models.efficientnet_lite.build_tile_backbone`), then per direction over the
tiles that look at it (:mod:`train.features.views`): a weighted mean (``views``, the
registered ``efficientnet-lite0-views``; ``--power`` and ``--floor`` shape the weights) or
the maximum over those tiles (``views-max``); one scorer shared by the directions. Every
mode trains on the same per-tile features (computed once per set and kept in WORK), is
scored per part (mean probability of its meta-images) on the sets of
:mod:`bench.shifted`, top class in the valid set, over ``--seeds`` split seeds.
``--test-variants 1`` scores variant 0 alone (the canonical grid); ``--train-variants 1``
also trains on it alone.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from bench.shifted import EVAL_PER_CLASS, make, score, summary


def tile_features(work: Path, name: str, ds) -> np.ndarray:
    """(N, T, D) float16 per-tile features of every row, kept in ``WORK/<name>_tiles.npy``."""
    from train import runtimes
    from train.features.views import BACKBONE, grid_and_seed
    from train.featurize import _run_backbone
    from train.models.efficientnet_lite import build_tile_backbone

    path = work / f"{name}_tiles.npy"
    if path.is_file():
        return np.load(path)
    (rows, cols), _ = grid_and_seed(ds.meta)
    size = max(int(v) for v in ds.meta["image_size"])
    call, _ = runtimes.backbone_runner(build_tile_backbone(BACKBONE, size, rows, cols), "auto")
    paths = [ds.root / r["path"] for r in ds.rows]
    f = _run_backbone(call, paths, size, 16, True).astype(np.float16)
    np.save(path, f)
    return f


def weights(ds, labels, power: float, floor: float) -> np.ndarray:
    """(N, C, T) view weights of every row, with the given shape parameters."""
    from train.features import views as V

    pairs = [(r["part_id"], r["variant"]) for r in ds.rows]
    return V.weights_of(ds.meta, pairs, labels, power=power, floor=floor)


def views_max_head(dim: int, seed: int):
    """Tiles (B, T, D) standardised and a mask (B, C, T) -> softmax over the C directions:
    each direction's features are the maximum over the tiles that look at it."""
    import keras
    from keras import ops

    keras.utils.set_random_seed(seed)
    g = keras.Input((None, dim), name="tiles")
    w = keras.Input((5, None), name="weights")
    mask = ops.expand_dims(ops.cast(w > 0, "float32"), -1)
    f = ops.max(ops.expand_dims(g, 1) * mask - (1.0 - mask) * 1e4, axis=2)
    f = keras.layers.Dropout(0.2)(f)
    s = keras.layers.Reshape((5,))(keras.layers.Dense(1, use_bias=False)(f))
    out = keras.layers.Dense(5, activation="softmax", kernel_initializer="identity")(s)
    return keras.Model([g, w], out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", default="bench/out/viewpool")
    p.add_argument("--train", default="taxonomy", help="a training set of bench.shifted")
    p.add_argument("--per-class", type=int, default=120)
    p.add_argument("--eval", default="hard,heldout-kinds,big,small,one-feature")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--modes", default="global,views,views-max")
    p.add_argument("--power", type=float, default=2.0)
    p.add_argument("--floor", type=float, default=0.5)
    p.add_argument("--train-variants", type=int, default=0, help="0: all")
    p.add_argument("--test-variants", type=int, default=0, help="0: all")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from base.native import allow_gl_and_tensorflow

    allow_gl_and_tensorflow()
    from bench.accuracy import _labels_and_parts, _train_head
    from train.features.views import pool_views
    from train.split import split_parts

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    names = args.eval.split(",")
    sets = {args.train: make(work, args.train, args.per_class, [])}
    sets.update({n: make(work, n, EVAL_PER_CLASS, []) for n in names})
    ds, _, tr_parts = sets[args.train]
    labels, y, part = _labels_and_parts(ds)
    tiles = {n: tile_features(work, n, s[0]) for n, s in sets.items()}
    w = {n: weights(s[0], labels, args.power, args.floor) for n, s in sets.items()}

    def keep(name: str, limit: int) -> np.ndarray:
        v = np.array([int(r["variant"]) for r in sets[name][0].rows])
        return v < limit if limit else np.ones(len(v), bool)

    def inputs(mode: str, name: str) -> np.ndarray | list:
        g = tiles[name].astype(np.float32)
        if mode == "global":
            return g.max(axis=1)
        if mode == "views":
            return pool_views(g, w[name])
        return [g, w[name]]

    results = []
    for mode in args.modes.split(","):
        x = inputs(mode, args.train)
        for seed in (int(s) for s in args.seeds.split(",")):
            split = split_parts(ds.part_labels(), 0.15, 0.15, seed)
            tr = np.isin(part, split["train"]) & keep(args.train, args.train_variants)
            val = np.isin(part, split["val"]) & keep(args.train, args.train_variants)
            test = np.isin(part, split["test"])
            if mode == "views-max":
                import keras

                g = x[0]
                mu = g[tr].reshape(-1, g.shape[-1]).mean(0)
                sd = g[tr].reshape(-1, g.shape[-1]).std(0) + 1e-3
                head = views_max_head(g.shape[-1], seed)
                head.compile(keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
                stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
                head.fit(
                    [(g[tr] - mu) / sd, x[1][tr]], y[tr], batch_size=16, epochs=200, verbose=0,
                    validation_data=([(g[val] - mu) / sd, x[1][val]], y[val]), callbacks=[stop],
                )  # fmt: skip

                def predict(xs, head=head, mu=mu, sd=sd):
                    return head.predict([(xs[0] - mu) / sd, xs[1]], verbose=0, batch_size=64)
            else:
                model = "efficientnet-lite0" if mode == "global" else "efficientnet-lite0-views"
                head = _train_head(model, labels, x, y, tr, val, seed)

                def predict(xs, head=head):
                    return np.asarray(head.predict(xs, verbose=0, batch_size=64))

            for name in ["test", *names]:
                src = args.train if name == "test" else name
                sel = (test if name == "test" else np.ones(len(tiles[src]), bool)) & keep(
                    src, args.test_variants
                )
                xs = inputs(mode, src)
                xs = [a[sel] for a in xs] if isinstance(xs, list) else xs[sel]
                rows = [r for r, s in zip(sets[src][0].rows, sel, strict=True) if s]
                s = summary(score(predict(xs), rows, labels, sets[src][2]))
                results.append({"mode": mode, "eval": name, "seed": seed, **s})
                print(f"{mode:9s} seed {seed} -> {name:14s} valid {s['valid']:.3f}", flush=True)
    (work / "viewpool.json").write_text(json.dumps(results, indent=1))
    for mode in args.modes.split(","):
        cells = []
        for name in ["test", *names]:
            v = [r["valid"] for r in results if (r["mode"], r["eval"]) == (mode, name)]
            cells.append(f"{name} {np.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
        print(f"| {mode} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
