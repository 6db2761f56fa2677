"""The ``metaview`` command: a thin dispatcher over the stages' sub-commands.

Each stage registers its sub-commands from its own ``cli`` module, which must
import nothing heavy at module level (TensorFlow, pyrender, MLflow): ``metaview
--help`` and ``metaview render --help`` stay fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from base.errors import MetaviewError
from base.native import allow_gl_and_tensorflow
from base.options import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_PARTIAL
from metaview import __version__

__all__ = ["EXIT_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PARTIAL", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a bad option; here 2 means "a batch had failures", so exit 1."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _interrupt(signum, frame):
    # SIGTERM / SIGHUP (kill, a closed terminal) stop a command the way Ctrl-C does:
    # a training run ends KILLED, a render batch records what it finished.
    raise KeyboardInterrupt(signal.Signals(signum).name)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="metaview",
        description=(
            "Turn 3D workpieces into normal-map meta-images and train an EfficientNet "
            "classifier on them, tracked in MLflow."
        ),
        epilog=(
            "Typical use: metaview synth parts/ -> metaview render parts/ data/ -> "
            "metaview train data/ -> metaview runs -> metaview predict part.stl. "
            "Run 'metaview COMMAND --help' for the options of each."
        ),
    )
    parser.add_argument("--version", action="version", version=f"metaview {__version__}")
    verbosity = parser.add_mutually_exclusive_group()
    verbosity.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    verbosity.add_argument(
        "-q", "--quiet", action="store_true", help="log warnings and errors only"
    )
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )

    # Imported here, not at the top: each registers its own sub-commands.
    from assets import cli as assets_cli
    from metaview import demo
    from render import cli as render_cli
    from train import cli as train_cli
    from train import cli_model as train_model_cli
    from train import cli_server

    assets_cli.register(sub)  # synth
    assets_cli.register_reach(sub)  # reach
    render_cli.register(sub)  # render
    train_cli.register(sub)  # train
    train_model_cli.register(sub)  # predict, explain, runs, export
    cli_server.register(sub)  # server
    demo.register(sub)  # demo
    return parser


def _configure_logging(verbose: bool, quiet: bool) -> None:
    # TensorFlow's C++ log goes straight to stderr; it must be set before TF is
    # imported. Its INFO/WARNING/ERROR lines (oneDNN, CPU features) say nothing a
    # user can act on, so they show only with -v. What this setting misses (absl's
    # "before absl::InitializeLog()" and the oneDNN line at import, in TF 2.21), the
    # import hook keeps off the terminal, wherever TF is first imported.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    from train.console import quiet_tensorflow_import  # standard library only

    quiet_tensorflow_import()
    # MLflow sets up its own loggers when imported (after this), at INFO: creating a
    # new store would print its table-creation lines. Read at MLflow's import.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Third-party libraries are chatty at INFO; keep their warnings only.
    for name in (
        "tensorflow",
        "absl",
        "mlflow",
        "trimesh",
        "PIL",
        "matplotlib",
        "h5py",
        "urllib3",
        "alembic",
    ):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    """Run the ``metaview`` command and return its exit code."""
    # First, before any stage imports TensorFlow or pyrender (see metaview/native.py).
    allow_gl_and_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose, args.quiet)
    names = [n for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    saved = {n: signal.signal(getattr(signal, n), _interrupt) for n in names}
    try:
        code = args.func(args)
    except MetaviewError as exc:
        print(f"metaview {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:
        if not type(exc).__module__.startswith("mlflow."):
            raise
        # An MLflow error the stages did not translate (a server that answers with an
        # error, a refused request): its first line, not a traceback.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:500]
        print(f"metaview {args.command}: error: MLflow: {first}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"metaview {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for n, handler in saved.items():
            signal.signal(getattr(signal, n), handler)
    return EXIT_OK if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
