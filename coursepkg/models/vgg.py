"""VGG16 and VGG19 (Simonyan and Zisserman, 2014): stacks of 3x3 convolutions.

Layer names and weight shapes are those of `keras.applications.VGG16` and
`keras.applications.VGG19`, so their ImageNet weights load into these models.
"""

import keras
from keras import layers

from ._common import (
    MAX_BLOCKS,
    MAX_CHANNELS,
    MAX_STAGES,
    check_count,
    check_filters,
    check_head,
    check_imagenet_arguments,
    check_input_shape,
    check_name,
    check_num_classes,
    check_rate,
    check_sizes,
    check_tensor,
    global_pooling,
)
from ._weights import copy_weights, imagenet_reference

VGG_FILTERS = (64, 128, 256, 512, 512)
VGG16_DEPTHS = (2, 2, 3, 3, 3)  # configuration D of the paper's Table 1
VGG19_DEPTHS = (2, 2, 4, 4, 4)  # configuration E
IMAGENET_SHAPE = (224, 224, 3)


def vgg_block(x, filters, num_convs, block_index):
    """Applies `num_convs` 3x3 convolutions with ReLU, then a 2x2 max pooling.

    Three stacked 3x3 convolutions see a 7x7 window, like one 7x7 convolution,
    but with three non-linearities and `3 * 3*3*c*c = 27 c^2` weights instead
    of `49 c^2` (for `c` channels in and out).

    Args:
        x: Input Keras tensor `(batch, height, width, channels)`, at least 2x2.
        filters: Number of filters of every convolution in the block, an
            integer in [1, 8192].
        num_convs: Number of convolutions, an integer in [1, 200].
        block_index: Position of the block, an integer in [1, 8], used in the
            layer names `block{block_index}_conv{i}` and `block{block_index}_pool`.

    Returns:
        Tensor `(batch, height // 2, width // 2, filters)`.
    """
    check_tensor("x", x, min_size=2)
    filters = check_filters("filters", filters)
    num_convs = check_count("num_convs", num_convs, MAX_BLOCKS)
    block_index = check_count("block_index", block_index, MAX_STAGES)
    for conv_index in range(1, num_convs + 1):
        x = layers.Conv2D(
            filters,
            3,
            padding="same",
            activation="relu",
            name=f"block{block_index}_conv{conv_index}",
        )(x)
    return layers.MaxPooling2D(2, strides=2, name=f"block{block_index}_pool")(x)


def vgg(
    block_depths=VGG16_DEPTHS,
    block_filters=VGG_FILTERS,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    include_top=True,
    pooling=None,
    dense_units=4096,
    dropout_rate=0.0,
    classifier_activation="softmax",
    name="vgg",
):
    """Builds a VGG network from the number of convolutions in each block.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Args:
        block_depths: Number of 3x3 convolutions in each block, 1 to 8 blocks
            of 1 to 200; `(2, 2, 3, 3, 3)` is VGG16, `(2, 2, 4, 4, 4)` is
            VGG19, `(1, 1, 2, 2, 2)` is VGG11.
        block_filters: Number of filters in each block, each in [1, 8192]
            (same length as `block_depths`).
        input_shape: `(height, width, channels)`; each block halves the size,
            so five blocks need at least 32x32 (and at most 8192x8192).
            Height and width may be `None` when `include_top=False`.
        num_classes: Number of output classes, an integer in [1, 100,000].
        include_top: Whether to add the classifier: `flatten`, `fc1`, `fc2`
            (`dense_units` each, ReLU) and `predictions`.
        pooling: With `include_top=False`: `None` returns the last feature
            maps, `"avg"` or `"max"` applies global pooling.
        dense_units: Width of `fc1` and `fc2` (4096 in the paper), an integer
            in [1, 8192].
        dropout_rate: Dropout after `fc1` and `fc2`, a number in [0, 1). The
            paper used 0.5; `keras.applications` has no dropout, hence the
            default of 0.
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.
        name: Name of the model (a non-empty string without `/`).

    Returns:
        A `keras.Model`.

    Example:
        >>> model = vgg(block_depths=(1, 1, 2, 2, 2), input_shape=(32, 32, 3),
        ...             num_classes=10, dense_units=512)
        >>> model.output.shape
        (None, 10)

    Introduced in: book/07_vgg.ipynb
    """
    arguments = _check_vgg_arguments(
        block_depths,
        block_filters,
        input_shape=input_shape,
        num_classes=num_classes,
        include_top=include_top,
        pooling=pooling,
        dense_units=dense_units,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
        name=name,
    )
    return _build_vgg(**arguments)


def _check_vgg_arguments(
    block_depths,
    block_filters,
    input_shape,
    num_classes,
    include_top,
    pooling,
    dense_units,
    dropout_rate,
    classifier_activation,
    name,
):
    """Checks every argument of `vgg` and returns them cleaned, as a dict."""
    block_depths = check_sizes("block_depths", block_depths, MAX_BLOCKS)
    block_filters = check_sizes(
        "block_filters", block_filters, MAX_CHANNELS, length=len(block_depths)
    )
    include_top, pooling, classifier_activation = check_head(
        include_top, pooling, classifier_activation
    )
    return dict(
        block_depths=block_depths,
        block_filters=block_filters,
        input_shape=check_input_shape(
            input_shape, min_size=2 ** len(block_depths), allow_unknown_size=not include_top
        ),
        num_classes=check_num_classes(num_classes),
        include_top=include_top,
        pooling=pooling,
        dense_units=check_filters("dense_units", dense_units),
        dropout_rate=check_rate("dropout_rate", dropout_rate),
        classifier_activation=classifier_activation,
        name=check_name(name),
    )


def _build_vgg(
    block_depths,
    block_filters,
    input_shape,
    num_classes,
    include_top,
    pooling,
    dense_units,
    dropout_rate,
    classifier_activation,
    name,
):
    """Builds the network of `vgg` from checked arguments."""
    inputs = keras.Input(shape=input_shape, name="image")  # (batch, 224, 224, 3)
    x = inputs
    for block_index, (depth, filters) in enumerate(zip(block_depths, block_filters), start=1):
        x = vgg_block(x, filters, depth, block_index)  # 224 -> 112 -> 56 -> 28 -> 14 -> 7
    if include_top:
        x = layers.Flatten(name="flatten")(x)  # (batch, 7 * 7 * 512)
        for dense_index in (1, 2):
            x = layers.Dense(dense_units, activation="relu", name=f"fc{dense_index}")(x)
            if dropout_rate > 0:
                x = layers.Dropout(dropout_rate, name=f"fc{dense_index}_dropout")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = global_pooling(x, pooling)
    return keras.Model(inputs, x, name=name)


def vgg16(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    dropout_rate=0.0,
    classifier_activation="softmax",
):
    """Builds VGG16: 13 convolutions and 3 dense layers, 138,357,544 parameters.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Identical in layer names and weight shapes to
    `keras.applications.VGG16`: 138,357,544 parameters with the classifier,
    14,714,688 without.

    Args:
        include_top: Whether to add the three dense layers.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.VGG16` and copy them in; needs
            `num_classes=1000` and a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed when
            `include_top=False`.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout after `fc1` and `fc2` (0.5 in the paper), a
            number in [0, 1).
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"vgg16"`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> features = vgg16(include_top=False, input_shape=(None, None, 3))
        >>> features.count_params()
        14714688

    Introduced in: book/07_vgg.ipynb
    """
    return _published_vgg(
        VGG16_DEPTHS,
        "vgg16",
        keras.applications.VGG16,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        num_classes=num_classes,
        pooling=pooling,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
    )


def vgg19(
    include_top=True,
    weights=None,
    input_shape=IMAGENET_SHAPE,
    num_classes=1000,
    pooling=None,
    dropout_rate=0.0,
    classifier_activation="softmax",
):
    """Builds VGG19: 16 convolutions and 3 dense layers, 143,667,240 parameters.

    Reference:
        [Very Deep Convolutional Networks for Large-Scale Image Recognition](
        https://arxiv.org/abs/1409.1556) (Simonyan and Zisserman, ICLR 2015)

    Identical in layer names and weight shapes to
    `keras.applications.VGG19`: 143,667,240 parameters with the classifier,
    20,024,384 without.

    Args:
        include_top: Whether to add the three dense layers.
        weights: `None` (random initialisation) or `"imagenet"` (download the
            weights of `keras.applications.VGG19` and copy them in; needs
            `num_classes=1000` and a 224x224x3 input when `include_top=True`).
        input_shape: `(height, width, channels)`, at least 32x32 (and at
            most 8192x8192); `None` height and width are allowed when
            `include_top=False`.
        num_classes: Number of output classes, an integer in [1, 100,000].
        pooling: With `include_top=False`: `None`, `"avg"` or `"max"`.
        dropout_rate: Dropout after `fc1` and `fc2` (0.5 in the paper), a
            number in [0, 1).
        classifier_activation: Activation of `predictions` (a Keras
            activation name or a function); `None` returns logits.

    Returns:
        A `keras.Model` named `"vgg19"`.

    Raises:
        coursepkg.downloads.DownloadError: with `weights="imagenet"`, when the
            weight file cannot be downloaded (checked before building).

    Example:
        >>> vgg19().count_params()
        143667240

    Introduced in: book/07_vgg.ipynb
    """
    return _published_vgg(
        VGG19_DEPTHS,
        "vgg19",
        keras.applications.VGG19,
        include_top=include_top,
        weights=weights,
        input_shape=input_shape,
        num_classes=num_classes,
        pooling=pooling,
        dropout_rate=dropout_rate,
        classifier_activation=classifier_activation,
    )


def _published_vgg(block_depths, name, keras_builder, weights, **vgg_arguments):
    """Builds VGG16 or VGG19 and, if asked, copies in the ImageNet weights of Keras."""
    arguments = _check_vgg_arguments(
        block_depths, VGG_FILTERS, dense_units=4096, name=name, **vgg_arguments
    )
    check_imagenet_arguments(
        weights,
        arguments["include_top"],
        arguments["num_classes"],
        arguments["input_shape"],
        IMAGENET_SHAPE,
    )
    reference = None
    if weights == "imagenet":  # downloaded before building ours: offline, this fails at once
        reference = imagenet_reference(
            keras_builder,
            include_top=arguments["include_top"],
            input_shape=arguments["input_shape"],
            classifier_activation=None,
        )
    model = _build_vgg(**arguments)
    return model if reference is None else copy_weights(reference, model)
