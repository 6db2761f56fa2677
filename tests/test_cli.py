"""The ``metaview`` dispatcher: sub-commands, help, exit codes, and fast start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from base.errors import MetaviewError
from metaview import cli

SUBCOMMANDS = (
    "synth", "reach", "render", "train", "predict", "explain", "runs", "export", "server", "demo"
)  # fmt: skip


def _subparsers():
    """Every sub-command's parser, as the dispatcher builds them."""
    import argparse

    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_the_list_here_is_every_subcommand():
    assert set(_subparsers()) == set(SUBCOMMANDS)


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in SUBCOMMANDS:
        assert name in out, f"'{name}' missing from metaview --help"


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: metaview {name}")
    # A help text that says what the command does, not only its usage line.
    assert len(out.splitlines()) > 5


def test_unknown_option_is_a_user_error_exit_1(capsys):
    # 2 is reserved for "a batch completed with failed inputs".
    with pytest.raises(SystemExit) as exc:
        cli.main(["render", "--no-such-option", "a", "b"])
    assert exc.value.code == cli.EXIT_ERROR
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_user_error_prints_message_and_exits_1(monkeypatch, capsys):
    def boom(args):
        raise MetaviewError("parts/x.stl: expected a mesh, found 0 bytes")

    parser = cli.build_parser()
    args = parser.parse_args(["runs"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, boom))
    assert cli.main(["runs"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert "metaview runs: error: parts/x.stl: expected a mesh, found 0 bytes" in err
    assert "Traceback" not in err


class _FixedParser:
    """Stands in for the real parser: returns fixed args whose command raises."""

    def __init__(self, args, func):
        args.func = func
        self._args = args

    def parse_args(self, argv):
        return self._args


def test_help_does_not_import_heavy_libraries():
    """`metaview --help` and every sub-command's help must stay fast: no TF, pyrender or MLflow."""
    code = (
        "import sys\n"
        "from metaview import cli\n"
        "cli.build_parser()\n"
        "names = ('tensorflow', 'keras', 'pyrender', 'mlflow', 'OpenGL')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", (
        f"heavy modules imported by the CLI parser: {out.stdout.strip()}"
    )


def test_sigterm_stops_a_command_like_ctrl_c(monkeypatch, capsys):
    """kill (SIGTERM) must reach the command as an interrupt, so runs end KILLED, not RUNNING."""
    import os
    import signal

    seen = []

    def terminated(args):
        try:
            os.kill(os.getpid(), signal.SIGTERM)
        except KeyboardInterrupt:
            seen.append("interrupt")
            raise

    before = signal.getsignal(signal.SIGTERM)
    args = cli.build_parser().parse_args(["runs"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, terminated))
    assert cli.main(["runs"]) == cli.EXIT_INTERRUPTED
    assert seen == ["interrupt"]
    assert "metaview runs: interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before  # restored after the command


# --------------------------------------------------------------------------- quiet by default


def _metaview(args, cwd):
    """Run ``python -m metaview ARGS`` in ``cwd`` without the test session's log settings."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_LOGGING", "TF_CPP"))}
    return subprocess.run(
        [sys.executable, "-m", "metaview", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_new_store_prints_no_mlflow_table_creation_lines(tmp_path):
    """MLflow's INFO lines ("Creating initial MLflow database tables...") only with -v."""
    uri = f"sqlite:///{tmp_path / 'new.db'}"
    res = _metaview(["runs", "--tracking-uri", uri], tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines() == [
        f"metaview runs: error: no experiment 'metaview' in the tracking store {uri}: "
        "train one first with: metaview train DATA"
    ]
    res = _metaview(
        ["-v", "runs", "--tracking-uri", f"sqlite:///{tmp_path / 'other.db'}"], tmp_path
    )
    assert "Creating initial MLflow database tables" in res.stderr


@pytest.mark.tf
def test_tensorflow_import_is_quiet_unless_verbose(tmp_path):
    """oneDNN and absl lines of TensorFlow's start-up go to the debug log (shown with -v)."""
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG if sys.argv[1] == 'v' else logging.INFO)\n"
        "from train.console import import_tensorflow\n"
        "import_tensorflow()\n"
        "import tensorflow as tf\n"
        "print(float(tf.reduce_sum(tf.ones(3))))\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    quiet = subprocess.run(
        [sys.executable, "-c", code, "q"], capture_output=True, text=True, env=env, timeout=120
    )
    assert quiet.returncode == 0 and quiet.stdout.strip() == "3.0"
    assert quiet.stderr == ""
    loud = subprocess.run(
        [sys.executable, "-c", code, "v"], capture_output=True, text=True, env=env, timeout=120
    )
    assert loud.returncode == 0 and loud.stdout.strip() == "3.0"  # -v: nothing is held back


def test_an_untranslated_mlflow_error_is_one_line(monkeypatch, capsys):
    from mlflow.exceptions import MlflowException

    def boom(args):
        raise MlflowException("RESOURCE_DOES_NOT_EXIST: the server said no\nTraceback (...)")

    args = cli.build_parser().parse_args(["runs"])
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args, boom))
    assert cli.main(["runs"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err
    assert err == "metaview runs: error: MLflow: RESOURCE_DOES_NOT_EXIST: the server said no\n"


def _options(parser) -> dict[str, object]:
    """Visible option strings -> their actions (hidden spellings left out)."""
    import argparse

    return {
        flag: a for a in parser._actions if a.help != argparse.SUPPRESS for flag in a.option_strings
    }


def test_one_cli_convention_across_subcommands():
    """--force, --workers N with one default, --no-progress, positional OUT, ROWSxCOLS."""
    from base.options import default_workers

    subs = _subparsers()
    batch = ("synth", "reach", "render", "train", "predict", "explain", "demo")
    for name, parser in subs.items():
        opts = _options(parser)
        # explain takes any number of inputs: a positional OUT after them would take a
        # forgotten folder's last mesh for one, so its folder is --out (as the issue asks).
        assert "--overwrite" not in opts and ("--out" not in opts or name == "explain"), name
        if "--workers" in opts:
            action = opts["--workers"]
            assert action.metavar == "N" and action.default is None, name
            assert f"all {default_workers()} cores" in action.help, name
        if "--grid" in opts:
            assert opts["--grid"].metavar == "ROWSxCOLS", name
        if name in batch:
            assert "--no-progress" in opts, name
    for name in ("synth", "render", "reach", "demo"):
        positionals = [a.metavar or a.dest for a in subs[name]._actions if not a.option_strings]
        assert positionals[-1] == "OUT", (name, positionals)
    assert set(_options(subs["synth"])) >= {"--force", "--workers"}
    assert "--force" in _options(subs["render"])


def test_earlier_spellings_still_parse():
    parser = cli.build_parser()
    assert parser.parse_args(["synth", "out", "--overwrite"]).force is True
    args = parser.parse_args(["reach", "--out", "r.csv", "parts"])
    assert (args.input, args.out, args.out_option) == ("parts", None, "r.csv")
    args = parser.parse_args(["reach", "parts", "r.csv"])
    assert (args.input, args.out) == ("parts", "r.csv")
    assert parser.parse_args(["demo", "--out", "d"]).out_option == "d"
    assert parser.parse_args(["demo"]).out is None


def test_help_text_is_true_to_the_defaults(capsys):
    """What --help states about the defaults is what the configs hold."""
    from render.config import RenderConfig
    from train.config import TrainConfig

    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    example = out.split("Examples:")[1].lower()
    assert "b0," not in example and TrainConfig().model.split("-")[1] in example  # lite0
    assert "pooled per view direction" in example and TrainConfig().model in out
    assert "native input sizes" not in out  # normals=322 is no image size
    cfg = RenderConfig()
    with pytest.raises(SystemExit):
        cli.main(["render", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"default {cfg.rows}x{cfg.cols}" in out
