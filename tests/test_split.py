"""Splitting a dataset by part, stratified and seeded; class weights of a split."""

from __future__ import annotations

import logging

import pytest
from _train_fixtures import make_dataset_folder

from metaimage.errors import DatasetError
from train import data
from train.split import class_weights, split_parts


def _parts(n_per_class, labels=("a", "b", "c")):
    return {f"{lab}/{i:03d}": lab for lab in labels for i in range(n_per_class)}


# -- split ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 4, 7, 20, 51])
def test_split_is_by_part_stratified_and_complete(n):
    parts = _parts(n)
    split = split_parts(parts, 0.15, 0.15, seed=3)
    sets = [set(split[s]) for s in data.SPLITS]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert sets[0] | sets[1] | sets[2] == set(parts)
    for lab in ("a", "b", "c"):
        counts = {s: sum(parts[p] == lab for p in split[s]) for s in data.SPLITS}
        assert counts["val"] >= 1 and counts["test"] >= 1 and counts["train"] >= 1
        assert counts["test"] == max(1, min(round(0.15 * n), n - 2))
    assert split["seed"] == 3


def test_split_same_seed_same_split_other_seed_other_split():
    parts = _parts(40)
    a = split_parts(parts, 0.15, 0.15, seed=1)
    assert a == split_parts(dict(reversed(list(parts.items()))), 0.15, 0.15, seed=1)
    assert a["test"] != split_parts(parts, 0.15, 0.15, seed=2)["test"]


def test_split_honours_test_parts(caplog):
    parts = _parts(6)
    fixed = ["a/000", "b/001", "c/005", "zzz/unknown"]
    with caplog.at_level(logging.WARNING):
        split = split_parts(parts, 0.15, 0.15, seed=0, test_parts=fixed)
    assert split["test"] == ["a/000", "b/001", "c/005"]
    assert "zzz/unknown" in caplog.text
    assert not set(split["train"]) & set(split["val"])
    assert set(split["train"]) | set(split["val"]) == set(parts) - set(fixed)


def test_split_too_few_parts_is_a_clear_error():
    parts = {"a/0": "a", "a/1": "a", "a/2": "a", "b/0": "b", "b/1": "b"}
    with pytest.raises(DatasetError, match=r"class 'b'.*at least 3.*found 2"):
        split_parts(parts, 0.15, 0.15, seed=0)


# -- rows of a split, class weights -----------------------------------------------------------


def test_variants_of_a_part_stay_together(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=5, variants=3, tile=8)
    ds = data.load_dataset(root)
    split = split_parts(ds.part_labels(), 0.2, 0.2, seed=0)
    seen = {}
    for s in data.SPLITS:
        for r in data.split_rows(ds, split, s):
            assert seen.setdefault(r["part_id"], s) == s
    assert len(seen) == 10


def test_class_weights_inverse_frequency():
    rows = [{"label": "a"}] * 6 + [{"label": "b"}] * 2
    w = class_weights(rows, ["a", "b"])
    assert w == pytest.approx({0: 8 / (2 * 6), 1: 8 / (2 * 2)})
    assert 6 * w[0] == pytest.approx(2 * w[1])
