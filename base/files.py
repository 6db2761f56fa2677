"""Atomic file writing: the one way every stage writes an output.

Every output is written to a temporary file in the same folder, which then replaces
the target in one ``os.replace``: a reader sees the old file or the new one, never a
partial one, even if the process is killed mid-write, so an interrupted batch
leaves nothing half-written behind and resumes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

# mkstemp creates files readable by their owner only; outputs get the usual
# permissions (0o666 less the umask) instead. Read once, at import, because reading
# the umask means setting it.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same folder, which then replaces
    ``path`` in one ``os.replace``: readers see the old file or the new one,
    never a partial one, even if the process is killed mid-write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        # Clean up the temporary file on any failure, Ctrl-C included, then re-raise.
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_write_bytes`).

    Characters UTF-8 cannot encode (surrogate escapes of a non-UTF-8 file name) are
    written as :func:`printable` shows them, so writing never fails on them.
    """
    return atomic_write_bytes(path, printable(text).encode("utf-8"))


def printable(text: str) -> str:
    """``text`` with everything UTF-8 cannot encode written as a backslash escape.

    A file name with bytes that are not UTF-8 comes from ``os.listdir`` with each such
    byte as a surrogate escape (U+DC80..U+DCFF), which no UTF-8 file or terminal takes.
    Each becomes ``\\xNN``, its byte in hex (``"caf\\udce9"`` -> ``"caf\\\\xe9"``); any
    other lone surrogate becomes ``\\uNNNN``. Valid text is returned unchanged.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Encodable as UTF-8.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path`` that replaces it when the block ends without error.

    For writers that want a file name rather than bytes (``np.savez`` on a file object,
    Keras ``save_weights``, which insists on its ``.weights.h5`` suffix). On any
    exception, Ctrl-C included, the temporary file is removed and ``path`` is left as
    it was.

    Examples
    --------
    >>> with atomic_file(out) as tmp, open(tmp, "wb") as f:  # doctest: +SKIP
    ...     np.savez(f, features=x)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
