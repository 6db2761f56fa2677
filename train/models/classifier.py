"""The classifier every image family builds, and what training does to any such model.

A classifier is::

    input (None, S, S, 3) float32 0..255
      -> backbone (a nested keras.Model named "backbone"; its preprocessing inside)
      -> GlobalMaxPooling2D "pool" -> Dropout "dropout" -> Dense(n_classes, softmax) "predictions"

A backbone with several outputs (feature maps of several depths, as EfficientNet-Lite's)
has each max-pooled ("pool_0", "pool_1", ...) and concatenated into "pool". A head may
standardise the pooled features ("norm", a ``Normalization`` layer adapted on the training
split's features) before the dropout. Everything after "pool" is the *head*:
:func:`feature_extractor` and :func:`head_model` split a classifier there, so a frozen
backbone runs once per image and the head trains on cached features (:mod:`train.loop`).

A feature-vector family (``input_kind="features"``) is a head alone: input (None, D)
float32 -> ["norm"] -> "dropout" -> "predictions" (:func:`feature_head`).

:func:`add_head` puts the head on a backbone (:func:`from_backbone` also sets what
trains for the given weights). The other functions work on any model
of that shape, whatever the family: freeze or unfreeze the backbone (the two phases of
the Keras fine-tuning recipe), swap the head for another class list (``--init-from``),
start the BatchNorm statistics of a fresh model from real data, read the input size.

Keras is imported inside the functions.
"""

from __future__ import annotations

from train.errors import TrainError

BACKBONE_NAME = "backbone"
HEAD_LAYERS = ("pool", "dropout", "predictions")


def add_head(
    inputs, backbone_output, n_classes: int, dropout: float, name: str, standardize: bool = False
):
    """Return ``keras.Model(inputs, softmax)`` with the head on ``backbone_output``.

    Parameters
    ----------
    inputs : keras tensor
        The model input, (None, S, S, 3) float32 0..255.
    backbone_output : keras tensor or list of keras tensors
        The backbone's feature map(s), each (None, s, s, c).
    n_classes : int
    dropout : float
        Dropout rate before the output layer.
    name : str
        The model's name.
    standardize : bool
        Standardise the pooled features with a ``Normalization`` layer "norm" (adapted
        before training, see :func:`adapt_norm`).
    """
    import keras

    maps = backbone_output if isinstance(backbone_output, (list, tuple)) else [backbone_output]
    if len(maps) == 1:
        x = keras.layers.GlobalMaxPooling2D(name="pool")(maps[0])
    else:
        pooled = [keras.layers.GlobalMaxPooling2D(name=f"pool_{i}")(m) for i, m in enumerate(maps)]
        x = keras.layers.Concatenate(name="pool")(pooled)
    return keras.Model(inputs, _head_layers(x, n_classes, dropout, standardize), name=name)


def _head_layers(x, n_classes: int, dropout: float, standardize: bool):
    import keras

    if standardize:
        x = keras.layers.Normalization(axis=-1, name="norm")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.layers.Dense(n_classes, activation="softmax", name="predictions")(x)


def feature_head(dim: int, n_classes: int, dropout: float, name: str, standardize: bool = True):
    """A head alone, for feature-vector families: (None, dim) float32 -> softmax.

    Layers: ["norm"] -> "dropout" -> "predictions"; the input is named "features".
    """
    import keras

    inputs = keras.Input((dim,), dtype="float32", name="features")
    return keras.Model(inputs, _head_layers(inputs, n_classes, dropout, standardize), name=name)


def views_head(dim: int, n_classes: int, dropout: float, name: str):
    """The head of the view-pooled family (:mod:`train.features.views`): one scorer shared
    by every direction.

    ``(None, n_classes * d) -> reshape (n_classes, d) -> "norm" (per feature, shared by the
    directions) -> "dropout" -> "score" (Dense(1), the same weights for each direction) ->
    (None, n_classes) -> "predictions"``. "predictions" is a Dense(n_classes) that starts as
    the identity: it may learn a prior per direction and how directions compete, but the
    evidence comes from the shared scorer.
    """
    import keras

    if dim % n_classes:
        raise TrainError(
            f"views head: expected one block of features a direction, found {dim} features "
            f"for {n_classes} classes (the family scores the five directions)"
        )
    inputs = keras.Input((dim,), dtype="float32", name="features")
    x = keras.layers.Reshape((n_classes, dim // n_classes), name="directions")(inputs)
    x = keras.layers.Normalization(axis=-1, name="norm")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(1, use_bias=False, name="score")(x)
    x = keras.layers.Reshape((n_classes,), name="scores")(x)
    out = keras.layers.Dense(
        n_classes, activation="softmax", kernel_initializer="identity", name="predictions"
    )(x)
    return keras.Model(inputs, out, name=name)


def views_normals_head(views_dim: int, normals_dim: int, n_classes: int, dropout: float, name: str):
    """The head of the combined family: the views head and a ``normals`` head, their scores
    added.

    ``(None, views_dim + normals_dim)``: the view-pooled features first, then the face-normal
    features. The first block goes through the layers of :func:`views_head` up to "scores"
    (None, n_classes); the second through "normals_dropout" -> "normals_scores"
    (Dense(n_classes)), unstandardised as the ``normals`` family's are. "predictions" is a
    Dense(n_classes) on both scores side by side (None, 2 * n_classes). It starts as their
    sum; training (:func:`train.loop.fit_head`) trains the two parts apart
    (:func:`combined_blocks`) and then sets it to the mean of their logits
    (:func:`fold_combined`): the geometric mean of their probabilities, the combination
    measured best (docs/accuracy.md). The blocks are cut with ``Cropping1D`` (plain Keras
    layers: the model saves, loads in safe mode, and converts).
    """
    import keras
    import numpy as np

    if views_dim % n_classes:
        raise TrainError(
            f"views head: expected one block of features a direction, found {views_dim} "
            f"features for {n_classes} classes (the family scores the five directions)"
        )
    inputs = keras.Input((views_dim + normals_dim,), dtype="float32", name="features")
    column = keras.layers.Reshape((views_dim + normals_dim, 1), name="column")(inputs)
    v = keras.layers.Cropping1D((0, normals_dim), name="views_block")(column)
    v = keras.layers.Reshape((n_classes, views_dim // n_classes), name="directions")(v)
    v = keras.layers.Normalization(axis=-1, name="norm")(v)
    v = keras.layers.Dropout(dropout, name="dropout")(v)
    v = keras.layers.Dense(1, use_bias=False, name="score")(v)
    v = keras.layers.Reshape((n_classes,), name="scores")(v)
    n = keras.layers.Cropping1D((views_dim, 0), name="normals_block")(column)
    n = keras.layers.Reshape((normals_dim,), name="normals")(n)
    n = keras.layers.Dropout(dropout, name="normals_dropout")(n)
    n = keras.layers.Dense(n_classes, name="normals_scores")(n)
    both = keras.layers.Concatenate(name="both_scores")([v, n])
    out = keras.layers.Dense(n_classes, activation="softmax", name="predictions")
    net = keras.Model(inputs, out(both), name=name)
    eye = np.eye(n_classes, dtype=np.float32)
    out.set_weights([np.vstack([eye, eye]), np.zeros(n_classes, np.float32)])
    return net


def is_combined(net) -> bool:
    """True for the combined family's head (:func:`views_normals_head`)."""
    return any(layer.name == "normals_scores" for layer in net.layers)


def combined_blocks(net) -> list[tuple[str, object]]:
    """The two parts of a combined head as models of their own, sharing its weights.

    ``[("views", views part), ("normals", normals part)]``, both on the combined input: the
    views part ends in a fresh "views_predictions" Dense(n_classes) that starts as the
    identity (as :func:`views_head`'s output layer), the normals part in its scores'
    activation (as the ``normals`` family's one layer). Training a part trains the combined
    head's layers of that block; :func:`fold_combined` then sets its output layer.
    """
    import keras

    n = int(net.outputs[0].shape[-1])
    activation = output_activation(net)
    views = keras.layers.Dense(
        n, activation=activation, kernel_initializer="identity", name="views_predictions"
    )(net.get_layer("scores").output)
    normals = keras.layers.Activation(activation, name="normals_predictions")(
        net.get_layer("normals_scores").output
    )
    return [
        ("views", keras.Model(net.inputs, views, name=f"{net.name}_views")),
        ("normals", keras.Model(net.inputs, normals, name=f"{net.name}_normals")),
    ]


def fold_combined(net, views_part) -> None:
    """Set the combined head's output layer to the mean of its two trained parts' logits.

    ``z = (M z_v + b + z_n) / 2`` (``M, b``: the views part's output layer): with softmax,
    the normalised geometric mean of the two parts' probabilities, the combination measured
    best (docs/accuracy.md).
    """
    import numpy as np

    kernel, bias = views_part.get_layer("views_predictions").get_weights()
    eye = np.eye(kernel.shape[1], dtype=np.float32)
    net.get_layer("predictions").set_weights(
        [0.5 * np.vstack([kernel, eye]).astype(np.float32), 0.5 * bias.astype(np.float32)]
    )


def is_feature_model(net) -> bool:
    """True for a head alone (input (None, D)); False for an image classifier."""
    return len(net.inputs[0].shape) == 2


def feature_extractor(net):
    """The part of an image classifier up to "pool": image -> (None, D) pooled features."""
    try:
        pooled = net.get_layer("pool").output
    except ValueError:
        raise TrainError(
            f"model {net.name!r}: expected a layer named 'pool' (a metaview model)"
        ) from None
    import keras

    return keras.Model(net.inputs, pooled, name=f"{net.name}_features")


def head_model(net):
    """The layers after "pool" of ``net`` as a model on pooled features, sharing weights.

    Training the returned model trains ``net``'s head. For a feature-vector model it is
    ``net`` itself.
    """
    if is_feature_model(net):
        return net
    import keras

    dim = int(net.get_layer("pool").output.shape[-1])
    x = inputs = keras.Input((dim,), dtype="float32", name="features")
    seen = False
    for layer in net.layers:
        if seen:
            x = layer(x)
        seen = seen or layer.name == "pool"
    return keras.Model(inputs, x, name=f"{net.name}_head")


#: A feature's variance is floored at this fraction of the mean variance before
#: standardising: a pooled feature that is (almost) constant on the training split would
#: otherwise be divided by ~0 and blow up on the first image where it is not (measured:
#: validation loss 1e5 on 100 parts).
VARIANCE_FLOOR = 1e-2


def adapt_norm(net, features) -> bool:
    """Adapt the "norm" layer of ``net`` (if any) to ``features`` (n, D); True if it has one.

    Mean and variance per feature, the variance floored at :data:`VARIANCE_FLOOR` times
    the mean variance.
    """
    import keras
    import numpy as np

    try:
        norm = net.get_layer("norm")
    except ValueError:
        return False
    if not isinstance(norm, keras.layers.Normalization):
        return False
    features = np.asarray(features, dtype=np.float64)
    shape = tuple(norm.input.shape[1:])
    # The combined head normalises its leading block (the view-pooled features) only.
    features = features[:, : int(np.prod(shape))]
    # The views head normalises (directions, d): one statistic per feature, all directions.
    norm.adapt(features.reshape(-1, *shape).astype(np.float32))
    var = features.reshape(-1, shape[-1]).var(axis=0)
    floor = VARIANCE_FLOOR * float(var.mean()) if var.size else 0.0
    var = np.maximum(var, max(floor, 1e-12)).astype(np.float32)
    # Keras keeps the adapted statistics in these variables (saved with the model) and
    # derives the constants it divides by from them in finalize_state().
    norm.adapt_variance.assign(var.reshape(tuple(norm.adapt_variance.shape)))
    norm.finalize_state()
    return True


def from_backbone(
    backbone, n_classes: int, dropout: float, weights: str, name: str, standardize: bool = False
):
    """Return the classifier on ``backbone``, its trainable flags set for ``weights``.

    What a family's builder does once it has a backbone (``keras.Model``, input
    (None, S, S, 3) float32 0..255 with its preprocessing inside, output a feature
    map): :func:`add_head`, then :func:`set_trainable_for_weights`.
    """
    import keras

    inputs = keras.Input(tuple(backbone.input_shape[1:]), dtype="float32", name="image")
    net = add_head(inputs, backbone(inputs), n_classes, dropout, name, standardize)
    set_trainable_for_weights(net, weights)
    return net


def set_trainable_for_weights(net, weights: str) -> None:
    """Freeze a pretrained backbone; make a random one (``weights == "none"``) train in full.

    A frozen random backbone would only give the head random features. A random
    backbone's BatchNorm momentum drops to 0.9 so that its moving statistics follow
    the few hundred steps of a small dataset (see :func:`init_batchnorm_statistics`).
    """
    import keras

    backbone = get_backbone(net)
    if weights == "none":
        backbone.trainable = True
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
    else:
        backbone.trainable = False


def init_batchnorm_statistics(net, images) -> None:
    """Set the BatchNorm moving statistics of a fresh model from one batch of images.

    A randomly initialised EfficientNet starts with moving mean 0 and variance
    1 in every BatchNorm layer, while the real activations of its deep layers
    are orders of magnitude off; with momentum 0.9 the moving values need
    around a hundred steps to catch up, and until then the model predicts one
    class at validation time however well it trains (measured: 36+ steps on a
    trivial two-class set). Starting the moving statistics from a real batch
    removes that lag; no weight changes.

    Parameters
    ----------
    net : keras.Model
        A classifier with random weights (weights "none").
    images : (b, S, S, 3) float32, 0..255
        One training batch.
    """
    import keras

    layers = [
        layer
        for layer in _all_layers(net)
        if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable
    ]
    saved = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = 0.0  # moving value := this batch's value
    try:
        net(images, training=True)
    finally:
        for layer, momentum in zip(layers, saved, strict=True):
            layer.momentum = momentum


def _all_layers(net):
    """Yield the layers of ``net``, descending into nested models."""
    import keras

    for layer in net.layers:
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)
        else:
            yield layer


def get_backbone(net):
    """Return the backbone sub-model of a classifier."""
    import keras

    for layer in net.layers:
        if isinstance(layer, keras.Model):
            return layer
    raise TrainError(f"model {net.name!r}: expected a backbone sub-model, found none")


def freeze_backbone(net) -> None:
    """Freeze the whole backbone (phase 1 of a pretrained model)."""
    get_backbone(net).trainable = False


def unfreeze_top(net, n_layers: int) -> int:
    """Unfreeze the top ``n_layers`` of the backbone, keeping BatchNorm frozen.

    BatchNorm layers stay frozen (and so in inference mode): updating their
    statistics on a small dataset would wreck the pretrained features.

    Returns
    -------
    int
        The number of layers made trainable (BatchNorm layers not counted).
    """
    import keras

    backbone = get_backbone(net)
    backbone.trainable = True
    layers = backbone.layers
    top = set(id(layer) for layer in layers[max(0, len(layers) - n_layers) :])
    count = 0
    for layer in layers:
        trainable = id(layer) in top and not isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = trainable
        count += bool(trainable and layer.weights)
    return count


def replace_head(net, n_classes: int, dropout: float = 0.2):
    """Return a model with ``net``'s layers up to pooling and a new softmax head.

    Used by ``--init-from`` when the class list differs from the run started from.
    """
    import keras

    names = {layer.name for layer in net.layers}
    if "norm" in names:  # keep the standardisation: the features do not change
        pooled = net.get_layer("norm").output
    elif "pool" in names:
        pooled = net.get_layer("pool").output
    elif is_feature_model(net):
        pooled = net.inputs[0]
    else:
        raise TrainError(f"model {net.name!r}: expected a layer named 'pool' (a metaview model)")
    x = keras.layers.Dropout(dropout, name="dropout_new")(pooled)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="predictions_new")(x)
    return keras.Model(net.inputs, outputs, name=net.name)


def _output_layer(net):
    """The last Dense layer of ``net`` (nested models searched): its output layer."""
    import keras

    dense = [layer for layer in _all_layers(net) if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise TrainError(f"model {net.name!r}: expected a Dense output layer, found none")
    return dense[-1]


def output_activation(net) -> str:
    """``"softmax"`` (one class) or ``"sigmoid"`` (one probability per class: valid sets)."""
    import keras

    return keras.activations.serialize(_output_layer(net).activation)


def set_output_activation(net, activation: str) -> None:
    """Turn the output layer's activation to ``"softmax"`` or ``"sigmoid"`` in place.

    ``--objective sets`` trains one sigmoid per direction on the same architecture; the
    layer's config, and so the saved model, records the new activation.
    """
    import keras

    if activation not in ("softmax", "sigmoid"):
        raise TrainError(f"output activation must be softmax or sigmoid, got {activation!r}")
    _output_layer(net).activation = keras.activations.get(activation)


def input_size(net) -> int:
    """Return the square input size (pixels) of a classifier."""
    shape = net.inputs[0].shape
    if shape[1] is None or shape[1] != shape[2]:
        raise TrainError(
            f"model {net.name!r}: expected a square fixed-size input, found {tuple(shape)}"
        )
    return int(shape[1])


def per_branch_head(net):
    """An equivalent model whose head never concatenates features of different depths.

    A multi-depth head concatenates the pooled features of several depths ("pool"),
    standardises them ("norm") and applies one dense layer. Full-integer quantisation
    gives a concatenation one scale for all its inputs, so the features of shallow
    depths (small ranges) are crushed into a few int8 steps, which standardisation then
    amplifies: measured on a Lite0 run at 960 px, the int8 model agreed with Keras on
    0.57 of the test meta-images. This model computes the same function as a sum of one
    standardise-then-dense branch per depth (no concatenation), so each depth keeps its
    own scale; float outputs equal ``net``'s to rounding.

    Returns ``net`` itself when its head has a single depth (nothing to split).
    """
    import keras
    import numpy as np

    names = [layer.name for layer in net.layers]
    branches = sorted((n for n in names if n.startswith("pool_")), key=lambda n: int(n[5:]))
    if not branches or "pool" not in names:
        return net
    dense = _output_layer(net)
    kernel, *bias = (np.asarray(w) for w in dense.get_weights())
    mean = var = None
    if "norm" in names:
        norm = net.get_layer("norm")
        mean = np.asarray(norm.mean, np.float32).reshape(-1)
        var = np.asarray(norm.variance, np.float32).reshape(-1)
    logits, start = [], 0
    for i, name in enumerate(branches):
        x = net.get_layer(name).output
        cols = slice(start, start + int(x.shape[-1]))
        start = cols.stop
        if mean is not None:
            x = keras.layers.Normalization(
                axis=-1, mean=mean[cols], variance=var[cols], name=f"norm_{i}"
            )(x)
        first = i == 0
        layer = keras.layers.Dense(
            kernel.shape[1], use_bias=bool(bias) and first, name=f"logits_{i}"
        )
        logits.append(layer(x))
        layer.set_weights([kernel[cols], *(bias if first else [])])
    if start != kernel.shape[0]:
        raise TrainError(
            f"model {net.name!r}: its branches give {start} features, its output layer takes "
            f"{kernel.shape[0]}"
        )
    out = keras.layers.Add(name="logits")(logits) if len(logits) > 1 else logits[0]
    out = keras.layers.Activation(output_activation(net), name="probabilities")(out)
    return keras.Model(net.inputs, out, name=f"{net.name}_per_branch")
