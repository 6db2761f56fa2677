"""Batch feature extraction (:mod:`train.features.cache`): reuse and invalidation of the
cache, per-file errors, parallel = serial."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trimesh
from _train_fixtures import pocketed_box

from train.errors import TrainError
from train.features import (
    NORMAL_FEATURES_DIM,
    default_cache_path,
    extract,
    extract_normals,
    mesh_features,
    normal_features,
)


def write_parts(folder, labels=("x_plus", "z_plus", "y_minus")):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for label in labels:
        path = folder / f"{label}.stl"
        trimesh.Trimesh(*pocketed_box(label), process=False).export(path)
        paths.append(path)
    return paths


def test_cache_is_reused_and_invalidated(tmp_path):
    paths = write_parts(tmp_path / "parts")
    calls: list[str] = []

    def counting(path: str) -> np.ndarray:
        calls.append(path)
        return mesh_features(path)

    cache = default_cache_path(tmp_path / "parts", "normals")
    key = {"family": "normals", "version": 1}
    first = extract(paths, counting, key=key, cache_path=cache, workers=1, progress=False)
    assert first.shape == (3, NORMAL_FEATURES_DIM) and len(calls) == 3
    with np.load(cache, allow_pickle=False) as data:
        assert np.array_equal(data["features"], first)
        assert [p.rsplit("/", 1)[-1] for p in data["files"]] == [p.name for p in paths]

    again = extract(paths, counting, key=key, cache_path=cache, workers=1, progress=False)
    assert len(calls) == 3 and np.array_equal(again, first)

    # Touched, or rewritten with the same bytes: the content is the key, nothing recomputes.
    before = os.stat(paths[0]).st_mtime_ns
    paths[0].write_bytes(paths[0].read_bytes())
    os.utime(paths[0], ns=(before + 10**9, before + 10**9))
    extract(paths, counting, key=key, cache_path=cache, workers=1, progress=False)
    assert len(calls) == 3

    # A changed file (another part under the same name, as many faces, so the same size,
    # and the same modification time) recomputes, with the new content.
    stamp = os.stat(paths[0]).st_mtime_ns
    trimesh.Trimesh(*pocketed_box("x_minus"), process=False).export(paths[0])
    os.utime(paths[0], ns=(stamp, stamp))
    changed = extract(paths, counting, key=key, cache_path=cache, workers=1, progress=False)
    assert len(calls) == 6
    assert np.allclose(changed[0], normal_features(*pocketed_box("x_minus")), atol=1e-5)
    assert np.array_equal(changed[1:], first[1:])

    # So do a new feature version and a different file list.
    extract(paths, counting, key={**key, "version": 2}, cache_path=cache, workers=1)
    assert len(calls) == 9
    extract(paths[:2], counting, key={**key, "version": 2}, cache_path=cache, workers=1)
    assert len(calls) == 11


def test_broken_file_is_named_and_nothing_is_cached(tmp_path):
    paths = write_parts(tmp_path / "parts", labels=("x_plus",))
    broken = tmp_path / "parts" / "broken.stl"
    broken.write_bytes(b"solid nonsense\nfacet normal 0 0 1\nvertex 1 2\n")
    cache = tmp_path / "parts" / "cache.npz"
    with pytest.raises(TrainError, match=r"1 of 2 files.*broken\.stl") as info:
        extract_normals([paths[0], broken], cache_path=cache, workers=1, progress=False)
    assert [p for p, _ in info.value.failures] == [str(broken)]
    assert "vertex x y z" in info.value.failures[0][1]
    assert not cache.exists()
    with pytest.raises(TrainError, match="missing.stl"):
        extract_normals([tmp_path / "missing.stl"], workers=1)


def test_parallel_gives_the_serial_result(tmp_path):
    paths = write_parts(tmp_path / "parts")
    serial = extract_normals(paths, workers=1, progress=False)
    parallel = extract_normals(paths, workers=2, progress=False)
    assert np.array_equal(serial, parallel)
