"""The input scan of ``metaview render IN OUT``: what under ``IN`` is a mesh to render.

Layout: ``IN/<label>/<name>.<ext>``, the label being the first-level subfolder (deeper
folders keep their path). Meshes directly in ``IN`` get the label "" and are rendered too
(for prediction).

Every entry under ``IN`` is accounted for (:func:`scan_input`): a mesh is rendered; an entry
that looks like a mesh but cannot be one (a folder named ``x.stl``, an empty file, a named
pipe, a broken link) is a failure; anything else (other suffixes, hidden entries, links to
folders) is ignored, with its reason.
"""

from __future__ import annotations

import operator
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from geometry.mesh import MESH_SUFFIXES
from render.errors import MeshError


@dataclass(frozen=True)
class InputScan:
    """What :func:`scan_input` found under an input folder; every list sorted by source."""

    meshes: list[tuple[str, str]]  # (source, label) of each mesh file to render
    failed: list[dict[str, str]]  # {"source", "error"}: named like a mesh, cannot be one
    ignored: list[dict[str, str]]  # {"source", "reason"}: not a mesh file, left alone


_FILE_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _check_mesh_file(path: str, source: str) -> str | None:
    """Why the entry ``path`` (named like a mesh) cannot be read as one, or None.

    Checked before a part id is claimed, so an empty ``x.stl`` beside a good ``x.obj``
    is reported as empty, not as a second file with the same part id.
    """
    suffix = os.path.splitext(source)[1].lower()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return f"{source}: broken symbolic link to {os.readlink(path)!r}"
        return f"{source}: the file disappeared while the folder was read"
    except OSError as exc:
        return f"{source}: cannot read it: {exc.strerror or exc}"
    if stat.S_ISDIR(st.st_mode):
        return (
            f"{source}: expected a mesh file, found a folder (rename it: its name ends in {suffix})"
        )
    if not stat.S_ISREG(st.st_mode):
        kind = next((what for test, what in _FILE_KINDS if test(st.st_mode)), "a special file")
        return f"{source}: expected a mesh file, found {kind}"
    if st.st_size == 0:
        return f"{source}: empty file (0 bytes), expected a {suffix} mesh"
    return None


def scan_input(in_dir: str | os.PathLike) -> InputScan:
    """Sort every entry under ``in_dir`` into meshes, failures and ignored entries.

    Parameters
    ----------
    in_dir : path-like
        The input folder: meshes in ``<label>/`` subfolders, or directly in it.

    Returns
    -------
    InputScan
        ``meshes``: regular, non-empty files with a mesh suffix (``MESH_SUFFIXES``, any
        case), as ``(source, label)``: ``source`` is the path relative to ``in_dir``
        (posix), ``label`` its first folder, or "" for a file directly in ``in_dir``.
        ``failed``: entries with a mesh suffix that cannot be meshes: a folder (not
        entered), an empty file, a named pipe or other special file, a broken link.
        ``ignored``: other files (another suffix), hidden entries (a leading ".", not
        entered) and links to folders (not followed).

    Raises
    ------
    MeshError
        If ``in_dir`` is not a folder.
    """
    root = Path(in_dir)
    if not root.is_dir():
        raise MeshError(
            f"{root}: expected a folder of meshes, found {'a file' if root.exists() else 'nothing'}"
        )
    meshes: list[tuple[str, str]] = []
    failed: list[dict[str, str]] = []
    ignored: list[dict[str, str]] = []

    def rel(dirpath: str, name: str) -> str:
        return (Path(dirpath) / name).relative_to(root).as_posix()

    for dirpath, dirnames, filenames in os.walk(root):
        enter = []
        for name in sorted(dirnames):
            source = rel(dirpath, name)
            if name.startswith("."):
                ignored.append({"source": source, "reason": "hidden folder (not entered)"})
            elif os.path.islink(os.path.join(dirpath, name)):
                ignored.append({"source": source, "reason": "link to a folder (not followed)"})
            elif Path(name).suffix.lower() in MESH_SUFFIXES:
                # A mesh name on a folder is a mistake worth an error, not a guess at a
                # label: it is reported and not entered.
                error = f"{source}: expected a mesh file, found a folder (rename it)"
                failed.append({"source": source, "error": error})
            else:
                enter.append(name)
        dirnames[:] = enter
        for name in sorted(filenames):
            source = rel(dirpath, name)
            suffix = Path(name).suffix.lower()
            if name.startswith("."):
                ignored.append({"source": source, "reason": "hidden file"})
            elif suffix not in MESH_SUFFIXES:
                ignored.append(
                    {
                        "source": source,
                        "reason": f"not a mesh file: suffix {suffix or 'none'!r}, "
                        f"meshes end in {', '.join(MESH_SUFFIXES)}",
                    }
                )
            elif (problem := _check_mesh_file(os.path.join(dirpath, name), source)) is not None:
                failed.append({"source": source, "error": problem})
            else:
                meshes.append((source, source.split("/")[0] if "/" in source else ""))
    by_source = operator.itemgetter("source")
    return InputScan(
        meshes=sorted(meshes),
        failed=sorted(failed, key=by_source),
        ignored=sorted(ignored, key=by_source),
    )


def find_meshes(in_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """List the mesh files under ``in_dir`` with their labels, sorted.

    Returns
    -------
    list of (source, label)
        ``scan_input(in_dir).meshes``: see :func:`scan_input` for what is left out.
    """
    return scan_input(in_dir).meshes
