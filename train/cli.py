"""``metaview train``: train an EfficientNet on a rendered dataset folder, as one MLflow run.

Only argparse at module level: TensorFlow and MLflow are imported when the
command runs, so ``metaview --help`` stays fast.
"""

from __future__ import annotations

import argparse

from train.config import MODELS, TrainConfig

_D = TrainConfig()


def register(sub) -> None:
    """Add the ``train`` sub-command to the dispatcher's sub-parsers."""
    p = sub.add_parser(
        "train",
        help="train an EfficientNet classifier on a rendered dataset (one MLflow run)",
        description=(
            "Train an EfficientNet classifier on the meta-images of DATA (a folder written by "
            "'metaview render'). The dataset is split by part into train/val/test (stratified, "
            "seeded; test_parts.txt is honoured). Everything is recorded as one MLflow run: "
            "params, per-epoch metrics, test metrics, plots, the split and the model."
        ),
        epilog=(
            "Examples: 'metaview train data/' (B0, ImageNet weights, 224 px); "
            "'metaview train data/ --weights none --image-size 128 --epochs 20' (from scratch, "
            "offline); 'metaview train mine/ --init-from RUN_ID --fine-tune-layers 20'. "
            "Look at the runs with 'metaview runs' or 'mlflow ui --backend-store-uri "
            "sqlite:///mlflow.db'."
        ),
    )
    p.add_argument("data", metavar="DATA", help="dataset folder written by 'metaview render'")
    g = p.add_argument_group("model")
    g.add_argument(
        "--model",
        choices=list(MODELS),
        default=_D.model,
        metavar="NAME",
        help=f"efficientnet-b0 ... efficientnet-b7 (default {_D.model}; native sizes "
        + ", ".join(f"{k[-2:]}={v[1]}" for k, v in MODELS.items())
        + ")",
    )
    g.add_argument(
        "--image-size",
        type=int,
        default=_D.image_size,
        metavar="PX",
        help="model input size in pixels (default: the model's native size)",
    )
    g.add_argument(
        "--weights",
        default=_D.weights,
        metavar="W",
        help="'imagenet' (default; downloaded once to ~/.keras/models/), 'none' (train the "
        "whole network from scratch) or a path to a .h5/.weights.h5 backbone weights file",
    )
    g.add_argument(
        "--dropout", type=float, default=_D.dropout, help=f"dropout rate (default {_D.dropout})"
    )
    g.add_argument(
        "--init-from",
        default=_D.init_from,
        metavar="RUN_ID",
        help="start from the model of a previous run (its output layer is replaced when the "
        "classes differ; its backbone is frozen for phase 1)",
    )
    g = p.add_argument_group("training")
    g.add_argument(
        "--epochs", type=int, default=_D.epochs, help=f"max epochs (default {_D.epochs})"
    )
    g.add_argument("--batch-size", type=int, default=_D.batch_size, help=f"default {_D.batch_size}")
    g.add_argument(
        "--learning-rate",
        type=float,
        default=_D.learning_rate,
        help="phase 1 Adam learning rate (default: 1e-3 with a frozen pretrained backbone, "
        "1e-4 from scratch)",
    )
    g.add_argument(
        "--patience",
        type=int,
        default=_D.patience,
        help=f"early stopping patience in epochs on val_loss (default {_D.patience})",
    )
    g.add_argument(
        "--lr-patience",
        type=int,
        default=_D.lr_patience,
        help=f"epochs without improvement before the LR is halved (default {_D.lr_patience})",
    )
    g.add_argument(
        "--fine-tune-layers",
        type=int,
        default=_D.fine_tune_layers,
        metavar="N",
        help="phase 2: unfreeze the top N backbone layers (BatchNorm stays frozen) and train "
        "again at --fine-tune-learning-rate (default 0: no phase 2)",
    )
    g.add_argument(
        "--fine-tune-epochs",
        type=int,
        default=_D.fine_tune_epochs,
        help=f"phase 2 max epochs (default {_D.fine_tune_epochs})",
    )
    g.add_argument(
        "--fine-tune-learning-rate",
        type=float,
        default=_D.fine_tune_learning_rate,
        help=f"phase 2 learning rate (default {_D.fine_tune_learning_rate})",
    )
    g.add_argument(
        "--no-shuffle-tiles",
        dest="shuffle_tiles",
        action="store_false",
        help="turn off tile-shuffle augmentation of the training split",
    )
    g.add_argument(
        "--no-class-weights",
        dest="class_weights",
        action="store_false",
        help="do not weight the loss by inverse class frequency",
    )
    g.add_argument(
        "--val-fraction",
        type=float,
        default=_D.val_fraction,
        help=f"fraction of each class's parts for validation (default {_D.val_fraction})",
    )
    g.add_argument(
        "--test-fraction",
        type=float,
        default=_D.test_fraction,
        help=f"fraction of each class's parts for test, unless DATA/test_parts.txt exists "
        f"(default {_D.test_fraction})",
    )
    g.add_argument("--seed", type=int, default=_D.seed, help=f"default {_D.seed}")
    g = p.add_argument_group("tracking")
    g.add_argument(
        "--experiment",
        default=None,
        help="MLflow experiment (default $MLFLOW_EXPERIMENT_NAME or 'metaview')",
    )
    g.add_argument("--run-name", default=None, help="MLflow run name (default: MLflow's)")
    g.add_argument(
        "--tracking-uri",
        default=None,
        metavar="URI",
        help="MLflow tracking URI (default $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``metaview train``; return the exit code."""
    cfg = TrainConfig(
        model=args.model,
        image_size=args.image_size,
        weights=args.weights,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        dropout=args.dropout,
        patience=args.patience,
        lr_patience=args.lr_patience,
        fine_tune_layers=args.fine_tune_layers,
        fine_tune_epochs=args.fine_tune_epochs,
        fine_tune_learning_rate=args.fine_tune_learning_rate,
        shuffle_tiles=args.shuffle_tiles,
        class_weights=args.class_weights,
        val_fraction=args.val_fraction,
        test_fraction=args.test_fraction,
        seed=args.seed,
        init_from=args.init_from,
    )
    from train import fit, tracking

    uri = tracking.resolve_tracking_uri(args.tracking_uri)
    experiment = tracking.resolve_experiment(args.experiment)
    print(f"metaview train: {args.data} -> MLflow experiment '{experiment}' at {uri}")
    if cfg.weights == "none" and not cfg.init_from:
        print("metaview train: --weights none: training the whole network from scratch")
    result = fit.train(
        cfg,
        args.data,
        tracking_uri=uri,
        experiment=experiment,
        run_name=args.run_name,
        verbose=2 if getattr(args, "quiet", False) else 1,
    )
    m = result.metrics
    print()
    print(f"run {result.run_id} finished in {m['train_seconds']:.0f} s")
    print(
        f"  best epoch {int(m['best_epoch'])}: val_loss {m['best_val_loss']:.4f}, "
        f"val_accuracy {m['best_val_accuracy']:.3f}, val_f1_macro {m['best_val_f1_macro']:.3f}"
    )
    print(
        f"  test: accuracy {m['test_accuracy']:.3f}, precision {m['test_precision_macro']:.3f}, "
        f"recall {m['test_recall_macro']:.3f}, f1 {m['test_f1_macro']:.3f} (macro)"
    )
    for label in result.labels:
        print(
            f"    {label:>12}: precision {m[f'test_precision.{label}']:.3f}, "
            f"recall {m[f'test_recall.{label}']:.3f}"
        )
    if result.promoted:
        print("  this run is now the best of the experiment (registry alias 'champion')")
    print(f"  artifacts: {result.artifact_uri} (plots/, confusion_matrix.json, model/)")
    ui = f"mlflow ui --backend-store-uri {uri}" if uri.startswith("sqlite:") else f"open {uri}"
    print(f"  next: metaview runs | metaview predict PART.stl | {ui}")
    return 0
