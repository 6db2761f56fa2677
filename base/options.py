"""Command-line pieces every sub-command shares: exit codes, tracking options, config options.

- ``EXIT_*``: the exit codes the README documents (defined here once; the dispatcher and
  the sub-commands use these names).
- :func:`add_tracking_options`: ``--experiment`` and ``--tracking-uri``, the same for
  every command that touches MLflow.
- :func:`option`, :func:`add_config_options`, :func:`config_kwargs`: options generated
  from a frozen config dataclass. Each field carries its help text (and, where needed, a
  metavar, choices, a group or an option name) in ``dataclasses.field(metadata=...)``;
  the option gets the field's type and default, so a config's defaults are stated once::

      @dataclass(frozen=True)
      class MyConfig:
          tile: int = field(default=64, metadata=option("tile size in pixels"))

      add_config_options(parser, MyConfig)           # --tile N (default 64)
      cfg = MyConfig(**config_kwargs(MyConfig, parser.parse_args()))

  An ``int`` or ``float`` field becomes ``--name-with-dashes`` of that type; ``X | None``
  takes an ``X``; a ``bool`` field becomes ``--name`` / ``--no-name``.

Pure standard library: the ``cli`` modules import this before anything heavy.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_ERROR = 1  # a user error: bad option, bad file, nothing done
EXIT_PARTIAL = 2  # a batch completed but some inputs failed (see errors.csv)
EXIT_INTERRUPTED = 130

# Keys of a field's metadata that this module reads (anything else is an error).
_KEYS = ("help", "group", "metavar", "choices", "type", "flags", "default_help")


def option(
    help: str,
    *,
    group: str | None = None,
    metavar: str | None = None,
    choices: Sequence[Any] | None = None,
    type: Callable[[str], Any] | None = None,
    flags: Sequence[str] | None = None,
    default_help: str | None = None,
) -> dict[str, Any]:
    """Return the ``metadata`` of a config field that becomes a command-line option.

    Parameters
    ----------
    help : str
        One line: what the field does (the default is appended by :func:`add_config_options`).
    group : str, optional
        Title of the argparse argument group the option goes into.
    metavar, choices, type :
        As for ``argparse.ArgumentParser.add_argument``; ``type`` defaults to the field's type.
    flags : sequence of str, optional
        Option names (default ``--field-name``).
    default_help : str, optional
        How the default reads in the help text (for a default such as 0 that means "auto").
    """
    meta: dict[str, Any] = {"help": help}
    for key, value in (
        ("group", group),
        ("metavar", metavar),
        ("choices", tuple(choices) if choices is not None else None),
        ("type", type),
        ("flags", tuple(flags) if flags is not None else None),
        ("default_help", default_help),
    ):
        if value is not None:
            meta[key] = value
    return meta


def _scalar_type(hint: Any) -> tuple[type, bool]:
    """``(int, False)`` for ``int``; ``(int, True)`` for ``int | None``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if args and len(args) < len(typing.get_args(hint)):
        if len(args) != 1:
            raise TypeError(f"cannot make an option of type {hint}: one type or None expected")
        return args[0], True
    return hint, False


def add_config_options(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    exclude: Iterable[str] = (),
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> None:
    """Add one option per field of the dataclass ``cls`` to ``parser``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Options whose field names a ``group`` go into that argument group (made once per title).
    cls : dataclass type
        Every field not in ``exclude`` must have :func:`option` metadata (``help`` at least).
    exclude : iterable of str
        Fields the caller turns into options itself (or leaves out).
    overrides : mapping field name -> mapping
        Metadata known only when the parser is built (``choices`` from a registry, a
        longer ``help``); merged over the field's own metadata.
    """
    hints = typing.get_type_hints(cls)
    excluded = set(exclude)
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise ValueError(f"overrides for fields {unknown} that {cls.__name__} does not have")
    groups: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name in excluded:
            continue
        meta = {**f.metadata, **overrides.get(f.name, {})}
        bad = sorted(set(meta) - set(_KEYS))
        if "help" not in meta or bad:
            raise ValueError(
                f"{cls.__name__}.{f.name}: expected option() metadata with a help text"
                + (f", found unknown keys {bad}" if bad else "")
            )
        target = parser
        if "group" in meta:
            if meta["group"] not in groups:
                groups[meta["group"]] = parser.add_argument_group(meta["group"])
            target = groups[meta["group"]]
        default = f.default
        if default is dataclasses.MISSING:
            raise ValueError(f"{cls.__name__}.{f.name}: a config field needs a default")
        flags = meta.get("flags") or (f"--{f.name.replace('_', '-')}",)
        kind, optional = _scalar_type(hints[f.name])
        text = meta["help"].replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": f.name, "default": default}
        if kind is bool and not optional:
            action = target.add_argument(
                *flags, action=argparse.BooleanOptionalAction, help=text, **kwargs
            )
            if "(default" not in action.help:  # some Pythons' BooleanOptionalAction add it
                action.help += f" (default: {'on' if default else 'off'})"
            continue
        shown = meta.get("default_help", default)
        kwargs["help"] = f"{text} (default: {str(shown).replace('%', '%%')})"
        kwargs["type"] = meta.get("type", kind)
        for key in ("metavar", "choices"):
            if key in meta:
                kwargs[key] = meta[key]
        target.add_argument(*flags, **kwargs)


def config_kwargs(
    cls: type, args: argparse.Namespace, *, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """Return ``{field: value}`` for the fields of ``cls`` parsed by :func:`add_config_options`."""
    excluded = set(exclude)
    return {
        f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if f.name not in excluded
    }


def add_tracking_options(parser: argparse.ArgumentParser):
    """Add ``--experiment`` and ``--tracking-uri`` in an argument group "tracking"; return it."""
    g = parser.add_argument_group("tracking")
    g.add_argument(
        "--experiment",
        default=None,
        help="MLflow experiment (default: $MLFLOW_EXPERIMENT_NAME or 'metaview')",
    )
    g.add_argument(
        "--tracking-uri",
        default=None,
        metavar="URI",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)",
    )
    return g


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def names(text: str) -> tuple[str, ...]:
    """argparse type: ``"a, b,c"`` -> ``("a", "b", "c")`` (blanks and empty names dropped)."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


def default_workers() -> int:
    """The one default of every ``--workers``: all the cores this process may run on."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def add_batch_options(
    parser: argparse.ArgumentParser,
    workers: str | None = None,
    force: str | None = None,
    progress: bool = True,
) -> None:
    """The options every batch command spells the same way.

    Parameters
    ----------
    parser : argparse.ArgumentParser
    workers : str or None
        What a worker is (``"processes; the output is the same for any N"``): adds
        ``--workers N``, default None, which :func:`workers_of` turns into
        :func:`default_workers`.
    force : str or None
        What ``--force`` replaces; None: no ``--force``.
    progress : bool
        Add ``--no-progress``.
    """
    if workers is not None:
        parser.add_argument(
            "--workers",
            type=positive_int,
            default=None,
            metavar="N",
            help=f"{workers} (default: all {default_workers()} cores)",
        )
    if force is not None:
        parser.add_argument("--force", action="store_true", help=force)
    if progress:
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="no progress bar (default: a bar on a terminal, plain lines in a log)",
        )


def workers_of(args: argparse.Namespace) -> int:
    """``--workers`` as given, else :func:`default_workers`."""
    return getattr(args, "workers", None) or default_workers()


def renamed(parser: argparse.ArgumentParser, old: str, new: str, **kwargs: Any) -> None:
    """Keep ``old`` working as a hidden spelling of ``new`` (same destination), so scripts
    written against an earlier release still run; ``--help`` shows only ``new``."""
    parser.add_argument(
        old, dest=new.lstrip("-").replace("-", "_"), help=argparse.SUPPRESS, **kwargs
    )
