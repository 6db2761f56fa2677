"""The packages' floors: no import, lazy ones inside functions included, runs up a floor."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Bottom up. A package may import its own floor and those below; train may also use
#: render (it draws the meshes it predicts), which is on the floor below it anyway.
FLOORS = {
    "base": 0,
    "geometry": 1,
    "metaimage": 2,
    "render": 3,
    "assets": 3,
    "train": 4,
    "metaview": 5,
}


def _imports(path: Path) -> set[str]:
    """Top-level project packages ``path`` imports anywhere in its body."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(FLOORS)


def _modules():
    for package in FLOORS:
        for path in sorted((REPO / package).rglob("*.py")):
            yield package, path


def test_every_package_is_on_a_floor():
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests"}
    assert packages == set(FLOORS)


def test_no_import_runs_up_a_floor():
    up = [
        f"{path.relative_to(REPO)} imports {other}"
        for package, path in _modules()
        for other in _imports(path)
        if FLOORS[other] > FLOORS[package]
    ]
    assert up == []


def test_the_finder_sees_lazy_imports(tmp_path):
    """The check is only as good as its reader: an import inside a function counts."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from train.fit import fit\n    import render.gl\n")
    assert _imports(module) == {"train", "render"}
