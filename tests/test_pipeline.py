"""The tf.data pipeline: the one resize, streaming and tile shuffling, naming bad files."""

from __future__ import annotations

import numpy as np
import pytest
from _train_fixtures import make_dataset_folder

from metaimage.errors import DatasetError
from train import data, pipeline

# -- tf.data ----------------------------------------------------------------------------------


@pytest.mark.tf
def test_prepare_images_area_resize():
    x = np.zeros((2, 8, 8, 3), np.uint8)
    x[:, :4, :4] = 200  # one quarter bright
    out = pipeline.prepare_images(x, 2)
    assert out.dtype == np.float32 and out.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(out[0, :, :, 0], [[200, 0], [0, 0]])
    same = pipeline.prepare_images(x, 8)
    np.testing.assert_array_equal(same, x.astype(np.float32))


@pytest.mark.tf
def test_pipeline_streams_batches_and_shuffles_tiles_only_in_training(tmp_path):
    from metaimage.io import read_png

    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, rows=2, cols=2, tile=8)
    ds = data.load_dataset(root)
    paths = [root / r["path"] for r in ds.rows]
    labels = [ds.labels.index(r["label"]) for r in ds.rows]
    kw = dict(image_size=16, grid=(2, 2), batch_size=4)
    val = list(pipeline.make_dataset(paths, labels, training=False, **kw))
    assert [tuple(x.shape) for x, _ in val] == [(4, 16, 16, 3), (2, 16, 16, 3)]
    xs = np.concatenate([x.numpy() for x, _ in val])
    ys = np.concatenate([y.numpy() for _, y in val])
    expected = np.stack([read_png(p) for p in paths]).astype(np.float32)
    np.testing.assert_array_equal(xs, expected)  # same order, untouched pixels
    assert list(ys) == labels

    train = pipeline.make_dataset(paths, labels, training=True, shuffle_tiles=True, seed=1, **kw)
    got = np.concatenate([x.numpy() for x, _ in train])
    tile_sets = {tuple(sorted(map(bytes, t))) for t in _tiles(expected)}
    changed = 0
    for img in got:
        assert tuple(sorted(map(bytes, _tiles(img[None])[0]))) in tile_sets  # same tiles...
        changed += not any((img == e).all() for e in expected)
    assert changed > 0  # ...in a new order

    plain = pipeline.make_dataset(paths, labels, training=True, shuffle_tiles=False, seed=1, **kw)
    for img in np.concatenate([x.numpy() for x, _ in plain]):
        assert any((img == e).all() for e in expected)


def _tiles(images):
    import metaimage

    return [[t.tobytes() for t in metaimage.untile(im, 2, 2)] for im in images]


# -- damaged files ----------------------------------------------------------------------------


@pytest.mark.tf
def test_pipeline_decoding_error_names_the_file(tmp_path):
    """An old manifest (no digests): a truncated PNG passes the header check; decoding it
    in the tf.data pipeline fails, and the error names the file."""
    root = make_dataset_folder(tmp_path / "ds", parts_per_class=3, tile=8)
    bad = root / "y_plus/0000_v0.png"
    bad.write_bytes(bad.read_bytes()[:60])
    ds = data.load_dataset(root)  # header only: not caught here
    paths = [root / r["path"] for r in ds.rows]
    pipe = pipeline.make_dataset(paths, [0] * len(paths), image_size=16, grid=(2, 2), batch_size=2)
    with pytest.raises(DatasetError, match=rf"^{bad}: TensorFlow cannot decode this PNG"):
        with pipeline.naming_bad_files(paths):
            for _ in pipe:
                pass
    with pytest.raises(ZeroDivisionError), pipeline.naming_bad_files(paths):
        raise ZeroDivisionError  # other errors pass through untouched
