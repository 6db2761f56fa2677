"""Tile-shuffle augmentation as TensorFlow ops, for the training pipeline.

A meta-image is a ``rows x cols`` grid of equally sized tiles, one per view.
The order of the views carries no meaning the classifier should rely on, so
training shows each meta-image with its tiles in a fresh random order.

:func:`permute_tiles` is the TensorFlow twin of
``metaimage.permute_tiles(grid, rows, cols, perm)``: for the same permutation
both give the same pixels (tile ``i`` of the output is tile ``perm[i]`` of the
input, tiles numbered in row-major order).
"""

from __future__ import annotations

import tensorflow as tf


def permute_tiles(image: tf.Tensor, rows: int, cols: int, perm: tf.Tensor) -> tf.Tensor:
    """Reorder the tiles of one meta-image.

    Parameters
    ----------
    image : (rows*th, cols*tw, c) tensor, any dtype
        The meta-image.
    rows, cols : int
        The grid shape.
    perm : (rows*cols,) int tensor
        A permutation of ``range(rows*cols)``: tile ``i`` of the output is tile
        ``perm[i]`` of the input (row-major tile numbering).

    Returns
    -------
    (rows*th, cols*tw, c) tensor of the input's dtype.
    """
    shape = tf.shape(image)
    h, w, c = shape[0], shape[1], shape[2]
    th, tw = h // rows, w // cols
    # (h, w, c) -> (rows, th, cols, tw, c) -> (rows, cols, th, tw, c) -> (n, th, tw, c)
    tiles = tf.reshape(image, tf.stack([rows, th, cols, tw, c]))
    tiles = tf.transpose(tiles, [0, 2, 1, 3, 4])
    tiles = tf.reshape(tiles, tf.stack([rows * cols, th, tw, c]))
    tiles = tf.gather(tiles, perm, axis=0)
    # and back: (n, th, tw, c) -> (rows, cols, th, tw, c) -> (rows, th, cols, tw, c) -> (h, w, c)
    tiles = tf.reshape(tiles, tf.stack([rows, cols, th, tw, c]))
    tiles = tf.transpose(tiles, [0, 2, 1, 3, 4])
    out = tf.reshape(tiles, tf.stack([h, w, c]))
    return tf.ensure_shape(out, image.shape)


def shuffle_tiles(image: tf.Tensor, rows: int, cols: int, seed: tf.Tensor) -> tf.Tensor:
    """Shuffle the tiles of one meta-image in a random order drawn from ``seed``.

    Parameters
    ----------
    image : (rows*th, cols*tw, c) tensor
        The meta-image.
    rows, cols : int
        The grid shape.
    seed : (2,) int32/int64 tensor
        Stateless random seed: the same seed gives the same order, so a seeded
        pipeline is repeatable (the training pipeline derives one seed per
        image and epoch).

    Returns
    -------
    (rows*th, cols*tw, c) tensor: the same tiles in a new order.
    """
    keys = tf.random.stateless_uniform([rows * cols], seed=seed)
    perm = tf.argsort(keys)
    return permute_tiles(image, rows, cols, perm)
