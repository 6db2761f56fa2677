"""Reading and checking a dataset folder: rendered, or plain class folders of PNGs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from metaimage.errors import DatasetError
from metaimage.grid import parse_grid
from metaimage.io import read_manifest, write_manifest, write_png
from train import data
from train.split import split_parts

# -- dataset folder ---------------------------------------------------------------------------


def test_load_dataset_ignores_unlabelled_rows_with_a_warning(tmp_path, caplog):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, variants=2, unlabelled=2, tile=8)
    with caplog.at_level(logging.WARNING):
        ds = data.load_dataset(root)
    assert ds.labels == ("x_plus", "y_plus")
    assert len(ds.rows) == 12 and ds.n_unlabelled == 4
    assert "unlabelled" in caplog.text
    assert ds.grid == (2, 2)


def test_tile_size_disagreement_is_refused_naming_the_file(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    bad = root / "y_plus/0001_v0.png"
    write_png(bad, np.zeros((20, 20, 3), np.uint8))  # tile 10 instead of 8
    with pytest.raises(DatasetError, match=r"0001_v0\.png.*expected a 16x16.*found 20x20"):
        data.load_dataset(root)


def test_grid_disagreement_with_metaimage_json_is_refused(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, rows=2, cols=3, tile=8)
    for p in root.rglob("*.png"):
        write_png(p, np.zeros((24, 16, 3), np.uint8))  # a 3x2 grid where 2x3 is promised
    with pytest.raises(DatasetError, match=r"expected a 16x24"):
        data.load_dataset(root)


def test_mixed_render_configs_are_refused(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    rows = read_manifest(root)
    rows[2]["config_hash"] = "ffff"
    write_manifest(root, rows)
    with pytest.raises(DatasetError, match="config_hash"):
        data.load_dataset(root)


def test_missing_png_is_refused(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    (root / "x_plus/0000_v0.png").unlink()
    with pytest.raises(DatasetError, match="0000_v0.png"):
        data.load_dataset(root)


def test_load_split_returns_paths_and_labels(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=4, variants=2, tile=8)
    split = {"seed": 0, "train": ["x_plus/0000"], "val": [], "test": ["y_plus/0003", "x_plus/0002"]}
    paths, labels = data.load_split(root, split, "test")
    assert [p.name for p in paths] == ["0002_v0.png", "0002_v1.png", "0003_v0.png", "0003_v1.png"]
    assert labels == ["x_plus", "x_plus", "y_plus", "y_plus"]
    assert all(p.is_absolute() and p.exists() for p in paths)


# -- damaged files, digests -------------------------------------------------------------------


def _with_digests(root):
    """Record png_bytes and sha256 in the manifest, as metaview render now does."""
    from metaimage.io import file_digest

    rows = read_manifest(root)
    for r in rows:
        r["png_bytes"], r["sha256"] = file_digest(root / r["path"])
    write_manifest(root, rows)
    return root


def test_truncated_png_is_named_by_its_recorded_size(tmp_path):
    root = _with_digests(make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8))
    bad = root / "y_plus/0001_v0.png"
    data_ = bad.read_bytes()
    bad.write_bytes(data_[: len(data_) // 2])  # the header survives: its size still reads
    with pytest.raises(DatasetError) as exc:
        data.load_dataset(root)
    msg = str(exc.value)
    assert msg.startswith(f"{bad}: expected {len(data_)} bytes (png_bytes in")
    assert f"found {len(data_) // 2}" in msg


def test_damaged_png_of_the_same_size_is_named_by_its_recorded_sha256(tmp_path):
    root = _with_digests(make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8))
    bad = root / "x_plus/0002_v0.png"
    raw = bytearray(bad.read_bytes())
    raw[-20] ^= 0xFF  # inside the image data, same length
    bad.write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match=rf"^{bad}: its SHA-256 differs from the one in"):
        data.load_dataset(root)


def test_digest_follows_content_not_the_manifest_columns(tmp_path):
    old = make_dataset_folder(tmp_path / "old", parts_per_class=3, tile=8)
    new = _with_digests(make_dataset_folder(tmp_path / "new", parts_per_class=3, tile=8))
    d1 = data.load_dataset(old).digest
    assert len(d1) == 64
    assert data.load_dataset(new).digest == d1  # recorded or computed: the same digest
    assert data.load_dataset(old, check_images=False).digest == ""
    write_png(old / "x_plus/0000_v0.png", np.full((16, 16, 3), 7, np.uint8))
    assert data.load_dataset(old).digest != d1


# -- plain class folders ----------------------------------------------------------------------


def _class_folders(root, classes=("cat", "dog"), n=4, size=(16, 16)):
    rng = np.random.default_rng(0)
    for c in classes:
        for i in range(n):
            write_png(root / c / f"{i:04d}_v0.png", rng.integers(0, 255, (*size, 3), np.uint8))
    return root


def test_plain_class_folders_load_with_a_warning(tmp_path, caplog):
    root = _class_folders(tmp_path / "plain")
    write_png(root / "loose.png", np.zeros((16, 16, 3), np.uint8))
    with caplog.at_level(logging.WARNING):
        ds = data.load_dataset(root)
    assert ds.layout == "class-folders" and ds.labels == ("cat", "dog")
    assert ds.grid == (1, 1) and not ds.grid_known and ds.info is None
    assert len(ds.rows) == 8
    # Each PNG is its own part, even where names repeat across classes.
    assert sorted(ds.part_labels()) == [f"{c}/{i:04d}_v0" for c in ("cat", "dog") for i in range(4)]
    assert ds.meta["image_size"] == [16, 16] and ds.meta["config"] == {}
    assert len(ds.digest) == 64
    text = caplog.text
    assert "no metaimage.json or manifest.csv" in text and "2 classes, 8 images of 16x16 px" in text
    assert "no tile shuffling; pass --grid ROWSxCOLS" in text and "cannot render meshes" in text
    assert "ignoring 1 PNGs outside class folders" in text
    split = split_parts(ds.part_labels(), 0.25, 0.25, seed=0)
    paths, labels = data.load_split(root, split, "test")
    assert len(paths) == 2 and sorted(labels) == ["cat", "dog"]


def test_plain_class_folders_with_a_grid(tmp_path):
    root = _class_folders(tmp_path / "plain", size=(16, 24))
    ds = data.load_dataset(root, grid=parse_grid("2x3"))
    assert ds.grid == (2, 3) and ds.grid_known and ds.meta["tile"] == 8
    with pytest.raises(DatasetError, match=r"--grid 3x3: the images of .* are 16x24 px"):
        data.load_dataset(root, grid=(3, 3))
    with pytest.raises(DatasetError, match="expected ROWSxCOLS"):
        parse_grid("10")


def test_plain_class_folders_of_mixed_sizes_are_refused(tmp_path):
    root = _class_folders(tmp_path / "plain")
    odd = root / "dog" / "odd.png"
    write_png(odd, np.zeros((20, 16, 3), np.uint8))
    with pytest.raises(DatasetError, match=rf"^{odd}: expected a 16x16 image like .*found 20x16"):
        data.load_dataset(root)


def test_grid_option_must_agree_with_a_rendered_dataset(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    assert data.load_dataset(root, grid=(2, 2)).grid == (2, 2)
    with pytest.raises(DatasetError, match=r"--grid 4x4: .*metaimage.json says the grid is 2x2"):
        data.load_dataset(root, grid=(4, 4))


def test_dataset_info_is_the_checked_metaimage_json(tmp_path):
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    ds = data.load_dataset(root)
    assert ds.info.grid == (2, 2) and ds.info.tile == 8
    assert ds.meta == ds.info.to_dict()
