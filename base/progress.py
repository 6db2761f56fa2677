"""One progress reporter for the project: a bar on a terminal, plain lines in a log file.

::

    from base.progress import progress

    with progress(len(files), "render", "file", enabled=show) as bar:
        for ... in ...:
            bar.update(1)
            bar.set_postfix(failed=n_failed)

Where it writes (stderr unless ``file`` says otherwise):

- on a terminal: a tqdm bar (count, rate, ETA), redrawn in place;
- anywhere else (a log file, a pipe, CI): plain lines, at most one every ``interval``
  seconds (``render: 120/300 files (40%), 3.2 files/s, ETA 56 s``), and a final line when
  it is closed (``render: 300/300 files (100%) in 94 s, 3.2 files/s``; ``stopped at`` when
  the block raised). Never a carriage return;
- with ``enabled=False`` (``--no-progress``): nothing.

``enabled=None`` (the default) means "as the command's logging": shown unless the root
logger is quieter than INFO (``metaview -q``, or a library caller that configured no
logging).

Only the standard library is imported here; tqdm is imported when a bar is drawn.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import IO, Any

__all__ = ["DEFAULT_INTERVAL", "Progress", "progress", "progress_enabled"]

#: Seconds between two plain lines, by default.
DEFAULT_INTERVAL = 5.0


def progress_enabled(enabled: bool | None) -> bool:
    """Resolve an ``enabled``/``progress`` option: None shows progress unless logging is
    quieter than INFO (``metaview -q``); True and False are taken as they are."""
    if enabled is None:
        return logging.getLogger().isEnabledFor(logging.INFO)
    return bool(enabled)


def _isatty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 120:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _rate(n: float, seconds: float, unit: str) -> str:
    if seconds <= 0 or n <= 0:
        return f"? {unit}s/s"
    per_s = n / seconds
    if per_s >= 1 or per_s == 0:
        return f"{per_s:.1f} {unit}s/s"
    return f"{seconds / n:.1f} s/{unit}"


class Progress:
    """A progress display (``progress`` is this class): a context manager, or call
    :meth:`close`.

    Parameters
    ----------
    total : int, optional
        Units expected; None when not known yet (:meth:`Progress.set_total` later).
    desc : str
        What is counted, first on each line ("render", "synth").
    unit : str
        One unit ("file", "part"); an "s" is added for many.
    enabled : bool, optional
        False writes nothing (``--no-progress``); True always reports; None (default)
        reports unless logging is quieter than INFO (``metaview -q``).
    file : text stream, optional
        Where to write; default ``sys.stderr`` (as it is at the call).
    interval : float
        Plain lines only: the fewest seconds between two lines (default 5).
    clock : callable
        Seconds, monotonic (default :func:`time.monotonic`); tests pass a fake one.
    tty : bool, optional
        Force the bar (True) or plain lines (False); default: a bar when ``file`` is a
        terminal.

    Attributes
    ----------
    n : int
        Units done so far.
    total : int or None
        Units expected (None: unknown, no percentage or ETA).
    mode : {"bar", "lines", "off"}
        What it writes: a tqdm bar, plain lines, or nothing.
    """

    def __init__(
        self,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        *,
        enabled: bool | None = None,
        file: IO[str] | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        tty: bool | None = None,
    ):
        self.total = total
        self.desc = desc
        self.unit = unit
        self.n = 0
        self.interval = float(interval)
        self._file = sys.stderr if file is None else file
        self._clock = clock
        self._postfix: dict[str, Any] = {}
        self._closed = False
        self._bar: Any = None
        self._start = clock()
        self._last_line = self._start
        if not progress_enabled(enabled):
            self.mode = "off"
        elif tty if tty is not None else _isatty(self._file):
            self.mode = "bar"
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, desc=desc or None, unit=unit, file=self._file, dynamic_ncols=True
            )
        else:
            self.mode = "lines"

    # -- what callers use ------------------------------------------------------------------

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done; a plain line is written when ``interval`` has passed."""
        self.n += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.mode == "lines":
            now = self._clock()
            if now - self._last_line >= self.interval:
                self._last_line = now
                self._write(self._line(now))

    def set_postfix(self, **values: Any) -> None:
        """Values shown after the counts (``failed=2``), in the bar and in the plain lines."""
        self._postfix.update(values)
        if self._bar is not None:
            self._bar.set_postfix(self._postfix, refresh=False)

    def set_total(self, total: int | None) -> None:
        """Say how many units to expect, once it is known. Before the first :meth:`update`
        the clock starts again (the rate counts the work, not what found it)."""
        self.total = total
        if self.n == 0:
            self._start = self._last_line = self._clock()
        if self._bar is not None:
            if self.n == 0:
                self._bar.reset(total=total)
            else:
                self._bar.total = total
                self._bar.refresh()

    def close(self, stopped: bool = False) -> None:
        """End the display: close the bar, or write the final plain line. Idempotent.

        ``stopped``: the work did not finish (an error, Ctrl-C); the final line says so.
        """
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "lines":
            self._write(self._final_line(self._clock(), stopped))

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(stopped=exc_type is not None)

    # -- plain lines -----------------------------------------------------------------------

    def _prefix(self) -> str:
        return f"{self.desc}: " if self.desc else ""

    def _counts(self) -> str:
        unit = f"{self.unit}s" if self.n != 1 or self.total else self.unit
        if self.total:
            return f"{self.n}/{self.total} {unit} ({100 * self.n / self.total:.0f}%)"
        return f"{self.n} {unit}"

    def _extra(self) -> str:
        return "".join(f", {k}={v}" for k, v in self._postfix.items())

    def _line(self, now: float) -> str:
        elapsed = now - self._start
        text = f"{self._prefix()}{self._counts()}, {_rate(self.n, elapsed, self.unit)}"
        if self.total and self.n > 0 and elapsed > 0:
            left = (self.total - self.n) * elapsed / self.n
            text += f", ETA {_duration(left)}"
        return text + self._extra()

    def _final_line(self, now: float, stopped: bool) -> str:
        elapsed = now - self._start
        head = "stopped at " if stopped else ""
        return (
            f"{self._prefix()}{head}{self._counts()} in {_duration(elapsed)}, "
            f"{_rate(self.n, elapsed, self.unit)}{self._extra()}"
        )

    def _write(self, line: str) -> None:
        try:
            print(line, file=self._file, flush=True)
        except (OSError, ValueError):  # a closed pipe must not stop the work
            pass


#: The entry point, used as a context manager: ``with progress(n, "render", "file") as bar``.
progress = Progress
