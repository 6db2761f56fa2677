"""Where a trained model comes from: library versions and the metaview source's git commit.

:class:`train.tracking.run.TrainRun` records both with every run: the versions as
params ``version.<package>`` (written by :mod:`train.records`) and as the pinned
requirements of the logged model (:func:`default_pip_requirements`), the commit as
the tags ``mlflow.source.git.commit`` and ``metaview.git_dirty``.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

from base.versions import package_versions

log = logging.getLogger(__name__)

# Packages whose versions a run logs as "version.<name>".
_VERSION_PACKAGES = (
    "metaview",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "mlflow",
    "numpy",
    "pillow",
)


def library_versions() -> dict[str, str]:
    """Return installed versions of the packages a model depends on (missing ones left out)."""
    return package_versions(_VERSION_PACKAGES)


def default_pip_requirements() -> list[str]:
    """Pinned requirements of a logged model: tensorflow (or tensorflow-cpu), keras, numpy."""
    versions = library_versions()
    reqs = []
    if "tensorflow" in versions:
        reqs.append(f"tensorflow=={versions['tensorflow']}")
    elif "tensorflow-cpu" in versions:
        reqs.append(f"tensorflow-cpu=={versions['tensorflow-cpu']}")
    for name in ("keras", "numpy"):
        if name in versions:
            reqs.append(f"{name}=={versions[name]}")
    return reqs


def source_commit(timeout: float = 5.0) -> tuple[str, bool] | None:
    """The git commit of the metaview source in use, and whether its tree had changes.

    Returns None when metaview does not run from a git checkout (an installed
    wheel) or git is missing. Only tracked files count as changes.
    """
    import base  # any top-level package of the checkout: they sit side by side

    root = Path(base.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None

    def git(*args: str) -> str:
        res = subprocess.run(
            ["git", "-C", str(root), *args],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
        return res.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("no git commit for %s: %s", root, exc)
        return None
    return commit, dirty
