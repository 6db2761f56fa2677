"""train.batching: batches bounded by pixels, and the traced call that runs them."""

from __future__ import annotations

import numpy as np
import pytest

from train import batching


@pytest.mark.parametrize(
    "size, most, want",
    [
        (960, None, 2),  # the default meta-image: two a pass
        (960, 1, 1),
        (1920, None, 1),  # larger than the budget: still one
        (480, None, 8),
        (480, 5, 5),  # the caller's batch size caps it
        (224, 16, 16),
        (0, 7, 7),  # a feature-vector model: the caller's batch size
    ],
)
def test_images_per_batch_is_bounded_by_pixels(size, most, want):
    n = batching.images_per_batch(size, most=most)
    assert n == want
    if size and n > 1:
        assert n * size * size <= batching.BATCH_PIXELS


@pytest.mark.parametrize("n, per", [(0, 3), (1, 3), (7, 3), (9, 3), (5, 1)])
def test_batch_slices_cover_every_index_once_in_order(n, per):
    slices = list(batching.batch_slices(n, per))
    covered = [i for s in slices for i in range(n)[s]]
    assert covered == list(range(n))
    assert all(0 < s.stop - s.start <= per for s in slices)


@pytest.mark.tf
def test_compiled_call_matches_the_eager_model_for_any_batch():
    import keras

    keras.utils.set_random_seed(0)
    inp = keras.Input((10, 10, 3))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inp)
    x = keras.layers.GlobalMaxPooling2D()(x)
    model = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(x))
    x = np.random.default_rng(0).uniform(0, 255, (5, 10, 10, 3)).astype(np.float32)
    want = np.asarray(model(x, training=False))

    call = batching.compiled(model)
    got = batching.run_batched(call, x, per_batch=2)  # batches of 2, 2 and 1: one trace
    assert got.shape == (5, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert batching.run_batched(call, x[:0], per_batch=2).shape[0] == 0
